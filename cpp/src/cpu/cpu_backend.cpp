// The cpu backend's identity, what it supports, and its workspaces (cpu_backend.h).
#include "cpu_backend.h"

#include <algorithm>

#include "exafold/core/thread_pool.h"

namespace exafold::cpu {

using backend::Op;

namespace {

bool is_float(DType d) { return d == DType::float32 || d == DType::float64; }
bool is_index(DType d) { return d == DType::int32 || d == DType::int64; }

/// The rule of almost every op: its floating operands share float32 or float64, its other
/// operands are indices.
bool uniform_float(std::span<const DType> dtypes) {
  const DType* first = nullptr;
  for (const DType& d : dtypes) {
    if (is_index(d)) continue;
    if (!is_float(d)) return false;
    if (!first) first = &d;
    if (d != *first) return false;
  }
  return first != nullptr;
}

}  // namespace

bool CpuBackend::supports(Op op, std::span<const DType> dtypes) const {
  switch (op) {
    case Op::fill:
      return dtypes.size() == 1 && (is_float(dtypes[0]) || is_index(dtypes[0]));
    case Op::copy: {
      auto ok = [](DType d) { return is_float(d) || is_index(d) || d == DType::bfloat16; };
      return dtypes.size() == 2 && ok(dtypes[0]) && ok(dtypes[1]) &&
             (dtypes[0] == dtypes[1] || !is_index(dtypes[0]));
    }
    case Op::check_range:
      return dtypes.size() == 1 && is_index(dtypes[0]);
    case Op::relative_position_bins:  // int32 bins of residue indices
      return dtypes.size() == 2 && dtypes[0] == DType::int32 && is_index(dtypes[1]);
    case Op::distogram_bins:  // int32 bins of float coordinates
      return dtypes.size() == 2 && dtypes[0] == DType::int32 && is_float(dtypes[1]);
    default:
      return uniform_float(dtypes);
  }
}

int CpuBackend::tasks() const { return tasks_ > 0 ? tasks_ : thread_pool().num_threads(); }

Tensor CpuBackend::workspace(const Tensor& like, int64_t n, DType dtype) {
  return Tensor::empty({n}, dtype, like.device());
}

CpuBackend& cpu_backend() {
  static CpuBackend b;
  return b;
}

CpuBackend& meta_cpu_backend() {
  static CpuBackend b(true);
  return b;
}

int64_t index_at(const Tensor& t, int64_t i) {
  const char* p = static_cast<const char*>(t.data_ptr()) + i * t.strides()[0];
  return t.dtype() == DType::int64 ? *reinterpret_cast<const int64_t*>(p)
                                   : *reinterpret_cast<const int32_t*>(p);
}

}  // namespace exafold::cpu
