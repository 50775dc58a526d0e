#include "features/nearest_cluster.h"

#include <algorithm>
#include <cstring>

#include "exafold/core/thread_pool.h"

namespace exafold::features {

namespace {

// 32 bytes compared per step in GCC/Clang vector types: one generic kernel, compiled twice
// (baseline x86-64 lowers it to SSE2 pairs, the AVX2 clone to single instructions) and chosen
// at run time.
typedef uint8_t u8x32 __attribute__((vector_size(32)));
typedef uint64_t u64x4 __attribute__((vector_size(32)));
constexpr int64_t kWidth = 32;

// Vectors travel by reference: by value they would change the calling convention between the
// two compilations (-Wpsabi), although every call is inlined.
[[gnu::always_inline]] inline void load(u8x32& v, const uint8_t* p) {
  std::memcpy(&v, p, sizeof v);
}

// Sum of the 32 byte counters.
[[gnu::always_inline]] inline int64_t fold(const u8x32& acc) {
  u64x4 w = (u64x4)acc;
  const u64x4 bytes = {0x00FF00FF00FF00FFull, 0x00FF00FF00FF00FFull, 0x00FF00FF00FF00FFull,
                       0x00FF00FF00FF00FFull};
  u64x4 h = (w & bytes) + ((w >> 8) & bytes);  // four 16-bit sums per lane, each <= 510
  h = (h * 0x0001000100010001ull) >> 48;       // their total, in the top 16 bits
  return int64_t(h[0] + h[1] + h[2] + h[3]);
}

// One extra row against every cluster, four clusters per pass so each load of x serves four
// comparisons. Equal bytes compare to 0xFF; subtracting adds 1 to a byte counter, folded into
// 64-bit totals before it can wrap.
[[gnu::always_inline]] inline int32_t nearest(const uint8_t* x, const uint8_t* clusters, int64_t S,
                                              int64_t L) {
  constexpr int64_t kFold = 255;
  const int64_t nvec = L / kWidth;
  int64_t best_count = -1;
  int32_t best = 0;
  auto consider = [&](int64_t s, int64_t count) {
    if (count > best_count) {
      best_count = count;
      best = int32_t(s);
    }
  };
  int64_t s = 0;
  for (; s + 4 <= S; s += 4) {
    const uint8_t* c[4] = {clusters + s * L, clusters + (s + 1) * L, clusters + (s + 2) * L,
                           clusters + (s + 3) * L};
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
    for (int64_t j = nvec * kWidth; j < L; ++j)
      for (int k = 0; k < 4; ++k) total[k] += x[j] == c[k][j];
    for (int k = 0; k < 4; ++k) consider(s + k, total[k]);
  }
  for (; s < S; ++s) {
    const uint8_t* c = clusters + s * L;
    int64_t total = 0;
    for (int64_t j = 0; j < L; ++j) total += x[j] == c[j];
    consider(s, total);
  }
  return best;
}

void nearest_baseline(const uint8_t* const* rows, int64_t k0, int64_t k1, const uint8_t* clusters,
                      int64_t S, int64_t L, int32_t* out) {
  for (int64_t k = k0; k < k1; ++k) out[k] = nearest(rows[k], clusters, S, L);
}

[[gnu::target("avx2")]] void nearest_avx2(const uint8_t* const* rows, int64_t k0, int64_t k1,
                                          const uint8_t* clusters, int64_t S, int64_t L,
                                          int32_t* out) {
  for (int64_t k = k0; k < k1; ++k) out[k] = nearest(rows[k], clusters, S, L);
}

}  // namespace

void nearest_clusters(const uint8_t* const* rows, int64_t n, const uint8_t* clusters, int64_t S,
                      int64_t L, int32_t* out) {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  // About a million byte comparisons per task.
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 20) / std::max<int64_t>(1, S * L));
  thread_pool().parallel_for(n, grain, [&](int64_t k0, int64_t k1) {
    if (avx2) {
      nearest_avx2(rows, k0, k1, clusters, S, L, out);
    } else {
      nearest_baseline(rows, k0, k1, clusters, S, L, out);
    }
  });
}

}  // namespace exafold::features
