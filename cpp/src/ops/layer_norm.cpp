// LayerNorm: argument checks and dispatch (exafold/ops/layer_norm.h).
#include "exafold/ops/layer_norm.h"

#include "dispatch.h"

namespace exafold::ops {

Tensor layer_norm(const Tensor& x, const Tensor& scale, const Tensor& offset,
                  std::optional<DType> out_dtype, double eps) {
  check(x.defined() && x.rank() >= 1, "layer_norm: the input must have at least one dimension");
  const int64_t c = x.size(-1);
  detail::expect_shape("layer_norm", scale, "scale", {c});
  detail::expect_shape("layer_norm", offset, "offset", {c});
  check(scale.is_contiguous() && offset.is_contiguous(),
        "layer_norm: scale and offset must be contiguous");
  Tensor out = Tensor::empty(x.shape(), out_dtype.value_or(x.dtype()), x.device());
  detail::run(backend::Op::layer_norm, {&out, &x, &scale, &offset},
              [&](backend::Backend& b) { b.layer_norm(out, x, scale, offset, eps); });
  return out;
}

}  // namespace exafold::ops
