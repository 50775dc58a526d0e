// Invariant point attention: AlphaFold2 supplement Alg 22.
#include "exafold/model/invariant_point_attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "exafold/core/thread_pool.h"
#include "exafold/ops/gemm.h"
#include "host_values.h"
#include "layers.h"

namespace exafold::model {
namespace {

/// jax.nn.softplus: log(1 + e^x) without overflow.
double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }

}  // namespace

template <class T>
InvariantPointAttention<T>::InvariantPointAttention(const StructureDims& dims,
                                                    const ParamScope& scope, const Tensor& pair)
    : dims_(dims), scope_(scope), pair_(pair.contiguous()) {
  check(pair.rank() == 3 && pair.size(0) == pair.size(1),
        "invariant point attention: pair has shape ", pair.shape().str(), ", expected [N, N, c_z]");
  detail::check_dtype<T>(pair, "invariant point attention: pair");
  // Each of the three logit terms gets variance 1/3.
  const T w_2d = T(std::sqrt(1.0 / 3.0));
  const ParamScope a2d = scope_ / "attention_2d";
  // [N, N, c_z] -> [N, N, H]
  bias_2d_ = detail::linear(a2d, pair_);
  T* b = bias_2d_.data<T>();
  for (int64_t k = 0; k < bias_2d_.numel(); ++k) b[k] *= w_2d;
}

