"""Module-level fixtures: one Evoformer block, one extra-MSA block and the
structure module, each run alone under hk.transform on inputs taken from the
full model, so an engine can be checked per module with teacher forcing."""
import haiku as hk
import jax
import numpy as np
from alphafold.model import folding, modules

import compare
import runner

ITERATION = "alphafold/alphafold_iteration/"
EVOFORMER = ITERATION + "evoformer/"
STACKS = ("evoformer_iteration", "extra_msa_stack")


def _forward(cfg, batch, interceptor=None):
    model = modules.AlphaFold_noE(cfg.model)
    if interceptor is None:
        return model(batch, is_training=False, return_representations=True)
    with hk.intercept_methods(interceptor):
        return model(batch, is_training=False, return_representations=True)


def full_model(cfg):
    return hk.transform(lambda batch: _forward(cfg, batch))


def capture_block_inputs(cfg, params, batch):
    """fp64 full-model run recording, per stack, the inputs of every block in order."""
    seen = {name: [] for name in STACKS}

    def record(name, activations, masks):
        seen[name].append(runner.flatten({"activations": activations, "masks": masks}))

    def interceptor(method, args, kwargs, context):
        name = context.method_name == "__call__" and context.module.module_name.split("/")[-1]
        if name in seen:
            jax.debug.callback(lambda a, m, name=name: record(name, a, m),
                               kwargs["activations"], kwargs["masks"], ordered=True)
        return method(*args, **kwargs)

    f = hk.transform(lambda b: _forward(cfg, b, interceptor))
    runner.apply(jax.jit(f.apply), params, batch, dtype=np.float64)
    return seen


def _sub_params(params, root, module, block=None):
    """Params of `module` under `root`, named relative to `root` as a standalone
    transform creates them; `block` slices a layer stack."""
    return {scope[len(root):]: {n: (v[block] if block is not None else v) for n, v in names.items()}
            for scope, names in params.items()
            if scope == root + module or scope.startswith(root + module + "/")}


def _run_both(fn, params, inputs, table):
    f = hk.transform(fn)
    jitted = jax.jit(f.apply)
    out64 = runner.flatten(runner.apply(jitted, params, *inputs, dtype=np.float64))
    out32 = runner.flatten(runner.apply(jitted, params, *inputs, dtype=np.float32))
    return out64, out32, compare.gaps(out32, out64, table)


def _save(path, inputs, out64, out32):
    np.savez(path, **{f"input/{k}": v for k, v in inputs.items()},
             **{f"out64/{k}": v for k, v in out64.items()},
             **{f"out32/{k}": v for k, v in out32.items()})


def evoformer_block(cfg, params, captured, stack, feats, out_path):
    evo = cfg.model.embeddings_and_evoformer
    block_input = captured[stack][0]

    def fn(activations, masks):
        block = modules.EvoformerIteration(evo.evoformer, cfg.model.global_config,
                                           is_extra_msa=stack == "extra_msa_stack", name=stack)
        return block(activations=activations, masks=masks, is_training=False)

    inputs = ({"msa": block_input["activations/msa"], "pair": block_input["activations/pair"]},
              {"msa": block_input["masks/msa"], "pair": block_input["masks/pair"]})
    out64, out32, gaps = _run_both(fn, _sub_params(params, EVOFORMER, stack, block=0), inputs,
                                   compare.mask_table(feats, extra=[block_input["masks/msa"]]))
    _save(out_path, block_input, out64, out32)
    return out64, gaps


def structure_module(cfg, params, representations, feats, out_path):
    def fn(representations, batch):
        # compute_loss=True only makes the module return its intermediates.
        sm = folding.StructureModule(cfg.model.heads.structure_module, cfg.model.global_config,
                                     compute_loss=True)
        return sm(representations, batch, is_training=False)

    batch_keys = ("aatype", "seq_mask", "atom14_atom_exists", "residx_atom37_to_atom14",
                  "atom37_atom_exists")
    inputs = ({k: representations[k] for k in ("single", "pair")},
              {k: feats[k] for k in batch_keys})
    out64, out32, gaps = _run_both(fn, _sub_params(params, ITERATION, "structure_module"), inputs,
                                   compare.mask_table(feats))
    _save(out_path, runner.flatten({"representations": inputs[0], "batch": inputs[1]}), out64, out32)
    return out64, gaps
