// The whole model on the cuda backend (a GPU, or the CPU emulation of CUDA in CI: docs/gpu.md)
// in float32, against the cpu backend in float64, within the cpu's own float32 tolerance: for
// every output, K = 3 times the gap between the cpu's float32 and float64 runs plus a floor of 4
// float32 ulps of the output's scale, the rule the float32 parity tests hold the cpu to against
// the reference (tests/python/test_model_trunk_parity.py). Two float32 runs that round
// independently differ from the float64 truth by errors of one size, so a correct CUDA run
// lands within a small multiple of the cpu's gap; a wrong kernel (a lost mask, a wrong index,
// a missing term) is off by the size of the quantity itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "exafold/features/atom_maps.h"
#include "exafold/memory/gpu_backend.h"
#include "exafold/memory/migrate.h"
#include "exafold/model/alphafold.h"
#include "exafold/model/iteration_graph.h"
#include "exafold/model/length_buckets.h"
#include "exafold/ops/elementwise.h"
#include "exafold/ops/gpu_kernels.h"
#include "exafold/ops/graph.h"
#include "exafold/ops/reduce.h"
#include "model_test_util.h"

namespace exafold::model {
namespace {

using namespace testing_util;

constexpr double kK32 = 3.0;
constexpr double kFloor32 = 4 * double(FLT_EPSILON);

/// On the host in float64; a view (a cropped output) is made contiguous on its device first.
Tensor as_f64(const Tensor& t) {
  return ops::cast(migrate(ops::contiguous(t), Device::cpu()), DType::float64);
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    m = std::max(m, std::abs(a.data<double>()[i] - b.data<double>()[i]));
  return m;
}

double max_abs(const Tensor& a) {
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(a.data<double>()[i]));
  return m;
}

void expect_within_float32_tolerance(const Tensor& cuda32, const Tensor& cpu32, const Tensor& cpu64,
                                     const char* what) {
  ASSERT_TRUE(cuda32.defined() && cpu32.defined() && cpu64.defined()) << what;
  EXPECT_TRUE(cuda32.device().is_cuda()) << what << " left the device";
  const Tensor g = as_f64(cuda32), f = as_f64(cpu32), truth = as_f64(cpu64);
  ASSERT_EQ(g.shape(), truth.shape()) << what;
  const double gap = max_abs_diff(f, truth), err = max_abs_diff(g, truth);
  const double tol = kK32 * gap + kFloor32 * max_abs(truth);
  std::printf("  %-22s cuda err %.2e, cpu float32 gap %.2e, tol %.2e (%.2f of tol)\n", what, err,
              gap, tol, tol > 0 ? err / tol : 0.0);
  EXPECT_LE(err, tol) << what << ": cuda float32 is off the float64 truth by " << err
                      << ", the cpu's float32 by " << gap;
}

std::vector<ModelFeatures> model_features(std::mt19937& rng, int64_t n, int64_t s, int64_t e) {
  ModelFeatures f;
  f.trunk = features(rng, n, s, e);
  const features::AtomMaps maps = features::atom_maps(f.trunk.aatype);
  f.residx_atom37_to_atom14 = maps.residx_atom37_to_atom14;
  f.atom37_atom_exists = maps.atom37_atom_exists;
  f.atom14_atom_exists = maps.atom14_atom_exists;
  return {f, f};  // two recycling iterations
}

/// The cpu's float64 run (the truth) and float32 run (its own float32 error, for scale) of one
/// prediction, which the cuda runs are held to.
struct CpuRuns {
  IterationOutputs truth, float32;
};

CpuRuns cpu_runs(const ModelConfig& config, const Params& params,
                 const std::vector<ModelFeatures>& features, int64_t chunk) {
  RunOptions cpu64, cpu32;
  cpu64.dtype = DType::float64;
  cpu32.dtype = DType::float32;
  cpu64.chunk_size = cpu32.chunk_size = chunk;
  return {run_model(config, params, features, 1, cpu64),
          run_model(config, params, features, 1, cpu32)};
}

/// Every output of the cuda float32 run `g` within the cpu's float32 tolerance.
void expect_float32_parity(const IterationOutputs& g, const CpuRuns& cpu) {
  const IterationOutputs &t = cpu.truth, &f = cpu.float32;
  expect_within_float32_tolerance(g.trunk.msa, f.trunk.msa, t.trunk.msa, "msa");
  expect_within_float32_tolerance(g.trunk.pair, f.trunk.pair, t.trunk.pair, "pair");
  expect_within_float32_tolerance(g.trunk.single, f.trunk.single, t.trunk.single, "single");
  expect_within_float32_tolerance(g.structure.final_atom_positions,
                                  f.structure.final_atom_positions,
                                  t.structure.final_atom_positions, "final_atom_positions");
  expect_within_float32_tolerance(g.structure.traj, f.structure.traj, t.structure.traj, "traj");
  expect_within_float32_tolerance(g.structure.angles_sin_cos, f.structure.angles_sin_cos,
                                  t.structure.angles_sin_cos, "angles_sin_cos");
  expect_within_float32_tolerance(g.heads.distogram_logits, f.heads.distogram_logits,
                                  t.heads.distogram_logits, "distogram_logits");
  expect_within_float32_tolerance(g.heads.plddt, f.heads.plddt, t.heads.plddt, "plddt");
  expect_within_float32_tolerance(g.heads.predicted_aligned_error, f.heads.predicted_aligned_error,
                                  t.heads.predicted_aligned_error, "predicted_aligned_error");
  expect_within_float32_tolerance(g.heads.ptm, f.heads.ptm, t.heads.ptm, "ptm");
}

/// A cuda run in `dtype` at the features' own length (with padding, the masked last residue's
/// fully masked attention rows would average over the padded keys too), with its default CUDA
/// graphs.
IterationOutputs cuda_run(const ModelConfig& config, const Params& params,
                          const std::vector<ModelFeatures>& features, DType dtype, int64_t chunk) {
  RunOptions o;
  o.dtype = dtype;
  o.device = Device::cuda(0);
  o.chunk_size = chunk;
  o.length_buckets = false;
  return run_model(config, params, features, 1, o);
}

/// One prediction and the cpu's runs of it.
struct ParityCase {
  ModelConfig config;
  Params params;
  std::vector<ModelFeatures> features;
  CpuRuns cpu;
};

/// reduced_ptm at 20 residues, chunk 8: the attention kernels' query and key tiles are partly
/// filled, the last residue and the last rows are padding.
ParityCase reduced_case() {
  const ModelConfig config = preset("reduced_ptm");
  Params params = random_params<double>(config);
  std::mt19937 rng(5);
  std::vector<ModelFeatures> features = model_features(rng, 20, 8, 12);
  CpuRuns cpu = cpu_runs(config, params, features, 8);
  return {config, std::move(params), std::move(features), std::move(cpu)};
}

TEST(CudaModel, ReducedPresetFloat32MatchesCpuFloat64WithinCpuFloat32Tolerance) {
  if (gpu_count() == 0) GTEST_SKIP() << "no CUDA device (or a build without CUDA)";
  const ParityCase c = reduced_case();
  expect_float32_parity(cuda_run(c.config, c.params, c.features, DType::float32, 8), c.cpu);
}

/// ||a - b|| / ||b|| (Frobenius) over the flat indices where `keep` holds.
double relative_error(const Tensor& a, const Tensor& b, const std::function<bool(int64_t)>& keep) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < b.numel(); ++i)
    if (keep(i)) {
      const double d = a.data<double>()[i] - b.data<double>()[i];
      num += d * d;
      den += b.data<double>()[i] * b.data<double>()[i];
    }
  return std::sqrt(num / den);
}

