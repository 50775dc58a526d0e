#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "exafold/core/error.h"
#include "exafold/metrics/lddt.h"

namespace exafold::metrics {
namespace {

// Four residues on the x axis. Reference pairs within 15 Å: (0,1) 3 Å, (0,2) 6 Å, (1,2) 3 Å,
// (2,3) 14 Å; (0,3) 20 Å and (1,3) 17 Å are outside. In the model the deviations are 0.7 Å for
// (0,1) and (1,2) (preserved at 1, 2, 4: 3 of 4), 0 for (0,2) (4 of 4) and 1.5 Å for (2,3) (2 of
// 4).
const std::vector<double> kReference = {0, 0, 0, 3, 0, 0, 6, 0, 0, 20, 0, 0};
const std::vector<double> kModel = {0, 0, 0, 3.7, 0, 0, 6, 0, 0, 21.5, 0, 0};
const std::vector<uint8_t> kAll = {1, 1, 1, 1};

TEST(Lddt, HandComputedCase) {
  const LddtResult r = lddt_ca(kModel, kAll, kReference, kAll);
  EXPECT_EQ(r.pairs, (std::vector<int64_t>{2, 2, 3, 1}));
  EXPECT_EQ(r.total_pairs, 8);
  EXPECT_DOUBLE_EQ(r.per_residue[0], 7.0 / 8);   // (3 + 4) / (2 x 4)
  EXPECT_DOUBLE_EQ(r.per_residue[1], 6.0 / 8);   // (3 + 3) / (2 x 4)
  EXPECT_DOUBLE_EQ(r.per_residue[2], 9.0 / 12);  // (4 + 3 + 2) / (3 x 4)
  EXPECT_DOUBLE_EQ(r.per_residue[3], 2.0 / 4);
  EXPECT_DOUBLE_EQ(r.global, 24.0 / 32);
  EXPECT_DOUBLE_EQ(r.mean_per_residue, (7.0 / 8 + 6.0 / 8 + 9.0 / 12 + 2.0 / 4) / 4);
}

TEST(Lddt, IdenticalStructuresScoreOne) {
  const LddtResult r = lddt_ca(kReference, kAll, kReference, kAll);
  EXPECT_EQ(r.global, 1.0);
  for (double s : r.per_residue) EXPECT_EQ(s, 1.0);
}

TEST(Lddt, ResidueAbsentFromReferenceIsNeitherScoredNorAPartner) {
  const LddtResult r = lddt_ca(kModel, kAll, kReference, std::vector<uint8_t>{1, 1, 0, 1});
  EXPECT_EQ(r.pairs, (std::vector<int64_t>{1, 1, 0, 0}));
  EXPECT_DOUBLE_EQ(r.per_residue[0], 3.0 / 4);
  EXPECT_DOUBLE_EQ(r.per_residue[1], 3.0 / 4);
  EXPECT_TRUE(std::isnan(r.per_residue[2]));
  EXPECT_TRUE(std::isnan(r.per_residue[3]));  // its only partner was residue 2
  EXPECT_DOUBLE_EQ(r.global, 6.0 / 8);
  EXPECT_DOUBLE_EQ(r.mean_per_residue, 3.0 / 4);
}

TEST(Lddt, AtomMissingFromModelBreaksItsPairs) {
  const LddtResult r = lddt_ca(kModel, std::vector<uint8_t>{0, 1, 1, 1}, kReference, kAll);
  EXPECT_EQ(r.pairs, (std::vector<int64_t>{2, 2, 3, 1}));
  EXPECT_EQ(r.per_residue[0], 0.0);
  EXPECT_DOUBLE_EQ(r.per_residue[1], 3.0 / 8);
  EXPECT_DOUBLE_EQ(r.per_residue[2], 5.0 / 12);
  EXPECT_DOUBLE_EQ(r.global, 10.0 / 32);
}

TEST(Lddt, NoPairWithinTheRadiusIsUndefined) {
  const std::vector<double> far = {0, 0, 0, 15, 0, 0, 30, 0, 0, 45, 0, 0};  // 15 Å is outside
  const LddtResult r = lddt_ca(far, kAll, far, kAll);
  EXPECT_EQ(r.total_pairs, 0);
  EXPECT_TRUE(std::isnan(r.global));
  EXPECT_TRUE(std::isnan(r.mean_per_residue));
  for (double s : r.per_residue) EXPECT_TRUE(std::isnan(s));
}

TEST(Lddt, OptionsChangeRadiusAndThresholds) {
  const LddtResult r = lddt_ca(kModel, kAll, kReference, kAll, {10.0, {1.0}});
  EXPECT_EQ(r.pairs, (std::vector<int64_t>{2, 2, 2, 0}));  // (2,3) at 14 Å drops out
  EXPECT_DOUBLE_EQ(r.global, 1.0);                         // 0.7 and 0 are both below 1
}

TEST(Lddt, RowsAreSplitWithoutChangingTheResult) {
  // 300 residues on a helix-like curve (so several pool ranges); the model is shifted in a
  // pattern, and every row's score must equal a direct single-row computation.
  std::vector<double> ref, mod;
  for (int i = 0; i < 300; ++i) {
    const double x = 2.3 * std::cos(i * 1.745), y = 2.3 * std::sin(i * 1.745), z = 1.5 * i;
    ref.insert(ref.end(), {x, y, z});
    mod.insert(mod.end(), {x + 0.3 * (i % 7), y, z - 0.2 * (i % 5)});
  }
  const std::vector<uint8_t> all(300, 1);
  const LddtResult r = lddt_ca(mod, all, ref, all);
  for (int i = 0; i < 300; i += 37) {
    int64_t pairs = 0, kept = 0;
    for (int j = 0; j < 300; ++j) {
      if (j == i) continue;
      auto d = [&](const std::vector<double>& c) {
        return std::hypot(c[3 * i] - c[3 * j], c[3 * i + 1] - c[3 * j + 1],
                          c[3 * i + 2] - c[3 * j + 2]);
      };
      if (d(ref) >= 15) continue;
      ++pairs;
      for (double t : {0.5, 1.0, 2.0, 4.0}) kept += std::abs(d(mod) - d(ref)) < t;
    }
    EXPECT_EQ(r.pairs[size_t(i)], pairs);
    EXPECT_DOUBLE_EQ(r.per_residue[size_t(i)], double(kept) / double(4 * pairs));
  }
}

TEST(Lddt, RejectsMismatchedInputs) {
  EXPECT_THROW(lddt_ca(kModel, kAll, kReference, std::vector<uint8_t>{1, 1, 1}), InvalidArgument);
  EXPECT_THROW(lddt_ca(std::vector<double>(9), kAll, kReference, kAll), InvalidArgument);
  EXPECT_THROW(lddt_ca(kModel, std::vector<uint8_t>{1}, kReference, kAll), InvalidArgument);
  EXPECT_THROW(lddt_ca(kModel, kAll, kReference, kAll, {15.0, {}}), InvalidArgument);
}

}  // namespace
}  // namespace exafold::metrics