template <class T>
Tensor InvariantPointAttention<T>::operator()(const Tensor& act, const Tensor& seq_mask,
                                              std::span<const Rigid<T>> frames) const {
  const int64_t n = pair_.size(0), cz = pair_.size(2);
  const int64_t H = dims_.ipa_heads, cq = dims_.scalar_qk, cv = dims_.scalar_v;
  const int64_t pq = dims_.point_qk, pv = dims_.point_v, pk = pq + pv;
  check(act.rank() == 2 && act.size(0) == n, "invariant point attention: act has shape ",
        act.shape().str(), " for a pair of ", n, " residues");
  detail::check_dtype<T>(act, "invariant point attention: act");
  detail::check_shape(seq_mask, Shape{n}, "invariant point attention: seq_mask");
  check(int64_t(frames.size()) == n, "invariant point attention: ", frames.size(), " frames for ",
        n, " residues");
  const std::vector<T> mask = detail::host_values<T>(seq_mask, "seq_mask");

  // [N, c_s] -> [N, H*cq], [N, H*(cq+cv)] (k then v per head)
  const ParamScope s = scope_;
  const Tensor q_scalar = detail::linear(s / "q_scalar", act);
  const Tensor kv_scalar = detail::linear(s / "kv_scalar", act);
  // [N, c_s] -> [N, 3*H*pq], [N, 3*H*(pq+pv)]: x, y, z blocks of H*P, each [H, P]
  const Tensor q_point_local = detail::linear(s / "q_point_local", act);
  const Tensor kv_point_local = detail::linear(s / "kv_point_local", act);
  const T* q = q_scalar.data<T>();
  const T* kv = kv_scalar.data<T>();

  // Points in the global frame: [N, H, P, 3]
  std::vector<T> q_pts(size_t(n * H * pq * 3)), k_pts(size_t(n * H * pq * 3)),
      v_pts(size_t(n * H * pv * 3));
  {
    const T* ql = q_point_local.data<T>();
    const T* kvl = kv_point_local.data<T>();
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t h = 0; h < H; ++h) {
        for (int64_t p = 0; p < pq; ++p) {
          const T* row = ql + i * 3 * H * pq + h * pq + p;
          const T local[3] = {row[0], row[H * pq], row[2 * H * pq]};
          frames[i].apply(local, &q_pts[size_t(((i * H + h) * pq + p) * 3)]);
        }
        for (int64_t p = 0; p < pk; ++p) {
          const T* row = kvl + i * 3 * H * pk + h * pk + p;
          const T local[3] = {row[0], row[H * pk], row[2 * H * pk]};
          T* dst = p < pq ? &k_pts[size_t(((i * H + h) * pq + p) * 3)]
                          : &v_pts[size_t(((i * H + h) * pv + p - pq) * 3)];
          frames[i].apply(local, dst);
        }
      }
    }
  }

  // Logit weights: unit-variance scalar and point terms, each then scaled to variance 1/3.
  const T w_scalar = T(std::sqrt(1.0 / (3.0 * double(std::max<int64_t>(cq, 1)))));
  std::vector<T> w_point(static_cast<size_t>(H));
  {
    const std::vector<T> tpw =
        detail::host_values<T>(s["trainable_point_weights"], "trainable_point_weights");
    const double base = std::sqrt(1.0 / (3.0 * double(std::max<int64_t>(pq, 1)) * 9.0 / 2.0));
    for (int64_t h = 0; h < H; ++h) w_point[h] = T(base) * T(softplus(double(tpw[h])));
  }

  // Attention weights [N_i, H, N_j] and the per-query output features [N, F]
  const int64_t F = H * cv + 4 * H * pv + H * cz;
  Tensor attn = Tensor::empty(Shape{n, H, n}, dtype_v<T>);
  Tensor features = Tensor::empty(Shape{n, F}, dtype_v<T>);
  T* a = attn.data<T>();
  T* feat = features.data<T>();
  const T* bias = bias_2d_.data<T>();
  thread_pool().parallel_for(n, 1, [&](int64_t i0, int64_t i1) {
    std::vector<T> qs(static_cast<size_t>(cq)), vs(static_cast<size_t>(cv)), vp(size_t(pv * 3));
    for (int64_t i = i0; i < i1; ++i) {
      for (int64_t h = 0; h < H; ++h) {
        for (int64_t c = 0; c < cq; ++c) qs[c] = w_scalar * q[(i * H + h) * cq + c];
        const T* qp = &q_pts[size_t((i * H + h) * pq * 3)];
        T* row = a + (i * H + h) * n;
        T max_logit = -INFINITY;
        for (int64_t j = 0; j < n; ++j) {
          const T* kj = kv + (j * H + h) * (cq + cv);
          T scalar = 0;
          for (int64_t c = 0; c < cq; ++c) scalar += qs[c] * kj[c];
          const T* kp = &k_pts[size_t((j * H + h) * pq * 3)];
          T dist2 = 0;
          for (int64_t e = 0; e < pq * 3; ++e) dist2 += (qp[e] - kp[e]) * (qp[e] - kp[e]);
          T logit = scalar + T(-0.5) * w_point[h] * dist2 + bias[(i * n + j) * H + h];
          logit -= T(1e5) * (T(1) - mask[i] * mask[j]);
          row[j] = logit;
          max_logit = std::max(max_logit, logit);
        }
        T sum = 0;
        for (int64_t j = 0; j < n; ++j) sum += (row[j] = std::exp(row[j] - max_logit));
        for (int64_t j = 0; j < n; ++j) row[j] /= sum;
      }

      // Scalar values [H*cv], then value points (global) [H, pv, 3] brought into frame i.
      T* fi = feat + i * F;
      for (int64_t h = 0; h < H; ++h) {
        const T* row = a + (i * H + h) * n;
        std::fill(vs.begin(), vs.end(), T(0));
        std::fill(vp.begin(), vp.end(), T(0));
        for (int64_t j = 0; j < n; ++j) {
          const T w = row[j];
          const T* vj = kv + (j * H + h) * (cq + cv) + cq;
          for (int64_t c = 0; c < cv; ++c) vs[c] += w * vj[c];
          const T* pj = &v_pts[size_t((j * H + h) * pv * 3)];
          for (int64_t e = 0; e < pv * 3; ++e) vp[e] += w * pj[e];
        }
        for (int64_t c = 0; c < cv; ++c) fi[h * cv + c] = vs[c];
        for (int64_t p = 0; p < pv; ++p) {
          T local[3];
          frames[i].invert_apply(&vp[size_t(p * 3)], local);
          T* pts = fi + H * cv + h * pv + p;
          pts[0] = local[0];
          pts[H * pv] = local[1];
          pts[2 * H * pv] = local[2];
          pts[3 * H * pv] =
              std::sqrt(T(1e-8) + local[0] * local[0] + local[1] * local[1] + local[2] * local[2]);
        }
      }
    }
  });
  // Attention over the pair, per query i: [H, N] @ [N, c_z] -> [H, c_z] into the last block.
  ops::gemm_batched<T>(n, false, false, H, cz, n, T(1), a, n, H * n, pair_.data<T>(), cz, n * cz,
                       T(0), feat + H * cv + 4 * H * pv, cz, F);

  // [N, F] -> [N, c_s]
  return detail::linear(s / "output_projection", features);
}

template class InvariantPointAttention<float>;
template class InvariantPointAttention<double>;

}  // namespace exafold::model
