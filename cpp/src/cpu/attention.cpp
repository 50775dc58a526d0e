#include "exafold/ops/attention.h"

#include <algorithm>
#include <cmath>

#include "cpu/fast_exp.h"
#include "exafold/core/thread_pool.h"
#include "exafold/ops/gemm.h"
#include "exafold/ops/linear.h"
#include "exafold/tensor/scratch.h"

namespace exafold::ops {
namespace {

// The reference clips logits to this range before its softmax (a NaN guard that also turns a
// fully masked row, all near -1e9, into identical values and so into uniform weights).
constexpr double kLogitClip = 1e8;

// float32 takes the inline exp so that the loops calling it vectorise; float64 keeps libm's, whose
// last-bit accuracy its parity with the float64 reference relies on.
inline float exp_of(float x) { return cpu::fast_exp(x); }
inline double exp_of(double x) { return std::exp(x); }

template <class T>
T sigmoid(T x) {
  return T(1) / (T(1) + exp_of(-x));
}

// Reductions over kLanes independent partial results, folded pairwise at the end: one
// accumulator is a chain of dependent operations that the vectoriser may not reorder (float
// addition is not associative). 32 lanes because GCC unrolls a loop of 16 or fewer completely and
// then leaves the max scalar. Always inlined, so that each copy of the softmax below compiles them
// for its own instruction set.
constexpr int64_t kLanes = 32;

template <class T, class Op>
[[gnu::always_inline]] inline T lane_reduce(const T* x, int64_t n, T init, Op op) {
  T part[kLanes];
  std::fill_n(part, kLanes, init);
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) part[l] = op(part[l], x[j + l]);
  for (; j < n; ++j) part[0] = op(part[0], x[j]);
  for (int64_t w = kLanes / 2; w > 0; w /= 2)
    for (int64_t l = 0; l < w; ++l) part[l] = op(part[l], part[l + w]);
  return part[0];
}

template <class T>
[[gnu::always_inline]] inline T lane_max(const T* x, int64_t n, T init) {
  // By value: std::max returns a reference, which GCC does not turn into a vector max.
  return lane_reduce(x, n, init, [](T a, T b) { return a < b ? b : a; });
}

template <class T>
[[gnu::always_inline]] inline T lane_sum(const T* x, int64_t n) {
  return lane_reduce(x, n, T(0), [](T a, T b) { return a + b; });
}

// The softmax is most of the extra-MSA row attention's time. The baseline x86-64 build vectorises
// it 4 floats wide (SSE2); a second copy built for AVX2, 8 wide, is chosen at load time on CPUs
// that have it and made that module 1.5x faster. FMA would gain a few percent more but round
// differently from the baseline copy; without it the two copies give identical results.
#if defined(__x86_64__)
#define EXAFOLD_AVX2_CLONE __attribute__((target_clones("avx2", "default")))
#else
#define EXAFOLD_AVX2_CLONE
#endif

}  // namespace

template <class T>
EXAFOLD_AVX2_CLONE void biased_softmax(T* logits, int64_t n_q, int64_t n_k, const T* key_bias,
                                       const T* shared_bias) {
  const T lo = T(-kLogitClip), hi = T(kLogitClip);
  for (int64_t i = 0; i < n_q; ++i) {
    T* row = logits + i * n_k;
    const T* sb = shared_bias ? shared_bias + i * n_k : nullptr;
    for (int64_t j = 0; j < n_k; ++j) {
      T x = row[j];
      if (key_bias) x += key_bias[j];
      if (sb) x += sb[j];
      row[j] = std::clamp(x, lo, hi);
    }
    const T max = lane_max(row, n_k, lo);
    for (int64_t j = 0; j < n_k; ++j) row[j] = exp_of(row[j] - max);
    const T scale = T(1) / lane_sum(row, n_k);
    for (int64_t j = 0; j < n_k; ++j) row[j] *= scale;
  }
}

