// The per-op backend test table, in the manner of ggml's tests/test-backend-ops.cpp: a case is a
// function that builds inputs on the device under test, runs one op and checks each output
// against a float64 reference written out in the test (backend_ops_reference.h), never against
// another backend. test_backend_ops.cpp runs every registered case on every backend of the
// build, in each precision the backend says it supports, and the strict backend's results
// bit for bit against cpu's.
//
// Tolerances are first-order forward-error bounds: a reference returns, next to each value, a
// bound on the error a correct kernel may make, in units of the unit roundoff u of the
// precision it accumulates in (float64: 2^-53; float32 and bfloat16 inputs: float32, 2^-24, as
// every backend accumulates bfloat16 in float32). The table allows u times that bound, plus the
// output's own rounding when it is stored in a coarser type (bfloat16: 2^-8 of the value), plus
// a floor of 16 smallest normals for results that underflow. So a sum of n terms may be off by
// about n u times the sum of their magnitudes, the textbook bound gamma_n, and never more: a
// wrong index, a missed term or a lost mask is off by the magnitude itself.
#pragma once

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "exafold/backend/backend.h"
#include "exafold/core/dtype.h"
#include "exafold/tensor/tensor.h"

namespace exafold::op_table {

/// The precisions a case runs in: activations and weights in `act`, the per-channel parameters
/// (biases, LayerNorm scale and offset) in `param`, as the GPU kernels take them.
struct Config {
  DType act;
  DType param;
  const char* name;
};

inline const std::vector<Config>& configs() {
  static const std::vector<Config> c = {{DType::float64, DType::float64, "float64"},
                                        {DType::float32, DType::float32, "float32"},
                                        {DType::bfloat16, DType::float32, "bfloat16"}};
  return c;
}

inline double unit_roundoff(DType d) {
  switch (d) {
    case DType::float64:
      return 0x1p-53;
    case DType::float32:
      return 0x1p-24;
    case DType::bfloat16:
      return 0x1p-8;
    default:
      return 0;
  }
}

/// The value of element `p` of a host tensor of dtype d, widened to double.
inline double load(DType d, const char* p) {
  switch (d) {
    case DType::float64:
      return *reinterpret_cast<const double*>(p);
    case DType::float32:
      return *reinterpret_cast<const float*>(p);
    case DType::bfloat16:
      return double(float(*reinterpret_cast<const bfloat16*>(p)));
    case DType::int32:
      return *reinterpret_cast<const int32_t*>(p);
    case DType::int64:
      return double(*reinterpret_cast<const int64_t*>(p));
    default:
      ADD_FAILURE() << "no test loader for " << dtype_name(d);
      return 0;
  }
}

/// Stores v into a host element of dtype d (integers must be exact, floats round to nearest).
inline void store(DType d, char* p, double v) {
  switch (d) {
    case DType::float64:
      *reinterpret_cast<double*>(p) = v;
      return;
    case DType::float32:
      *reinterpret_cast<float*>(p) = float(v);
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
      ADD_FAILURE() << "no test store for " << dtype_name(d);
  }
}

/// Byte offset of flat (row-major) element e of a view.
inline int64_t offset_of(const Shape& shape, const Strides& strides, int64_t e) {
  int64_t off = 0;
  for (int k = shape.size() - 1; k >= 0; --k) {
    off += (e % shape[k]) * strides[k];
    e /= shape[k];
  }
  return off;
}

/// An input: `d` on the device under test, `h` a float64 host tensor holding exactly d's values
/// (after rounding to d's dtype), both seen through the same view. References read h.
struct In {
  Tensor d;
  Tensor h;

  /// The same view of both, e.g. x.map([](const Tensor& t) { return t.transpose(0, 1); }).
  template <class F>
  In map(F&& f) const {
    return {f(d), f(h)};
  }
  int64_t size(int k) const { return h.size(k); }
  const Shape& shape() const { return h.shape(); }
  template <class... I>
  double operator()(I... index) const {
    const int64_t idx[] = {int64_t(index)...};
    int64_t off = 0;
    for (size_t k = 0; k < sizeof...(I); ++k) off += idx[k] * h.strides()[int(k)];
    return *reinterpret_cast<const double*>(static_cast<const char*>(h.data_ptr()) + off);
  }
};

/// A reference output: row-major values and, for each, its error bound in units of u.
struct Want {
  Shape shape;
  std::vector<double> v, e;

