"""
Single AlphaFold2 modules, for parity tests
"""
from __future__ import annotations
import numpy
import numpy.typing
import typing
__all__: list[str] = ['TrunkParams', 'all_atom', 'atom14_to_atom37', 'backbone_update', 'compute_tol', 'embeddings', 'evoformer_block', 'heads', 'invariant_point_attention', 'load_params', 'msa_column_attention', 'msa_column_global_attention', 'msa_row_attention_with_pair_bias', 'outer_product_mean', 'param_spec', 'recycled_distogram', 'run_trunk', 'structure_module', 'template_embedding', 'torsion_angles', 'transition', 'triangle_attention', 'triangle_multiplication']
class TrunkParams:
    """
    Parameters loaded and validated for one preset (opaque).
    """
def all_atom(aatype: numpy.ndarray, rotation: numpy.ndarray, translation: numpy.ndarray, angles_sin_cos: numpy.ndarray) -> dict:
    """
    Alg 24: backbone frames (Angstrom) and torsions [N, 7, 2] -> frames_rotation [N, 8, 3, 3], frames_translation [N, 8, 3], atom14_positions [N, 14, 3].
    """
def atom14_to_atom37(atom14: numpy.ndarray, residx_atom37_to_atom14: numpy.ndarray, atom37_atom_exists: numpy.ndarray) -> numpy.ndarray:
    """
    [N, 14, 3] -> [N, 37, 3], gathered and multiplied by atom37_atom_exists.
    """
def backbone_update(preset: str, params: dict, act: numpy.ndarray, quaternion: numpy.ndarray, translation: numpy.ndarray) -> tuple:
    """
    Alg 23: act [N, c_s], frames as unit quaternions [N, 4] and translations [N, 3] (nm) -> (quaternion, translation) after the update.
    """
def compute_tol(prev_positions: numpy.ndarray, positions: numpy.ndarray, mask: numpy.ndarray) -> float:
    """
    ColabFold's recycling tolerance between two [N, 37, 3] predictions over mask [N].
    """
def embeddings(params: TrunkParams, features: dict, prev: dict) -> dict:
    """
    Algorithms 3, 4 and 32 and the extra-MSA embedding: {msa, pair, extra_msa_activations}, the inputs of the extra-MSA and Evoformer stacks.
    """
def evoformer_block(params: TrunkParams, scope: str, block: typing.SupportsInt, column: str, msa: typing.Any, msa_mask: typing.Any, pair: typing.Any, pair_mask: typing.Any, chunk_size: typing.SupportsInt = 0) -> dict:
    """
    Algorithm 6 (column 'full') or one extra-MSA block (column 'global'): {msa, pair}.
    """
def heads(preset: str, params: dict, representations: dict, msa_rows: typing.SupportsInt, seq_mask: numpy.ndarray) -> dict:
    """
    Every head of the preset and the confidence metrics. representations: single, pair, msa
    (the first msa_rows rows get masked-MSA logits), structure_module. Returns the reference's keys:
    distogram/logits, masked_msa/logits, experimentally_resolved/logits, predicted_lddt/logits,
    plddt, mean_plddt and, for _ptm presets, predicted_aligned_error/logits,
    aligned_confidence_probs, predicted_aligned_error, max_predicted_aligned_error, ptm.
    """
def invariant_point_attention(preset: str, params: dict, act: numpy.ndarray, pair: numpy.ndarray, seq_mask: numpy.ndarray, rotation: numpy.ndarray, translation: numpy.ndarray) -> numpy.ndarray:
    """
    Alg 22: act [N, c_s], layer-normed pair [N, N, c_z], frames as rotation [N, 3, 3] and translation [N, 3] (nm) -> [N, c_s].
    """
def load_params(path: str, preset: str, dtype: str = 'float64', evoformer_blocks: typing.SupportsInt | None = None, extra_blocks: typing.SupportsInt | None = None, templates: bool | None = None) -> TrunkParams:
    """
    Loads an official-layout npz for `preset` (block counts and templates optionally overridden, as the reference fixtures' reduced configs do) as float32 or float64, the precision every module call then computes in.
    """
