// Reductions: argument checks and dispatch (exafold/ops/reduce.h).
#include "exafold/ops/reduce.h"

#include "dispatch.h"

namespace exafold::ops {

using backend::Op;
using detail::run;

Tensor softmax(const Tensor& x) {
  check(x.defined() && x.rank() >= 1, "softmax: the input must have at least one dimension");
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  run(Op::softmax, {&out, &x}, [&](backend::Backend& b) { b.softmax(out, x); });
  return out;
}

Tensor expectation(const Tensor& probs, const Tensor& values) {
  check(probs.defined() && probs.rank() >= 1, "expectation: probs must have a bin dimension");
  detail::expect_shape("expectation", values, "values", {probs.size(-1)});
  check(values.is_contiguous(), "expectation: values must be contiguous");
  Shape s = probs.shape();
  s.erase(s.size() - 1);
  Tensor out = Tensor::empty(s, probs.dtype(), probs.device());
  run(Op::expectation, {&out, &probs, &values},
      [&](backend::Backend& b) { b.expectation(out, probs, values); });
  return out;
}

Tensor masked_mean(const Tensor& x, const Tensor& mask, double eps) {
  detail::expect_rank("masked_mean", x, "input", 3);
  detail::expect_shape("masked_mean", mask, "mask", {x.size(0), x.size(1)});
  Tensor out = Tensor::empty({x.size(0), x.size(2)}, x.dtype(), x.device());
  run(Op::masked_mean, {&out, &x, &mask},
      [&](backend::Backend& b) { b.masked_mean(out, x, mask, eps); });
  return out;
}

Tensor predicted_tm_score(const Tensor& probs, const Tensor& centres, const Tensor& weights) {
  detail::expect_rank("predicted_tm_score", probs, "probs", 3);
  const int64_t n = probs.size(0), bins = probs.size(2);
  detail::expect_shape("predicted_tm_score", probs, "probs", {n, n, bins});
  detail::expect_shape("predicted_tm_score", centres, "centres", {bins});
  check(centres.is_contiguous(), "predicted_tm_score: centres must be contiguous");
  detail::expect_shape("predicted_tm_score", weights, "weights", {n});
  Tensor out = Tensor::empty(Shape{}, probs.dtype(), probs.device());
  run(Op::predicted_tm_score, {&out, &probs, &centres, &weights},
      [&](backend::Backend& b) { b.predicted_tm_score(out, probs, centres, weights); });
  return out;
}

namespace {
thread_local int t_ranges_checked = 0;  // RangesChecked scopes alive on this thread
}  // namespace

}  // namespace exafold::ops

namespace exafold::backend {
bool range_checks_hoisted() { return exafold::ops::t_ranges_checked > 0; }
}  // namespace exafold::backend

namespace exafold::ops {

RangesChecked::RangesChecked() { ++t_ranges_checked; }
RangesChecked::~RangesChecked() { --t_ranges_checked; }

void check_range(const Tensor& t, int64_t lo, int64_t hi, std::string_view what) {
  check(t.defined(), what, " is missing");
  if (backend::range_checks_hoisted()) return;  // Note [Range checks before a capture]
  check(t.dtype() == DType::int32 || t.dtype() == DType::int64, what,
        " must hold int32 or int64, "
        "not ",
        dtype_name(t.dtype()));
  int64_t at = -1, value = 0;
  run(Op::check_range, {&t}, [&](backend::Backend& b) { at = b.check_range(t, lo, hi, &value); });
  check(at < 0, what, " holds ", value, " at flat index ", at, ", outside ", lo, "..", hi);
}

}  // namespace exafold::ops