  explicit Want(const Shape& s) : shape(s), v(size_t(s.product())), e(size_t(s.product())) {}
  template <class... I>
  size_t at(I... index) const {
    const int64_t idx[] = {int64_t(index)...};
    int64_t flat = 0;
    for (size_t k = 0; k < sizeof...(I); ++k) flat = flat * shape[int(k)] + idx[k];
    return size_t(flat);
  }
  void set(size_t k, double value, double bound) {
    v[k] = value;
    e[k] = bound;
  }
  /// The initial values of an output the op writes into (a view of it or all of it), exact.
  static Want of(const In& x) {
    Want w(x.shape());
    for (int64_t i = 0; i < x.h.numel(); ++i)
      w.v[size_t(i)] = load(DType::float64, static_cast<const char*>(x.h.data_ptr()) +
                                                offset_of(x.shape(), x.h.strides(), i));
    return w;
  }
};

/// One backend and precision in which a case runs: makes its inputs, checks its outputs and
/// keeps their bytes for the strict-against-cpu comparison.
class Env {
 public:
  Env(std::string backend, Device device, Config cfg, std::string case_name)
      : device(device),
        act(cfg.act),
        param(cfg.param),
        backend_(std::move(backend)),
        config_(cfg.name),
        case_(std::move(case_name)),
        rng_(seed_of(case_)) {}

  const Device device;
  const DType act;    ///< activations and weights
  const DType param;  ///< biases, LayerNorm scale and offset

  /// Whether the backend implements op for these dtypes (outputs first, as the dispatcher
  /// lists them); the case skips that check otherwise, and the table records it.
  bool require(backend::Op op, const std::vector<DType>& dtypes) {
    if (supported(op, dtypes)) return true;
    std::string list;
    for (DType d : dtypes) list += (list.empty() ? "" : ", ") + std::string(dtype_name(d));
    unsupported_.push_back(std::string(backend::op_name(op)) + "(" + list + ")");
    return false;
  }
  bool supported(backend::Op op, const std::vector<DType>& dtypes) const {
    return backend::backend_for(device).supports(op, dtypes);
  }
  /// Stops the case in this configuration: it has nothing to test here (a cast table that runs
  /// once, in float64). Not counted as unsupported.
  void only_in(DType d) {
    if (act != d) not_here_ = true;
  }
  bool not_here() const { return not_here_; }

  /// Values ~ scale * N(0, 1).
  In normal(const Shape& s, double scale = 1, std::optional<DType> dt = std::nullopt) {
    std::normal_distribution<double> g(0.0, scale);
    return make(s, dt.value_or(act), [&] { return g(rng_); });
  }
  /// Values ~ mean + scale * N(0, 1).
  In around(const Shape& s, double mean, double scale, std::optional<DType> dt = std::nullopt) {
    std::normal_distribution<double> g(mean, scale);
    return make(s, dt.value_or(act), [&] { return g(rng_); });
  }
  In uniform(const Shape& s, double lo, double hi, std::optional<DType> dt = std::nullopt) {
    std::uniform_real_distribution<double> g(lo, hi);
    return make(s, dt.value_or(act), [&] { return g(rng_); });
  }
  /// 1 with probability keep, else 0.
  In mask(const Shape& s, double keep, std::optional<DType> dt = std::nullopt) {
    std::bernoulli_distribution g(keep);
    return make(s, dt.value_or(act), [&] { return g(rng_) ? 1.0 : 0.0; });
  }
  /// Integers uniform in [lo, hi].
  In ints(const Shape& s, int64_t lo, int64_t hi, DType dt = DType::int32) {
    std::uniform_int_distribution<int64_t> g(lo, hi);
    return make(s, dt, [&] { return double(g(rng_)); });
  }
  /// Exactly these values (row-major), stored in dt.
  In values(const Shape& s, std::span<const double> v, DType dt) {
    EXPECT_EQ(int64_t(v.size()), s.product()) << "values for " << s.str();
    size_t k = 0;
    return make(s, dt, [&] { return k < v.size() ? v[k++] : 0.0; });
  }
  In values(const Shape& s, std::initializer_list<double> v, DType dt) {
    return values(s, std::span<const double>(v.begin(), v.size()), dt);
  }