/// The C-alpha coordinates [n, 3] of the real residues of atom37 positions [N, 37, 3].
std::vector<std::array<double, 3>> c_alpha(const Tensor& positions, const std::vector<bool>& real) {
  std::vector<std::array<double, 3>> x;
  const double* p = positions.data<double>();
  for (size_t i = 0; i < real.size(); ++i)
    if (real[i]) {
      const double* ca = p + (int64_t(i) * 37 + 1) * 3;  // atom37 index 1: CA
      x.push_back({ca[0], ca[1], ca[2]});
    }
  return x;
}

/// The root mean square distance between matching points, as they are (in the model's frame).
double rmsd_in_frame(const std::vector<std::array<double, 3>>& a,
                     const std::vector<std::array<double, 3>>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i)
    for (int k = 0; k < 3; ++k) s += (a[i][k] - b[i][k]) * (a[i][k] - b[i][k]);
  return std::sqrt(s / double(a.size()));
}

/// The root mean square distance after the optimal superposition of a onto b (Kabsch), from
/// the largest eigenvalue of Horn's 4 x 4 quaternion matrix: rmsd^2 = (|a|^2 + |b|^2 - 2
/// lambda_max) / n over centred points. The eigenvalue by cyclic Jacobi rotations (a 4 x 4
/// symmetric matrix converges to double precision in a few sweeps).
double rmsd_superposed(std::vector<std::array<double, 3>> a, std::vector<std::array<double, 3>> b) {
  const double n = double(a.size());
  for (auto* v : {&a, &b}) {
    std::array<double, 3> c{0, 0, 0};
    for (const auto& p : *v)
      for (int k = 0; k < 3; ++k) c[k] += p[k] / n;
    for (auto& p : *v)
      for (int k = 0; k < 3; ++k) p[k] -= c[k];
  }
  double s[3][3] = {}, norms = 0;
  for (size_t i = 0; i < a.size(); ++i)
    for (int r = 0; r < 3; ++r) {
      norms += a[i][r] * a[i][r] + b[i][r] * b[i][r];
      for (int c = 0; c < 3; ++c) s[r][c] += a[i][r] * b[i][c];
    }
  double m[4][4] = {
      {s[0][0] + s[1][1] + s[2][2], s[1][2] - s[2][1], s[2][0] - s[0][2], s[0][1] - s[1][0]},
      {s[1][2] - s[2][1], s[0][0] - s[1][1] - s[2][2], s[0][1] + s[1][0], s[2][0] + s[0][2]},
      {s[2][0] - s[0][2], s[0][1] + s[1][0], -s[0][0] + s[1][1] - s[2][2], s[1][2] + s[2][1]},
      {s[0][1] - s[1][0], s[2][0] + s[0][2], s[1][2] + s[2][1], -s[0][0] - s[1][1] + s[2][2]}};
  for (int sweep = 0; sweep < 50; ++sweep) {
    double off = 0;
    for (int p = 0; p < 4; ++p)
      for (int q = p + 1; q < 4; ++q) off += m[p][q] * m[p][q];
    if (off < 1e-30) break;
    for (int p = 0; p < 4; ++p)
      for (int q = p + 1; q < 4; ++q) {
        if (m[p][q] == 0) continue;
        const double theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
        const double t = (theta >= 0 ? 1 : -1) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), sn = t * c;
        for (int k = 0; k < 4; ++k) {  // columns p, q
          const double kp = m[k][p], kq = m[k][q];
          m[k][p] = c * kp - sn * kq;
          m[k][q] = sn * kp + c * kq;
        }
        for (int k = 0; k < 4; ++k) {  // rows p, q
          const double pk = m[p][k], qk = m[q][k];
          m[p][k] = c * pk - sn * qk;
          m[q][k] = sn * pk + c * qk;
        }
      }
  }
  const double lambda = std::max({m[0][0], m[1][1], m[2][2], m[3][3]});
  return std::sqrt(std::max(0.0, (norms - 2 * lambda) / n));
}

