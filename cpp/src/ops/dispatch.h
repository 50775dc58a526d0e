// Internal to cpp/src/ops: finding an op's backend and calling it. Every op function checks its
// arguments' shapes, allocates its outputs on the operands' device, then calls run().
#pragma once

#include <initializer_list>
#include <string_view>

#include "exafold/backend/backend.h"
#include "exafold/core/error.h"
#include "exafold/tensor/tensor.h"

namespace exafold::ops::detail {

/// The backend every defined tensor of `tensors` lives on, after checking that they share one
/// device and that the backend implements `op` for their dtypes (in order); otherwise
/// InvalidArgument naming the op, the dtypes and the device.
backend::Backend& backend_of(backend::Op op, std::initializer_list<const Tensor*> tensors);

/// Calls fn(backend) between the backend's enter() and leave() for these tensors.
template <class Fn>
void run(backend::Op op, std::initializer_list<const Tensor*> tensors, Fn&& fn) {
  backend::Backend& b = backend_of(op, tensors);
  const Tensor* list[32];
  size_t n = 0;
  for (const Tensor* t : tensors)
    if (t->defined()) list[n++] = t;
  b.enter(std::span<const Tensor* const>(list, n));
  struct Leave {
    backend::Backend& b;
    ~Leave() { b.leave(); }
  } leave{b};
  fn(b);
}

/// Fails unless t is defined with exactly `shape`; `what` names it in the message.
void expect_shape(std::string_view op, const Tensor& t, std::string_view what, const Shape& shape);
/// Fails unless t is defined with rank `rank`.
void expect_rank(std::string_view op, const Tensor& t, std::string_view what, int rank);
/// Fails unless t's last dimension has unit stride.
void expect_unit_last(std::string_view op, const Tensor& t, std::string_view what);

}  // namespace exafold::ops::detail
