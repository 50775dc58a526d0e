// Element-wise kernels over strided views: copies and casts between every dtype, and the
// float32 / bfloat16 arithmetic of exafold/ops/elementwise.h and of a Linear's epilogue.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/view.h"

namespace exafold::cuda {

/// What one pass computes per element, from up to three inputs a, b, c and the output's old
/// value o (arithmetic in float32; views of float32 or bfloat16).
enum class Pointwise : uint8_t {
  relu,          ///< o = max(a, 0)
  sigmoid,       ///< o = 1 / (1 + exp(-a))
  softplus,      ///< o = max(a, 0) + log1p(exp(-|a|))
  sqrt,          ///< o = sqrt(a)
  positive,      ///< o = 1 where a > 0, else 0
  add,           ///< o = a + b   (b the scalar s when b is absent)
  sub,           ///< o = a - b
  mul,           ///< o = a * b
  div,           ///< o = a / b
  sigmoid_gate,  ///< o = (c * a) * sigmoid(b), c = 1 when absent
};

struct PointwiseArgs {
  Pointwise kind = Pointwise::add;
  View out, a, b, c;        ///< b and c may be absent (data null)
  float s = 0;              ///< the scalar of scalar ops
  bool accumulate = false;  ///< o += result
};

void pointwise(const PointwiseArgs& p, cudaStream_t stream);

/// Every element of out = value, in any of float64, float32, bfloat16, int32 and int64 (any
/// strides): integer features are padded on the device with it (model/length_buckets.h).
void fill(const View& out, double value, cudaStream_t stream);

/// dst = src element by element, converting between any of float64, float32, bfloat16, int32
/// and int64 (same shapes, any strides).
void copy(const View& dst, const View& src, cudaStream_t stream);

/// A Linear's epilogue on its float32 product [.., n] (contiguous, out's shape): r =
/// activation(product) (0 none, 1 relu, 2 sigmoid); r *= multiply when present; out = r or
/// out += r.
void linear_epilogue(const View& out, const View& product, int activation, const View& multiply,
                     bool accumulate, cudaStream_t stream);

}  // namespace exafold::cuda
