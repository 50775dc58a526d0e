// The per-op backend test table (backend_ops_harness.h): every registered case on every backend
// of the build, the dispatcher's contract errors, and the meta device's dry runs. The cases
// live in test_backend_ops_<family>.cpp, one file per header of exafold/ops/.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "backend_ops_harness.h"
#include "exafold/memory/allocator.h"
#include "exafold/memory/gpu_backend.h"
#include "exafold/ops/attention.h"
#include "exafold/ops/elementwise.h"
#include "exafold/ops/geometry.h"
#include "exafold/ops/layer_norm.h"
#include "exafold/ops/linear.h"
#include "exafold/ops/reduce.h"

namespace exafold::op_table {
namespace {

using backend::Op;

/// The backends the table runs on: cpu and strict in every build, cuda where a device exists.
const std::vector<std::string> kBackends = {"cpu", "strict", "cuda"};

Device device_of(const std::string& backend) {
  if (backend == "cpu") return Device::cpu();
  if (backend == "strict") return Device::strict();
  return Device::cuda(0);
}

/// Skips, saying why, where a backend is absent from this build or machine.
bool present(const std::string& backend, std::string* why) {
  if (backend != "cuda") return true;
  if (backend::cuda_backend() == nullptr) {
    *why = "built without CUDA";
    return false;
  }
  if (gpu_count() == 0) {
    *why = "no CUDA device on this machine";
    return false;
  }
  return true;
}

/// The cuda backend accepts some ops for their dtypes and still lacks variants of them (a key
/// mask, a gate epilogue, strided views); it says so in an InvalidArgument of its own.
bool declined_by_cuda(const std::string& backend, const InvalidArgument& e) {
  const std::string m = e.what();
  return backend == "cuda" && m.find("cuda backend") != std::string::npos;
}

/// One case in every configuration on one backend; how many configurations ran.
int run_case(const std::string& backend, const OpCase& c) {
  SCOPED_TRACE(backend + " " + c.name);
  const Device device = device_of(backend);
  int ran = 0;
  for (const Config& cfg : configs()) {
    Env e(backend, device, cfg, c.name);
    try {
      c.body(e);
    } catch (const InvalidArgument& ex) {
      if (!declined_by_cuda(backend, ex)) throw;
      std::printf("  %-7s %-8s %-26s declined: %s\n", backend.c_str(), cfg.name, c.name.c_str(),
                  ex.what());
      continue;
    }
    if (e.not_here()) continue;
    // cpu and strict implement every op in float32 and float64.
    const bool native = cfg.act == DType::float32 || cfg.act == DType::float64;
    if (backend != "cuda" && native)
      for (const std::string& s : e.unsupported())
        ADD_FAILURE() << backend << " does not support " << s << " in " << cfg.name;
    for (const std::string& s : e.unsupported())
      std::printf("  %-7s %-8s %-26s unsupported: %s\n", backend.c_str(), cfg.name, c.name.c_str(),
                  s.c_str());
    for (const std::string& s : e.declined())
      std::printf("  %-7s %-8s %-26s declined: %s\n", backend.c_str(), cfg.name, c.name.c_str(),
                  s.c_str());
    if (e.checks() == 0) continue;
    ++ran;
    if (backend == "strict") {
      // The same kernels on memory the host cannot touch: the very same bits.
      Env ref("cpu", Device::cpu(), cfg, c.name);
      c.body(ref);
      EXPECT_EQ(e.bytes().size(), ref.bytes().size()) << c.name << " " << cfg.name;
      for (size_t k = 0; k < std::min(e.bytes().size(), ref.bytes().size()); ++k)
        EXPECT_TRUE(e.bytes()[k] == ref.bytes()[k])
            << c.name << " " << cfg.name << ": output " << k << " differs from cpu's bits";
    }
  }
  if (ran == 0)
    std::printf("  %-7s %-26s no configuration is supported\n", backend.c_str(), c.name.c_str());
  return ran;
}

/// The families of cases (one per header of exafold/ops/), in registration order.
std::vector<std::string> families() {
  std::vector<std::string> f;
  for (const OpCase& c : registry())
    if (std::find(f.begin(), f.end(), c.family) == f.end()) f.push_back(c.family);
  return f;
}

// One test per backend and family rather than per case: a process per test costs more than
// most cases, and every failure names its case, configuration and output.
class Table : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(Table, MatchesTheFloat64Reference) {
  const auto& [backend, family] = GetParam();
  std::string why;
  if (!present(backend, &why)) GTEST_SKIP() << why;
  int ran = 0;
  for (const OpCase& c : registry())
    if (c.family == family) ran += run_case(backend, c);
  if (ran == 0) GTEST_SKIP() << backend << " supports none of the " << family << " cases";
}

INSTANTIATE_TEST_SUITE_P(BackendOps, Table,
                         ::testing::Combine(::testing::ValuesIn(kBackends),
                                            ::testing::ValuesIn(families())),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + std::get<1>(info.param);
                         });

TEST(BackendOpsTable, CoversEveryOp) {
  std::set<int> covered;
  std::set<std::string> names;
  for (const OpCase& c : registry()) {
    covered.insert(int(c.op));
    EXPECT_TRUE(names.insert(c.name).second) << "two cases named " << c.name;
  }
  for (int op = 0; op < backend::kNumOps; ++op)
    EXPECT_TRUE(covered.count(op)) << "no case tests " << backend::op_name(Op(op));
}

// ---------------------------------------------------------------------------------------------
// The dispatcher's contract: errors name the op and the problem.

/// The message of the InvalidArgument f throws, or "" (and a failure) when it throws none.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InvalidArgument";
  return "";
}

