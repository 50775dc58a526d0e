#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "exafold/ops/attention.h"

namespace exafold::ops {
namespace {

struct Problem {
  int64_t batch = 3, n_q = 5, n_k = 7, c_q = 6, c_m = 4, heads = 2, dk = 3, dv = 4, c_out = 5;
  std::vector<double> q_data, m_data, key_bias, shared_bias;
  std::vector<double> qw, kw, vw, gw, gb, ow, ob;

  explicit Problem(unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> g;
    auto fill = [&](std::vector<double>& v, size_t n, double scale) {
      v.resize(n);
      for (auto& x : v) x = scale * g(rng);
    };
    fill(q_data, size_t(batch * n_q * c_q), 1.0);
    fill(m_data, size_t(batch * n_k * c_m), 1.0);
    fill(shared_bias, size_t(heads * n_q * n_k), 0.5);
    fill(qw, size_t(c_q * heads * dk), 0.5);
    fill(kw, size_t(c_m * heads * dk), 0.5);
    fill(vw, size_t(c_m * heads * dv), 0.5);
    fill(gw, size_t(c_q * heads * dv), 0.5);
    fill(gb, size_t(heads * dv), 0.5);
    fill(ow, size_t(heads * dv * c_out), 0.5);
    fill(ob, size_t(c_out), 0.1);
    // Batch entry 1 has its last two keys masked; entry 2 has every key masked.
    std::vector<double> mask(static_cast<size_t>(batch * n_k), 1.0);
    mask[size_t(1 * n_k + n_k - 1)] = mask[size_t(1 * n_k + n_k - 2)] = 0;
    for (int64_t k = 0; k < n_k; ++k) mask[size_t(2 * n_k + k)] = 0;
    key_bias.resize(mask.size());
    mask_bias<double>(mask.data(), int64_t(mask.size()), key_bias.data());
  }

  AttentionWeights<double> weights(bool gated) const {
    AttentionWeights<double> w;
    w.query_w = qw.data();
    w.key_w = kw.data();
    w.value_w = vw.data();
    if (gated) {
      w.gating_w = gw.data();
      w.gating_b = gb.data();
    }
    w.output_w = ow.data();
    w.output_b = ob.data();
    w.c_q = c_q, w.c_m = c_m, w.heads = heads, w.key_dim = dk, w.value_dim = dv, w.c_out = c_out;
    return w;
  }

  // The reference's formula term by term in long double; a fully masked row is handled the
  // way the clip makes it: every logit -1e8, so uniform weights.
  std::vector<long double> naive(bool gated) const {
    std::vector<long double> out(static_cast<size_t>(batch * n_q * c_out));
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t i = 0; i < n_q; ++i) {
        std::vector<long double> o(static_cast<size_t>(heads * dv), 0);
        for (int64_t h = 0; h < heads; ++h) {
          std::vector<long double> logit(static_cast<size_t>(n_k));
          for (int64_t j = 0; j < n_k; ++j) {
            long double dot = 0;
            for (int64_t c = 0; c < dk; ++c) {
              long double q = 0, k = 0;
              for (int64_t a = 0; a < c_q; ++a)
                q += q_data[size_t((b * n_q + i) * c_q + a)] * qw[size_t((a * heads + h) * dk + c)];
              for (int64_t a = 0; a < c_m; ++a)
                k += m_data[size_t((b * n_k + j) * c_m + a)] * kw[size_t((a * heads + h) * dk + c)];
              dot += q / std::sqrt((long double)dk) * k;
            }
            long double x =
                dot + key_bias[size_t(b * n_k + j)] + shared_bias[size_t((h * n_q + i) * n_k + j)];
            logit[size_t(j)] = std::min<long double>(std::max<long double>(x, -1e8L), 1e8L);
          }
          long double mx = -1e30L, sum = 0;
          for (auto x : logit) mx = std::max(mx, x);
          for (auto& x : logit) sum += (x = std::exp(x - mx));
          for (int64_t c = 0; c < dv; ++c) {
            long double acc = 0;
            for (int64_t j = 0; j < n_k; ++j) {
              long double v = 0;
              for (int64_t a = 0; a < c_m; ++a)
                v += m_data[size_t((b * n_k + j) * c_m + a)] * vw[size_t((a * heads + h) * dv + c)];
              acc += logit[size_t(j)] / sum * v;
            }
            if (gated) {
              long double gate = gb[size_t(h * dv + c)];
              for (int64_t a = 0; a < c_q; ++a)
                gate +=
                    q_data[size_t((b * n_q + i) * c_q + a)] * gw[size_t((a * heads + h) * dv + c)];
              acc *= 1 / (1 + std::exp(-gate));
            }
            o[size_t(h * dv + c)] = acc;
          }
        }
        for (int64_t k = 0; k < c_out; ++k) {
          long double y = ob[size_t(k)];
          for (int64_t hc = 0; hc < heads * dv; ++hc)
            y += o[size_t(hc)] * ow[size_t(hc * c_out + k)];
          out[size_t((b * n_q + i) * c_out + k)] = y;
        }
      }
    return out;
  }
};

TEST(Attention, MatchesNaiveLoopsWithMasksBiasAndGating) {
  for (bool gated : {true, false}) {
    Problem p(11);
    std::vector<double> out(static_cast<size_t>(p.batch * p.n_q * p.c_out));
    attention<double>(p.q_data.data(), p.m_data.data(), p.batch, p.n_q, p.n_k, p.key_bias.data(),
                      p.shared_bias.data(), p.weights(gated), out.data());
    const auto ref = p.naive(gated);
    for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], double(ref[i]), 1e-12) << i;
  }
}