def msa_column_attention(params: TrunkParams, scope: str, block: typing.SupportsInt, msa: typing.Any, msa_mask: typing.Any, chunk_size: typing.SupportsInt = 0) -> numpy.ndarray:
    """
    Algorithm 8: the update to msa.
    """
def msa_column_global_attention(params: TrunkParams, scope: str, block: typing.SupportsInt, msa: typing.Any, msa_mask: typing.Any, chunk_size: typing.SupportsInt = 0) -> numpy.ndarray:
    """
    Algorithm 19: the update to the extra MSA.
    """
def msa_row_attention_with_pair_bias(params: TrunkParams, scope: str, block: typing.SupportsInt, msa: typing.Any, msa_mask: typing.Any, pair: typing.Any, chunk_size: typing.SupportsInt = 0) -> numpy.ndarray:
    """
    Algorithm 7: the update to msa.
    """
def outer_product_mean(params: TrunkParams, scope: str, block: typing.SupportsInt, msa: typing.Any, msa_mask: typing.Any, chunk_size: typing.SupportsInt = 0) -> numpy.ndarray:
    """
    Algorithm 10: the update to the pair.
    """
def param_spec(preset: str) -> list:
    """
    [(name, shape)] of every parameter the preset expects, in a stable order.
    """
def recycled_distogram(aatype: typing.Any, prev_pos: typing.Any, bins: typing.SupportsInt = 15, dtype: str = 'float64') -> numpy.typing.NDArray[numpy.float64]:
    """
    The recycled-distance one-hot [N, N, bins] of Algorithm 32.
    """
def run_trunk(params: TrunkParams, features: dict, prev: dict, chunk_size: typing.SupportsInt = 0) -> dict:
    """
    One recycling iteration of the trunk (model/trunk.h): {msa, pair, single, msa_first_row}.
    """
def structure_module(preset: str, params: dict, single: numpy.ndarray, pair: numpy.ndarray, batch: dict) -> dict:
    """
    Alg 20 on representations single [N, c_s] and pair [N, N, c_z]. batch holds seq_mask,
    aatype, residx_atom37_to_atom14, atom37_atom_exists, atom14_atom_exists. Returns the reference's
    keys: final_atom_positions, final_atom_mask, representations/structure_module, traj,
    sidechains/angles_sin_cos, sidechains/unnormalized_angles_sin_cos, final_atom14_positions,
    final_atom14_mask.
    """
def template_embedding(params: TrunkParams, features: dict, pair: typing.Any, chunk_size: typing.SupportsInt = 0) -> dict:
    """
    Algorithm 2 lines 7-11 and Algorithm 17 on the template features (and seq_mask) with the pair activations `pair` as the query: {update (what the templates add to the pair), templates [N, N, T, c_t] (each template's pair stack output), rows (the torsion rows), row_mask}.
    """
def torsion_angles(preset: str, params: dict, act: numpy.ndarray, initial_act: numpy.ndarray) -> tuple:
    """
    The rigid_sidechain ResNet: act, initial_act [N, c_s] -> (angles_sin_cos, unnormalized_angles_sin_cos), each [N, 7, 2].
    """
def transition(params: TrunkParams, scope: str, block: typing.SupportsInt, act: typing.Any, chunk_size: typing.SupportsInt = 0) -> numpy.ndarray:
    """
    Algorithms 9 and 15: the update to act.
    """
def triangle_attention(params: TrunkParams, scope: str, block: typing.SupportsInt, node: str, pair: typing.Any, pair_mask: typing.Any, chunk_size: typing.SupportsInt = 0) -> numpy.ndarray:
    """
    Algorithms 13 and 14: the update to the pair.
    """
def triangle_multiplication(params: TrunkParams, scope: str, block: typing.SupportsInt, edges: str, pair: typing.Any, pair_mask: typing.Any, chunk_size: typing.SupportsInt = 0) -> numpy.ndarray:
    """
    Algorithms 11 and 12: the update to the pair.
    """