  /// Leaves a freed block of `shape` full of NaN on the device, so that the caching allocator
  /// hands it to the next output of that size: an op that leaves its output unwritten (an
  /// empty sum that should be 0) then fails instead of passing on fresh zero pages.
  void recycle(const Shape& shape) {
    (void)make(shape, act, [] { return std::nan(""); });
  }

  /// Checks a float output against the reference within its bounds (see the file comment).
  void expect(std::string_view what, const Tensor& got, const Want& want) {
    compare(what, got, want, false);
  }
  /// Checks an output that must equal the reference exactly (integers, copies, selections).
  void expect_exact(std::string_view what, const Tensor& got, const Want& want) {
    compare(what, got, want, true);
  }
  /// Checks that f throws InvalidArgument whose message holds every one of `parts`.
  template <class F>
  void expect_error(std::string_view what, F&& f, std::initializer_list<std::string_view> parts) {
    ++checks_;
    try {
      f();
      ADD_FAILURE() << label(what) << ": no error";
    } catch (const InvalidArgument& e) {
      const std::string m = e.what();
      for (std::string_view p : parts)
        EXPECT_NE(m.find(p), std::string::npos)
            << label(what) << ": \"" << m << "\" lacks \"" << p << "\"";
    }
  }

  /// Runs one variant of a case. The cuda backend accepts some ops for their dtypes and still
  /// lacks variants of them (a key mask, an accumulating epilogue, strided views), which it
  /// refuses with an InvalidArgument of its own: recorded as declined, and the case goes on.
  template <class F>
  void variant(std::string_view what, F&& f) {
    try {
      f();
    } catch (const InvalidArgument& ex) {
      if (!device.is_cuda() ||
          std::string_view(ex.what()).find("cuda backend") == std::string_view::npos)
        throw;
      declined_.push_back(std::string(what) + ": " + ex.what());
    }
  }

  /// The values of a contiguous tensor, as an exact expectation (to compare two runs).
  static Want read(const Tensor& t) {
    const Tensor host = migrate(t, Device::cpu());
    Want w(t.shape());
    for (int64_t i = 0; i < t.numel(); ++i)
      w.v[size_t(i)] =
          load(t.dtype(), static_cast<const char*>(host.data_ptr()) + i * int64_t(t.itemsize()));
    return w;
  }

  int checks() const { return checks_; }
  const std::vector<std::string>& declined() const { return declined_; }
  const std::vector<std::string>& unsupported() const { return unsupported_; }
  const std::vector<std::vector<uint8_t>>& bytes() const { return bytes_; }

  /// The unit roundoff of the precision outputs of this configuration accumulate in.
  double u() const { return act == DType::float64 ? 0x1p-53 : 0x1p-24; }

 private:
  static uint64_t seed_of(const std::string& s) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a: the same inputs in every run and config
    for (char c : s) h = (h ^ uint8_t(c)) * 1099511628211ull;
    return h;
  }

  template <class Gen>
  In make(const Shape& s, DType dt, Gen&& gen) {
    Tensor host = Tensor::empty(s, dt, Device::cpu(), MemoryKind::host);
    Tensor h = Tensor::empty(s, DType::float64, Device::cpu(), MemoryKind::host);
    char* p = static_cast<char*>(host.data_ptr());
    for (int64_t i = 0; i < host.numel(); ++i) {
      store(dt, p + i * int64_t(host.itemsize()), gen());
      h.data<double>()[i] = load(dt, p + i * int64_t(host.itemsize()));
    }
    return {migrate(host, device), h};
  }

  std::string label(std::string_view what) const {
    return backend_ + " " + config_ + " " + case_ + ": " + std::string(what);
  }

