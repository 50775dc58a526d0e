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

namespace exafold::py {
namespace {

using model::ModelConfig;
using model::Params;
using model::ParamScope;
using model::Rigid;

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

template <class T>
Params params_as(const std::string& preset, const pyb::dict& arrays, ModelConfig* config) {
  *config = model::preset(preset);
  std::unordered_map<std::string, Tensor> map;
  for (auto [key, value] : arrays)
    map.emplace(key.template cast<std::string>(), copy_as<T>(value.template cast<pyb::array>()));
  return Params::from_arrays(std::move(map), *config, dtype_v<T>);
}

/// rotation [N, 3, 3] and translation [N, 3] as N Rigids.
template <class T>
std::vector<Rigid<T>> rigids_from(const Tensor& rotation, const Tensor& translation) {
  check(rotation.rank() == 3 && rotation.size(1) == 3 && rotation.size(2) == 3,
        "rotation has shape ", rotation.shape().str(), ", expected [N, 3, 3]");
  const int64_t n = rotation.size(0);
  check(translation.shape() == Shape{n, 3}, "translation has shape ", translation.shape().str(),
        ", expected [", n, ", 3]");
  std::vector<Rigid<T>> out(static_cast<size_t>(n));
  const T* r = rotation.data<T>();
  const T* t = translation.data<T>();
  for (int64_t i = 0; i < n; ++i) {
    for (int a = 0; a < 3; ++a) {
      for (int b = 0; b < 3; ++b) out[i].rot[a][b] = r[i * 9 + a * 3 + b];
      out[i].trans[a] = t[i * 3 + a];
    }
  }
  return out;
}

bool is_double(const pyb::array& a) {
  const pyb::dtype d = a.dtype();
  check(d.is(pyb::dtype::of<float>()) || d.is(pyb::dtype::of<double>()),
        "activations must be float32 or float64, got ", dtype_text(d));
  return d.is(pyb::dtype::of<double>());
}

template <class T>
pyb::dict structure_module(const std::string& preset, const pyb::dict& arrays,
                           const pyb::array& single, const pyb::array& pair,
                           const pyb::dict& batch) {
  ModelConfig config;
  const Params params = params_as<T>(preset, arrays, &config);
  const Tensor s = copy_as<T>(single), z = copy_as<T>(pair);
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
    o = model::run_structure_module<T>(config, params, s, z, f);
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

template <class T>
pyb::array invariant_point_attention(const std::string& preset, const pyb::dict& arrays,
                                     const pyb::array& act, const pyb::array& pair,
                                     const pyb::array& seq_mask, const pyb::array& rotation,
                                     const pyb::array& translation) {
  ModelConfig config;
  const Params params = params_as<T>(preset, arrays, &config);
  const Tensor a = copy_as<T>(act), z = copy_as<T>(pair), m = copy_keep(seq_mask);
  const std::vector<Rigid<T>> frames =
      rigids_from<T>(copy_as<T>(rotation), copy_as<T>(translation));
  Tensor out;
  {
    pyb::gil_scoped_release release;
    const model::InvariantPointAttention<T> ipa(
        config.structure,
        ParamScope(params, "alphafold/alphafold_iteration/structure_module/fold_iteration") /
            "invariant_point_attention",
        z);
    out = ipa(a, m, frames);
  }
  return tensor_to_numpy(out);
}

template <class T>
pyb::tuple backbone_update(const std::string& preset, const pyb::dict& arrays,
                           const pyb::array& act, const pyb::array& quaternion,
                           const pyb::array& translation) {
  ModelConfig config;
  const Params params = params_as<T>(preset, arrays, &config);
  const Tensor a = copy_as<T>(act), q = copy_as<T>(quaternion), t = copy_as<T>(translation);
  check(q.rank() == 2 && q.size(1) == 4, "quaternion has shape ", q.shape().str(),
        ", expected [N, 4]");
  const int64_t n = q.size(0);
  check(t.shape() == Shape{n, 3}, "translation has shape ", t.shape().str(), ", expected [", n,
        ", 3]");
  std::vector<model::QuatFrame<T>> frames(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < 4; ++k) frames[i].quat[k] = q.data<T>()[i * 4 + k];
    for (int k = 0; k < 3; ++k) frames[i].trans[k] = t.data<T>()[i * 3 + k];
  }
  {
    pyb::gil_scoped_release release;
    model::backbone_update<T>(
        ParamScope(params, "alphafold/alphafold_iteration/structure_module/fold_iteration") /
            "affine_update",
        a, frames);
  }
  Tensor q_out = Tensor::empty(Shape{n, 4}, dtype_v<T>),
         t_out = Tensor::empty(Shape{n, 3}, dtype_v<T>);
  for (int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < 4; ++k) q_out.data<T>()[i * 4 + k] = frames[i].quat[k];
    for (int k = 0; k < 3; ++k) t_out.data<T>()[i * 3 + k] = frames[i].trans[k];
  }
  return pyb::make_tuple(tensor_to_numpy(q_out), tensor_to_numpy(t_out));
}

template <class T>
pyb::tuple torsion_angles(const std::string& preset, const pyb::dict& arrays, const pyb::array& act,
                          const pyb::array& initial_act) {
  ModelConfig config;
  const Params params = params_as<T>(preset, arrays, &config);
  const Tensor a = copy_as<T>(act), ia = copy_as<T>(initial_act);
  model::TorsionAngles angles;
  {
    pyb::gil_scoped_release release;
    angles = model::predict_torsion_angles<T>(
        ParamScope(params, "alphafold/alphafold_iteration/structure_module/fold_iteration") /
            "rigid_sidechain",
        config.structure.sidechain_blocks, a, ia);
  }
  return pyb::make_tuple(tensor_to_numpy(angles.sin_cos), tensor_to_numpy(angles.unnormalized));
}

template <class T>
pyb::dict all_atom(const pyb::array& aatype, const pyb::array& rotation,
                   const pyb::array& translation, const pyb::array& sin_cos) {
  const Tensor aa = copy_keep(aatype), angles = copy_as<T>(sin_cos);
  const std::vector<Rigid<T>> backbone =
      rigids_from<T>(copy_as<T>(rotation), copy_as<T>(translation));
  std::vector<Rigid<T>> groups;
  Tensor atom14;
  {
    pyb::gil_scoped_release release;
    groups = model::torsion_angles_to_frames<T>(aa, backbone, angles);
    atom14 = model::frames_to_atom14_positions<T>(aa, groups);
  }
  const int64_t n = int64_t(backbone.size());
  Tensor rot = Tensor::empty(Shape{n, 8, 3, 3}, dtype_v<T>);
  Tensor trans = Tensor::empty(Shape{n, 8, 3}, dtype_v<T>);
  for (size_t g = 0; g < groups.size(); ++g) {
    for (int a = 0; a < 3; ++a) {
      for (int b = 0; b < 3; ++b) rot.data<T>()[g * 9 + a * 3 + b] = groups[g].rot[a][b];
      trans.data<T>()[g * 3 + a] = groups[g].trans[a];
    }
  }
  pyb::dict out;
  out["frames_rotation"] = tensor_to_numpy(rot);
  out["frames_translation"] = tensor_to_numpy(trans);
  out["atom14_positions"] = tensor_to_numpy(atom14);
  return out;
}

template <class T>
pyb::array atom14_to_atom37(const pyb::array& atom14, const pyb::array& residx_atom37_to_atom14,
                            const pyb::array& atom37_atom_exists) {
  const Tensor pos = copy_as<T>(atom14), index = copy_keep(residx_atom37_to_atom14),
               exists = copy_keep(atom37_atom_exists);
  return tensor_to_numpy(model::atom14_to_atom37<T>(pos, index, exists));
}

template <class T>
pyb::dict heads(const std::string& preset, const pyb::dict& arrays, const pyb::dict& reps,
                int64_t msa_rows, const pyb::array& seq_mask) {
  ModelConfig config;
  const Params params = params_as<T>(preset, arrays, &config);
  auto rep = [&](const char* name) {
    check(reps.contains(name), "representations lack '", name, "'");
    return copy_as<T>(reps[name].cast<pyb::array>());
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
    o = model::run_heads<T>(config, params, in);
  }
  pyb::dict out;
  out["distogram/logits"] = tensor_to_numpy(o.distogram_logits);
  out["masked_msa/logits"] = tensor_to_numpy(o.masked_msa_logits);
  out["experimentally_resolved/logits"] = tensor_to_numpy(o.experimentally_resolved_logits);
  out["predicted_lddt/logits"] = tensor_to_numpy(o.plddt_logits);
  out["plddt"] = tensor_to_numpy(o.plddt);
  out["mean_plddt"] = o.mean_plddt;
  if (config.ptm) {
    out["predicted_aligned_error/logits"] = tensor_to_numpy(o.pae_logits);
    out["aligned_confidence_probs"] = tensor_to_numpy(o.aligned_confidence_probs);
    out["predicted_aligned_error"] = tensor_to_numpy(o.predicted_aligned_error);
    out["max_predicted_aligned_error"] = o.max_predicted_aligned_error;
    out["ptm"] = o.ptm;
  }
  return out;
}

template <class T>
double compute_tol(const pyb::array& prev_positions, const pyb::array& positions,
                   const pyb::array& mask) {
  return double(
      model::compute_tol<T>(copy_as<T>(prev_positions), copy_as<T>(positions), copy_keep(mask)));
}

}  // namespace