/// Operands for the checks that fail before any computing: their values do not matter.
Tensor operand(const Shape& s, Device d, DType t = DType::float32) {
  return Tensor::empty(s, t, d);
}

TEST(BackendOpsContract, OperandsOnTwoDevicesAreNamed) {
  const Tensor a = operand({2, 3}, Device::cpu()), b = operand({2, 3}, Device::strict());
  const std::string m = error_of([&] { ops::binary(ops::Binary::add, a, b); });
  EXPECT_NE(m.find("binary"), std::string::npos) << m;
  EXPECT_NE(m.find("cpu"), std::string::npos) << m;
  EXPECT_NE(m.find("strict"), std::string::npos) << m;
  // Through an op with optional operands too: the mask on another device than q, k and v.
  ops::AttentionInputs in;
  in.q = in.k = in.v = operand({1, 2, 1, 4}, Device::strict());
  in.mask = operand({1, 2}, Device::cpu());
  const std::string am = error_of([&] { ops::attention(in); });
  EXPECT_NE(am.find("attention"), std::string::npos) << am;
  EXPECT_NE(am.find("operands on strict and cpu"), std::string::npos) << am;
}

TEST(BackendOpsContract, WrongShapesAreNamed) {
  const Device d = Device::cpu();
  struct Expectation {
    std::string message;
    std::vector<std::string> parts;
  };
  const std::vector<Expectation> cases = {
      {error_of([&] {
         ops::linear(operand({2, 3}, d), operand({4, 5}, d), Tensor());
       }),
       {"linear", "[2, 3]", "[4, 5]"}},
      {error_of([&] {
         ops::binary(ops::Binary::mul, operand({2, 3}, d), operand({3, 2}, d));
       }),
       {"binary", "right operand", "[3, 2]", "[2, 3]"}},
      {error_of([&] {
         ops::AttentionInputs in;
         in.q = operand({1, 3, 2, 4}, d);
         in.k = operand({1, 5, 2, 3}, d);
         in.v = operand({1, 5, 2, 4}, d);
         ops::attention(in);
       }),
       {"attention", "k", "[1, 5, 2, 3]", "[1, 5, 2, 4]"}},
      {error_of([&] {
         ops::layer_norm(operand({4, 8}, d), operand({8}, d), operand({7}, d));
       }),
       {"layer_norm", "offset", "[7]", "[8]"}},
      {error_of([&] {
         ops::matmul(operand({2, 3}, d), operand({4, 2}, d));
       }),
       {"matmul", "[2, 3]", "[4, 2]", "do not match"}},
      {error_of([&] {
         ops::quat_to_rot(operand({5, 3}, d));
       }),
       {"quat_to_rot", "quaternions", "[5, 3]", "[5, 4]"}},
      {error_of([&] {
         ops::masked_mean(operand({2, 3, 4}, d), operand({3, 2}, d), 1e-10);
       }),
       {"masked_mean", "mask", "[3, 2]", "[2, 3]"}},
      {error_of([&] {
         // A transposed input is not one matrix of rows.
         ops::linear(operand({3, 4}, d).transpose(0, 1), operand({3, 5}, d), Tensor());
       }),
       {"linear", "input", "contiguous along its last dimension"}},
  };
  for (const Expectation& c : cases)
    for (const std::string& p : c.parts)
      EXPECT_NE(c.message.find(p), std::string::npos) << "\"" << c.message << "\" lacks " << p;
}

