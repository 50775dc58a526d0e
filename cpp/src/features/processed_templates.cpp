#include "exafold/features/processed_templates.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "exafold/core/error.h"
#include "exafold/features/alphabet.h"
#include "exafold/model/residue_constants.h"
#include "features/template_tables.h"

namespace exafold::features {

namespace {

namespace rc = model::rc;

constexpr int kAtoms = 37;
constexpr int kClasses = 22;    // residue types, X and gap
constexpr int kAngleFeat = 57;  // 22 + 14 + 14 + 7
constexpr int kN = 0, kCA = 1, kC = 2, kO = 4;

// A raw feature as float64 values, whatever its stored float type.
std::vector<double> as_double(const FeatureDict& raw, const char* name, const Shape& shape) {
  const Tensor& t = raw.at(name);
  check(t.shape() == shape, "raw template feature '", name, "' has shape ", t.shape().str(),
        ", expected ", shape.str());
  check(t.is_contiguous(), "raw template feature '", name, "' is not contiguous");
  std::vector<double> out(size_t(t.numel()));
  if (t.dtype() == DType::float32) {
    std::copy_n(t.data<float>(), out.size(), out.begin());
  } else {
    check(t.dtype() == DType::float64, "raw template feature '", name,
          "' must be float32 or float64, not ", dtype_name(t.dtype()));
    std::copy_n(t.data<double>(), out.size(), out.begin());
  }
  return out;
}

Tensor make(const Shape& shape, DType dtype, const std::vector<double>& values) {
  Tensor t = Tensor::empty(shape, dtype);
  if (dtype == DType::float32) {
    float* p = t.data<float>();
    for (size_t i = 0; i < values.size(); ++i) p[i] = float(values[i]);
  } else {
    std::copy(values.begin(), values.end(), t.data<double>());
  }
  return t;
}

struct Vec {
  double x, y, z;
};

Vec at(const double* pos, int atom) {
  return {pos[3 * atom], pos[3 * atom + 1], pos[3 * atom + 2]};
}

// r3.vecs_robust_normalize: v / sqrt(x^2 + y^2 + z^2 + 1e-8), summed in that order.
Vec robust_normalize(Vec v) {
  double norm = std::sqrt(v.x * v.x + v.y * v.y + v.z * v.z + 1e-8);
  return {v.x / norm, v.y / norm, v.z / norm};
}

// The (sin, cos) of the torsion given by four points: the fourth in the frame of
// r3.rigids_from_3_points(point_on_neg_x_axis = p1, origin = p2, point_on_xy_plane = p0), as
// atom37_to_torsion_angles computes it (Algorithm 21's Gram-Schmidt, then the inverse frame).
void torsion_sin_cos(Vec p0, Vec p1, Vec p2, Vec p3, double& sin, double& cos) {
  Vec e0 = robust_normalize({p2.x - p1.x, p2.y - p1.y, p2.z - p1.z});
  Vec e1u = {p0.x - p2.x, p0.y - p2.y, p0.z - p2.z};
  double c = e1u.x * e0.x + e1u.y * e0.y + e1u.z * e0.z;
  Vec e1 = robust_normalize({e1u.x - c * e0.x, e1u.y - c * e0.y, e1u.z - c * e0.z});
  Vec e2 = {e0.y * e1.z - e0.z * e1.y, e0.z * e1.x - e0.x * e1.z, e0.x * e1.y - e0.y * e1.x};
  // Inverse rotation = transpose: rows e0, e1, e2; translation -(R^T origin).
  auto rotate = [&](Vec v) {
    return Vec{e0.x * v.x + e0.y * v.y + e0.z * v.z, e1.x * v.x + e1.y * v.y + e1.z * v.z,
               e2.x * v.x + e2.y * v.y + e2.z * v.z};
  };
  Vec t = rotate(p2), r = rotate(p3);
  Vec f = {r.x + -t.x, r.y + -t.y, r.z + -t.z};
  double norm = std::sqrt(f.z * f.z + f.y * f.y + 1e-8);
  sin = f.z / norm;
  cos = f.y / norm;
}

}  // namespace

void TemplateProcessOptions::validate() const {
  check(max_templates >= 0, "max_templates must be >= 0, got ", max_templates);
  check(dtype == DType::float32 || dtype == DType::float64,
        "processed template features are float32 or float64, not ", dtype_name(dtype));
}

FeatureDict process_template_features(const FeatureDict& raw,
                                      const TemplateProcessOptions& options) {
  options.validate();
  const Tensor& aatype_t = raw.at("template_aatype");
  check(aatype_t.rank() == 3 && aatype_t.size(2) == kClasses,
        "raw template_aatype must be [templates, residues, 22], got ", aatype_t.shape().str());
  const int64_t T = aatype_t.size(0), N = aatype_t.size(1);
  const std::vector<double> onehot = as_double(raw, "template_aatype", {T, N, kClasses});
  const std::vector<double> pos = as_double(raw, "template_all_atom_positions", {T, N, kAtoms, 3});
  const std::vector<double> mask = as_double(raw, "template_all_atom_masks", {T, N, kAtoms});
  const std::vector<double> probs = as_double(raw, "template_sum_probs", {T, 1});

  const int64_t kept = std::min(T, options.max_templates);
  const int64_t out_t = options.pad_to_max_templates ? options.max_templates : kept;
  std::vector<int32_t> aatype(size_t(out_t * N), 0);
  std::vector<double> positions(size_t(out_t * N * kAtoms * 3), 0.0);
  std::vector<double> masks(size_t(out_t * N * kAtoms), 0.0);
  std::vector<double> sum_probs(size_t(out_t), 0.0), template_mask(size_t(out_t), 0.0);
  for (int64_t t = 0; t < kept; ++t) {
    for (int64_t i = 0; i < N; ++i) {
      const double* row = onehot.data() + (t * N + i) * kClasses;
      int best = int(std::max_element(row, row + kClasses) - row);  // argmax: the first maximum
      aatype[size_t(t * N + i)] = kHhblitsToRestype[size_t(best)];
    }
    std::copy_n(pos.data() + t * N * kAtoms * 3, N * kAtoms * 3,
                positions.data() + t * N * kAtoms * 3);
    std::copy_n(mask.data() + t * N * kAtoms, N * kAtoms, masks.data() + t * N * kAtoms);
    sum_probs[size_t(t)] = probs[size_t(t)];
    template_mask[size_t(t)] = 1.0;
  }

  std::vector<double> pseudo_beta(size_t(out_t * N * 3)), pseudo_beta_mask(size_t(out_t * N));
  std::vector<double> angle_feat(size_t(out_t * N * kAngleFeat), 0.0);
  std::vector<double> angle_mask(size_t(out_t * N));
  const double zero[kAtoms * 3] = {};
  for (int64_t t = 0; t < out_t; ++t) {
    for (int64_t i = 0; i < N; ++i) {
      const int64_t r = t * N + i;
      const int a = aatype[size_t(r)];
      const double* p = positions.data() + r * kAtoms * 3;
      const double* m = masks.data() + r * kAtoms;
      const double* pp = i > 0 ? p - kAtoms * 3 : zero;
      const double* pm = i > 0 ? m - kAtoms : zero;

      int beta = a == rc::kRestypeGly ? rc::kAtomCA : rc::kAtomCB;
      std::copy_n(p + 3 * beta, 3, pseudo_beta.data() + r * 3);
      pseudo_beta_mask[size_t(r)] = m[beta];

      const int aa = std::min(a, 20);
      Vec quad[7][4] = {
          {at(pp, kCA), at(pp, kC), at(p, kN), at(p, kCA)},  // pre-omega
          {at(pp, kC), at(p, kN), at(p, kCA), at(p, kC)},    // phi
          {at(p, kN), at(p, kCA), at(p, kC), at(p, kO)},     // psi
      };
      double angle_masks[7] = {
          pm[kCA] * pm[kC] * (m[kN] * m[kCA]),
          pm[kC] * (m[kN] * m[kCA] * m[kC]),
          m[kN] * m[kCA] * m[kC] * m[kO],
      };
      for (int k = 0; k < 4; ++k) {
        const int8_t* idx = kChiAtomIndices[aa][k];
        double atoms_mask = 1;
        for (int j = 0; j < 4; ++j) {
          quad[3 + k][j] = at(p, idx[j]);
          atoms_mask *= m[idx[j]];
        }
        angle_masks[3 + k] = double(rc::chi_angles_mask[aa][k]) * atoms_mask;
      }
      double* f = angle_feat.data() + r * kAngleFeat;
      f[a] = 1.0;  // one_hot(template_aatype, 22): the gap (21) has its own class
      for (int k = 0; k < 7; ++k) {
        double s, c;
        torsion_sin_cos(quad[k][0], quad[k][1], quad[k][2], quad[k][3], s, c);
        if (k == 2) s = -s, c = -c;  // psi is defined with the opposite sign
        double mirror = k < 3 ? 1.0 : 1.0 - 2.0 * double(rc::chi_pi_periodic[aa][k - 3]);
        f[kClasses + 2 * k] = s;
        f[kClasses + 2 * k + 1] = c;
        f[kClasses + 14 + 2 * k] = s * mirror;
        f[kClasses + 14 + 2 * k + 1] = c * mirror;
        f[kClasses + 28 + k] = angle_masks[k];
      }
      angle_mask[size_t(r)] = angle_masks[2];
    }
  }

  const DType dt = options.dtype;
  FeatureDict out;
  Tensor aatype_out = Tensor::empty({out_t, N}, DType::int32);
  std::copy(aatype.begin(), aatype.end(), aatype_out.data<int32_t>());
  out.set("template_aatype", std::move(aatype_out));
  out.set("template_all_atom_positions", make({out_t, N, kAtoms, 3}, dt, positions));
  out.set("template_all_atom_masks", make({out_t, N, kAtoms}, dt, masks));
  out.set("template_sum_probs", make({out_t, 1}, dt, sum_probs));
  out.set("template_mask", make({out_t}, dt, template_mask));
  out.set("template_pseudo_beta", make({out_t, N, 3}, dt, pseudo_beta));
  out.set("template_pseudo_beta_mask", make({out_t, N}, dt, pseudo_beta_mask));
  out.set("template_angle_feat", make({out_t, N, kAngleFeat}, dt, angle_feat));
  out.set("template_angle_mask", make({out_t, N}, dt, angle_mask));
  return out;
}

}  // namespace exafold::features
