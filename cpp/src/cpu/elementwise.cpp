// Element-wise ops of the cpu backend: fill, copy and cast, unary and binary arithmetic, gates.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "cpu_backend.h"
#include "fast_exp.h"
#include "strided.h"

namespace exafold::cpu {

namespace {

/// Calls body(fn) with fn the scalar function of `f`, so that the switch is outside the loop.
template <class T, class Body>
void with_unary(ops::Unary f, Body&& body) {
  switch (f) {
    case ops::Unary::relu:
      return body([](T x) { return std::max(x, T(0)); });
    case ops::Unary::sigmoid:
      return body([](T x) { return sigmoid(x); });
    case ops::Unary::softplus:
      return body([](T x) {
        return T(std::max(double(x), 0.0) + std::log1p(std::exp(-std::abs(double(x)))));
      });
    case ops::Unary::sqrt:
      return body([](T x) { return std::sqrt(x); });
    case ops::Unary::positive:
      return body([](T x) { return x > T(0) ? T(1) : T(0); });
  }
  EXAFOLD_ASSERT(false);
}

template <class T, class Body>
void with_binary(ops::Binary op, Body&& body) {
  switch (op) {
    case ops::Binary::add:
      return body([](T a, T b) { return a + b; });
    case ops::Binary::sub:
      return body([](T a, T b) { return a - b; });
    case ops::Binary::mul:
      return body([](T a, T b) { return a * b; });
    case ops::Binary::div:
      return body([](T a, T b) { return a / b; });
  }
  EXAFOLD_ASSERT(false);
}

char* base(const Tensor& t) { return static_cast<char*>(t.data_ptr()); }

template <size_t K>
Strided<K> operands(std::initializer_list<const Tensor*> ts) {
  Strided<K> s;
  size_t k = 0;
  for (const Tensor* t : ts) {
    s.base[k] = base(*t);
    s.strides[k] = t->strides().begin();
    ++k;
  }
  return s;
}

/// One element of any copyable dtype, read as double (integers up to 2^53 are exact).
double load(DType d, const char* p) {
  switch (d) {
    case DType::float32:
      return *reinterpret_cast<const float*>(p);
    case DType::float64:
      return *reinterpret_cast<const double*>(p);
    case DType::bfloat16:
      return float(*reinterpret_cast<const bfloat16*>(p));
    case DType::int32:
      return *reinterpret_cast<const int32_t*>(p);
    case DType::int64:
      return double(*reinterpret_cast<const int64_t*>(p));
    default:
      EXAFOLD_ASSERT(false);
  }
  return 0;
}

void store(DType d, char* p, double v) {
  switch (d) {
    case DType::float32:
      *reinterpret_cast<float*>(p) = float(v);
      return;
    case DType::float64:
      *reinterpret_cast<double*>(p) = v;
      return;
    case DType::bfloat16:
      *reinterpret_cast<bfloat16*>(p) = bfloat16(float(v));
      return;
    case DType::int32:
      *reinterpret_cast<int32_t*>(p) = int32_t(v);
      return;
    case DType::int64:
      *reinterpret_cast<int64_t*>(p) = int64_t(v);
      return;
    default:
      EXAFOLD_ASSERT(false);
  }
}

}  // namespace

void CpuBackend::fill(const Tensor& out, double value) {
  if (dry_) return;
  const DType d = out.dtype();
  const size_t item = out.itemsize();
  char pattern[8];
  store(d, pattern, value);
  for_each_run<1>(out.shape(), operands<1>({&out}),
                  [&](std::array<char*, 1> p, int64_t n, std::array<int64_t, 1> s) {
                    for (int64_t i = 0; i < n; ++i) std::memcpy(p[0] + i * s[0], pattern, item);
                  });
}

void CpuBackend::copy(const Tensor& dst, const Tensor& src) {
  if (dry_) return;
  const DType dd = dst.dtype(), sd = src.dtype();
  const size_t item = dst.itemsize();
  for_each_run<2>(dst.shape(), operands<2>({&dst, &src}),
                  [&](std::array<char*, 2> p, int64_t n, std::array<int64_t, 2> s) {
                    if (dd == sd) {
                      if (s[0] == int64_t(item) && s[1] == int64_t(item)) {
                        std::memcpy(p[0], p[1], item * size_t(n));
                      } else {
                        for (int64_t i = 0; i < n; ++i)
                          std::memcpy(p[0] + i * s[0], p[1] + i * s[1], item);
                      }
                      return;
                    }
                    for (int64_t i = 0; i < n; ++i)
                      store(dd, p[0] + i * s[0], load(sd, p[1] + i * s[1]));
                  });
}

void CpuBackend::unary(ops::Unary f, const Tensor& out, const Tensor& x) {
  if (dry_) return;
  with_float(out.dtype(), [&]<class T>() {
    with_unary<T>(f, [&](auto fn) {
      for_each_run<2>(out.shape(), operands<2>({&out, &x}),
                      [&](std::array<char*, 2> p, int64_t n, std::array<int64_t, 2> s) {
                        each_element<T>(p, n, s, [&](T& o, T& v) { o = fn(v); });
                      });
    });
  });
}

void CpuBackend::binary(ops::Binary op, const Tensor& out, const Tensor& a, const Tensor& b,
                        bool accumulate) {
  if (dry_) return;
  with_float(out.dtype(), [&]<class T>() {
    with_binary<T>(op, [&](auto fn) {
      for_each_run<3>(out.shape(), operands<3>({&out, &a, &b}),
                      [&](std::array<char*, 3> p, int64_t n, std::array<int64_t, 3> s) {
                        if (accumulate)
                          each_element<T>(p, n, s, [&](T& o, T& u, T& v) { o += fn(u, v); });
                        else
                          each_element<T>(p, n, s, [&](T& o, T& u, T& v) { o = fn(u, v); });
                      });
    });
  });
}

void CpuBackend::scalar(ops::Binary op, const Tensor& out, const Tensor& a, double s) {
  if (dry_) return;
  with_float(out.dtype(), [&]<class T>() {
    const T v = T(s);
    with_binary<T>(op, [&](auto fn) {
      for_each_run<2>(out.shape(), operands<2>({&out, &a}),
                      [&](std::array<char*, 2> p, int64_t n, std::array<int64_t, 2> st) {
                        each_element<T>(p, n, st, [&](T& o, T& u) { o = fn(u, v); });
                      });
    });
  });
}

void CpuBackend::sigmoid_gate(const Tensor& out, const Tensor& value, const Tensor& gate,
                              const Tensor& mask) {
  if (dry_) return;
  with_float(out.dtype(), [&]<class T>() {
    if (!mask.defined()) {
      for_each_run<3>(out.shape(), operands<3>({&out, &value, &gate}),
                      [&](std::array<char*, 3> p, int64_t n, std::array<int64_t, 3> s) {
                        each_element<T>(p, n, s, [](T& o, T& v, T& g) { o = v * sigmoid(g); });
                      });
      return;
    }
    for_each_run<4>(out.shape(), operands<4>({&out, &value, &gate, &mask}),
                    [&](std::array<char*, 4> p, int64_t n, std::array<int64_t, 4> s) {
                      each_element<T>(p, n, s,
                                      [](T& o, T& v, T& g, T& m) { o = m * v * sigmoid(g); });
                    });
  });
}

}  // namespace exafold::cpu
