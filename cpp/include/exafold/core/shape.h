// Fixed-capacity dimension lists (rank <= kMaxRank) for shapes and byte strides.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>

#include "exafold/core/error.h"

namespace exafold {

inline constexpr int kMaxRank = 8;

class Dims {
 public:
  Dims() = default;
  Dims(std::initializer_list<int64_t> v) : Dims(std::span<const int64_t>(v.begin(), v.size())) {}
  explicit Dims(std::span<const int64_t> v) {
    check(v.size() <= size_t(kMaxRank), "rank ", v.size(), " exceeds the maximum of ", kMaxRank);
    n_ = int(v.size());
    for (int i = 0; i < n_; ++i) d_[i] = v[i];
  }

  int size() const { return n_; }
  bool empty() const { return n_ == 0; }
  int64_t operator[](int i) const { return d_[i]; }
  int64_t& operator[](int i) { return d_[i]; }
  const int64_t* begin() const { return d_.data(); }
  const int64_t* end() const { return d_.data() + n_; }
  int64_t* begin() { return d_.data(); }
  int64_t* end() { return d_.data() + n_; }
  void push_back(int64_t v) {
    check(n_ < kMaxRank, "rank exceeds the maximum of ", kMaxRank);
    d_[n_++] = v;
  }
  void insert(int pos, int64_t v);
  void erase(int pos);
  int64_t product() const {
    int64_t p = 1;
    for (int i = 0; i < n_; ++i) p *= d_[i];
    return p;
  }
  bool operator==(const Dims& o) const {
    if (n_ != o.n_) return false;
    for (int i = 0; i < n_; ++i)
      if (d_[i] != o.d_[i]) return false;
    return true;
  }
  /// "[2, 3, 4]", for error messages.
  std::string str() const;

 private:
  std::array<int64_t, kMaxRank> d_{};
  int n_ = 0;
};

using Shape = Dims;
/// Strides in bytes, as in numpy and ggml's nb[]: element (i0..ik) sits at sum(i_d * stride_d).
using Strides = Dims;

/// Row-major byte strides for a shape.
Strides contiguous_strides(const Shape& shape, size_t elem_size);

}  // namespace exafold