// The whole model in bfloat16 on the cuda backend (model/params.h: the trunk on bfloat16
// activations and weight matrices, float32 statistics, softmax, accumulation and per-channel
// parameters; the structure module and heads in float32) against the cpu's float64 run, with
// the cpu's float32 run measured beside it for scale.
//
// The tolerance. Each stored bfloat16 activation is its float32 value times (1 + d), |d| <=
// 2^-8 (round to nearest even); float32 arithmetic under it adds errors of 2^-24. To first
// order an output's error is a linear function of these per-store perturbations, whatever the
// network's amplification, so going from float32's unit roundoff to bfloat16's scales it by
// 2^-8 / 2^-24 = 2^16, with a constant of order one set by how many roundings each path
// collects (a float32 GEMM's sum of k terms rounds ~sqrt(k) times, a bfloat16 store once):
// the bound is K x 2^16 x the float32 run's error of the same quantity, measured in this test.
// - pair, single and msa (the bfloat16 trunk's outputs), as ||x - truth|| / ||truth|| over
//   the real residues and MSA rows (padded entries hold the reference's own garbage, the outer
//   product mean's output_b / 1e-3): K = kRepresentations = 4. Measured on the emulation:
//   1.29, 0.48 and 0.45 x 2^16 (0.32, 0.12 and 0.11 of the tolerance).
// - The structure and confidences (outputs of the float32 structure module and heads): C-alpha
//   RMSD after Kabsch superposition over the real residues (a rigid motion of the whole chain
//   is no change of the structure: distillation, lDDT and pLDDT do not see it; the RMSD in the
//   model's frame is printed beside it and is within 15% of it), max |dpLDDT| over the real
//   residues and |dpTM|: K = kFloat32Heads = 1, since their float32 error includes their own
//   float32 rounding, which the bfloat16 run also has and does not scale by 2^16, so 2^16
//   times it already over-states the first-order bfloat16 error. Measured: 0.15, 0.16 and
//   0.06 x 2^16 (C-alpha RMSD 1.0 A on a chain of radius of gyration 33 A; dpLDDT 0.11).
// What it catches (measured on the emulation, the broken variants not kept): attention
// without its key mask in the bfloat16 run puts pair, single and msa at 1.5-1.7 x their
// tolerance and the RMSD at 8.9 A, 1.36 x (pLDDT 0.31 stays within). Rounding a per-channel
// set to bfloat16 while keeping it float32 moves every error by 15-30% (LayerNorm scale and
// offset: pair 2.9e-2, RMSD 1.30 A, dpLDDT 0.17; the biases: pair 2.7e-2, RMSD 1.33 A, dpLDDT
// 0.19), the size of one more rounding per store, which an end-to-end bound cannot tell from
// the activations' own: the placement rule is held exactly by
// Params.BfloatPlacementRoundsExactlyTheTrunksWeightMatrices, and kernels that round a bias by
// the per-op table.
constexpr double kBfloat16OverFloat32 = 65536.0;  // 2^-8 / 2^-24
constexpr double kRepresentations = 4.0;
constexpr double kFloat32Heads = 1.0;

/// Which residues of the features are real (seq_mask), for the checks below.
std::vector<bool> real_residues(const ModelFeatures& features) {
  const Tensor mask = as_f64(features.trunk.seq_mask);
  std::vector<bool> real(static_cast<size_t>(mask.numel()));
  for (int64_t i = 0; i < mask.numel(); ++i) real[size_t(i)] = mask.data<double>()[i] > 0;
  return real;
}