  void compare(std::string_view what, const Tensor& got, const Want& want, bool exact) {
    ++checks_;
    const std::string name = label(what);
    ASSERT_TRUE(got.defined()) << name;
    ASSERT_EQ(got.shape(), want.shape) << name;
    EXPECT_EQ(got.device(), device) << name << ": the output left the device";
    // Outputs the op allocates are contiguous; outputs it writes into are read as the whole
    // tensor they are a view of, so that writes outside the view are caught too.
    ASSERT_TRUE(got.is_contiguous()) << name << ": read the tensor this view belongs to";
    const Tensor host = migrate(got, Device::cpu());
    const char* p = static_cast<const char*>(host.data_ptr());
    const size_t item = host.itemsize();
    bytes_.emplace_back(p, p + item * size_t(host.numel()));
    const DType dt = got.dtype();
    const bool integer = !dtype_is_floating(dt);
    // The output's own rounding, when it is coarser than the accumulation.
    const double uo = unit_roundoff(dt) > u() ? unit_roundoff(dt) : 0.0;
    const double floor = dt == DType::float64 ? 16 * DBL_MIN : 16 * double(FLT_MIN);
    double worst = 0, worst_err = 0;
    int64_t bad = -1, failures = 0;
    for (int64_t i = 0; i < host.numel(); ++i) {
      const double g = load(dt, p + i * int64_t(item)), w = want.v[size_t(i)];
      const double err = std::abs(g - w);
      const double tol =
          exact || integer ? 0.0 : u() * want.e[size_t(i)] + uo * std::abs(w) + floor;
      const bool ok = g == w || (std::isnan(w) && std::isnan(g)) || err <= tol;
      if (!ok) {
        ++failures;
        if (bad < 0) bad = i;
      }
      const double ratio = g == w ? 0.0 : tol > 0 ? err / tol : INFINITY;
      worst = std::max(worst, ratio);
      worst_err = std::max(worst_err, err);
    }
    std::printf("  %-7s %-8s %-26s %-34s %s err %.1e = %.2f of tol  %s\n", backend_.c_str(),
                config_.c_str(), case_.c_str(), std::string(what).c_str(),
                exact || integer ? "exact" : "     ", worst_err, worst, failures ? "FAIL" : "ok");
    if (failures) {
      const double g = load(dt, p + bad * int64_t(item));
      ADD_FAILURE() << name << ": " << failures << " of " << host.numel()
                    << " elements out of bounds; first at flat index " << bad << ": got " << g
                    << ", want " << want.v[size_t(bad)] << " (bound " << want.e[size_t(bad)]
                    << " u, u = " << u() << ")";
    }
  }

  std::string backend_, config_, case_;
  std::mt19937_64 rng_;
  int checks_ = 0;
  bool not_here_ = false;
  std::vector<std::string> unsupported_, declined_;
  std::vector<std::vector<uint8_t>> bytes_;
};

/// A case of the table: one op, the shapes worth testing, references and bounds. Its family
/// is the header of exafold/ops/ it belongs to, named by the file that defines it
/// (test_backend_ops_<family>.cpp).
struct OpCase {
  std::string name;
  std::string family;
  backend::Op op;
  void (*body)(Env&);
};

inline std::vector<OpCase>& registry() {
  static std::vector<OpCase> r;
  return r;
}

struct Register {
  Register(const char* name, std::string_view file, backend::Op op, void (*body)(Env&)) {
    std::string_view family = file.substr(file.find_last_of('/') + 1);
    family.remove_prefix(std::string_view("test_backend_ops_").size());
    family.remove_suffix(std::string_view(".cpp").size());
    registry().push_back({name, std::string(family), op, body});
  }
};

}  // namespace exafold::op_table

/// Defines and registers a case of the table for backend::Op::op.
#define OP_CASE(op, name)                                        \
  static void name##_case(::exafold::op_table::Env& e);          \
  static const ::exafold::op_table::Register name##_register(    \
      #name, __FILE__, ::exafold::backend::Op::op, name##_case); \
  static void name##_case(::exafold::op_table::Env& e)
