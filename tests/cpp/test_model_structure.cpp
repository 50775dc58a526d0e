// Closed-form checks of the structure module's geometry (rigid frames, quaternions, Alg 23-24),
// the residue constants and the confidence metrics (pLDDT, PAE, pTM).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numbers>
#include <random>
#include <vector>

#include "exafold/model/all_atom.h"
#include "exafold/model/confidence.h"
#include "exafold/model/heads.h"
#include "exafold/model/residue_constants.h"
#include "exafold/ops/geometry.h"

namespace exafold::model {
namespace {

template <class T>
Tensor tensor(const Shape& shape, const std::vector<T>& values) {
  Tensor t = Tensor::empty(shape, dtype_v<T>);
  EXPECT_EQ(size_t(t.numel()), values.size());
  std::memcpy(t.data_ptr(), values.data(), t.nbytes());
  return t;
}

double value(const Tensor& t) { return *t.data<double>(); }

std::vector<double> random_unit_quaternion(std::mt19937& rng) {
  std::normal_distribution<double> normal;
  std::vector<double> q(4);
  double norm = 0;
  for (double& v : q) norm += (v = normal(rng)) * v;
  for (double& v : q) v /= std::sqrt(norm);
  return q;
}

/// The Hamilton product a b of quaternions (w, x, y, z), written out independently.
std::vector<double> hamilton(const std::vector<double>& a, const std::vector<double>& b) {
  return {a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
          a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
          a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
          a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0]};
}

TEST(Rigid, QuaternionOfAQuarterTurnAboutZ) {
  const double h = std::sqrt(0.5);
  const Tensor r = ops::quat_to_rot(tensor<double>({1, 4}, {h, 0, 0, h}));
  const double want[9] = {0, -1, 0, 1, 0, 0, 0, 0, 1};
  for (int k = 0; k < 9; ++k) EXPECT_NEAR(r.data<double>()[k], want[k], 1e-15) << k;
}

TEST(Rigid, QuaternionRotationsAreOrthonormalAndCompose) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    const auto a = random_unit_quaternion(rng), b = random_unit_quaternion(rng);
    std::vector<double> q = a;
    q.insert(q.end(), b.begin(), b.end());
    const std::vector<double> ab = hamilton(a, b);
    q.insert(q.end(), ab.begin(), ab.end());
    const Tensor r = ops::quat_to_rot(tensor<double>({3, 4}, q));
    const double* ra = r.data<double>();
    const double* rb = ra + 9;
    const double* rab = ra + 18;
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) {
        double rtr = 0, prod = 0;
        for (int k = 0; k < 3; ++k) {
          rtr += ra[k * 3 + i] * ra[k * 3 + j];
          prod += ra[i * 3 + k] * rb[k * 3 + j];
        }
        EXPECT_NEAR(rtr, i == j ? 1.0 : 0.0, 1e-14);
        EXPECT_NEAR(rab[i * 3 + j], prod, 1e-14);  // R(a b) = R(a) R(b)
      }
    }
  }
}

TEST(Rigid, ApplyThenInverseApplyIsTheIdentity) {
  const ops::Frames f{
      ops::quat_to_rot(tensor<double>({1, 4}, {std::cos(0.3), std::sin(0.3), 0, 0})),
      tensor<double>({1, 3}, {1, -2, 0.5})};
  const Tensor p = tensor<double>({1, 2, 3}, {0.7, -1.1, 2.3, -4, 0.5, 9});
  const Tensor moved = ops::rigid_apply(f, p, false);
  // rot x + trans, by hand: a rotation about x by 0.6 rad.
  const double c = std::cos(0.6), s = std::sin(0.6);
  EXPECT_NEAR(moved.data<double>()[0], 0.7 + 1, 1e-14);
  EXPECT_NEAR(moved.data<double>()[1], c * -1.1 - s * 2.3 - 2, 1e-14);
  EXPECT_NEAR(moved.data<double>()[2], s * -1.1 + c * 2.3 + 0.5, 1e-14);
  const Tensor back = ops::rigid_apply(f, moved, true);
  for (int k = 0; k < 6; ++k) EXPECT_NEAR(back.data<double>()[k], p.data<double>()[k], 1e-14);
}