/// How far a run's outputs lie from a reference run's: relative errors of the representations
/// over the real residues and MSA rows (padded entries hold the reference's own garbage),
/// C-alpha RMSD (superposed and in the model's frame), max |dpLDDT| over the real residues and
/// |dpTM|.
struct Errors {
  double pair, single, msa, rmsd, rmsd_frame, plddt, ptm;
};

Errors errors_against(const IterationOutputs& x, const IterationOutputs& ref,
                      const ModelConfig& config, const ModelFeatures& features) {
  const std::vector<bool> real = real_residues(features);
  const int64_t n = int64_t(real.size());
  const int64_t c_m = config.c_m, c_z = config.c_z, c_s = config.c_s;
  const Tensor msa_mask = as_f64(features.trunk.msa_mask);
  auto pair_real = [&](int64_t i) {
    return real[size_t(i / c_z / n)] && real[size_t(i / c_z % n)];
  };
  auto single_real = [&](int64_t i) { return real[size_t(i / c_s)]; };
  auto msa_real = [&](int64_t i) { return msa_mask.data<double>()[i / c_m] > 0; };
  Errors e;
  e.pair = relative_error(as_f64(x.trunk.pair), as_f64(ref.trunk.pair), pair_real);
  e.single = relative_error(as_f64(x.trunk.single), as_f64(ref.trunk.single), single_real);
  e.msa = relative_error(as_f64(x.trunk.msa), as_f64(ref.trunk.msa), msa_real);
  const auto ca = c_alpha(as_f64(x.structure.final_atom_positions), real);
  const auto ca_ref = c_alpha(as_f64(ref.structure.final_atom_positions), real);
  e.rmsd = rmsd_superposed(ca, ca_ref);
  e.rmsd_frame = rmsd_in_frame(ca, ca_ref);
  e.plddt = 0;
  const Tensor p = as_f64(x.heads.plddt), q = as_f64(ref.heads.plddt);
  for (int64_t i = 0; i < n; ++i)
    if (real[size_t(i)])
      e.plddt = std::max(e.plddt, std::abs(p.data<double>()[i] - q.data<double>()[i]));
  e.ptm = std::abs(as_f64(x.heads.ptm).data<double>()[0] - as_f64(ref.heads.ptm).data<double>()[0]);
  return e;
}

/// The cuda bfloat16 run `g` of `features` (iteration 0's masks select the real residues and
/// rows) within the bfloat16 tolerance above.
void expect_bfloat16_parity(const IterationOutputs& g, const CpuRuns& cpu,
                            const ModelConfig& config, const ModelFeatures& features) {
  const IterationOutputs &t = cpu.truth, &f = cpu.float32;
  // The trunk's representations are bfloat16; the structure module and heads computed in
  // float32, on the device.
  for (const Tensor* x : {&g.trunk.msa, &g.trunk.pair, &g.trunk.single})
    EXPECT_EQ(x->dtype(), DType::bfloat16);
  for (const Tensor* x : {&g.structure.final_atom_positions, &g.heads.plddt, &g.heads.ptm}) {
    EXPECT_EQ(x->dtype(), DType::float32);
    EXPECT_TRUE(x->device().is_cuda());
  }

  const Errors e32 = errors_against(f, t, config, features);
  const Errors e16 = errors_against(g, t, config, features);
  const std::vector<bool> real = real_residues(features);
  double extent = 0;  // the radius of gyration of the truth's C-alpha trace, for scale
  {
    const auto ca = c_alpha(as_f64(t.structure.final_atom_positions), real);
    std::vector<std::array<double, 3>> origin(ca.size(), {0, 0, 0});
    std::array<double, 3> c{0, 0, 0};
    for (const auto& p : ca)
      for (int k = 0; k < 3; ++k) c[k] += p[k] / double(ca.size());
    for (auto& o : origin) o = c;
    extent = rmsd_in_frame(ca, origin);
  }
  std::printf("  C-alpha radius of gyration of the float64 structure: %.2f A\n", extent);
  for (const auto& [name, e] : {std::pair{"cpu float32", e32}, std::pair{"cuda bfloat16", e16}})
    std::printf(
        "  %-13s relative error: pair %.2e, single %.2e, msa %.2e; C-alpha RMSD %.2e A "
        "superposed, %.2e A in the model's frame; max |dpLDDT| %.2e, |dpTM| %.2e\n",
        name, e.pair, e.single, e.msa, e.rmsd, e.rmsd_frame, e.plddt, e.ptm);
  const double scaled = kBfloat16OverFloat32;
  auto expect = [&](const char* what, double err, double gap32, double k) {
    const double tol = k * scaled * gap32;
    std::printf("  %-28s bfloat16 err %.2e, tol %.2e = %g x 2^16 x float32's %.2e (%.2f of tol)\n",
                what, err, tol, k, gap32, err / tol);
    EXPECT_LE(err, tol) << what << ": bfloat16 is off the float64 truth by " << err
                        << ", float32 by " << gap32;
  };
  expect("pair (relative)", e16.pair, e32.pair, kRepresentations);
  expect("single (relative)", e16.single, e32.single, kRepresentations);
  expect("msa (relative)", e16.msa, e32.msa, kRepresentations);
  expect("C-alpha RMSD, superposed (A)", e16.rmsd, e32.rmsd, kFloat32Heads);
  expect("max |dpLDDT|", e16.plddt, e32.plddt, kFloat32Heads);
  expect("|dpTM|", e16.ptm, e32.ptm, kFloat32Heads);
}

