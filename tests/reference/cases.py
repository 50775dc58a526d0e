"""The fixture cases and the reference configuration each one uses (AF2-REFERENCE section 3)."""
import dataclasses

from alphafold.model import config

from synth import Layout

EVO = "model.embeddings_and_evoformer"
TEMPLATE_STACK = f"{EVO}.template.template_pair_stack"
TRIMULS = (
    f"{EVO}.evoformer.triangle_multiplication_outgoing",
    f"{EVO}.evoformer.triangle_multiplication_incoming",
    f"{TEMPLATE_STACK}.triangle_multiplication_outgoing",
    f"{TEMPLATE_STACK}.triangle_multiplication_incoming",
)

COMMON = {
    "model.global_config.bfloat16": False,
    "model.global_config.bfloat16_output": False,
    "model.global_config.deterministic": True,
    # The fork reads this in AlphaFold_noE; True keeps the PAE logits.
    "model.calc_extended_ptm": True,
    "model.use_probs_extended": False,
    "data.eval.num_ensemble": 1,
    # Unfused triangle multiplications create the official parameter names.
    **{f"{t}.fuse_projection_weights": False for t in TRIMULS},
}

# Reduced widths that keep every divisibility assert; heads, IPA points, bins
# and the 8 structure-module layers stay official.
REDUCED = {
    f"{EVO}.evoformer_num_block": 2,
    f"{EVO}.extra_msa_stack_num_block": 1,
    f"{EVO}.msa_channel": 32,
    f"{EVO}.pair_channel": 16,
    f"{EVO}.seq_channel": 32,
    f"{EVO}.extra_msa_channel": 16,
    f"{EVO}.evoformer.outer_product_mean.num_outer_channel": 8,
    f"{EVO}.evoformer.triangle_multiplication_outgoing.num_intermediate_channel": 16,
    f"{EVO}.evoformer.triangle_multiplication_incoming.num_intermediate_channel": 16,
    f"{EVO}.template.attention.key_dim": 16,
    f"{EVO}.template.attention.value_dim": 16,
    f"{TEMPLATE_STACK}.num_block": 1,
    f"{TEMPLATE_STACK}.triangle_attention_starting_node.key_dim": 16,
    f"{TEMPLATE_STACK}.triangle_attention_starting_node.value_dim": 16,
    f"{TEMPLATE_STACK}.triangle_attention_ending_node.key_dim": 16,
    f"{TEMPLATE_STACK}.triangle_attention_ending_node.value_dim": 16,
    f"{TEMPLATE_STACK}.triangle_multiplication_outgoing.num_intermediate_channel": 16,
    f"{TEMPLATE_STACK}.triangle_multiplication_incoming.num_intermediate_channel": 16,
    "model.heads.structure_module.num_channel": 32,
    "model.heads.structure_module.sidechain.num_channel": 16,
    "model.heads.predicted_lddt.num_channels": 16,
}

# Output scale of the zero-initialised layers, chosen by measuring the
# fp32-vs-fp64 gap of the reduced case (see README).
ALPHA = 0.1


@dataclasses.dataclass(frozen=True)
class Case:
    preset: str
    overrides: dict
    layout: Layout
    seed: int  # features use seed, parameters seed + 1
    module_fixtures: bool = False


CASES = {
    "reduced": Case(
        "model_1_ptm", REDUCED,
        Layout(n_res=40, n_res_pad=4, n_msa=16, n_msa_pad=1, n_extra=32, n_extra_pad=5,
               iterations=3, gap_after=19, gap=7, with_unknown=True),
        seed=101, module_fixtures=True),
    "fullwidth2": Case(
        "model_1_ptm", {f"{EVO}.evoformer_num_block": 2, f"{EVO}.extra_msa_stack_num_block": 1},
        Layout(n_res=60, n_res_pad=4, n_msa=24, n_msa_pad=1, n_extra=48, n_extra_pad=4,
               iterations=2, gap_after=29, gap=12, with_unknown=False),
        seed=202),
    "model_1_ptm_full": Case(
        "model_1_ptm", {},
        Layout(n_res=14, n_res_pad=2, n_msa=10, n_msa_pad=1, n_extra=20, n_extra_pad=3,
               iterations=1, gap_after=6, gap=3, with_unknown=False),
        seed=303),
    "model_3": Case(
        "model_3", REDUCED,
        Layout(n_res=30, n_res_pad=2, n_msa=12, n_msa_pad=1, n_extra=24, n_extra_pad=3,
               iterations=2, gap_after=14, gap=5, with_unknown=False),
        seed=404),
}


def _set(cfg, dotted, value):
    *path, leaf = dotted.split(".")
    node = cfg
    for part in path:
        node = node[part]
    node[leaf] = value


def build_config(case: Case):
    """Returns (cfg, overrides applied) for the case."""
    cfg = config.model_config(case.preset)
    overrides = {**COMMON, **case.overrides}
    for dotted, value in overrides.items():
        _set(cfg, dotted, value)
    return cfg, overrides