TEST(BackboneUpdate, ZeroUpdateKeepsTheFrame) {
  const std::vector<double> q = {0.5, 0.5, -0.5, 0.5};
  const Tensor quat = tensor<double>({1, 4}, q), trans = tensor<double>({1, 3}, {1, 2, 3});
  ops::backbone_update_(quat, trans, tensor<double>({1, 6}, {0, 0, 0, 0, 0, 0}));
  for (int k = 0; k < 4; ++k) EXPECT_DOUBLE_EQ(quat.data<double>()[k], q[k]);
  for (int k = 0; k < 3; ++k) EXPECT_DOUBLE_EQ(trans.data<double>()[k], k + 1.0);
}

TEST(BackboneUpdate, TranslationMovesInTheOldFrameAndRotationComposes) {
  // A quarter turn about z: the local x step becomes a global y step.
  const Tensor quat = tensor<double>({1, 4}, {std::sqrt(0.5), 0, 0, std::sqrt(0.5)});
  const Tensor trans = tensor<double>({1, 3}, {0, 0, 0});
  const double b = std::tan(std::numbers::pi / 8);  // (1, 0, 0, b) normalised: 45 deg about z
  ops::backbone_update_(quat, trans, tensor<double>({1, 6}, {0, 0, b, 2, 0, 0}));
  EXPECT_NEAR(trans.data<double>()[0], 0, 1e-15);
  EXPECT_NEAR(trans.data<double>()[1], 2, 1e-15);
  EXPECT_NEAR(trans.data<double>()[2], 0, 1e-15);
  // 90 + 45 degrees about z.
  EXPECT_NEAR(quat.data<double>()[0], std::cos(3 * std::numbers::pi / 8), 1e-15);
  EXPECT_NEAR(quat.data<double>()[3], std::sin(3 * std::numbers::pi / 8), 1e-15);
}

TEST(ResidueConstants, Atom14AndAtom37MapsAreInverse) {
  for (int r = 0; r < rc::kNumRestypes; ++r) {
    for (int a = 0; a < rc::kAtom14; ++a) {
      if (rc::restype_atom14_mask[r][a] == 0) continue;
      const int a37 = rc::restype_atom14_to_atom37[r][a];
      EXPECT_EQ(rc::restype_atom37_to_atom14[r][a37], a) << rc::restype_3[r];
      EXPECT_EQ(rc::restype_atom37_mask[r][a37], 1.0f);
      EXPECT_STREQ(rc::atom_types[a37], rc::restype_atom14_names[r][a]);
    }
  }
  EXPECT_STREQ(rc::atom_types[rc::kAtomCA], "CA");
  EXPECT_STREQ(rc::restype_3[rc::kRestypeGly], "GLY");
  EXPECT_STREQ(rc::restype_3[rc::kUnknownRestype], "UNK");
}

TEST(AllAtom, IdentityBackboneGivesLiteraturePositionsAndAtom37Gathers) {
  // Glycine: N, CA, C in the backbone group; O in the psi group, rotated about CA->C by psi.
  const Tensor aatype = tensor<int32_t>(Shape{1}, {rc::kRestypeGly});
  std::vector<double> angles(14, 0.0);
  for (int k = 0; k < 7; ++k) angles[2 * k + 1] = 1;  // every torsion 0
  angles[2 * 2] = 1, angles[2 * 2 + 1] = 0;           // psi = 90 degrees
  const ops::Frames backbone{tensor<double>({1, 3, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1}),
                             tensor<double>({1, 3}, {0, 0, 0})};
  const ops::Frames frames =
      torsion_angles_to_frames(aatype, backbone, tensor<double>(Shape{1, 7, 2}, angles));
  const Tensor atom14 = frames_to_atom14_positions(aatype, frames);
  const double* p = atom14.data<double>();
  const float(&lit)[14][3] = rc::restype_atom14_rigid_group_positions[rc::kRestypeGly];
  for (int a = 0; a < 3; ++a)
    for (int e = 0; e < 3; ++e) EXPECT_NEAR(p[a * 3 + e], lit[a][e], 1e-6);
  // O keeps its distance to C but leaves the CA-C-(psi 0) plane: z = 1.062 * sin(90) (sign by
  // the frame's handedness), y = 0.
  EXPECT_NEAR(std::hypot(p[9] - p[6], p[10] - p[7], p[11] - p[8]), std::hypot(lit[3][0], lit[3][1]),
              1e-6);
  EXPECT_NEAR(std::abs(p[11]), std::abs(lit[3][1]), 1e-6);
  for (int k = 12; k < 14 * 3; ++k) EXPECT_EQ(p[k], 0.0);

  std::vector<int32_t> index(37);
  std::vector<double> exists(37);
  for (int a = 0; a < 37; ++a) {
    index[a] = rc::restype_atom37_to_atom14[rc::kRestypeGly][a];
    exists[a] = rc::restype_atom37_mask[rc::kRestypeGly][a];
  }
  const Tensor atom37 = atom14_to_atom37(atom14, tensor<int32_t>(Shape{1, 37}, index),
                                         tensor<double>(Shape{1, 37}, exists));
  EXPECT_EQ(atom37.data<double>()[rc::kAtomCA * 3], p[1 * 3]);
  EXPECT_EQ(atom37.data<double>()[rc::kAtomCB * 3 + 1], 0.0);  // glycine has no CB
}

