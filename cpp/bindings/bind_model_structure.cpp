// Test entry points for the structure module (Alg 20-24) and the heads (Alg 29, supplement
// 1.9): exafold._core._modules, numpy in and out. The float type follows the main activation's
// dtype (float32 or float64); parameters are a {"scope//name": array} dict for a preset, cast to
// that type, as the reference casts its float32 npz for a float64 run.
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "common.h"
#include "exafold/model/all_atom.h"
#include "exafold/model/backbone_update.h"
#include "exafold/model/confidence.h"
#include "exafold/model/config.h"
#include "exafold/model/heads.h"
#include "exafold/model/invariant_point_attention.h"
#include "exafold/model/params.h"
#include "exafold/model/structure_module.h"
#include "exafold/model/torsion_angles.h"
#include "exafold/ops/geometry.h"

namespace exafold::py {
namespace {

using model::ModelConfig;
using model::Params;
using model::ParamScope;

std::string dtype_text(const pyb::dtype& d) { return d.attr("name").cast<std::string>(); }

/// A copy keeping the array's own dtype (masks and index maps, which the engine checks).
Tensor copy_keep(const pyb::array& a) {
  const pyb::dtype d = a.dtype();
  if (d.is(pyb::dtype::of<float>())) return copy_as<float>(a);
  if (d.is(pyb::dtype::of<double>())) return copy_as<double>(a);
  if (d.is(pyb::dtype::of<int32_t>())) return copy_as<int32_t>(a);
  if (d.is(pyb::dtype::of<int64_t>())) return copy_as<int64_t>(a);
  fail("arrays of dtype ", dtype_text(d), " are not accepted here");
}

Params params_as(DType dtype, const std::string& preset, const pyb::dict& arrays,
                 ModelConfig* config) {
  *config = model::preset(preset);
  std::unordered_map<std::string, Tensor> map;
  for (auto [key, value] : arrays)
    map.emplace(key.template cast<std::string>(),
                tensor_copy_as(value.template cast<pyb::array>(), dtype));
  return Params::from_arrays(std::move(map), *config, dtype);
}

/// The float type of the main activation: the precision the entry point computes in.
DType activation_dtype(const pyb::array& a) {
  const pyb::dtype d = a.dtype();
  check(d.is(pyb::dtype::of<float>()) || d.is(pyb::dtype::of<double>()),
        "activations must be float32 or float64, got ", dtype_text(d));
  return d.is(pyb::dtype::of<double>()) ? DType::float64 : DType::float32;
}

const char* const kFoldIteration = "alphafold/alphafold_iteration/structure_module/fold_iteration";

pyb::dict structure_module(const std::string& preset, const pyb::dict& arrays,
                           const pyb::array& single, const pyb::array& pair,
                           const pyb::dict& batch) {
  const DType dt = activation_dtype(single);
  ModelConfig config;
  const Params params = params_as(dt, preset, arrays, &config);
  const Tensor s = tensor_copy_as(single, dt), z = tensor_copy_as(pair, dt);
  model::StructureModuleFeatures f;
  auto feature = [&](const char* name) {
    check(batch.contains(name), "batch lacks '", name, "'");
    return copy_keep(batch[name].cast<pyb::array>());
  };
  f.seq_mask = feature("seq_mask");
  f.aatype = feature("aatype");
  f.residx_atom37_to_atom14 = feature("residx_atom37_to_atom14");
  f.atom37_atom_exists = feature("atom37_atom_exists");
  f.atom14_atom_exists = feature("atom14_atom_exists");
  model::StructureModuleOutputs o;
  {
    pyb::gil_scoped_release release;
    o = model::run_structure_module(config, params, s, z, f);
  }
  pyb::dict out;
  out["final_atom_positions"] = tensor_to_numpy(o.final_atom_positions);
  out["final_atom_mask"] = tensor_to_numpy(o.final_atom_mask);
  out["representations/structure_module"] = tensor_to_numpy(o.representation);
  out["traj"] = tensor_to_numpy(o.traj);
  out["sidechains/angles_sin_cos"] = tensor_to_numpy(o.angles_sin_cos);
  out["sidechains/unnormalized_angles_sin_cos"] = tensor_to_numpy(o.unnormalized_angles_sin_cos);
  out["final_atom14_positions"] = tensor_to_numpy(o.final_atom14_positions);
  out["final_atom14_mask"] = tensor_to_numpy(o.final_atom14_mask);
  return out;
}

/// rotation [N, 3, 3] and translation [N, 3] as frames in dtype.
ops::Frames frames_from(const pyb::array& rotation, const pyb::array& translation, DType dt) {
  ops::Frames f{tensor_copy_as(rotation, dt), tensor_copy_as(translation, dt)};
  check(f.rot.rank() == 3 && f.rot.size(1) == 3 && f.rot.size(2) == 3, "rotation has shape ",
        f.rot.shape().str(), ", expected [N, 3, 3]");
  const int64_t n = f.rot.size(0);
  check(f.trans.shape() == Shape{n, 3}, "translation has shape ", f.trans.shape().str(),
        ", expected [", n, ", 3]");
  return f;
}

pyb::array invariant_point_attention(const std::string& preset, const pyb::dict& arrays,
                                     const pyb::array& act, const pyb::array& pair,
                                     const pyb::array& seq_mask, const pyb::array& rotation,
                                     const pyb::array& translation) {
  const DType dt = activation_dtype(act);
  ModelConfig config;
  const Params params = params_as(dt, preset, arrays, &config);
  const Tensor a = tensor_copy_as(act, dt), z = tensor_copy_as(pair, dt);
  const Tensor m = tensor_copy_as(seq_mask, dt);
  const ops::Frames frames = frames_from(rotation, translation, dt);
  Tensor out;
  {
    pyb::gil_scoped_release release;
    const model::InvariantPointAttention ipa(
        config.structure, ParamScope(params, kFoldIteration) / "invariant_point_attention", z);
    out = ipa(a, m, frames);
  }
  return tensor_to_numpy(out);
}

pyb::tuple backbone_update(const std::string& preset, const pyb::dict& arrays,
                           const pyb::array& act, const pyb::array& quaternion,
                           const pyb::array& translation) {
  const DType dt = activation_dtype(act);
  ModelConfig config;
  const Params params = params_as(dt, preset, arrays, &config);
  const Tensor a = tensor_copy_as(act, dt), q = tensor_copy_as(quaternion, dt);
  const Tensor t = tensor_copy_as(translation, dt);
  check(q.rank() == 2 && q.size(1) == 4, "quaternion has shape ", q.shape().str(),
        ", expected [N, 4]");
  const int64_t n = q.size(0);
  check(t.shape() == Shape{n, 3}, "translation has shape ", t.shape().str(), ", expected [", n,
        ", 3]");
  {
    pyb::gil_scoped_release release;
    model::backbone_update(ParamScope(params, kFoldIteration) / "affine_update", a, q, t);
  }
  return pyb::make_tuple(tensor_to_numpy(q), tensor_to_numpy(t));
}

pyb::tuple torsion_angles(const std::string& preset, const pyb::dict& arrays, const pyb::array& act,
                          const pyb::array& initial_act) {
  const DType dt = activation_dtype(act);
  ModelConfig config;
  const Params params = params_as(dt, preset, arrays, &config);
  const Tensor a = tensor_copy_as(act, dt), ia = tensor_copy_as(initial_act, dt);
  model::TorsionAngles angles;
  {
    pyb::gil_scoped_release release;
    angles = model::predict_torsion_angles(ParamScope(params, kFoldIteration) / "rigid_sidechain",
                                           config.structure.sidechain_blocks, a, ia);
  }
  return pyb::make_tuple(tensor_to_numpy(angles.sin_cos), tensor_to_numpy(angles.unnormalized));
}

pyb::dict all_atom(const pyb::array& aatype, const pyb::array& rotation,
                   const pyb::array& translation, const pyb::array& sin_cos) {
  const DType dt = activation_dtype(rotation);
  const Tensor aa = copy_keep(aatype), angles = tensor_copy_as(sin_cos, dt);
  const ops::Frames backbone = frames_from(rotation, translation, dt);
  ops::Frames groups;
  Tensor atom14;
  {
    pyb::gil_scoped_release release;
    groups = model::torsion_angles_to_frames(aa, backbone, angles);
    atom14 = model::frames_to_atom14_positions(aa, groups);
  }
  pyb::dict out;
  out["frames_rotation"] = tensor_to_numpy(groups.rot);
  out["frames_translation"] = tensor_to_numpy(groups.trans);
  out["atom14_positions"] = tensor_to_numpy(atom14);
  return out;
}

pyb::array atom14_to_atom37(const pyb::array& atom14, const pyb::array& residx_atom37_to_atom14,
                            const pyb::array& atom37_atom_exists) {
  const Tensor pos = tensor_copy_as(atom14, activation_dtype(atom14));
  return tensor_to_numpy(model::atom14_to_atom37(pos, copy_keep(residx_atom37_to_atom14),
                                                 copy_keep(atom37_atom_exists)));
}

pyb::dict heads(const std::string& preset, const pyb::dict& arrays, const pyb::dict& reps,
                int64_t msa_rows, const pyb::array& seq_mask) {
  check(reps.contains("single"), "representations lack 'single'");
  const DType dt = activation_dtype(reps["single"].cast<pyb::array>());
  ModelConfig config;
  const Params params = params_as(dt, preset, arrays, &config);
  auto rep = [&](const char* name) {
    check(reps.contains(name), "representations lack '", name, "'");
    return tensor_copy_as(reps[name].cast<pyb::array>(), dt);
  };
  model::HeadsInputs in;
  in.single = rep("single");
  in.pair = rep("pair");
  in.msa = rep("msa");
  in.msa_rows = msa_rows;
  in.structure_module = rep("structure_module");
  in.seq_mask = copy_keep(seq_mask);
  model::HeadsOutputs o;
  {
    pyb::gil_scoped_release release;
    o = model::run_heads(config, params, in);
  }
  pyb::dict out;
  out["distogram/logits"] = tensor_to_numpy(o.distogram_logits);
  out["masked_msa/logits"] = tensor_to_numpy(o.masked_msa_logits);
  out["experimentally_resolved/logits"] = tensor_to_numpy(o.experimentally_resolved_logits);
  out["predicted_lddt/logits"] = tensor_to_numpy(o.plddt_logits);
  out["plddt"] = tensor_to_numpy(o.plddt);
  out["mean_plddt"] = scalar_of(o.mean_plddt);
  if (config.ptm) {
    out["predicted_aligned_error/logits"] = tensor_to_numpy(o.pae_logits);
    out["aligned_confidence_probs"] = tensor_to_numpy(o.aligned_confidence_probs);
    out["predicted_aligned_error"] = tensor_to_numpy(o.predicted_aligned_error);
    out["max_predicted_aligned_error"] = o.max_predicted_aligned_error;
    out["ptm"] = scalar_of(o.ptm);
  }
  return out;
}

double compute_tol(const pyb::array& prev_positions, const pyb::array& positions,
                   const pyb::array& mask) {
  const DType dt = activation_dtype(positions);
  return scalar_of(model::compute_tol(tensor_copy_as(prev_positions, dt),
                                      tensor_copy_as(positions, dt), copy_keep(mask)));
}

}  // namespace

void bind_model_structure(pyb::module_& m) {
  pyb::module_ mod = test_modules(m);
  using pyb::arg;
  mod.def(
      "structure_module",
      [](const std::string& preset, const pyb::dict& params, const pyb::array& single,
         const pyb::array& pair,
         const pyb::dict& batch) { return structure_module(preset, params, single, pair, batch); },
      arg("preset"), arg("params"), arg("single"), arg("pair"), arg("batch"),
      R"(Alg 20 on representations single [N, c_s] and pair [N, N, c_z]. batch holds seq_mask,
aatype, residx_atom37_to_atom14, atom37_atom_exists, atom14_atom_exists. Returns the reference's
keys: final_atom_positions, final_atom_mask, representations/structure_module, traj,
sidechains/angles_sin_cos, sidechains/unnormalized_angles_sin_cos, final_atom14_positions,
final_atom14_mask.)");
  mod.def(
      "invariant_point_attention",
      [](const std::string& preset, const pyb::dict& params, const pyb::array& act,
         const pyb::array& pair, const pyb::array& seq_mask, const pyb::array& rotation,
         const pyb::array& translation) {
        return invariant_point_attention(preset, params, act, pair, seq_mask, rotation,
                                         translation);
      },
      arg("preset"), arg("params"), arg("act"), arg("pair"), arg("seq_mask"), arg("rotation"),
      arg("translation"),
      "Alg 22: act [N, c_s], layer-normed pair [N, N, c_z], frames as rotation [N, 3, 3] and "
      "translation [N, 3] (nm) -> [N, c_s].");
  mod.def(
      "backbone_update",
      [](const std::string& preset, const pyb::dict& params, const pyb::array& act,
         const pyb::array& quaternion, const pyb::array& translation) {
        return backbone_update(preset, params, act, quaternion, translation);
      },
      arg("preset"), arg("params"), arg("act"), arg("quaternion"), arg("translation"),
      "Alg 23: act [N, c_s], frames as unit quaternions [N, 4] and translations [N, 3] (nm) -> "
      "(quaternion, translation) after the update.");
  mod.def(
      "torsion_angles",
      [](const std::string& preset, const pyb::dict& params, const pyb::array& act,
         const pyb::array& initial_act) {
        return torsion_angles(preset, params, act, initial_act);
      },
      arg("preset"), arg("params"), arg("act"), arg("initial_act"),
      "The rigid_sidechain ResNet: act, initial_act [N, c_s] -> (angles_sin_cos, "
      "unnormalized_angles_sin_cos), each [N, 7, 2].");
  mod.def(
      "all_atom",
      [](const pyb::array& aatype, const pyb::array& rotation, const pyb::array& translation,
         const pyb::array& sin_cos) { return all_atom(aatype, rotation, translation, sin_cos); },
      arg("aatype"), arg("rotation"), arg("translation"), arg("angles_sin_cos"),
      "Alg 24: backbone frames (Angstrom) and torsions [N, 7, 2] -> frames_rotation [N, 8, 3, "
      "3], frames_translation [N, 8, 3], atom14_positions [N, 14, 3].");
  mod.def(
      "atom14_to_atom37",
      [](const pyb::array& atom14, const pyb::array& residx, const pyb::array& exists) {
        return atom14_to_atom37(atom14, residx, exists);
      },
      arg("atom14"), arg("residx_atom37_to_atom14"), arg("atom37_atom_exists"),
      "[N, 14, 3] -> [N, 37, 3], gathered and multiplied by atom37_atom_exists.");
  mod.def(
      "heads",
      [](const std::string& preset, const pyb::dict& params, const pyb::dict& representations,
         int64_t msa_rows, const pyb::array& seq_mask) {
        return heads(preset, params, representations, msa_rows, seq_mask);
      },
      arg("preset"), arg("params"), arg("representations"), arg("msa_rows"), arg("seq_mask"),
      R"(Every head of the preset and the confidence metrics. representations: single, pair, msa
(the first msa_rows rows get masked-MSA logits), structure_module. Returns the reference's keys:
distogram/logits, masked_msa/logits, experimentally_resolved/logits, predicted_lddt/logits,
plddt, mean_plddt and, for _ptm presets, predicted_aligned_error/logits,
aligned_confidence_probs, predicted_aligned_error, max_predicted_aligned_error, ptm.)");
  mod.def(
      "compute_tol",
      [](const pyb::array& prev_positions, const pyb::array& positions, const pyb::array& mask) {
        return compute_tol(prev_positions, positions, mask);
      },
      arg("prev_positions"), arg("positions"), arg("mask"),
      "ColabFold's recycling tolerance between two [N, 37, 3] predictions over mask [N].");
}

}  // namespace exafold::py