TEST(BackendOpsContract, TablesAndBiasesMustBeContiguous) {
  // Per-channel parameters and residue tables are read as plain arrays: a strided view of one
  // is refused, naming it, instead of being read wrongly.
  const Device d = Device::cpu();
  const Tensor wide = operand({12}, d), wide21 = operand({21, 28}, d),
               i21 = operand({21, 28}, d, DType::int32);
  struct Expectation {
    std::string message;
    std::vector<std::string> parts;
  };
  const std::vector<Expectation> cases = {
      {error_of([&] {
         ops::embed_into(operand({3, 6}, d), operand({4, 6}, d), wide.slice(0, 0, 12, 2), {},
                         false);
       }),
       {"embed", "bias", "contiguous"}},
      {error_of([&] {
         ops::predicted_tm_score(operand({2, 2, 6}, d), wide.slice(0, 0, 12, 2), operand({2}, d));
       }),
       {"predicted_tm_score", "centres", "contiguous"}},
      {error_of([&] {
         ops::frames_to_atom14(
             operand({1}, d, DType::int32), {operand({1, 8, 3, 3}, d), operand({1, 8, 3}, d)},
             i21.slice(1, 0, 28, 2), operand({21, 14, 3}, d), operand({21, 14}, d));
       }),
       {"frames_to_atom14", "atom groups", "contiguous"}},
      {error_of([&] {
         ops::frames_to_atom14(operand({1}, d, DType::int32),
                               {operand({1, 8, 3, 3}, d), operand({1, 8, 3}, d)},
                               operand({21, 14}, d, DType::int32),
                               operand({21, 14, 6}, d).slice(2, 0, 6, 2), wide21.slice(1, 0, 14));
       }),
       {"frames_to_atom14", "contiguous"}},
  };
  for (const Expectation& c : cases)
    for (const std::string& p : c.parts)
      EXPECT_NE(c.message.find(p), std::string::npos) << "\"" << c.message << "\" lacks " << p;
}

TEST(BackendOpsContract, UnsupportedDtypesNameOpDtypesAndDevice) {
  // The cpu backend has no bfloat16 arithmetic: it only converts to and from it.
  for (Device d : {Device::cpu(), Device::strict()}) {
    const Tensor x = operand({2, 3}, d, DType::bfloat16), w = operand({3, 4}, d, DType::bfloat16);
    const std::string m = error_of([&] { ops::linear(x, w, Tensor()); });
    for (std::string p :
         {std::string("linear is not implemented for (bfloat16, bfloat16, bfloat16)"),
          "on " + d.str()})
      EXPECT_NE(m.find(p), std::string::npos) << "\"" << m << "\" lacks " << p;
  }
}

TEST(BackendOpsContract, CudaRefusesWhatItLacksNamingOpDtypesAndDevice) {
  std::string why;
  if (!present("cuda", &why)) GTEST_SKIP() << why;
  // The cuda backend has no float64 arithmetic (supports() is false for it); a silent copy to
  // the host would be a defect.
  const Tensor x = operand({4, 8}, Device::cuda(0), DType::float64);
  ASSERT_FALSE(backend::backend_for(Device::cuda(0))
                   .supports(Op::softmax, std::vector<DType>{DType::float64, DType::float64}));
  const std::string m = error_of([&] { ops::softmax(x); });
  EXPECT_NE(m.find("softmax is not implemented for (float64, float64) on cuda:0"),
            std::string::npos)
      << m;
}

TEST(BackendOpsContract, CpuSupportsWhatItComputesAndNothingElse) {
  const backend::Backend& cpu = backend::backend_for(Device::cpu());
  using V = std::vector<DType>;
  constexpr DType f32 = DType::float32, f64 = DType::float64, bf16 = DType::bfloat16;
  constexpr DType i32 = DType::int32;
  EXPECT_TRUE(cpu.supports(Op::linear, V{f32, f32, f32, f32}));
  EXPECT_FALSE(cpu.supports(Op::linear, V{f32, f32, f64}));  // mixed precision
  EXPECT_FALSE(cpu.supports(Op::layer_norm, V{bf16, f32, f32, f32}));
  EXPECT_TRUE(cpu.supports(Op::copy, V{bf16, f32}));
  EXPECT_TRUE(cpu.supports(Op::copy, V{f32, i32}));
  EXPECT_FALSE(cpu.supports(Op::copy, V{i32, f32}));  // float to int truncates: no such cast
  EXPECT_TRUE(cpu.supports(Op::distogram_bins, V{i32, f32}));
  EXPECT_FALSE(cpu.supports(Op::distogram_bins, V{i32, i32}));  // points are coordinates
  EXPECT_TRUE(cpu.supports(Op::relative_position_bins, V{i32, i32}));
  EXPECT_FALSE(cpu.supports(Op::relative_position_bins, V{i32, f32}));  // indices are integers
  EXPECT_FALSE(cpu.supports(Op::check_range, V{f32}));
}

