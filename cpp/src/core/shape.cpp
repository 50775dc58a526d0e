#include "exafold/core/shape.h"

namespace exafold {

void Dims::insert(int pos, int64_t v) {
  check(n_ < kMaxRank, "rank exceeds the maximum of ", kMaxRank);
  check(pos >= 0 && pos <= n_, "insert position ", pos, " out of range for rank ", n_);
  for (int i = n_; i > pos; --i) d_[i] = d_[i - 1];
  d_[pos] = v;
  ++n_;
}

void Dims::erase(int pos) {
  check(pos >= 0 && pos < n_, "erase position ", pos, " out of range for rank ", n_);
  for (int i = pos; i + 1 < n_; ++i) d_[i] = d_[i + 1];
  --n_;
}

std::string Dims::str() const {
  std::string s = "[";
  for (int i = 0; i < n_; ++i) s += (i ? ", " : "") + std::to_string(d_[i]);
  return s + "]";
}

Strides contiguous_strides(const Shape& shape, size_t elem_size) {
  Strides s;
  for (int i = 0; i < shape.size(); ++i) s.push_back(0);
  int64_t step = int64_t(elem_size);
  for (int i = shape.size() - 1; i >= 0; --i) {
    s[i] = step;
    step *= shape[i];
  }
  return s;
}

}  // namespace exafold