TEST(CudaModel, ReducedPresetBfloat16MatchesCpuFloat64WithinStructuralTolerance) {
  if (gpu_count() == 0) GTEST_SKIP() << "no CUDA device (or a build without CUDA)";
  const ParityCase c = reduced_case();
  expect_bfloat16_parity(cuda_run(c.config, c.params, c.features, DType::bfloat16, 8), c.cpu,
                         c.config, c.features[0]);
}

// Section 3's checks at full width, run on a GPU by bench/gpu/device_check.sh:
// EXAFOLD_FULL_WIDTH=PRESET:L0,L1,...:CLUSTERS,EXTRA (model_1_ptm:64,256,512:128,1024 there;
// the rehearsal, a reduced preset at a few residues). Skipped when it is not set: the float64
// cpu run of model_1_ptm alone takes minutes on two cores.
struct FullWidth {
  ModelConfig config;
  std::vector<int64_t> lengths;
  int64_t clusters = 0, extra = 0;
};

std::optional<FullWidth> full_width() {
  const char* v = std::getenv("EXAFOLD_FULL_WIDTH");
  if (v == nullptr || *v == 0) return std::nullopt;
  const std::string text = v;
  const size_t a = text.find(':'), b = text.find(':', a + 1);
  const size_t comma = b == std::string::npos ? b : text.find(',', b);
  check(a != std::string::npos && b != std::string::npos && comma != std::string::npos,
        "EXAFOLD_FULL_WIDTH is PRESET:L0,L1,...:CLUSTERS,EXTRA, not ", text);
  FullWidth w;
  w.config = preset(text.substr(0, a));
  for (size_t i = a + 1; i < b;) {
    const size_t end = std::min(text.find(',', i), b);
    w.lengths.push_back(std::stoll(text.substr(i, end - i)));
    i = end + 1;
  }
  w.clusters = std::stoll(text.substr(b + 1, comma - b - 1));
  w.extra = std::stoll(text.substr(comma + 1));
  check(!w.lengths.empty(), "EXAFOLD_FULL_WIDTH names no length: ", text);
  return w;
}

// At the first length, both cuda runs against the cpu's float64 one, with the tolerances of the
// reduced tests above (the same rules, at the official widths and depths).
TEST(CudaModel, FullWidthFloat32AndBfloat16MatchCpuFloat64) {
  if (gpu_count() == 0) GTEST_SKIP() << "no CUDA device (or a build without CUDA)";
  const std::optional<FullWidth> w = full_width();
  if (!w) GTEST_SKIP() << "EXAFOLD_FULL_WIDTH is not set (bench/gpu/device_check.sh sets it)";
  const Params params = random_params<double>(w->config);
  std::mt19937 rng(7);
  const std::vector<ModelFeatures> features =
      model_features(rng, w->lengths[0], w->clusters, w->extra);
  std::printf("  %s, N = %lld, S = %lld, E = %lld, 2 iterations\n", w->config.name.c_str(),
              static_cast<long long>(w->lengths[0]), static_cast<long long>(w->clusters),
              static_cast<long long>(w->extra));
  const CpuRuns cpu = cpu_runs(w->config, params, features, 0);
  expect_float32_parity(cuda_run(w->config, params, features, DType::float32, 0), cpu);
  expect_bfloat16_parity(cuda_run(w->config, params, features, DType::bfloat16, 0), cpu, w->config,
                         features[0]);
}

// bfloat16 against float32, both on the GPU, at every length (a public bfloat16 path is
// reported broken above ~256 residues, openfold#532). The trunk's output is where bfloat16
// rounds: its relative error is set by the per-store rounding of 2^-8, which does not grow
// with N (a sum of N terms rounded independently has a relative error of the terms' own
// size), so at N it may be at most K = 4 times the first length's, times sqrt(N / N0) for the
// growth of the longest sums' rounding. A broken path (NaN, or an unrelated structure) is off
// by O(1), 10 to 100 times that. The structure and confidences are printed beside it.
TEST(CudaModel, FullWidthBfloat16StaysNearFloat32AtEveryLength) {
  if (gpu_count() == 0) GTEST_SKIP() << "no CUDA device (or a build without CUDA)";
  const std::optional<FullWidth> w = full_width();
  if (!w) GTEST_SKIP() << "EXAFOLD_FULL_WIDTH is not set (bench/gpu/device_check.sh sets it)";
  const Params params = random_params<float>(w->config);
  double first = 0;
  for (const int64_t n : w->lengths) {
    std::mt19937 rng(static_cast<uint32_t>(n));
    const std::vector<ModelFeatures> features = model_features(rng, n, w->clusters, w->extra);
    const IterationOutputs f = cuda_run(w->config, params, features, DType::float32, 0);
    const IterationOutputs g = cuda_run(w->config, params, features, DType::bfloat16, 0);
    const std::vector<bool> real = real_residues(features[0]);
    const Errors err = errors_against(g, f, w->config, features[0]);
    const double pair = err.pair;
    const Tensor p16 = as_f64(g.heads.plddt);
    bool finite = std::isfinite(pair);
    for (int64_t i = 0; i < n; ++i) finite = finite && std::isfinite(p16.data<double>()[i]);
    for (const auto& x : c_alpha(as_f64(g.structure.final_atom_positions), real))
      finite = finite && std::isfinite(x[0] + x[1] + x[2]);
    if (first == 0) first = pair;
    const double tol = 4 * first * std::sqrt(double(n) / double(w->lengths[0]));
    std::printf(
        "  bf16 vs float32 N = %lld: pair relative %.2e (tol %.2e), C-alpha RMSD %.3f A "
        "superposed, max |dpLDDT| %.3f, |dpTM| %.2e\n",
        static_cast<long long>(n), pair, tol, err.rmsd, err.plddt, err.ptm);
    EXPECT_TRUE(finite) << "N = " << n << ": bfloat16 outputs are not finite";
    EXPECT_LE(pair, tol) << "N = " << n << ": bfloat16's pair error grew with the length";
  }
}

