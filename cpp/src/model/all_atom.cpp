// All-atom coordinates from torsion angles: AlphaFold2 supplement Alg 24 (with makeRotX, Alg 25).
#include "exafold/model/all_atom.h"

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "exafold/model/residue_constants.h"
#include "exafold/ops/elementwise.h"
#include "exafold/ops/embedding.h"
#include "exafold/ops/reduce.h"
#include "layers.h"

namespace exafold::model {
namespace {

/// residue_constants' tables as tensors on one device, in one dtype.
struct ResidueTables {
  Tensor default_frames;  ///< [21, 8, 4, 4]
  Tensor atom_group;      ///< [21, 14] int32
  Tensor atom_positions;  ///< [21, 14, 3]
  Tensor atom_mask;       ///< [21, 14]
};

template <class T, size_t N>
std::vector<double> as_doubles(const T (&table)[N]) {
  const auto* first = reinterpret_cast<const float*>(table);
  return std::vector<double>(first, first + sizeof(table) / sizeof(float));
}

const ResidueTables& residue_tables(Device device, DType dtype) {
  static std::mutex mu;
  static auto* cache = new std::map<std::pair<std::string, DType>, ResidueTables>;
  std::lock_guard lk(mu);
  auto [it, fresh] = cache->try_emplace({device.str(), dtype});
  if (fresh) {
    ResidueTables& t = it->second;
    t.default_frames = ops::from_host(as_doubles(rc::restype_rigid_group_default_frame),
                                      {21, rc::kRigidGroups, 4, 4}, dtype, device);
    const auto* groups = &rc::restype_atom14_to_rigid_group[0][0];
    t.atom_group = ops::from_host(std::span<const int32_t>(groups, 21 * rc::kAtom14),
                                  {21, rc::kAtom14}, device);
    t.atom_positions = ops::from_host(as_doubles(rc::restype_atom14_rigid_group_positions),
                                      {21, rc::kAtom14, 3}, dtype, device);
    t.atom_mask =
        ops::from_host(as_doubles(rc::restype_atom14_mask), {21, rc::kAtom14}, dtype, device);
  }
  return it->second;
}

Tensor checked_aatype(const Tensor& aatype) {
  check(aatype.rank() == 1, "aatype has shape ", aatype.shape().str(), ", expected [N]");
  const Tensor aa = detail::index_input(aatype, "aatype", aatype.shape());
  ops::check_range(aa, 0, rc::kNumRestypes - 1, "aatype");
  return aa;
}

}  // namespace

void prepare_residue_tables(Device device, DType dtype) { residue_tables(device, dtype); }

ops::Frames torsion_angles_to_frames(const Tensor& aatype, const ops::Frames& backbone,
                                     const Tensor& sin_cos) {
  const Tensor aa = checked_aatype(aatype);
  detail::check_shape(sin_cos, "torsion angles (sin, cos)", {aa.size(0), rc::kTorsions, 2});
  const ResidueTables& t = residue_tables(backbone.rot.device(), backbone.rot.dtype());
  return ops::torsion_angles_to_frames(aa, backbone, sin_cos, t.default_frames);
}

Tensor frames_to_atom14_positions(const Tensor& aatype, const ops::Frames& groups) {
  const Tensor aa = checked_aatype(aatype);
  const ResidueTables& t = residue_tables(groups.rot.device(), groups.rot.dtype());
  return ops::frames_to_atom14(aa, groups, t.atom_group, t.atom_positions, t.atom_mask);
}

Tensor atom14_to_atom37(const Tensor& atom14, const Tensor& residx_atom37_to_atom14,
                        const Tensor& atom37_atom_exists) {
  check(atom14.rank() == 3 && atom14.size(1) == rc::kAtom14 && atom14.size(2) == 3,
        "atom14 positions have shape ", atom14.shape().str(), ", expected [N, 14, 3]");
  const int64_t n = atom14.size(0);
  const Tensor index =
      detail::index_input(residx_atom37_to_atom14, "residx_atom37_to_atom14", {n, rc::kAtom37});
  ops::check_range(index, 0, rc::kAtom14 - 1, "residx_atom37_to_atom14");
  const Tensor exists = detail::float_input(atom37_atom_exists, "atom37_atom_exists",
                                            {n, rc::kAtom37}, atom14.dtype());
  // [N, 37, 3]
  return ops::binary(ops::Binary::mul, ops::gather(ops::contiguous(atom14), index),
                     exists.unsqueeze(2).broadcast_to({n, rc::kAtom37, 3}));
}

}  // namespace exafold::model
