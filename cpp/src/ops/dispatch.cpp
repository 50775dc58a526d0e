#include "dispatch.h"

#include <string>
#include <vector>

namespace exafold::ops::detail {

backend::Backend& backend_of(backend::Op op, std::initializer_list<const Tensor*> tensors) {
  const Tensor* first = nullptr;
  std::vector<DType> dtypes;
  for (const Tensor* t : tensors) {
    if (!t->defined()) continue;
    if (!first) first = t;
    check(t->device() == first->device(), backend::op_name(op), ": operands on ",
          first->device().str(), " and ", t->device().str(),
          "; move them to one device first (exafold::migrate)");
    dtypes.push_back(t->dtype());
  }
  EXAFOLD_ASSERT(first != nullptr);
  backend::Backend& b = backend::backend_for(first->device());
  if (!b.supports(op, dtypes)) {
    std::string list;
    for (DType d : dtypes) list += (list.empty() ? "" : ", ") + std::string(dtype_name(d));
    fail(backend::op_name(op), " is not implemented for (", list, ") on ", first->device().str(),
         " (backend ", b.name(), ")");
  }
  return b;
}

void expect_shape(std::string_view op, const Tensor& t, std::string_view what, const Shape& shape) {
  check(t.defined(), op, ": ", what, " is missing (expected ", shape.str(), ")");
  check(t.shape() == shape, op, ": ", what, " has shape ", t.shape().str(), ", expected ",
        shape.str());
}

void expect_rank(std::string_view op, const Tensor& t, std::string_view what, int rank) {
  check(t.defined(), op, ": ", what, " is missing");
  check(t.rank() == rank, op, ": ", what, " has shape ", t.shape().str(), ", expected rank ", rank);
}

void expect_unit_last(std::string_view op, const Tensor& t, std::string_view what) {
  check(t.rank() >= 1 && (t.size(-1) <= 1 || t.strides()[t.rank() - 1] == int64_t(t.itemsize())),
        op, ": ", what, " must be contiguous along its last dimension");
}

}  // namespace exafold::ops::detail
