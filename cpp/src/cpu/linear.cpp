// Linear with its epilogue, and batched matmul, of the cpu backend.
#include <algorithm>
#include <cmath>

#include "cpu_backend.h"
#include "fast_exp.h"
#include "gemm.h"
#include "strided.h"

namespace exafold::cpu {

namespace {

/// The row stride (elements) of a [..., c] view whose leading dimensions are one run of rows,
/// or -1 when they are not (a transposed view, say).
int64_t row_stride(const Tensor& t) {
  const int r = t.rank();
  const int64_t item = int64_t(t.itemsize());
  if (t.strides()[r - 1] != item && t.size(-1) > 1) return -1;
  int64_t expect = -1;  // the stride the next outer dimension must have
  int64_t stride = t.size(-1);
  bool first = true;
  for (int d = r - 2; d >= 0; --d) {
    if (t.size(d) == 1) continue;
    const int64_t s = t.strides()[d] / item;
    if (first) {
      stride = s;
      first = false;
    } else if (s != expect) {
      return -1;
    }
    expect = s * t.size(d);
  }
  return stride;
}

}  // namespace

void CpuBackend::linear(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias,
                        const ops::Epilogue& e) {
  const int64_t rows = x.size(0), in = x.size(1), n = w.size(1);
  const int64_t ldo = row_stride(out);
  const bool transform = e.multiply.defined() || e.activation != ops::Activation::none;
  // The product lands in `out` itself (added to it by the GEMM's beta for a residual add, or
  // transformed in place afterwards) unless it must be transformed before being added.
  const bool in_place = ldo >= 0 && !(e.accumulate && transform);
  Tensor y = in_place ? Tensor() : workspace(out, rows * n, out.dtype());
  if (dry_) return;
  with_float(out.dtype(), [&]<class T>() {
    T* yp = static_cast<T*>(in_place ? out.data_ptr() : y.data_ptr());
    const int64_t ldy = in_place ? ldo : n;
    const bool onto_out = in_place && e.accumulate;
    if (bias.defined()) {
      const T* b = static_cast<const T*>(bias.data_ptr());
      thread_pool().parallel_for(rows,
                                 std::max<int64_t>(1, kParallelElements / std::max<int64_t>(n, 1)),
                                 [&](int64_t r0, int64_t r1) {
                                   for (int64_t r = r0; r < r1; ++r) {
                                     T* row = yp + r * ldy;
                                     if (onto_out)
                                       for (int64_t j = 0; j < n; ++j) row[j] += b[j];
                                     else
                                       std::copy_n(b, n, row);
                                   }
                                 });
    }
    const int64_t ldx = rows > 1 ? x.strides()[0] / int64_t(x.itemsize()) : in;
    gemm<T>(false, false, rows, n, in, T(1), static_cast<const T*>(x.data_ptr()), ldx,
            static_cast<const T*>(w.data_ptr()), n, bias.defined() || onto_out ? T(1) : T(0), yp,
            ldy);
    if (!transform && in_place) return;
    // The epilogue over out's shape, with the product seen in the same shape.
    const Tensor yv =
        in_place ? out
                 : Tensor(y.storage(), y.offset(), out.shape(),
                          contiguous_strides(out.shape(), sizeof(T)), out.dtype(), out.device());
    auto epilogue = [&](auto activate) {
      if (e.multiply.defined()) {
        Strided<3> s{{static_cast<char*>(out.data_ptr()), static_cast<char*>(yv.data_ptr()),
                      static_cast<char*>(e.multiply.data_ptr())},
                     {out.strides().begin(), yv.strides().begin(), e.multiply.strides().begin()}};
        for_each_run<3>(
            out.shape(), s, [&](std::array<char*, 3> p, int64_t len, std::array<int64_t, 3> st) {
              if (e.accumulate)
                each_element<T>(p, len, st, [&](T& o, T& v, T& m) { o += activate(v) * m; });
              else
                each_element<T>(p, len, st, [&](T& o, T& v, T& m) { o = activate(v) * m; });
            });
        return;
      }
      Strided<2> s{{static_cast<char*>(out.data_ptr()), static_cast<char*>(yv.data_ptr())},
                   {out.strides().begin(), yv.strides().begin()}};
      for_each_run<2>(out.shape(), s,
                      [&](std::array<char*, 2> p, int64_t len, std::array<int64_t, 2> st) {
                        if (e.accumulate)
                          each_element<T>(p, len, st, [&](T& o, T& v) { o += activate(v); });
                        else
                          each_element<T>(p, len, st, [&](T& o, T& v) { o = activate(v); });
                      });
    };
    switch (e.activation) {
      case ops::Activation::relu:
        return epilogue([](T v) { return std::max(v, T(0)); });
      case ops::Activation::sigmoid:
        return epilogue([](T v) { return sigmoid(v); });
      case ops::Activation::none:
        return epilogue([](T v) { return v; });
    }
  });
}

void CpuBackend::matmul(const Tensor& out, const Tensor& a, const Tensor& b) {
  if (dry_) return;
  const int64_t batch = a.size(0), m = a.size(1), k = a.size(2), n = b.size(2);
  if (m == 0 || n == 0) return;
  with_float(out.dtype(), [&]<class T>() {
    const int64_t item = sizeof(T);
    // Matrix [r, c] of a batch: row-major when its columns are adjacent (or it has one
    // column), else the transpose of a row-major [c, r].
    auto layout = [](const Tensor& t, bool* trans, int64_t* ld) {
      const int64_t r = t.size(1), c = t.size(2);
      const int64_t rs = t.strides()[1] / int64_t(sizeof(T)),
                    cs = t.strides()[2] / int64_t(sizeof(T));
      *trans = !(c == 1 || cs == 1);
      if (!*trans) {
        *ld = r > 1 ? rs : std::max<int64_t>(c, 1);
        EXAFOLD_ASSERT(*ld >= c);
      } else {
        *ld = c > 1 ? cs : std::max<int64_t>(r, 1);
        EXAFOLD_ASSERT(*ld >= r);
      }
    };
    bool ta, tb;
    int64_t lda, ldb;
    layout(a, &ta, &lda);
    layout(b, &tb, &ldb);
    const T* ap = static_cast<const T*>(a.data_ptr());
    const T* bp = static_cast<const T*>(b.data_ptr());
    T* op = static_cast<T*>(out.data_ptr());
    if (batch == 1) {
      gemm<T>(ta, tb, m, n, k, T(1), ap, lda, bp, ldb, T(0), op, n);
      return;
    }
    gemm_batched<T>(batch, ta, tb, m, n, k, T(1), ap, lda, a.strides()[0] / item, bp, ldb,
                    b.strides()[0] / item, T(0), op, n, m * n);
  });
}

}  // namespace exafold::cpu
