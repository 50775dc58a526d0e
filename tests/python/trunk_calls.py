"""Calling the trunk algorithms of exafold._core._modules by fixture name.

A fixture name is '<stack>_<module>': stack 'evo' (the Evoformer) or 'extra' (the
extra-MSA stack), module one of MODULES; the same names key the reference
fixtures written by tests/reference/trunk_modules.py.
"""
import numpy as np

from exafold import _core

M = _core._modules
EVOFORMER = "alphafold/alphafold_iteration/evoformer"
STACKS = {"evo": "evoformer_iteration", "extra": "extra_msa_stack"}
FEATURES = ("aatype", "residue_index", "seq_mask", "target_feat", "msa_feat", "msa_mask",
            "extra_msa", "extra_msa_mask", "extra_has_deletion", "extra_deletion_value")
PREV = ("prev_msa_first_row", "prev_pair", "prev_pos")


def _update(fn):
    return lambda *args: {"update": fn(*args)}


# module -> (scope under the stack, input names, call(params, scope, block, inputs, chunk))
MODULES = {
    "row_attention": ("msa_row_attention_with_pair_bias", ("msa", "msa_mask", "pair"),
                      _update(lambda p, s, b, i, c: M.msa_row_attention_with_pair_bias(
                          p, s, b, i["msa"], i["msa_mask"], i["pair"], c))),
    "column_attention": ("msa_column_attention", ("msa", "msa_mask"),
                         _update(lambda p, s, b, i, c: M.msa_column_attention(
                             p, s, b, i["msa"], i["msa_mask"], c))),
    "global_column_attention": ("msa_column_global_attention", ("msa", "msa_mask"),
                                _update(lambda p, s, b, i, c: M.msa_column_global_attention(
                                    p, s, b, i["msa"], i["msa_mask"], c))),
    "msa_transition": ("msa_transition", ("msa",),
                       _update(lambda p, s, b, i, c: M.transition(p, s, b, i["msa"], c))),
    "pair_transition": ("pair_transition", ("pair",),
                        _update(lambda p, s, b, i, c: M.transition(p, s, b, i["pair"], c))),
    "outer_product_mean": ("outer_product_mean", ("msa", "msa_mask"),
                           _update(lambda p, s, b, i, c: M.outer_product_mean(
                               p, s, b, i["msa"], i["msa_mask"], c))),
    **{f"trimul_{e}": (f"triangle_multiplication_{e}", ("pair", "pair_mask"),
                       _update(lambda p, s, b, i, c, e=e: M.triangle_multiplication(
                           p, s, b, e, i["pair"], i["pair_mask"], c)))
       for e in ("outgoing", "incoming")},
    **{f"triangle_attention_{n}": (f"triangle_attention_{n}_node", ("pair", "pair_mask"),
                                   _update(lambda p, s, b, i, c, n=n: M.triangle_attention(
                                       p, s, b, n, i["pair"], i["pair_mask"], c)))
       for n in ("starting", "ending")},
}


def block_call(column):
    return lambda p, s, b, i, c: M.evoformer_block(p, s, b, column, i["msa"], i["msa_mask"],
                                                   i["pair"], i["pair_mask"], c)


def fixture_names():
    """Every module fixture: the shared modules in both stacks, the stack-specific column
    attention, and one whole block per stack."""
    shared = [m for m in MODULES if "column_attention" not in m]
    names = [f"{stack}_{m}" for stack in STACKS for m in shared]
    return sorted(names + ["evo_column_attention", "extra_global_column_attention",
                           "evo_block", "extra_block"])


def scope_of(name):
    stack, module = name.split("_", 1)
    base = f"{EVOFORMER}/{STACKS[stack]}"
    return base if module == "block" else f"{base}/{MODULES[module][0]}"


def input_names(name):
    module = name.split("_", 1)[1]
    return ("msa", "msa_mask", "pair", "pair_mask") if module == "block" else MODULES[module][1]


def call(params, name, inputs, chunk_size=0, scope=None, block=0):
    """Outputs of fixture `name` ({'update'} or, for blocks, {'msa', 'pair'})."""
    stack, module = name.split("_", 1)
    scope = scope or scope_of(name)
    if module == "block":
        fn = block_call("global" if stack == "extra" else "full")
    else:
        fn = MODULES[module][2]
    return fn(params, scope, block, {k: inputs[k] for k in input_names(name)}, chunk_size)


def max_rel_diff(ours, ref, mask=None):
    """(max |ours - ref|, that over max |ref|) over the entries the mask keeps."""
    diff = np.abs(np.asarray(ours, np.float64) - ref)
    scale = np.abs(ref)
    if mask is not None:
        keep = np.broadcast_to(mask.reshape(mask.shape + (1,) * (diff.ndim - mask.ndim)),
                               diff.shape)
        diff, scale = diff[keep], scale[keep]
    d = float(diff.max())
    return d, d / float(scale.max())
