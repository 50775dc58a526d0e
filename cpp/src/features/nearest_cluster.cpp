#include "features/nearest_cluster.h"

#include <emmintrin.h>

#include <algorithm>
#include <cstring>

#include "exafold/core/error.h"
#include "exafold/core/thread_pool.h"

namespace exafold::features {

namespace {

// 16 or 32 bytes compared per step in GCC/Clang vector types: one generic kernel, compiled for
// baseline x86-64 (SSE2, 16-byte vectors) and AVX2 (32), chosen at run time. (AVX-512 was
// measured no faster here, on a CPU that splits 512-bit operations.)
typedef uint8_t u8x16 __attribute__((vector_size(16)));
typedef uint8_t u8x32 __attribute__((vector_size(32)));
static_assert(kClusterRowAlign % 32 == 0);

// Vectors travel by reference: by value they would change the calling convention between the
// compilations (-Wpsabi), although every call is inlined.
template <class V>
[[gnu::always_inline]] inline void load(V& v, const uint8_t* p) {
  std::memcpy(&v, p, sizeof v);
}

// Sum of the byte counters (SSE2's sum of absolute differences against zero, per 16 bytes).
template <class V>
[[gnu::always_inline]] inline int64_t fold(const V& acc) {
  __m128i s = _mm_setzero_si128();
  for (size_t off = 0; off < sizeof(V); off += 16) {
    __m128i part;
    std::memcpy(&part, reinterpret_cast<const char*>(&acc) + off, 16);
    s = _mm_add_epi64(s, _mm_sad_epu8(part, _mm_setzero_si128()));
  }
  return _mm_cvtsi128_si64(s) + _mm_cvtsi128_si64(_mm_unpackhi_epi64(s, s));
}

// One extra row against every centre, four centres per pass so each load of x serves four
// comparisons. Equal bytes compare to 0xFF; subtracting adds 1 to a byte counter, folded into
// 64-bit totals before it can wrap.
template <class V>
[[gnu::always_inline]] inline int32_t nearest(const uint8_t* x, const uint8_t* centres, int64_t S,
                                              int64_t stride) {
  constexpr int64_t kWidth = sizeof(V), kFold = 255;
  const int64_t nvec = stride / kWidth;
  int64_t best_count = -1;
  int32_t best = 0;
  for (int64_t s = 0; s < S; s += 4) {
    const int64_t m = std::min<int64_t>(4, S - s);
    const uint8_t* c[4];
    for (int k = 0; k < 4; ++k) c[k] = centres + (s + std::min<int64_t>(k, m - 1)) * stride;
    int64_t total[4] = {0, 0, 0, 0};
    for (int64_t v0 = 0; v0 < nvec; v0 += kFold) {
      V acc[4] = {};
      const int64_t v1 = std::min(nvec, v0 + kFold);
      for (int64_t v = v0; v < v1; ++v) {
        V xv, cv;
        load(xv, x + v * kWidth);
        for (int k = 0; k < 4; ++k) {
          load(cv, c[k] + v * kWidth);
          acc[k] -= (V)(xv == cv);
        }
      }
      for (int k = 0; k < 4; ++k) total[k] += fold(acc[k]);
    }
    for (int k = 0; k < m; ++k)
      if (total[k] > best_count) {
        best_count = total[k];
        best = int32_t(s + k);
      }
  }
  return best;
}

void nearest_baseline(const uint8_t* rows, int64_t k0, int64_t k1, const uint8_t* centres,
                      int64_t S, int64_t stride, int32_t* out) {
  for (int64_t k = k0; k < k1; ++k) out[k] = nearest<u8x16>(rows + k * stride, centres, S, stride);
}

[[gnu::target("avx2")]] void nearest_avx2(const uint8_t* rows, int64_t k0, int64_t k1,
                                          const uint8_t* centres, int64_t S, int64_t stride,
                                          int32_t* out) {
  for (int64_t k = k0; k < k1; ++k) out[k] = nearest<u8x32>(rows + k * stride, centres, S, stride);
}

}  // namespace

bool cpu_has(SimdLevel level) {
  switch (level) {
    case SimdLevel::kAvx2:
      return __builtin_cpu_supports("avx2");
    default:
      return true;
  }
}

void nearest_clusters(const uint8_t* rows, int64_t n, const uint8_t* centres, int64_t S,
                      int64_t stride, int32_t* out, SimdLevel level) {
  EXAFOLD_ASSERT(stride % kClusterRowAlign == 0 && S >= 1 && cpu_has(level));
  if (level == SimdLevel::kBest)
    level = cpu_has(SimdLevel::kAvx2) ? SimdLevel::kAvx2 : SimdLevel::kBaseline;
  const auto kernel = level == SimdLevel::kAvx2 ? nearest_avx2 : nearest_baseline;
  // About a million byte comparisons per task.
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 20) / (S * stride));
  thread_pool().parallel_for(
      n, grain, [&](int64_t k0, int64_t k1) { kernel(rows, k0, k1, centres, S, stride, out); });
}

}  // namespace exafold::features
