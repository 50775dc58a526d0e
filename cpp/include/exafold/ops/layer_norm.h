// LayerNorm over the last dimension (eps 1e-5, biased variance, scale and offset), as haiku's
// LayerNorm with create_scale and create_offset, which every AlphaFold2 module uses.
#pragma once

#include <optional>

#include "exafold/tensor/tensor.h"

namespace exafold::ops {

/// (x - mean) / sqrt(var + eps) * scale + offset over x's last dimension c, per row. x may be
/// any strided view (a transposed axial view: the row gather is fused into the norm); the
/// result is contiguous, in `out_dtype` when given (the next product's input type) or x's.
/// scale and offset are contiguous [c].
Tensor layer_norm(const Tensor& x, const Tensor& scale, const Tensor& offset,
                  std::optional<DType> out_dtype = std::nullopt, double eps = 1e-5);

}  // namespace exafold::ops