TEST(Confidence, PlddtOfOneHotLogitsIsTheBinCentre) {
  std::vector<double> logits(2 * 50, 0.0);
  logits[7] = 1000;        // residue 0: bin 7 -> 15
  logits[50 + 49] = 1000;  // residue 1: bin 49 -> 99
  const Tensor plddt = compute_plddt(tensor<double>(Shape{2, 50}, logits));
  EXPECT_NEAR(plddt.data<double>()[0], 15.0, 1e-12);
  EXPECT_NEAR(plddt.data<double>()[1], 99.0, 1e-12);
  EXPECT_NEAR(value(mean_plddt(plddt, tensor<double>(Shape{2}, {1, 0}))), 15.0, 1e-12);
}

TEST(Confidence, AlignedErrorBinsAndPtmOfAKnownDistribution) {
  const std::vector<double> breaks = aligned_error_breaks(64);
  ASSERT_EQ(breaks.size(), 63u);
  EXPECT_EQ(breaks.front(), 0.0);
  EXPECT_EQ(breaks.back(), 31.0);
  const std::vector<double> centres = aligned_error_bin_centres(breaks);
  ASSERT_EQ(centres.size(), 64u);
  EXPECT_EQ(centres.front(), 0.25);
  EXPECT_EQ(centres[62], 31.25);
  EXPECT_EQ(centres.back(), 31.75);

  // Every pair certain of bin 8 (error 4.25 A); 40 residues, the last 10 padded.
  const int n = 40, real = 30, bin = 8;
  std::vector<double> logits(size_t(n * n * 64), 0.0), weights(n, 0.0);
  for (int ij = 0; ij < n * n; ++ij) logits[size_t(ij * 64 + bin)] = 1000;
  for (int i = 0; i < real; ++i) weights[i] = 1;
  const Tensor l = tensor<double>(Shape{n, n, 64}, logits);
  const PredictedAlignedError pae = compute_predicted_aligned_error(l, breaks);
  EXPECT_NEAR(pae.predicted_aligned_error.data<double>()[5], 4.25, 1e-12);
  EXPECT_EQ(pae.max_predicted_aligned_error, 31.75);

  const double d0 = 1.24 * std::cbrt(real - 15.0) - 1.8;
  const double tm = 1 / (1 + (4.25 / d0) * (4.25 / d0));
  // The per-alignment weights sum to real / (1e-8 + real).
  const double want = tm * real / (1e-8 + real);
  const Tensor& probs = pae.aligned_confidence_probs;
  EXPECT_NEAR(value(predicted_tm_score(probs, breaks, tensor<double>(Shape{n}, weights))), want,
              1e-12);

  // Fewer than 19 residues clip d0's length to 19.
  std::vector<double> few(n, 0.0);
  for (int i = 0; i < 5; ++i) few[i] = 1;
  const double d0_19 = 1.24 * std::cbrt(4.0) - 1.8;
  EXPECT_NEAR(value(predicted_tm_score(probs, breaks, tensor<double>(Shape{n}, few))),
              1 / (1 + (4.25 / d0_19) * (4.25 / d0_19)) * 5 / (1e-8 + 5), 1e-12);
}

TEST(Heads, DistogramEdges) {
  const std::vector<double> edges = distogram_bin_edges(64);
  ASSERT_EQ(edges.size(), 63u);
  EXPECT_EQ(edges.front(), 2.3125);
  EXPECT_EQ(edges[1], 2.625);
  EXPECT_EQ(edges.back(), 21.6875);
}

}  // namespace
}  // namespace exafold::model