template <class T>
void mask_bias(const T* mask, int64_t n, T* bias) {
  for (int64_t i = 0; i < n; ++i) bias[i] = T(1e9) * (mask[i] - T(1));
}

template <class T>
void attention(const T* q_data, const T* m_data, int64_t batch, int64_t n_q, int64_t n_k,
               const T* key_bias, const T* shared_bias, const AttentionWeights<T>& w, T* out) {
  const int64_t h = w.heads, dk = w.key_dim, dv = w.value_dim;
  const int64_t hk = h * dk, hv = h * dv;
  const int64_t rows_q = batch * n_q, rows_k = batch * n_k;
  const Scratch<T> q(rows_q * hk);
  const Scratch<T> k(rows_k * hk);
  const Scratch<T> v(rows_k * hv);
  const Scratch<T> o(rows_q * hv);

  // [batch, n_q, heads, key_dim]; scaled after the projection, as the reference does
  linear<T>(q_data, rows_q, w.c_q, w.query_w, nullptr, hk, q.get());
  const T scale = T(std::pow(double(dk), -0.5));
  thread_pool().parallel_for(rows_q, 256, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0 * hk; i < r1 * hk; ++i) q[i] *= scale;
  });
  // [batch, n_k, heads, key_dim] and [batch, n_k, heads, value_dim]
  linear<T>(m_data, rows_k, w.c_m, w.key_w, nullptr, hk, k.get());
  linear<T>(m_data, rows_k, w.c_m, w.value_w, nullptr, hv, v.get());

  // One (batch entry, head) per task: logits [n_q, n_k] live in the task's own scratch, so the
  // [batch, heads, n_q, n_k] tensor never exists.
  thread_pool().parallel_for(batch * h, 1, [&](int64_t t0, int64_t t1) {
    const Scratch<T> logits(n_q * n_k);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t b = t / h, head = t % h;
      // [n_q, n_k] = q[b, :, head] @ k[b, :, head]^T
      gemm_serial<T>(false, true, n_q, n_k, dk, T(1), q.get() + b * n_q * hk + head * dk, hk,
                     k.get() + b * n_k * hk + head * dk, hk, T(0), logits.get(), n_k);
      biased_softmax<T>(logits.get(), n_q, n_k, key_bias ? key_bias + b * n_k : nullptr,
                        shared_bias ? shared_bias + head * n_q * n_k : nullptr);
      // o[b, :, head] [n_q, value_dim] = weights @ v[b, :, head]
      gemm_serial<T>(false, false, n_q, dv, n_k, T(1), logits.get(), n_k,
                     v.get() + b * n_k * hv + head * dv, hv, T(0),
                     o.get() + b * n_q * hv + head * dv, hv);
    }
  });

  if (w.gating_w) {
    // [batch, n_q, heads, value_dim]
    const Scratch<T> gate(rows_q * hv);
    linear<T>(q_data, rows_q, w.c_q, w.gating_w, w.gating_b, hv, gate.get());
    thread_pool().parallel_for(rows_q, 256, [&](int64_t r0, int64_t r1) {
      for (int64_t i = r0 * hv; i < r1 * hv; ++i) o[i] *= sigmoid(gate[i]);
    });
  }
  // [batch, n_q, c_out]
  linear<T>(o.get(), rows_q, hv, w.output_w, w.output_b, w.c_out, out);
}

template void biased_softmax<float>(float*, int64_t, int64_t, const float*, const float*);
template void biased_softmax<double>(double*, int64_t, int64_t, const double*, const double*);
template void mask_bias<float>(const float*, int64_t, float*);
template void mask_bias<double>(const double*, int64_t, double*);
template void attention<float>(const float*, const float*, int64_t, int64_t, int64_t, const float*,
                               const float*, const AttentionWeights<float>&, float*);
template void attention<double>(const double*, const double*, int64_t, int64_t, int64_t,
                                const double*, const double*, const AttentionWeights<double>&,
                                double*);

}  // namespace exafold::ops
