// Internal to the cpu backend: iteration over K strided operands of one shape, dimensions that
// are laid out as one merged, the innermost run handed to a kernel as (pointers, count, strides),
// and the outer runs split across the thread pool when there is enough work.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "exafold/core/shape.h"
#include "exafold/core/thread_pool.h"

namespace exafold::cpu {

template <size_t K>
struct Strided {
  std::array<char*, K> base{};
  std::array<const int64_t*, K> strides{};  ///< byte strides of each operand, shape's rank
};

/// Elements below this run on the calling thread.
inline constexpr int64_t kParallelElements = 1 << 15;

/// Calls inner(ptrs, n, steps) for every innermost run of `shape`: ptrs the K operands' first
/// elements, n the run's length, steps their byte strides along it. Runs are disjoint; the
/// order between them is unspecified (each run is still in order). Dimensions are visited in
/// the first operand's memory order (largest stride outermost), so that the output, operand 0
/// by convention, is written sequentially even through a transposed view.
template <size_t K, class Inner>
void for_each_run(const Shape& shape, const Strided<K>& ops, Inner&& inner, bool parallel = true) {
  int order[kMaxRank];
  for (int d = 0; d < shape.size(); ++d) order[d] = d;
  std::stable_sort(order, order + shape.size(), [&](int a, int b) {
    const int64_t sa = ops.strides[0][a], sb = ops.strides[0][b];
    return (sa < 0 ? -sa : sa) > (sb < 0 ? -sb : sb);
  });
  // Merge dimension pairs that every operand lays out as one; drop size-1 dimensions.
  int64_t size[kMaxRank];
  int64_t stride[K][kMaxRank];
  int rank = 0;
  for (int o = 0; o < shape.size(); ++o) {
    const int d = order[o];
    if (shape[d] == 1) continue;
    if (shape[d] == 0) return;
    bool merge = rank > 0;
    for (size_t k = 0; k < K && merge; ++k)
      merge = stride[k][rank - 1] == ops.strides[k][d] * shape[d];
    if (merge) {
      size[rank - 1] *= shape[d];
      for (size_t k = 0; k < K; ++k) stride[k][rank - 1] = ops.strides[k][d];
    } else {
      size[rank] = shape[d];
      for (size_t k = 0; k < K; ++k) stride[k][rank] = ops.strides[k][d];
      ++rank;
    }
  }
  if (rank == 0) {  // a single element
    std::array<int64_t, K> steps{};
    inner(ops.base, int64_t(1), steps);
    return;
  }
  const int64_t n = size[rank - 1];
  std::array<int64_t, K> steps;
  for (size_t k = 0; k < K; ++k) steps[k] = stride[k][rank - 1];
  int64_t outer = 1;
  for (int d = 0; d + 1 < rank; ++d) outer *= size[d];

  auto runs = [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      std::array<char*, K> p = ops.base;
      int64_t rem = r;
      for (int d = rank - 2; d >= 0; --d) {
        const int64_t i = rem % size[d];
        rem /= size[d];
        for (size_t k = 0; k < K; ++k) p[k] += i * stride[k][d];
      }
      inner(p, n, steps);
    }
  };
  if (parallel && outer == 1 && n >= 2 * kParallelElements) {
    // One long run: split it.
    thread_pool().parallel_for(n, kParallelElements, [&](int64_t i0, int64_t i1) {
      std::array<char*, K> p = ops.base;
      for (size_t k = 0; k < K; ++k) p[k] += i0 * steps[k];
      inner(p, i1 - i0, steps);
    });
  } else if (parallel && outer > 1 && outer * n >= kParallelElements) {
    const int64_t grain = std::max<int64_t>(1, kParallelElements / std::max<int64_t>(n, 1) / 4);
    thread_pool().parallel_for(outer, grain, runs);
  } else {
    runs(0, outer);
  }
}

/// Byte offset of element e (row-major order) of a view.
inline int64_t flat_offset(const Shape& shape, const Strides& strides, int64_t e) {
  int64_t off = 0;
  for (int d = shape.size() - 1; d >= 0; --d) {
    off += (e % shape[d]) * strides[d];
    e /= shape[d];
  }
  return off;
}

/// Byte offset of row `row` of a [..., c] view (its leading indices in row-major order).
inline int64_t row_offset(const Shape& shape, const Strides& strides, int64_t row) {
  int64_t off = 0;
  for (int d = shape.size() - 2; d >= 0; --d) {
    off += (row % shape[d]) * strides[d];
    row /= shape[d];
  }
  return off;
}

/// The element at byte offset `step * i` from p, as T.
template <class T>
inline T& at(char* p, int64_t step, int64_t i) {
  return *reinterpret_cast<T*>(p + step * i);
}

/// Calls f(e_0, ..., e_{K-1}) (each a T&) for the n elements of one run. A run whose operands
/// are all dense gets a plain indexed loop, which the compiler vectorises; strided or broadcast
/// runs take the general path.
template <class T, size_t K, class F>
inline void each_element(const std::array<char*, K>& p, int64_t n,
                         const std::array<int64_t, K>& steps, F&& f) {
  bool dense = true;
  for (size_t k = 0; k < K; ++k) dense = dense && steps[k] == int64_t(sizeof(T));
  [&]<size_t... I>(std::index_sequence<I...>) {
    if (dense) {
      for (int64_t i = 0; i < n; ++i) f(reinterpret_cast<T*>(p[I])[i]...);
    } else {
      for (int64_t i = 0; i < n; ++i) f(at<T>(p[I], steps[I], i)...);
    }
  }
  (std::make_index_sequence<K>{});
}

}  // namespace exafold::cpu
