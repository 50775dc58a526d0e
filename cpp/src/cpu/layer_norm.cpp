// LayerNorm of the cpu backend: two-pass statistics per row, rows gathered from any strided view.
#include <cmath>
#include <vector>

#include "cpu_backend.h"
#include "exafold/core/thread_pool.h"
#include "strided.h"

namespace exafold::cpu {

namespace {

template <class T>
void norm_row(const T* x, int64_t c, const T* scale, const T* offset, T eps, T* y) {
  T mean = 0;
  for (int64_t i = 0; i < c; ++i) mean += x[i];
  mean /= T(c);
  T var = 0;
  for (int64_t i = 0; i < c; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= T(c);
  const T inv = T(1) / std::sqrt(var + eps);
  for (int64_t i = 0; i < c; ++i) y[i] = (x[i] - mean) * inv * scale[i] + offset[i];
}

}  // namespace

void CpuBackend::layer_norm(const Tensor& out, const Tensor& x, const Tensor& scale,
                            const Tensor& offset, double eps) {
  if (dry_) return;
  const int r = x.rank();
  const int64_t c = x.size(-1);
  const int64_t rows = c == 0 ? 0 : x.numel() / c;
  with_float(out.dtype(), [&]<class T>() {
    const T* sc = static_cast<const T*>(scale.data_ptr());
    const T* of = static_cast<const T*>(offset.data_ptr());
    const int64_t step = x.strides()[r - 1] / int64_t(sizeof(T));
    const char* xb = static_cast<const char*>(x.data_ptr());
    T* yb = static_cast<T*>(out.data_ptr());
    thread_pool().parallel_for(rows, 64, [&](int64_t r0, int64_t r1) {
      std::vector<T> row_buf(step == 1 ? 0 : size_t(c));
      for (int64_t row = r0; row < r1; ++row) {
        const T* xr = reinterpret_cast<const T*>(xb + row_offset(x.shape(), x.strides(), row));
        if (step != 1) {
          for (int64_t i = 0; i < c; ++i) row_buf[size_t(i)] = xr[i * step];
          xr = row_buf.data();
        }
        norm_row<T>(xr, c, sc, of, T(eps), yb + row * c);
      }
    });
  });
}

}  // namespace exafold::cpu