// ---------------------------------------------------------------------------------------------
// The meta device: ops allocate their outputs and workspaces there and compute nothing (its
// memory is address space that is never mapped, so a computing kernel would fault).

TEST(BackendOpsMeta, OpsAllocateAndComputeNothing) {
  const Device meta = Device::meta();
  Allocator& alloc = get_allocator(meta, MemoryKind::device);
  auto t = [&](const Shape& s) { return Tensor::empty(s, DType::float32, meta); };
  // Allocations an op makes: its outputs, and the workspaces of the ones that need them (the
  // product before an epilogue that transforms it and then adds it to the output; attention's
  // and IPA's per-task slots).
  auto allocations = [&](auto&& op) {
    const uint64_t before = alloc.stats().allocations;
    op();
    return alloc.stats().allocations - before;
  };

  const Tensor x = t({64, 32}), w = t({32, 48}), b = t({48}), gate = t({64, 48});
  Tensor y;
  // Transformed in place in the output.
  EXPECT_EQ(allocations([&] { y = ops::linear(x, w, b, ops::Epilogue::sigmoid().times(gate)); }),
            1u);
  EXPECT_EQ(y.shape(), (Shape{64, 48}));
  EXPECT_EQ(y.device(), meta);
  EXPECT_EQ(allocations([&] { y = ops::linear(x, w, b); }), 1u);  // straight into the output
  // A residual add goes through the GEMM's beta; a transformed one needs the product apart.
  EXPECT_EQ(allocations([&] { ops::linear_into(y, x, w, b, ops::Epilogue().added()); }), 0u);
  EXPECT_EQ(allocations([&] { ops::linear_into(y, x, w, b, ops::Epilogue::relu().added()); }), 1u);

  ops::AttentionInputs in;
  in.q = t({2, 16, 4, 8});
  in.k = in.v = t({2, 24, 4, 8});
  in.mask = t({2, 24});
  in.pair_bias = t({4, 16, 24});
  Tensor o;
  EXPECT_EQ(allocations([&] { o = ops::attention(in); }), 2u);
  EXPECT_EQ(o.shape(), (Shape{2, 16, 4, 8}));
  EXPECT_EQ(o.device(), meta);

  const Tensor x2 = t({10, 7}), s7 = t({7}), x3 = t({3, 5, 9});
  Tensor n;
  EXPECT_EQ(allocations([&] { n = ops::layer_norm(x2, s7, s7); }), 1u);
  EXPECT_EQ(n.shape(), (Shape{10, 7}));
  EXPECT_EQ(allocations([&] { n = ops::softmax(x3); }), 1u);
  EXPECT_EQ(n.shape(), (Shape{3, 5, 9}));

  ops::IpaInputs ipa;
  ipa.q_scalar = ipa.k_scalar = t({6, 2, 4});
  ipa.v_scalar = t({6, 2, 5});
  ipa.q_points = ipa.k_points = t({6, 2, 3, 3});
  ipa.v_points = t({6, 2, 2, 3});
  ipa.bias = t({6, 6, 2});
  ipa.pair = t({6, 6, 7});
  ipa.mask = t({6});
  ipa.point_weights = t({2});
  ops::IpaOutputs io;
  EXPECT_EQ(allocations([&] { io = ops::invariant_point_attention(ipa); }), 4u);
  EXPECT_EQ(io.points.shape(), (Shape{6, 2, 2, 3}));
  EXPECT_EQ(io.pair.shape(), (Shape{6, 2, 7}));
  EXPECT_EQ(io.scalar.device(), meta);

  // The results stay allocated; the workspaces are gone.
  EXPECT_GE(alloc.stats().in_use, o.nbytes() + io.pair.nbytes() + y.nbytes());
}

}  // namespace
}  // namespace exafold::op_table