void bind_model_structure(pyb::module_& m) {
  pyb::module_ mod = test_modules(m);
  using pyb::arg;
  mod.def(
      "structure_module",
      [](const std::string& preset, const pyb::dict& params, const pyb::array& single,
         const pyb::array& pair, const pyb::dict& batch) {
        return is_double(single) ? structure_module<double>(preset, params, single, pair, batch)
                                 : structure_module<float>(preset, params, single, pair, batch);
      },
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
        return is_double(act) ? invariant_point_attention<double>(preset, params, act, pair,
                                                                  seq_mask, rotation, translation)
                              : invariant_point_attention<float>(preset, params, act, pair,
                                                                 seq_mask, rotation, translation);
      },
      arg("preset"), arg("params"), arg("act"), arg("pair"), arg("seq_mask"), arg("rotation"),
      arg("translation"),
      "Alg 22: act [N, c_s], layer-normed pair [N, N, c_z], frames as rotation [N, 3, 3] and "
      "translation [N, 3] (nm) -> [N, c_s].");
  mod.def(
      "backbone_update",
      [](const std::string& preset, const pyb::dict& params, const pyb::array& act,
         const pyb::array& quaternion, const pyb::array& translation) {
        return is_double(act)
                   ? backbone_update<double>(preset, params, act, quaternion, translation)
                   : backbone_update<float>(preset, params, act, quaternion, translation);
      },
      arg("preset"), arg("params"), arg("act"), arg("quaternion"), arg("translation"),
      "Alg 23: act [N, c_s], frames as unit quaternions [N, 4] and translations [N, 3] (nm) -> "
      "(quaternion, translation) after the update.");
  mod.def(
      "torsion_angles",
      [](const std::string& preset, const pyb::dict& params, const pyb::array& act,
         const pyb::array& initial_act) {
        return is_double(act) ? torsion_angles<double>(preset, params, act, initial_act)
                              : torsion_angles<float>(preset, params, act, initial_act);
      },
      arg("preset"), arg("params"), arg("act"), arg("initial_act"),
      "The rigid_sidechain ResNet: act, initial_act [N, c_s] -> (angles_sin_cos, "
      "unnormalized_angles_sin_cos), each [N, 7, 2].");
  mod.def(
      "all_atom",
      [](const pyb::array& aatype, const pyb::array& rotation, const pyb::array& translation,
         const pyb::array& sin_cos) {
        return is_double(rotation) ? all_atom<double>(aatype, rotation, translation, sin_cos)
                                   : all_atom<float>(aatype, rotation, translation, sin_cos);
      },
      arg("aatype"), arg("rotation"), arg("translation"), arg("angles_sin_cos"),
      "Alg 24: backbone frames (Angstrom) and torsions [N, 7, 2] -> frames_rotation [N, 8, 3, "
      "3], frames_translation [N, 8, 3], atom14_positions [N, 14, 3].");
  mod.def(
      "atom14_to_atom37",
      [](const pyb::array& atom14, const pyb::array& residx, const pyb::array& exists) {
        return is_double(atom14) ? atom14_to_atom37<double>(atom14, residx, exists)
                                 : atom14_to_atom37<float>(atom14, residx, exists);
      },
      arg("atom14"), arg("residx_atom37_to_atom14"), arg("atom37_atom_exists"),
      "[N, 14, 3] -> [N, 37, 3], gathered and multiplied by atom37_atom_exists.");
  mod.def(
      "heads",
      [](const std::string& preset, const pyb::dict& params, const pyb::dict& representations,
         int64_t msa_rows, const pyb::array& seq_mask) {
        check(representations.contains("single"), "representations lack 'single'");
        return is_double(representations["single"].cast<pyb::array>())
                   ? heads<double>(preset, params, representations, msa_rows, seq_mask)
                   : heads<float>(preset, params, representations, msa_rows, seq_mask);
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
        return is_double(positions) ? compute_tol<double>(prev_positions, positions, mask)
                                    : compute_tol<float>(prev_positions, positions, mask);
      },
      arg("prev_positions"), arg("positions"), arg("mask"),
      "ColabFold's recycling tolerance between two [N, 37, 3] predictions over mask [N].");
}

}  // namespace exafold::py
