// Reductions of the cpu backend: softmax, expectations, masked means, pTM and range checks.
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu_backend.h"
#include "exafold/core/thread_pool.h"
#include "strided.h"

namespace exafold::cpu {

namespace {

template <class T>
const T* row_of(const Tensor& t, int64_t row) {
  return reinterpret_cast<const T*>(static_cast<const char*>(t.data_ptr()) +
                                    row_offset(t.shape(), t.strides(), row));
}

/// jax.nn.softmax of one row of b values with element step `step`, into y (contiguous).
template <class T>
void softmax_row(const T* x, int64_t step, int64_t b, T* y) {
  T m = x[0];
  for (int64_t k = 1; k < b; ++k) m = std::max(m, x[k * step]);
  T sum = 0;
  for (int64_t k = 0; k < b; ++k) sum += (y[k] = std::exp(x[k * step] - m));
  for (int64_t k = 0; k < b; ++k) y[k] /= sum;
}

}  // namespace

void CpuBackend::softmax(const Tensor& out, const Tensor& x) {
  if (dry_) return;
  const int64_t b = x.size(-1);
  if (b == 0) return;
  const int64_t rows = x.numel() / b;
  with_float(out.dtype(), [&]<class T>() {
    const int64_t step = x.strides()[x.rank() - 1] / int64_t(sizeof(T));
    T* y = static_cast<T*>(out.data_ptr());
    thread_pool().parallel_for(rows, 256, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) softmax_row<T>(row_of<T>(x, r), step, b, y + r * b);
    });
  });
}

void CpuBackend::expectation(const Tensor& out, const Tensor& probs, const Tensor& values) {
  if (dry_) return;
  const int64_t b = probs.size(-1);
  const int64_t rows = b == 0 ? 0 : probs.numel() / b;
  with_float(out.dtype(), [&]<class T>() {
    const T* v = static_cast<const T*>(values.data_ptr());
    const int64_t step = probs.strides()[probs.rank() - 1] / int64_t(sizeof(T));
    T* o = static_cast<T*>(out.data_ptr());
    thread_pool().parallel_for(rows, 1024, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T* p = row_of<T>(probs, r);
        T e = 0;
        for (int64_t k = 0; k < b; ++k) e += p[k * step] * v[k];
        o[r] = e;
      }
    });
  });
}

void CpuBackend::masked_mean(const Tensor& out, const Tensor& x, const Tensor& mask, double eps) {
  if (dry_) return;
  const int64_t a = x.size(0), r = x.size(1), c = x.size(2);
  with_float(out.dtype(), [&]<class T>() {
    const char* xb = static_cast<const char*>(x.data_ptr());
    const char* mb = static_cast<const char*>(mask.data_ptr());
    T* o = static_cast<T*>(out.data_ptr());
    thread_pool().parallel_for(a, 1, [&](int64_t a0, int64_t a1) {
      for (int64_t i = a0; i < a1; ++i) {
        T* avg = o + i * c;
        std::fill_n(avg, c, T(0));
        T count = 0;
        for (int64_t s = 0; s < r; ++s) {
          const T m =
              *reinterpret_cast<const T*>(mb + i * mask.strides()[0] + s * mask.strides()[1]);
          count += m;
          const char* xs = xb + i * x.strides()[0] + s * x.strides()[1];
          for (int64_t k = 0; k < c; ++k)
            avg[k] += m * *reinterpret_cast<const T*>(xs + k * x.strides()[2]);
        }
        for (int64_t k = 0; k < c; ++k) avg[k] /= count + T(eps);
      }
    });
  });
}

void CpuBackend::predicted_tm_score(const Tensor& out, const Tensor& probs, const Tensor& centres,
                                    const Tensor& weights) {
  if (dry_) return;
  const int64_t n = probs.size(0), b = probs.size(2);
  with_float(out.dtype(), [&]<class T>() {
    const T* c = static_cast<const T*>(centres.data_ptr());
    std::vector<T> w(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      w[size_t(i)] = *reinterpret_cast<const T*>(static_cast<const char*>(weights.data_ptr()) +
                                                 i * weights.strides()[0]);
    // TM-score's d0 (Yang & Skolnick 2004) with the length clipped so that d0 stays positive.
    T total = 0;
    for (T v : w) total += v;
    const T clipped = std::max(total, T(19));
    const T d0 = T(1.24) * std::cbrt(clipped - T(15)) - T(1.8);
    std::vector<T> tm_per_bin(static_cast<size_t>(b));
    for (int64_t k = 0; k < b; ++k) tm_per_bin[size_t(k)] = T(1) / (T(1) + c[k] * c[k] / (d0 * d0));
    const int64_t step = probs.strides()[2] / int64_t(sizeof(T));
    T best = -INFINITY;
    for (int64_t i = 0; i < n; ++i) {
      T norm = 0;
      for (int64_t j = 0; j < n; ++j) norm += w[size_t(j)] * w[size_t(i)];
      T per_alignment = 0;
      for (int64_t j = 0; j < n; ++j) {
        const T* p = row_of<T>(probs, i * n + j);
        T term = 0;
        for (int64_t k = 0; k < b; ++k) term += p[k * step] * tm_per_bin[size_t(k)];
        per_alignment += term * (w[size_t(j)] * w[size_t(i)] / (T(1e-8) + norm));
      }
      best = std::max(best, per_alignment * w[size_t(i)]);
    }
    *static_cast<T*>(out.data_ptr()) = best;
  });
}

int64_t CpuBackend::check_range(const Tensor& t, int64_t lo, int64_t hi, int64_t* value) {
  if (dry_) return -1;
  int64_t found = -1;
  const Tensor& c = t;
  with_index(t.dtype(), [&]<class I>() {
    // Flat (row-major) order, so that the reported index means the same for any strides.
    const int64_t n = t.numel();
    for (int64_t e = 0; e < n && found < 0; ++e) {
      const int64_t off = flat_offset(t.shape(), t.strides(), e);
      const int64_t v = *reinterpret_cast<const I*>(static_cast<const char*>(c.data_ptr()) + off);
      if (v < lo || v > hi) {
        found = e;
        *value = v;
      }
    }
  });
  return found;
}

}  // namespace exafold::cpu