/// Kernels launched by each iteration of a prediction on cuda:0 computing in `dtype`.
std::vector<uint64_t> launches_per_iteration(const ModelConfig& config, int iterations,
                                             DType dtype) {
  const Params params = random_params<float>(config);
  std::mt19937 rng(6);
  const std::vector<ModelFeatures> features = model_features(rng, 12, 4, 6);
  RunOptions options;
  options.device = Device::cuda(0);
  options.dtype = dtype;
  options.cuda_graphs = false;  // the kernels each iteration launches, one by one
  options.length_buckets = false;
  // Placing the parameters (a copy, and the fused projections' concatenation) happens once per
  // model, before its first prediction.
  prepare(params, options.device, dtype);
  std::vector<uint64_t> counts;
  uint64_t last = ops::gpu_kernels()->launches();
  run_model(config, params, features, iterations - 1, options, [&](int, const IterationOutputs&) {
    const uint64_t now = ops::gpu_kernels()->launches();
    counts.push_back(now - last);
    last = now;
  });
  return counts;
}

// The launch counts of docs/gpu.md, in float32 and in bfloat16. Each block's launches are the
// difference between presets that differ by one block; the full width changes no count (one
// kernel per op whatever the channels), so model_1_ptm's prediction follows from its block
// counts. Every iteration after the first must launch the same kernels, whatever the data: that
// is what lets one CUDA graph replay them (the first also fills the zero recycled inputs).
TEST(CudaModel, KernelLaunchesPerBlockAndPerPrediction) {
  if (gpu_count() == 0) GTEST_SKIP() << "no CUDA device (or a build without CUDA)";
  ModelConfig base = preset("reduced_ptm");
  base.templates.enabled = false;
  ModelConfig more_evoformer = base, more_extra = base;
  more_evoformer.evoformer_blocks += 1;
  more_extra.extra_blocks += 1;
  for (DType dtype : {DType::float32, DType::bfloat16}) {
    const std::vector<uint64_t> b = launches_per_iteration(base, 3, dtype);
    ASSERT_EQ(b.size(), 3u);
    EXPECT_EQ(b[1], b[2]) << "the second and third iterations launch different kernels";
    EXPECT_GE(b[0], b[1]);
    // Steady iterations against steady iterations: a first iteration also launches what is made
    // once per process (the confidence heads' bin centres), whichever run comes first.
    const auto evo = int64_t(launches_per_iteration(more_evoformer, 2, dtype)[1]) - int64_t(b[1]);
    const auto extra = int64_t(launches_per_iteration(more_extra, 2, dtype)[1]) - int64_t(b[1]);
    EXPECT_GT(evo, 0);
    EXPECT_GT(extra, 0);
    const ModelConfig full = preset("model_1_ptm");
    const int64_t blocks = (full.evoformer_blocks - base.evoformer_blocks) * evo +
                           (full.extra_blocks - base.extra_blocks) * extra;
    const int64_t first = int64_t(b[0]) + blocks, steady = int64_t(b[1]) + blocks;
    std::printf(
        "  kernel launches (%s): Evoformer block %lld, extra-MSA block %lld, reduced_ptm "
        "iteration %llu (first %llu); model_1_ptm (%d + %d blocks, no templates): %lld per "
        "iteration, %lld per prediction with 3 recycles\n",
        std::string(dtype_name(dtype)).c_str(), static_cast<long long>(evo),
        static_cast<long long>(extra), static_cast<unsigned long long>(b[1]),
        static_cast<unsigned long long>(b[0]), full.evoformer_blocks, full.extra_blocks,
        static_cast<long long>(steady), static_cast<long long>(first + 3 * steady));
  }
}

