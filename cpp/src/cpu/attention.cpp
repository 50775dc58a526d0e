// Gated multi-head attention of the cpu backend, one (batch entry, head) per task: the logits
// [n_q, n_k] of a task live in its own workspace slot, so the [B, H, n_q, n_k] tensor never
// exists.
#include <algorithm>
#include <cmath>

#include "cpu_backend.h"
#include "fast_exp.h"
#include "gemm.h"
#include "workspace_slots.h"

namespace exafold::cpu {
namespace {

// The reference clips logits to this range before its softmax (a NaN guard that also turns a
// fully masked row, all near -1e9, into identical values and so into uniform weights).
constexpr double kLogitClip = 1e8;

// float32 takes the inline exp so that the loops calling it vectorise; float64 keeps libm's, whose
// last-bit accuracy its parity with the float64 reference relies on.
inline float exp_of(float x) { return fast_exp(x); }
inline double exp_of(double x) { return std::exp(x); }

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

/// The reference's masked softmax, in place on logits [n_q, n_k]: adds key_bias [n_k] to every
/// row and shared_bias [n_q, n_k] (rows ld_shared apart; either may be null), clips to
/// [-1e8, 1e8], and replaces each row by its softmax.
template <class T>
EXAFOLD_AVX2_CLONE void biased_softmax(T* logits, int64_t n_q, int64_t n_k, const T* key_bias,
                                       const T* shared_bias, int64_t ld_shared) {
  const T lo = T(-kLogitClip), hi = T(kLogitClip);
  for (int64_t i = 0; i < n_q; ++i) {
    T* row = logits + i * n_k;
    const T* sb = shared_bias ? shared_bias + i * ld_shared : nullptr;
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
const T* element(const Tensor& t, int64_t i0, int64_t i1, int64_t i2) {
  return reinterpret_cast<const T*>(static_cast<const char*>(t.data_ptr()) + i0 * t.strides()[0] +
                                    i1 * t.strides()[1] + i2 * t.strides()[2]);
}

}  // namespace

void CpuBackend::attention(const Tensor& out, const ops::AttentionInputs& in) {
  const int64_t batch = in.q.size(0), nq = in.q.size(1), heads = in.q.size(2);
  const int64_t dk = in.q.size(3), nk = in.k.size(1), dv = in.v.size(3);
  const int64_t per_task = nq * dk + nq * nk + nk;
  WorkspaceSlots slots(out, std::min<int64_t>(tasks(), batch * heads), per_task);
  if (dry_ || batch * heads == 0 || nq == 0) return;
  with_float(out.dtype(), [&]<class T>() {
    const int64_t item = sizeof(T);
    const int64_t ldq = in.q.strides()[1] / item, ldk = in.k.strides()[1] / item;
    const int64_t ldv = in.v.strides()[1] / item, hv = heads * dv;
    T* o = static_cast<T*>(out.data_ptr());
    const T scale = T(in.scale);
    slots.parallel_for<T>(batch * heads, [&](int64_t t, T* ws) {
      const int64_t b = t / heads, h = t % heads;
      T* qs = ws;
      T* logits = qs + nq * dk;
      T* key_bias = logits + nq * nk;
      // [n_q, key_dim], scaled after the projection as the reference does
      const T* q = element<T>(in.q, b, 0, h);
      for (int64_t i = 0; i < nq; ++i)
        for (int64_t c = 0; c < dk; ++c) qs[i * dk + c] = q[i * ldq + c] * scale;
      if (in.mask.defined()) {
        for (int64_t j = 0; j < nk; ++j) {
          const T m =
              *reinterpret_cast<const T*>(static_cast<const char*>(in.mask.data_ptr()) +
                                          b * in.mask.strides()[0] + j * in.mask.strides()[1]);
          key_bias[j] = T(1e9) * (m - T(1));
        }
      }
      // [n_q, n_k] = q @ k[b, :, h]^T
      gemm_serial<T>(false, true, nq, nk, dk, T(1), qs, dk, element<T>(in.k, b, 0, h),
                     std::max<int64_t>(ldk, dk), T(0), logits, nk);
      // The pair bias may be any view with contiguous rows (a chunk of queries, say).
      const T* pair_bias = in.pair_bias.defined() ? element<T>(in.pair_bias, h, 0, 0) : nullptr;
      biased_softmax<T>(logits, nq, nk, in.mask.defined() ? key_bias : nullptr, pair_bias,
                        in.pair_bias.defined() && nq > 1 ? in.pair_bias.strides()[1] / item : 0);
      // out[b, :, h] [n_q, value_dim] = weights @ v[b, :, h]
      T* ob = o + b * nq * hv + h * dv;
      gemm_serial<T>(false, false, nq, dv, nk, T(1), logits, nk, element<T>(in.v, b, 0, h),
                     std::max<int64_t>(ldv, dv), T(0), ob, hv);
      if (in.gate.defined()) {
        const T* g = element<T>(in.gate, b, 0, h);
        const int64_t ldg = in.gate.strides()[1] / item;
        for (int64_t i = 0; i < nq; ++i)
          for (int64_t c = 0; c < dv; ++c) ob[i * hv + c] *= sigmoid(g[i * ldg + c]);
      }
    });
  });
}

}  // namespace exafold::cpu
