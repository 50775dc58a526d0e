// Length buckets (model/length_buckets.h): the rule, and a prediction padded to its bucket and
// cropped back against the same prediction unpadded, on the cpu in float64.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <set>
#include <vector>

#include "exafold/core/error.h"
#include "exafold/features/atom_maps.h"
#include "exafold/model/length_buckets.h"
#include "exafold/ops/elementwise.h"
#include "model_test_util.h"

namespace exafold::model {
namespace {

using namespace testing_util;

TEST(LengthBuckets, BoundTheirPaddingAndAreFixedPoints) {
  std::set<int64_t> buckets;
  int64_t last = 0;
  for (int64_t n = 1; n <= 2700; ++n) {
    const int64_t b = bucket_length(n);
    ASSERT_GE(b, n);
    ASSERT_GE(b, last) << "buckets must not shrink as N grows";
    ASSERT_EQ(b % 16, 0) << n;
    // At most 15 padded residues up to 128, at most 1/8 of N beyond.
    ASSERT_LT(b - n, std::max<int64_t>(16, (n + 7) / 8)) << n;
    ASSERT_EQ(bucket_length(b), b) << "a bucket is its own bucket";
    buckets.insert(b);
    last = b;
  }
  EXPECT_EQ(buckets.size(), 43u);  // 16 multiples of 16 to 256, then 8 per doubling
  EXPECT_EQ(bucket_length(1), 16);
  EXPECT_EQ(bucket_length(17), 32);
  EXPECT_EQ(bucket_length(256), 256);
  EXPECT_EQ(bucket_length(257), 288);
  EXPECT_EQ(bucket_length(1000), 1024);
  EXPECT_EQ(bucket_length(1025), 1152);
  EXPECT_THROW(bucket_length(0), InvalidArgument);
}

TEST(LengthBuckets, OnByDefaultForCudaOnly) {
  RunOptions o;
  EXPECT_FALSE(pads_to_bucket(o));
  o.device = Device::cuda(0);
  EXPECT_TRUE(pads_to_bucket(o));
  o.length_buckets = false;
  EXPECT_FALSE(pads_to_bucket(o));
  o.device = Device::cpu();
  o.length_buckets = true;
  EXPECT_TRUE(pads_to_bucket(o));
}

/// n real residues as AlphaFold2's features have them: every residue and MSA entry unmasked.
std::vector<ModelFeatures> real_features(int64_t n, int64_t s, int64_t e) {
  std::mt19937 rng(uint32_t(11 + n));
  ModelFeatures f;
  f.trunk = features(rng, n, s, e);
  f.trunk.seq_mask = mask({n}, 0, 0);
  f.trunk.msa_mask = mask({s, n}, 0, 0);
  f.trunk.extra_msa_mask = mask({e, n}, 0, 0);
  const features::AtomMaps maps = features::atom_maps(f.trunk.aatype);
  f.residx_atom37_to_atom14 = maps.residx_atom37_to_atom14;
  f.atom37_atom_exists = maps.atom37_atom_exists;
  f.atom14_atom_exists = maps.atom14_atom_exists;
  // A second iteration with other MSA values: each iteration is padded on its own.
  ModelFeatures g = f;
  g.trunk.msa_feat = filled<float>({s, n, 49}, rng, 1.0);
  return {f, g};
}

Tensor host64(const Tensor& t) { return ops::cast(ops::contiguous(t), DType::float64); }

/// Max |padded - unpadded| over the output, against `tol` times the output's largest value.
void expect_same(const Tensor& padded, const Tensor& unpadded, const char* what, double& worst) {
  ASSERT_TRUE(padded.defined() && unpadded.defined()) << what;
  ASSERT_EQ(padded.shape(), unpadded.shape()) << what;
  const Tensor a = host64(padded), b = host64(unpadded);
  double diff = 0, scale = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    diff = std::max(diff, std::abs(a.data<double>()[i] - b.data<double>()[i]));
    scale = std::max(scale, std::abs(b.data<double>()[i]));
  }
  // Padding adds only exact zeros to every sum over residues (a masked key's weight
  // exp(-1e8 - max) underflows to 0, masked products are multiplied by 0), so in exact
  // arithmetic the outputs agree; what remains is the order of summation, which a GEMM over a
  // longer residue axis or another split across threads changes: each op then differs by a few
  // times k u of its terms (u = 2^-53, k <= 10^3 terms), and the reduced preset's few dozen
  // layers carry that forward. 1e-11 of the output's scale is ~10^5 u: room for that, and
  // seven orders of magnitude below the 1e-4..1 of a padded residue that leaks (measured with
  // the padding unmasked).
  const double tol = 1e-11 * std::max(scale, 1.0);
  worst = std::max(worst, diff / std::max(scale, 1.0));
  std::printf("    %-32s max |padded - unpadded| %.2e (scale %.2e)\n", what, diff, scale);
  EXPECT_LE(diff, tol) << what;
}

void expect_padded_prediction_matches(int64_t n) {
  const ModelConfig config = preset("reduced_ptm");
  const Params params = random_params<double>(config);
  const std::vector<ModelFeatures> f = real_features(n, 5, 6);
  RunOptions plain, bucketed;
  plain.dtype = bucketed.dtype = DType::float64;
  plain.length_buckets = false;
  bucketed.length_buckets = true;
  int seen = 0;
  const IterationOutputs u = run_model(config, params, f, 2, plain);
  const IterationOutputs p =
      run_model(config, params, f, 2, bucketed, [&](int, const IterationOutputs& o) {
        EXPECT_EQ(o.trunk.pair.size(0), n);
        ++seen;
      });
  EXPECT_EQ(seen, 3);
  std::printf("  N = %lld, bucket %lld:\n", static_cast<long long>(n),
              static_cast<long long>(bucket_length(n)));
  double worst = 0;
  expect_same(p.trunk.msa, u.trunk.msa, "msa", worst);
  expect_same(p.trunk.pair, u.trunk.pair, "pair", worst);
  expect_same(p.trunk.single, u.trunk.single, "single", worst);
  expect_same(p.structure.final_atom_positions, u.structure.final_atom_positions,
              "final_atom_positions", worst);
  expect_same(p.structure.final_atom14_positions, u.structure.final_atom14_positions,
              "final_atom14_positions", worst);
  expect_same(p.structure.final_atom_mask, u.structure.final_atom_mask, "final_atom_mask", worst);
  expect_same(p.structure.representation, u.structure.representation, "structure_module", worst);
  expect_same(p.structure.traj, u.structure.traj, "traj", worst);
  expect_same(p.structure.angles_sin_cos, u.structure.angles_sin_cos, "angles_sin_cos", worst);
  expect_same(p.heads.distogram_logits, u.heads.distogram_logits, "distogram_logits", worst);
  expect_same(p.heads.masked_msa_logits, u.heads.masked_msa_logits, "masked_msa_logits", worst);
  expect_same(p.heads.experimentally_resolved_logits, u.heads.experimentally_resolved_logits,
              "experimentally_resolved_logits", worst);
  expect_same(p.heads.plddt, u.heads.plddt, "plddt", worst);
  expect_same(p.heads.mean_plddt, u.heads.mean_plddt, "mean_plddt", worst);
  expect_same(p.heads.predicted_aligned_error, u.heads.predicted_aligned_error,
              "predicted_aligned_error", worst);
  expect_same(p.heads.ptm, u.heads.ptm, "ptm", worst);
  expect_same(p.next.prev_pos, u.next.prev_pos, "prev_pos", worst);
  std::printf("  N = %lld: largest difference %.2e of an output's scale\n",
              static_cast<long long>(n), worst);
}

TEST(LengthBuckets, PaddedPredictionMatchesUnpaddedOnRealResidues) {
  for (int64_t n : {16, 13, 21, 37}) expect_padded_prediction_matches(n);  // 16: a bucket
}

TEST(LengthBuckets, PaddingRefusesTemplatesAndShorterLengths) {
  const std::vector<ModelFeatures> f = real_features(9, 3, 4);
  EXPECT_THROW(pad_features(f[0], 8), InvalidArgument);
  ModelFeatures t = f[0];
  t.trunk.templates.template_aatype = Tensor::empty({1, 9}, DType::int32);
  EXPECT_THROW(pad_features(t, 16), InvalidArgument);
  const ModelFeatures p = pad_features(f[0], 16);
  EXPECT_EQ(p.trunk.msa_feat.shape(), (Shape{3, 16, 49}));
  EXPECT_EQ(p.atom37_atom_exists.shape(), (Shape{16, 37}));
}

}  // namespace
}  // namespace exafold::model