/// The outputs a prediction returns, by name, on the host in float64.
std::vector<std::pair<const char*, Tensor>> named_outputs(const IterationOutputs& o) {
  std::vector<std::pair<const char*, Tensor>> v = {
      {"msa", o.trunk.msa},
      {"pair", o.trunk.pair},
      {"single", o.trunk.single},
      {"final_atom_positions", o.structure.final_atom_positions},
      {"final_atom_mask", o.structure.final_atom_mask},
      {"final_atom14_positions", o.structure.final_atom14_positions},
      {"traj", o.structure.traj},
      {"angles_sin_cos", o.structure.angles_sin_cos},
      {"structure_module", o.structure.representation},
      {"distogram_logits", o.heads.distogram_logits},
      {"masked_msa_logits", o.heads.masked_msa_logits},
      {"experimentally_resolved_logits", o.heads.experimentally_resolved_logits},
      {"plddt", o.heads.plddt},
      {"mean_plddt", o.heads.mean_plddt},
      {"predicted_aligned_error", o.heads.predicted_aligned_error},
      {"ptm", o.heads.ptm},
      {"prev_pos", o.next.prev_pos}};
  for (auto& [name, t] : v) t = as_f64(t);
  return v;
}

void expect_bit_identical(const IterationOutputs& graphs, const IterationOutputs& eager) {
  const auto g = named_outputs(graphs), e = named_outputs(eager);
  for (size_t i = 0; i < g.size(); ++i) {
    ASSERT_EQ(g[i].second.shape(), e[i].second.shape()) << g[i].first;
    int64_t differ = 0;
    for (int64_t j = 0; j < g[i].second.numel(); ++j)
      differ += g[i].second.data<double>()[j] != e[i].second.data<double>()[j];
    EXPECT_EQ(differ, 0) << g[i].first << ": " << differ << " of " << g[i].second.numel()
                         << " values differ between the graph and the eager run";
  }
}

/// Features as AlphaFold2 makes them for n residues (every entry unmasked), two iterations.
std::vector<ModelFeatures> unmasked_features(int64_t n, int64_t s, int64_t e, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<ModelFeatures> f = model_features(rng, n, s, e);
  for (ModelFeatures& m : f) {
    m.trunk.seq_mask = mask({n}, 0, 0);
    m.trunk.msa_mask = mask({s, n}, 0, 0);
    m.trunk.extra_msa_mask = mask({e, n}, 0, 0);
  }
  f[1].trunk.msa_feat = filled<float>({s, n, 49}, rng, 1.0);  // resampled
  return f;
}

struct Counts {
  uint64_t kernels, graphs, captured;
  IterationGraphStats cache;
};
Counts counts() {
  return {ops::gpu_kernels()->launches(), ops::graph_launches(), ops::captured_kernels(),
          iteration_graph_stats()};
}

// Note [Iteration graphs]: a prediction through graphs equals the eager one to the bit (the same
// kernels on the same data), each iteration is one graph launch once the graph exists, a second
// prediction in the bucket replays the cached graph, and another bucket captures its own.
TEST(CudaModel, IterationGraphsReplayTheEagerPredictionBitForBit) {
  if (gpu_count() == 0) GTEST_SKIP() << "no CUDA device (or a build without CUDA)";
  ModelConfig config = preset("reduced_ptm");
  const Params params = random_params<float>(config);
  RunOptions graphs, eager;
  graphs.device = eager.device = Device::cuda(0);
  eager.cuda_graphs = false;
  ASSERT_TRUE(uses_cuda_graphs(graphs));
  ASSERT_TRUE(pads_to_bucket(graphs) && pads_to_bucket(eager));
  prepare(params, graphs.device, DType::float32);
  clear_iteration_graphs();
  constexpr int kRecycles = 2;  // three iterations

  // 12 residues, bucket 16: the first prediction warms up eagerly, then captures and replays.
  const std::vector<ModelFeatures> f12 = unmasked_features(12, 4, 6, 21);
  const IterationOutputs eager12 = run_model(config, params, f12, kRecycles, eager);
  const Counts c1 = counts();
  const IterationOutputs graph12 = run_model(config, params, f12, kRecycles, graphs);
  const Counts c2 = counts();
  expect_bit_identical(graph12, eager12);
  EXPECT_EQ(c2.cache.eager - c1.cache.eager, 1u);
  EXPECT_EQ(c2.cache.captures - c1.cache.captures, 1u);
  EXPECT_EQ(c2.cache.replays - c1.cache.replays, uint64_t(kRecycles));
  EXPECT_EQ(c2.graphs - c1.graphs, uint64_t(kRecycles));
  EXPECT_EQ(c2.cache.cached, 1u);
  EXPECT_GT(c2.cache.pool_bytes, 0u);

  // 14 residues, the same bucket and MSA depths: the cached graph serves every iteration.
  const std::vector<ModelFeatures> f14 = unmasked_features(14, 4, 6, 22);
  const Counts c3 = counts();
  const IterationOutputs graph14 = run_model(config, params, f14, kRecycles, graphs);
  const Counts c4 = counts();
  const IterationOutputs eager14 = run_model(config, params, f14, kRecycles, eager);
  const Counts c5 = counts();
  expect_bit_identical(graph14, eager14);
  EXPECT_EQ(graph14.trunk.pair.size(0), 14);
  EXPECT_EQ(c4.cache.captures, c3.cache.captures) << "a prediction in the bucket recaptured";
  EXPECT_EQ(c4.cache.eager, c3.cache.eager);
  EXPECT_EQ(c4.cache.replays - c3.cache.replays, uint64_t(kRecycles + 1));
  EXPECT_EQ(c4.graphs - c3.graphs, uint64_t(kRecycles + 1)) << "one graph launch per iteration";
  const uint64_t with_graphs = (c4.graphs - c3.graphs) + (c4.kernels - c3.kernels);
  const uint64_t without = c5.kernels - c4.kernels;
  std::printf(
      "  graph launches: reduced_ptm, %d iterations: %llu launches per prediction through CUDA "
      "graphs (%llu graph launches + %llu kernels outside them: recycled-input fills, output "
      "copies), %llu kernels eagerly; %llu kernels per graph; graph pool %zu bytes\n",
      kRecycles + 1, static_cast<unsigned long long>(with_graphs),
      static_cast<unsigned long long>(c4.graphs - c3.graphs),
      static_cast<unsigned long long>(c4.kernels - c3.kernels),
      static_cast<unsigned long long>(without),
      static_cast<unsigned long long>(c2.captured - c1.captured), c4.cache.pool_bytes);
  EXPECT_LT(with_graphs, without / 10);

  // 20 residues: bucket 32, a new key, a new capture.
  const std::vector<ModelFeatures> f20 = unmasked_features(20, 4, 6, 23);
  const Counts c6 = counts();
  const IterationOutputs graph20 = run_model(config, params, f20, kRecycles, graphs);
  const Counts c7 = counts();
  expect_bit_identical(graph20, run_model(config, params, f20, kRecycles, eager));
  EXPECT_EQ(c7.cache.captures - c6.cache.captures, 1u);
  EXPECT_EQ(c7.cache.cached, 1u) << "the cache keeps one graph";
  clear_iteration_graphs();
  EXPECT_EQ(iteration_graph_stats().cached, 0u);
}

