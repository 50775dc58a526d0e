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
#include <functional>
#include <random>
#include <vector>

#include "exafold/features/atom_maps.h"
#include "exafold/memory/gpu_backend.h"
#include "exafold/model/alphafold.h"
#include "exafold/ops/elementwise.h"
#include "exafold/ops/gpu_kernels.h"
#include "model_test_util.h"

namespace exafold::model {
namespace {

using namespace testing_util;

constexpr double kK32 = 3.0;
constexpr double kFloor32 = 4 * double(FLT_EPSILON);

Tensor as_f64(const Tensor& t) { return ops::cast(migrate(t, Device::cpu()), DType::float64); }

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

TEST(CudaModel, ReducedPresetFloat32MatchesCpuFloat64WithinCpuFloat32Tolerance) {
  if (gpu_count() == 0) GTEST_SKIP() << "no CUDA device (or a build without CUDA)";
  const ModelConfig config = preset("reduced_ptm");
  const Params params = random_params<double>(config);
  std::mt19937 rng(5);
  // 20 residues: the attention kernels' query and key tiles are partly filled, the last
  // residue and the last rows are padding.
  const std::vector<ModelFeatures> features = model_features(rng, 20, 8, 12);
  RunOptions cpu64, cpu32, cuda32;
  cpu64.dtype = DType::float64;
  cpu32.dtype = cuda32.dtype = DType::float32;
  cuda32.device = Device::cuda(0);
  cpu64.chunk_size = cpu32.chunk_size = cuda32.chunk_size = 8;
  const IterationOutputs t = run_model(config, params, features, 1, cpu64);
  const IterationOutputs f = run_model(config, params, features, 1, cpu32);
  const IterationOutputs g = run_model(config, params, features, 1, cuda32);
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

TEST(CudaModel, ReducedPresetBfloat16MatchesCpuFloat64WithinStructuralTolerance) {
  if (gpu_count() == 0) GTEST_SKIP() << "no CUDA device (or a build without CUDA)";
  const ModelConfig config = preset("reduced_ptm");
  const Params params = random_params<double>(config);
  std::mt19937 rng(5);
  const int64_t n = 20;
  const std::vector<ModelFeatures> features = model_features(rng, n, 8, 12);
  RunOptions cpu64, cpu32, cuda16;
  cpu64.dtype = DType::float64;
  cpu32.dtype = DType::float32;
  cuda16.dtype = DType::bfloat16;
  cuda16.device = Device::cuda(0);
  cpu64.chunk_size = cpu32.chunk_size = cuda16.chunk_size = 8;
  const IterationOutputs t = run_model(config, params, features, 1, cpu64);
  const IterationOutputs f = run_model(config, params, features, 1, cpu32);
  const IterationOutputs g = run_model(config, params, features, 1, cuda16);

  // The trunk's representations are bfloat16; the structure module and heads computed in
  // float32, on the device.
  for (const Tensor* x : {&g.trunk.msa, &g.trunk.pair, &g.trunk.single})
    EXPECT_EQ(x->dtype(), DType::bfloat16);
  for (const Tensor* x : {&g.structure.final_atom_positions, &g.heads.plddt, &g.heads.ptm}) {
    EXPECT_EQ(x->dtype(), DType::float32);
    EXPECT_TRUE(x->device().is_cuda());
  }

  const Tensor mask = as_f64(features[0].trunk.seq_mask);
  std::vector<bool> real(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) real[size_t(i)] = mask.data<double>()[i] > 0;
  const int64_t c_m = config.c_m, c_z = config.c_z, c_s = config.c_s;
  const Tensor msa_mask = as_f64(features[0].trunk.msa_mask);
  auto pair_real = [&](int64_t i) {
    return real[size_t(i / c_z / n)] && real[size_t(i / c_z % n)];
  };
  auto single_real = [&](int64_t i) { return real[size_t(i / c_s)]; };
  auto msa_real = [&](int64_t i) { return msa_mask.data<double>()[i / c_m] > 0; };
  struct Errors {
    double pair, single, msa, rmsd, rmsd_frame, plddt, ptm;
  };
  auto errors = [&](const IterationOutputs& x) {
    Errors e;
    e.pair = relative_error(as_f64(x.trunk.pair), as_f64(t.trunk.pair), pair_real);
    e.single = relative_error(as_f64(x.trunk.single), as_f64(t.trunk.single), single_real);
    e.msa = relative_error(as_f64(x.trunk.msa), as_f64(t.trunk.msa), msa_real);
    const auto ca = c_alpha(as_f64(x.structure.final_atom_positions), real);
    const auto ca_truth = c_alpha(as_f64(t.structure.final_atom_positions), real);
    e.rmsd = rmsd_superposed(ca, ca_truth);
    e.rmsd_frame = rmsd_in_frame(ca, ca_truth);
    e.plddt = 0;
    const Tensor p = as_f64(x.heads.plddt), q = as_f64(t.heads.plddt);
    for (int64_t i = 0; i < n; ++i)
      if (real[size_t(i)])
        e.plddt = std::max(e.plddt, std::abs(p.data<double>()[i] - q.data<double>()[i]));
    e.ptm = std::abs(as_f64(x.heads.ptm).data<double>()[0] - as_f64(t.heads.ptm).data<double>()[0]);
    return e;
  };
  const Errors e32 = errors(f), e16 = errors(g);
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

/// Kernels launched by each iteration of a prediction on cuda:0 computing in `dtype`.
std::vector<uint64_t> launches_per_iteration(const ModelConfig& config, int iterations,
                                             DType dtype) {
  const Params params = random_params<float>(config);
  std::mt19937 rng(6);
  const std::vector<ModelFeatures> features = model_features(rng, 12, 4, 6);
  RunOptions options;
  options.device = Device::cuda(0);
  options.dtype = dtype;
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
    const auto evo = int64_t(launches_per_iteration(more_evoformer, 1, dtype)[0]) - int64_t(b[0]);
    const auto extra = int64_t(launches_per_iteration(more_extra, 1, dtype)[0]) - int64_t(b[0]);
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

}  // namespace
}  // namespace exafold::model
