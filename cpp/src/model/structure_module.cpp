// The structure module: AlphaFold2 supplement Alg 20 (IPA Alg 22, backbone update Alg 23,
// torsion angles, all-atom coordinates Alg 24).
#include "exafold/model/structure_module.h"

#include <cstring>
#include <string>
#include <vector>

#include "exafold/model/all_atom.h"
#include "exafold/model/backbone_update.h"
#include "exafold/model/invariant_point_attention.h"
#include "exafold/model/residue_constants.h"
#include "exafold/model/torsion_angles.h"
#include "host_values.h"
#include "layers.h"

namespace exafold::model {
namespace {

/// Copies a contiguous [rest...] tensor into slice `layer` of a contiguous [L, rest...] one.
template <class T>
void store_layer(const Tensor& dst, int64_t layer, const Tensor& src) {
  const Tensor s = src.contiguous();
  std::memcpy(dst.data<T>() + layer * s.numel(), s.data<T>(), size_t(s.numel()) * sizeof(T));
}

}  // namespace

template <class T>
StructureModuleOutputs run_structure_module(const ModelConfig& config, const Params& params,
                                            const Tensor& single, const Tensor& pair,
                                            const StructureModuleFeatures& features) {
  const StructureDims& dims = config.structure;
  check(params.dtype() == dtype_v<T>, "structure module in ", dtype_name(dtype_v<T>), " needs ",
        dtype_name(dtype_v<T>), " parameters, got ", dtype_name(params.dtype()));
  check(single.rank() == 2 && single.size(1) == config.c_s, "single representation has shape ",
        single.shape().str(), ", expected [N, ", config.c_s, "]");
  const int64_t n = single.size(0), L = dims.layers;
  detail::check_shape(pair, Shape{n, n, config.c_z}, "pair representation");
  detail::check_dtype<T>(single, "single representation");
  detail::check_dtype<T>(pair, "pair representation");
  detail::check_shape(features.seq_mask, Shape{n}, "seq_mask");
  detail::check_shape(features.aatype, Shape{n}, "aatype");
  detail::check_shape(features.atom14_atom_exists, Shape{n, rc::kAtom14}, "atom14_atom_exists");

  const ParamScope sm(params, "alphafold/alphafold_iteration/structure_module");
  const ParamScope it = sm / "fold_iteration";
  // [N, c_s] -> [N, c_s] -> [N, c_sm]
  const Tensor initial_act = detail::layer_norm(sm / "single_layer_norm", single);
  Tensor act = detail::linear(sm / "initial_projection", initial_act);
  // [N, N, c_z]: the same in every layer
  const InvariantPointAttention<T> ipa(dims, it / "invariant_point_attention",
                                       detail::layer_norm(sm / "pair_layer_norm", pair));

  StructureModuleOutputs out;
  out.traj = Tensor::empty(Shape{L, n, 7}, dtype_v<T>);
  out.angles_sin_cos = Tensor::empty(Shape{L, n, rc::kTorsions, 2}, dtype_v<T>);
  out.unnormalized_angles_sin_cos = Tensor::empty(Shape{L, n, rc::kTorsions, 2}, dtype_v<T>);
  const T position_scale = T(dims.position_scale);
  std::vector<QuatFrame<T>> frames(static_cast<size_t>(n));
  for (int64_t layer = 0; layer < L; ++layer) {
    // [N, c_sm]: IPA against this layer's starting frames, residual, LayerNorm
    detail::add_into<T>(act, ipa(act, features.seq_mask, to_rigids<T>(frames, T(1))));
    act = detail::layer_norm(it / "attention_layer_norm", act);
    // [N, c_sm] -> [N, c_sm] x transition_layers, relu between, residual, LayerNorm
    const Tensor input_act = act;
    for (int k = 0; k < dims.transition_layers; ++k) {
      act = detail::linear(it / detail::haiku_name("transition", k), act);
      if (k + 1 < dims.transition_layers) act = detail::relu<T>(act);
    }
    detail::add_into<T>(act, input_act);
    act = detail::layer_norm(it / "transition_layer_norm", act);

    backbone_update<T>(it / "affine_update", act, frames);
    T* traj = out.traj.data<T>() + layer * n * 7;
    for (int64_t i = 0; i < n; ++i) {
      for (int k = 0; k < 4; ++k) traj[i * 7 + k] = frames[i].quat[k];
      for (int k = 0; k < 3; ++k) traj[i * 7 + 4 + k] = frames[i].trans[k] * position_scale;
    }
    // [N, c_sm] -> [N, 7, 2]
    const TorsionAngles angles =
        predict_torsion_angles<T>(it / "rigid_sidechain", dims.sidechain_blocks, act, initial_act);
    store_layer<T>(out.angles_sin_cos, layer, angles.sin_cos);
    store_layer<T>(out.unnormalized_angles_sin_cos, layer, angles.unnormalized);
  }
  out.representation = act;

  // Side chains of the last layer only: earlier layers' atoms feed nothing at inference.
  const std::vector<Rigid<T>> backbone = to_rigids<T>(frames, position_scale);
  const std::vector<Rigid<T>> groups =
      torsion_angles_to_frames<T>(features.aatype, backbone, out.angles_sin_cos.select(0, L - 1));
  out.final_atom14_positions = frames_to_atom14_positions<T>(features.aatype, groups);
  out.final_atom14_mask = features.atom14_atom_exists;
  out.final_atom_positions = atom14_to_atom37<T>(
      out.final_atom14_positions, features.residx_atom37_to_atom14, features.atom37_atom_exists);
  out.final_atom_mask = features.atom37_atom_exists;
  return out;
}

template StructureModuleOutputs run_structure_module<float>(const ModelConfig&, const Params&,
                                                            const Tensor&, const Tensor&,
                                                            const StructureModuleFeatures&);
template StructureModuleOutputs run_structure_module<double>(const ModelConfig&, const Params&,
                                                             const Tensor&, const Tensor&,
                                                             const StructureModuleFeatures&);

}  // namespace exafold::model
