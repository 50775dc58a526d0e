#include "features/nearest_cluster.h"

#include <emmintrin.h>

#include <algorithm>
#include <cstring>

#include "exafold/core/error.h"
#include "exafold/core/thread_pool.h"

namespace exafold::features {

namespace {

// 32 bytes compared per step in GCC/Clang vector types: one generic kernel, compiled twice
// (baseline x86-64 lowers it to SSE2 pairs, the AVX2 clone to single instructions) and chosen
// at run time.
typedef uint8_t u8x32 __attribute__((vector_size(32)));
constexpr int64_t kWidth = 32;
static_assert(kClusterRowAlign % kWidth == 0);

// Vectors travel by reference: by value they would change the calling convention between the
// two compilations (-Wpsabi), although every call is inlined.
[[gnu::always_inline]] inline void load(u8x32& v, const uint8_t* p) {
  std::memcpy(&v, p, sizeof v);
}

// Sum of the 32 byte counters (SSE2's sum of absolute differences against zero, per half).
[[gnu::always_inline]] inline int64_t fold(const u8x32& acc) {
  __m128i lo, hi;
  std::memcpy(&lo, &acc, 16);
  std::memcpy(&hi, reinterpret_cast<const char*>(&acc) + 16, 16);
  __m128i s =
      _mm_add_epi64(_mm_sad_epu8(lo, _mm_setzero_si128()), _mm_sad_epu8(hi, _mm_setzero_si128()));
  return _mm_cvtsi128_si64(s) + _mm_cvtsi128_si64(_mm_unpackhi_epi64(s, s));
}

// One extra row against every centre, four centres per pass so each load of x serves four
// comparisons. Equal bytes compare to 0xFF; subtracting adds 1 to a byte counter, folded into
// 64-bit totals before it can wrap.
[[gnu::always_inline]] inline int32_t nearest(const uint8_t* x, const uint8_t* centres, int64_t S,
                                              int64_t stride) {
  constexpr int64_t kFold = 255;
  const int64_t nvec = stride / kWidth;
  int64_t best_count = -1;
  int32_t best = 0;
  for (int64_t s = 0; s < S; s += 4) {
    const int64_t m = std::min<int64_t>(4, S - s);
    const uint8_t* c[4];
    for (int k = 0; k < 4; ++k) c[k] = centres + (s + std::min<int64_t>(k, m - 1)) * stride;
    int64_t total[4] = {0, 0, 0, 0};
    for (int64_t v0 = 0; v0 < nvec; v0 += kFold) {
      u8x32 acc[4] = {};
      const int64_t v1 = std::min(nvec, v0 + kFold);
      for (int64_t v = v0; v < v1; ++v) {
        u8x32 xv, cv;
        load(xv, x + v * kWidth);
        for (int k = 0; k < 4; ++k) {
          load(cv, c[k] + v * kWidth);
          acc[k] -= (u8x32)(xv == cv);
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
  for (int64_t k = k0; k < k1; ++k) out[k] = nearest(rows + k * stride, centres, S, stride);
}

[[gnu::target("avx2")]] void nearest_avx2(const uint8_t* rows, int64_t k0, int64_t k1,
                                          const uint8_t* centres, int64_t S, int64_t stride,
                                          int32_t* out) {
  for (int64_t k = k0; k < k1; ++k) out[k] = nearest(rows + k * stride, centres, S, stride);
}

}  // namespace

void nearest_clusters(const uint8_t* rows, int64_t n, const uint8_t* centres, int64_t S,
                      int64_t stride, int32_t* out) {
  EXAFOLD_ASSERT(stride % kClusterRowAlign == 0 && S >= 1);
  static const bool avx2 = __builtin_cpu_supports("avx2");
  // About a million byte comparisons per task.
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 20) / (S * stride));
  thread_pool().parallel_for(n, grain, [&](int64_t k0, int64_t k1) {
    if (avx2) {
      nearest_avx2(rows, k0, k1, centres, S, stride, out);
    } else {
      nearest_baseline(rows, k0, k1, centres, S, stride, out);
    }
  });
}

}  // namespace exafold::features
