// The structure module: AlphaFold2 supplement Alg 20 (IPA Alg 22, backbone update Alg 23,
// torsion angles, all-atom coordinates Alg 24).
#include "exafold/model/structure_module.h"

#include "exafold/model/all_atom.h"
#include "exafold/model/backbone_update.h"
#include "exafold/model/invariant_point_attention.h"
#include "exafold/model/residue_constants.h"
#include "exafold/model/torsion_angles.h"
#include "exafold/ops/geometry.h"
#include "layers.h"

namespace exafold::model {

StructureModuleOutputs run_structure_module(const ModelConfig& config, const Params& params,
                                            const Tensor& single, const Tensor& pair,
                                            const StructureModuleFeatures& features) {
  const StructureDims& dims = config.structure;
  check(single.rank() == 2 && single.size(1) == config.c_s, "single representation has shape ",
        single.shape().str(), ", expected [N, ", config.c_s, "]");
  const int64_t n = single.size(0), L = dims.layers;
  // float32 in a bfloat16 run: frames, quaternions and atoms are geometry (AlphaFold2 runs
  // its structure module outside the bfloat16 scope).
  const DType dt = full_precision(params.dtype());
  const Device dev = params.device();
  detail::check_shape(pair, "pair representation", {n, n, config.c_z});
  for (const Tensor* t : {&single, &pair})
    check(t->dtype() == dt && t->device() == dev, "structure module: representations in ",
          dtype_name(t->dtype()), " on ", t->device().str(), ", parameters in ", dtype_name(dt),
          " on ", dev.str());
  const Tensor seq_mask = detail::float_input(migrate(features.seq_mask, dev), "seq_mask", {n}, dt);
  const Tensor aatype = detail::index_input(migrate(features.aatype, dev), "aatype", {n});
  detail::check_shape(features.atom14_atom_exists, "atom14_atom_exists", {n, rc::kAtom14});

  const ParamScope sm(params, "alphafold/alphafold_iteration/structure_module");
  const ParamScope it = sm / "fold_iteration";
  // [N, c_s] -> [N, c_s] -> [N, c_sm]
  const Tensor initial_act = detail::layer_norm(sm / "single_layer_norm", single);
  Tensor act = detail::linear(sm / "initial_projection", initial_act);
  // [N, N, c_z]: the same in every layer
  const InvariantPointAttention ipa(dims, it / "invariant_point_attention",
                                    detail::layer_norm(sm / "pair_layer_norm", pair));

  StructureModuleOutputs out;
  out.traj = Tensor::empty({L, n, 7}, dt, dev);
  out.angles_sin_cos = Tensor::empty({L, n, rc::kTorsions, 2}, dt, dev);
  out.unnormalized_angles_sin_cos = Tensor::empty({L, n, rc::kTorsions, 2}, dt, dev);
  // Frames start at the identity: quaternion (1, 0, 0, 0), translation 0 (nm in the loop).
  const Tensor quat = ops::zeros({n, 4}, dt, dev), trans = ops::zeros({n, 3}, dt, dev);
  ops::fill(quat.slice(1, 0, 1), 1.0);
  for (int64_t layer = 0; layer < L; ++layer) {
    // [N, c_sm]: IPA against this layer's starting frames, residual, LayerNorm
    ops::add_(act, ipa(act, seq_mask, {ops::quat_to_rot(quat), trans}));
    act = detail::layer_norm(it / "attention_layer_norm", act);
    // [N, c_sm] -> [N, c_sm] x transition_layers, relu between, residual, LayerNorm
    const Tensor input_act = act;
    for (int k = 0; k < dims.transition_layers; ++k)
      act = detail::linear(
          it / detail::haiku_name("transition", k), act,
          ops::Epilogue::with(k + 1 < dims.transition_layers ? ops::Activation::relu
                                                             : ops::Activation::none));
    ops::add_(act, input_act);
    act = detail::layer_norm(it / "transition_layer_norm", act);

    backbone_update(it / "affine_update", act, quat, trans);
    const Tensor traj = out.traj.select(0, layer);
    ops::copy(traj.slice(1, 0, 4), quat);
    ops::scalar_into(ops::Binary::mul, traj.slice(1, 4, 7), trans, dims.position_scale);
    // [N, c_sm] -> [N, 7, 2]
    const TorsionAngles angles =
        predict_torsion_angles(it / "rigid_sidechain", dims.sidechain_blocks, act, initial_act);
    ops::copy(out.angles_sin_cos.select(0, layer), angles.sin_cos);
    ops::copy(out.unnormalized_angles_sin_cos.select(0, layer), angles.unnormalized);
  }
  out.representation = act;

  // Side chains of the last layer only: earlier layers' atoms feed nothing at inference.
  const ops::Frames backbone{ops::quat_to_rot(quat),
                             ops::scalar(ops::Binary::mul, trans, dims.position_scale)};
  const ops::Frames groups =
      torsion_angles_to_frames(aatype, backbone, out.angles_sin_cos.select(0, L - 1));
  out.final_atom14_positions = frames_to_atom14_positions(aatype, groups);
  out.final_atom14_mask = features.atom14_atom_exists;
  out.final_atom_positions =
      atom14_to_atom37(out.final_atom14_positions, migrate(features.residx_atom37_to_atom14, dev),
                       migrate(features.atom37_atom_exists, dev));
  out.final_atom_mask = features.atom37_atom_exists;
  return out;
}

}  // namespace exafold::model
