// A tensor as the kernels see it: a device address, a dtype and a strided shape counted in
// elements. Plain data, so that .cu sources never include Tensor; cuda_backend.cpp makes them.
#pragma once

#include <cstdint>

#include "exafold/core/dtype.h"

namespace exafold::cuda {

inline constexpr int kMaxViewRank = 8;

struct View {
  void* data = nullptr;
  DType dtype = DType::float32;
  int rank = 0;
  int64_t shape[kMaxViewRank] = {};
  int64_t stride[kMaxViewRank] = {};  ///< in elements; 0 broadcasts

  int64_t numel() const {
    int64_t n = 1;
    for (int k = 0; k < rank; ++k) n *= shape[k];
    return n;
  }
};

}  // namespace exafold::cuda