TEST(Attention, FullyMaskedKeysGiveUniformWeights) {
  // Every key masked: -1e9 plus a logit of order 1 is clipped to exactly -1e8 for all keys.
  const int64_t n_k = 4;
  std::vector<double> logits = {0.3, -2.0, 5.0, 1.0};
  std::vector<double> mask(static_cast<size_t>(n_k), 0.0), bias(static_cast<size_t>(n_k));
  mask_bias<double>(mask.data(), n_k, bias.data());
  biased_softmax<double>(logits.data(), 1, n_k, bias.data(), nullptr);
  for (double w : logits) EXPECT_DOUBLE_EQ(w, 0.25);
  // One key left unmasked takes all the weight.
  logits = {0.3, -2.0, 5.0, 1.0};
  mask[1] = 1.0;
  mask_bias<double>(mask.data(), n_k, bias.data());
  biased_softmax<double>(logits.data(), 1, n_k, bias.data(), nullptr);
  EXPECT_EQ(logits[1], 1.0);
  EXPECT_EQ(logits[0] + logits[2] + logits[3], 0.0);
}

TEST(Attention, FloatAgreesWithDouble) {
  Problem p(5);
  std::vector<double> out64(static_cast<size_t>(p.batch * p.n_q * p.c_out));
  attention<double>(p.q_data.data(), p.m_data.data(), p.batch, p.n_q, p.n_k, p.key_bias.data(),
                    p.shared_bias.data(), p.weights(true), out64.data());
  auto f = [](const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); };
  const auto qd = f(p.q_data), md = f(p.m_data), kb = f(p.key_bias), sb = f(p.shared_bias);
  const auto qw = f(p.qw), kw = f(p.kw), vw = f(p.vw), gw = f(p.gw), gb = f(p.gb), ow = f(p.ow),
             ob = f(p.ob);
  AttentionWeights<float> w{qw.data(), kw.data(), vw.data(), gw.data(), gb.data(),
                            ow.data(), ob.data(), p.c_q,     p.c_m,     p.heads,
                            p.dk,      p.dv,      p.c_out};
  std::vector<float> out32(out64.size());
  attention<float>(qd.data(), md.data(), p.batch, p.n_q, p.n_k, kb.data(), sb.data(), w,
                   out32.data());
  // O(1) values through a handful of length-<=8 sums: float32 rounding stays below 1e-5.
  for (size_t i = 0; i < out64.size(); ++i) ASSERT_NEAR(out32[i], out64[i], 1e-5) << i;
}

}  // namespace
}  // namespace exafold::ops
