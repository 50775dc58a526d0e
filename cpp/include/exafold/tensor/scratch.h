// Uninitialised temporaries for host kernels, from the caching allocator: a kernel called once
// per block would otherwise map and fault in fresh pages on every call (bench/RESULTS.md).
#pragma once

#include <cstdint>

#include "exafold/tensor/tensor.h"

namespace exafold {

template <class T>
class Scratch {
 public:
  explicit Scratch(int64_t n) : tensor_(Tensor::empty({n}, dtype_v<T>)), data_(tensor_.data<T>()) {}
  T* get() const { return data_; }
  T& operator[](int64_t i) const { return data_[i]; }

 private:
  Tensor tensor_;
  T* data_;
};

}  // namespace exafold
