// All-atom coordinates from torsion angles: AlphaFold2 supplement Alg 24 (with makeRotX, Alg 25).
#include "exafold/model/all_atom.h"

#include "exafold/model/residue_constants.h"
#include "host_values.h"

namespace exafold::model {
namespace {

std::vector<int> checked_aatype(const Tensor& aatype) {
  check(aatype.rank() == 1, "aatype has shape ", aatype.shape().str(), ", expected [N]");
  check(aatype.dtype() == DType::int32 || aatype.dtype() == DType::int64, "aatype is ",
        dtype_name(aatype.dtype()), ", expected an integer array");
  std::vector<int> a = detail::host_values<int>(aatype, "aatype");
  for (size_t i = 0; i < a.size(); ++i)
    check(a[i] >= 0 && a[i] < rc::kNumRestypes, "aatype[", i, "] = ", a[i], " is outside 0..",
          rc::kNumRestypes - 1);
  return a;
}

/// A 4x4 table entry (float32) as a Rigid in T.
template <class T>
Rigid<T> rigid_from_4x4(const float (&m)[4][4]) {
  Rigid<T> r;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) r.rot[i][j] = T(m[i][j]);
    r.trans[i] = T(m[i][3]);
  }
  return r;
}

}  // namespace

template <class T>
std::vector<Rigid<T>> torsion_angles_to_frames(const Tensor& aatype,
                                               std::span<const Rigid<T>> backbone,
                                               const Tensor& sin_cos) {
  const std::vector<int> aa = checked_aatype(aatype);
  const int64_t n = int64_t(aa.size());
  check(int64_t(backbone.size()) == n, "torsion_angles_to_frames: ", backbone.size(),
        " backbone frames for ", n, " residues");
  detail::check_shape(sin_cos, Shape{n, rc::kTorsions, 2}, "torsion angles (sin, cos)");
  const std::vector<T> sc = detail::host_values<T>(sin_cos, "torsion angles");
  constexpr int G = rc::kRigidGroups;
  std::vector<Rigid<T>> out(size_t(n * G));
  for (int64_t i = 0; i < n; ++i) {
    // Group frames in the backbone frame; the backbone group itself gets no rotation.
    Rigid<T> to_backbone[G];
    for (int g = 0; g < G; ++g) {
      const Rigid<T> def = rigid_from_4x4<T>(rc::restype_rigid_group_default_frame[aa[i]][g]);
      const T s = g == 0 ? T(0) : sc[size_t((i * rc::kTorsions + g - 1) * 2)];
      const T c = g == 0 ? T(1) : sc[size_t((i * rc::kTorsions + g - 1) * 2 + 1)];
      // Alg 25 makeRotX: [[1, 0, 0], [0, c, -s], [0, s, c]], applied after the default frame.
      const Rigid<T> rot_x = {{{1, 0, 0}, {0, c, -s}, {0, s, c}}, {0, 0, 0}};
      to_backbone[g] = def.compose(rot_x);
    }
    // chi2..chi4 are given relative to the previous chi frame.
    for (int g = 5; g < G; ++g) to_backbone[g] = to_backbone[g - 1].compose(to_backbone[g]);
    for (int g = 0; g < G; ++g) out[size_t(i * G + g)] = backbone[i].compose(to_backbone[g]);
  }
  return out;
}

template <class T>
Tensor frames_to_atom14_positions(const Tensor& aatype, std::span<const Rigid<T>> group_frames) {
  const std::vector<int> aa = checked_aatype(aatype);
  const int64_t n = int64_t(aa.size());
  check(int64_t(group_frames.size()) == n * rc::kRigidGroups,
        "frames_to_atom14_positions: ", group_frames.size(), " group frames for ", n, " residues");
  // [N, 14, 3]
  Tensor out = Tensor::empty(Shape{n, rc::kAtom14, 3}, dtype_v<T>);
  T* pos = out.data<T>();
  for (int64_t i = 0; i < n; ++i) {
    for (int a = 0; a < rc::kAtom14; ++a) {
      const int g = rc::restype_atom14_to_rigid_group[aa[i]][a];
      const float* lit = rc::restype_atom14_rigid_group_positions[aa[i]][a];
      const T local[3] = {T(lit[0]), T(lit[1]), T(lit[2])};
      T* p = pos + (i * rc::kAtom14 + a) * 3;
      group_frames[size_t(i * rc::kRigidGroups + g)].apply(local, p);
      const T mask = T(rc::restype_atom14_mask[aa[i]][a]);
      for (int e = 0; e < 3; ++e) p[e] *= mask;
    }
  }
  return out;
}

template <class T>
Tensor atom14_to_atom37(const Tensor& atom14, const Tensor& residx_atom37_to_atom14,
                        const Tensor& atom37_atom_exists) {
  check(atom14.rank() == 3 && atom14.size(1) == rc::kAtom14 && atom14.size(2) == 3,
        "atom14 positions have shape ", atom14.shape().str(), ", expected [N, 14, 3]");
  const int64_t n = atom14.size(0);
  detail::check_shape(residx_atom37_to_atom14, Shape{n, rc::kAtom37}, "residx_atom37_to_atom14");
  detail::check_shape(atom37_atom_exists, Shape{n, rc::kAtom37}, "atom37_atom_exists");
  check(residx_atom37_to_atom14.dtype() == DType::int32 ||
            residx_atom37_to_atom14.dtype() == DType::int64,
        "residx_atom37_to_atom14 is ", dtype_name(residx_atom37_to_atom14.dtype()),
        ", expected an integer array");
  const std::vector<T> src = detail::host_values<T>(atom14, "atom14 positions");
  const std::vector<int> index = detail::host_values<int>(residx_atom37_to_atom14, "atom37 map");
  const std::vector<T> exists = detail::host_values<T>(atom37_atom_exists, "atom37_atom_exists");
  // [N, 37, 3]
  Tensor out = Tensor::empty(Shape{n, rc::kAtom37, 3}, dtype_v<T>);
  T* dst = out.data<T>();
  for (int64_t i = 0; i < n; ++i) {
    for (int a = 0; a < rc::kAtom37; ++a) {
      const int k = index[size_t(i * rc::kAtom37 + a)];
      check(k >= 0 && k < rc::kAtom14, "residx_atom37_to_atom14[", i, ", ", a, "] = ", k,
            " is outside 0..13");
      for (int e = 0; e < 3; ++e)
        dst[(i * rc::kAtom37 + a) * 3 + e] =
            src[size_t((i * rc::kAtom14 + k) * 3 + e)] * exists[size_t(i * rc::kAtom37 + a)];
    }
  }
  return out;
}

template std::vector<Rigid<float>> torsion_angles_to_frames<float>(const Tensor&,
                                                                   std::span<const Rigid<float>>,
                                                                   const Tensor&);
template std::vector<Rigid<double>> torsion_angles_to_frames<double>(const Tensor&,
                                                                     std::span<const Rigid<double>>,
                                                                     const Tensor&);
template Tensor frames_to_atom14_positions<float>(const Tensor&, std::span<const Rigid<float>>);
template Tensor frames_to_atom14_positions<double>(const Tensor&, std::span<const Rigid<double>>);
template Tensor atom14_to_atom37<float>(const Tensor&, const Tensor&, const Tensor&);
template Tensor atom14_to_atom37<double>(const Tensor&, const Tensor&, const Tensor&);

}  // namespace exafold::model