// A capture that would wait for the device fails, naming why, instead of recording a graph that
// skips the wait; range checks outside a RangesChecked scope are such waits.
TEST(CudaModel, ACaptureThatWaitsForTheDeviceFails) {
  if (gpu_count() == 0) GTEST_SKIP() << "no CUDA device (or a build without CUDA)";
  const Device dev = Device::cuda(0);
  const Tensor index = migrate(ops::zeros({4}, DType::int32, Device::cpu()), dev);
  const Tensor x = ops::zeros({4}, DType::float32, dev);
  try {
    ops::capture(dev, [&] { ops::check_range(index, 0, 3, "index"); });
    FAIL() << "the capture of a range check succeeded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cudaErrorStreamCaptureUnsupported"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(ops::gpu_kernels()->capturing());
  // Inside the scope the check is the caller's, and the capture records the rest.
  ops::Graph g = ops::capture(dev, [&] {
    const ops::RangesChecked checked;
    ops::check_range(index, 0, 3, "index");
    ops::fill(x, 2.0);
  });
  EXPECT_TRUE(g.defined());
  EXPECT_EQ(migrate(x, Device::cpu()).data<float>()[3], 0.f) << "the capture ran its work";
  g.launch();
  ops::gpu_kernels()->synchronize();
  EXPECT_EQ(migrate(x, Device::cpu()).data<float>()[3], 2.f);
}

// Note [Staging]: features staged on another thread, as the prefetch pipeline's threads stage
// them, predict exactly as the same features on the host, and the prediction copies none of
// them (Note [Features placed once]): their upload was done before it started.
TEST(CudaModel, FeaturesStagedOnAnotherThreadPredictAsOnTheHostWithoutAnUpload) {
  if (gpu_count() == 0) GTEST_SKIP() << "no CUDA device (or a build without CUDA)";
  const ModelConfig config = preset("reduced_ptm");
  const Params params = random_params<float>(config);
  RunOptions options;
  options.device = Device::cuda(0);
  prepare(params, options.device, DType::float32);
  const std::vector<ModelFeatures> host = unmasked_features(13, 4, 6, 31);
  const IterationOutputs want = run_model(config, params, host, 1, options);

  std::vector<ModelFeatures> staged = host;
  std::thread prefetch([&] {
    for (ModelFeatures& f : staged)
      for (Tensor* t : iteration_tensors(f)) *t = stage(*t, options.device);
  });
  prefetch.join();
  for (ModelFeatures& f : staged)
    for (Tensor* t : iteration_tensors(f)) ASSERT_EQ(t->memory_kind(), MemoryKind::unified);

  reset_migrate_stats();
  const IterationOutputs got = run_model(config, params, staged, 1, options);
  const MigrateStats from_staged = migrate_stats();
  reset_migrate_stats();
  run_model(config, params, host, 1, options);
  const MigrateStats from_host = migrate_stats();
  expect_bit_identical(got, want);
  EXPECT_EQ(from_staged.copies, 0u) << from_staged.bytes_moved << " bytes uploaded";
  EXPECT_GT(from_staged.elided, 0u);
  EXPECT_GT(from_host.copies, 0u) << "host features are uploaded by the prediction itself";
}

}  // namespace
}  // namespace exafold::model
