#include "exafold/ops/convert.h"

namespace exafold::ops {
namespace {

template <class From, class To>
void convert(const Tensor& src, Tensor& dst) {
  const From* s = src.data<From>();
  To* d = dst.data<To>();
  for (int64_t i = 0; i < src.numel(); ++i) d[i] = To(s[i]);
}

}  // namespace

Tensor to_dtype(const Tensor& t, DType dtype) {
  if (t.dtype() == dtype) return t.contiguous();
  Tensor src = t.contiguous();
  Tensor out = Tensor::empty(t.shape(), dtype);
  if (src.dtype() == DType::float32 && dtype == DType::float64)
    convert<float, double>(src, out);
  else if (src.dtype() == DType::float64 && dtype == DType::float32)
    convert<double, float>(src, out);
  else
    fail("no conversion from ", dtype_name(src.dtype()), " to ", dtype_name(dtype));
  return out;
}

}  // namespace exafold::ops
