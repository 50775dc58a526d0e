"""Per-module parity fixtures of the AlphaFold2 trunk, from the reference on the CPU.

Run with the reference environment's python (env.sh prints its path):
    python trunk_modules.py [--cache-root DIR]

Prints the fixture directory, DIR/trunk-<hash>/ (DIR defaults to
${XDG_CACHE_HOME:-~/.cache}/exafold/fixtures), where <hash> covers this script,
the harness modules it imports and the reference's package versions; an existing directory is reused, a new one
is written under a temporary name and renamed into place when complete.

Contents:
  params.npz       the reduced model_1_ptm parameters, official 'scope//name'
                   keys, float32, randomised as in generate.py (seed 7)
  <module>.npz     input/<name>, out64/<name> (float64 truth) and out32/<name>
                   (the reference in float32 on the float32-cast inputs)
  meta.json        per fixture: its parameter scope, and per output the max
                   |fp32 - fp64| and max |fp64| of the reference
Every module runs standalone under hk.transform on the inputs it sees in the
full model (block 0 of each stack, one recycling iteration with random
recycled inputs), with the parameters of block 0 sliced from params.npz.
"""
import argparse
import hashlib
import importlib.metadata
import json
import os
import pathlib
import shutil
import sys
import tempfile

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import haiku as hk  # noqa: E402
import jax  # noqa: E402
import numpy as np  # noqa: E402

import refcompat  # noqa: E402,F401  (patches the reference before any model is built)
import cases  # noqa: E402
import modulefix  # noqa: E402
import randomize  # noqa: E402
import runner  # noqa: E402
import synth  # noqa: E402
from alphafold.common import residue_constants as rc  # noqa: E402
from alphafold.model import modules  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
DEPENDENCIES = ("trunk_modules.py", "cases.py", "modulefix.py", "randomize.py", "refcompat.py",
                "runner.py", "synth.py")
PACKAGES = ("alphafold-colabfold", "jax", "jaxlib", "dm-haiku", "numpy")
CASE = "reduced"
PARAM_SEED = 7
PREV_SEED = 8
# Recycled pseudo-beta positions are drawn in a cube of this side (Angstrom), so their
# distances cover every recycling bin (3.25 .. 20.75) and beyond.
PREV_POS_BOX = 16.0
RECYCLE_EDGES = np.linspace(3.25, 20.75, 15)
# A recycled distance this close to a bin edge could change bins when cast to float32.
MIN_EDGE_MARGIN = 1e-4


def fixture_hash():
    h = hashlib.sha256()
    for name in DEPENDENCIES:
        h.update(name.encode() + b"\0" + (HERE / name).read_bytes())
    for package in PACKAGES:
        h.update(f"{package}=={importlib.metadata.version(package)}".encode())
    return h.hexdigest()[:16]


def random_prev(n, c_m, c_z, feats):
    """Recycled inputs of a late iteration: O(1) activations and spread-out atoms, checked
    to keep every real pseudo-beta distance clear of the bin edges."""
    rng = np.random.default_rng(PREV_SEED)
    prev = {"prev_msa_first_row": rng.standard_normal([n, c_m]),
            "prev_pair": rng.standard_normal([n, n, c_z]),
            "prev_pos": rng.uniform(0.0, PREV_POS_BOX, [n, 37, 3])}
    is_gly = feats["aatype"] == rc.restype_order["G"]
    pb = np.where(is_gly[:, None], prev["prev_pos"][:, rc.atom_order["CA"]],
                  prev["prev_pos"][:, rc.atom_order["CB"]])
    d = np.sqrt(((pb[:, None] - pb[None]) ** 2).sum(-1))[np.triu_indices(n, 1)]
    margin = float(np.abs(d[:, None] - RECYCLE_EDGES).min())
    if margin < MIN_EDGE_MARGIN:
        raise RuntimeError(f"recycled distance {margin} A from a bin edge; change PREV_SEED")
    return prev, margin


def sub_params(params, stack, module):
    """Block 0 of `module` in `stack`, named as a standalone module creates it."""
    root = modulefix.EVOFORMER + stack + "/"
    return {scope[len(root):]: {n: v[0] for n, v in names.items()}
            for scope, names in params.items()
            if scope == root + module or scope.startswith(root + module + "/")}


def gaps(out64, out32):
    return {k: {"max_abs_diff": float(np.abs(out32[k].astype(np.float64) - out64[k]).max()),
                "max_abs_fp64": float(np.abs(out64[k]).max())} for k in out64}


def run_module(fn, params, inputs):
    """fn(**inputs) -> dict, run standalone in float64 and float32."""
    f = hk.transform(lambda kw: fn(**kw))
    jitted = jax.jit(f.apply)
    out64 = runner.flatten(runner.apply(jitted, params, inputs, dtype=np.float64))
    out32 = runner.flatten(runner.apply(jitted, params, inputs, dtype=np.float32))
    return out64, out32


def module_fns(cfg):
    """name -> (stack, module scope, fn, input names); the fns build the reference modules
    exactly as EvoformerIteration does ("" as the scope: the whole block)."""
    evo = cfg.model.embeddings_and_evoformer.evoformer
    c_z = cfg.model.embeddings_and_evoformer.pair_channel
    gc = cfg.model.global_config

    def row(msa, msa_mask, pair):
        m = modules.MSARowAttentionWithPairBias(evo.msa_row_attention_with_pair_bias, gc,
                                                name="msa_row_attention_with_pair_bias")
        return {"update": m(msa, msa_mask, pair_act=pair, is_training=False)}

    def opm(msa, msa_mask):
        m = modules.OuterProductMean(evo.outer_product_mean, gc, num_output_channel=c_z,
                                     name="outer_product_mean")
        return {"update": m(msa, msa_mask, is_training=False)}

    def unary(cls, name, config, act, mask):
        def fn(**kw):
            return {"update": cls(config, gc, name=name)(kw[act], kw[mask], is_training=False)}
        return fn

    def block(stack):
        def fn(msa, msa_mask, pair, pair_mask):
            it = modules.EvoformerIteration(evo, gc, is_extra_msa=stack == "extra_msa_stack",
                                            name=stack)
            return it(activations={"msa": msa, "pair": pair},
                      masks={"msa": msa_mask, "pair": pair_mask}, is_training=False)
        return fn

    msa_in, pair_in = ("msa", "msa_mask"), ("pair", "pair_mask")
    fns = {}
    for prefix, stack in (("evo", "evoformer_iteration"), ("extra", "extra_msa_stack")):
        fns[f"{prefix}_row_attention"] = (stack, "msa_row_attention_with_pair_bias", row,
                                          ("msa", "msa_mask", "pair"))
        fns[f"{prefix}_outer_product_mean"] = (stack, "outer_product_mean", opm, msa_in)
        fns[f"{prefix}_msa_transition"] = (stack, "msa_transition", unary(
            modules.Transition, "msa_transition", evo.msa_transition, *msa_in), msa_in)
        fns[f"{prefix}_pair_transition"] = (stack, "pair_transition", unary(
            modules.Transition, "pair_transition", evo.pair_transition, *pair_in), pair_in)
        for edge in ("outgoing", "incoming"):
            name = f"triangle_multiplication_{edge}"
            fns[f"{prefix}_trimul_{edge}"] = (stack, name, unary(
                modules.TriangleMultiplication, name, evo[name], *pair_in), pair_in)
        for node in ("starting", "ending"):
            name = f"triangle_attention_{node}_node"
            fns[f"{prefix}_triangle_attention_{node}"] = (stack, name, unary(
                modules.TriangleAttention, name, evo[name], *pair_in), pair_in)
        fns[f"{prefix}_block"] = (stack, "", block(stack), msa_in + pair_in)
    fns["evo_column_attention"] = ("evoformer_iteration", "msa_column_attention", unary(
        modules.MSAColumnAttention, "msa_column_attention", evo.msa_column_attention, *msa_in),
        msa_in)
    fns["extra_global_column_attention"] = (
        "extra_msa_stack", "msa_column_global_attention",
        unary(modules.MSAColumnGlobalAttention, "msa_column_global_attention",
              evo.msa_column_attention, *msa_in), msa_in)
    return fns


def generate(out):
    case = cases.CASES[CASE]
    cfg, _ = cases.build_config(case)
    evo_cfg = cfg.model.embeddings_and_evoformer
    features = synth.make_features(case.layout, case.seed, templates=True)
    feats = {k: v[0] for k, v in features.items()}
    n = feats["aatype"].shape[0]
    prev, margin = random_prev(n, evo_cfg.msa_channel, evo_cfg.pair_channel, feats)

    model = modulefix.full_model(cfg)
    batch = {**feats, "prev": prev}
    with runner.precision(np.float32):
        p0 = jax.jit(model.init)(runner.KEY, runner.cast(batch, np.float32))
    params = randomize.randomize(jax.tree_util.tree_map(np.asarray, p0), PARAM_SEED, cases.ALPHA)
    np.savez(out / "params.npz", **randomize.to_flat(params))

    meta = {"case": CASE, "preset": "reduced_ptm", "alpha": cases.ALPHA, "param_seed": PARAM_SEED,
            "prev_seed": PREV_SEED, "recycle_bin_edge_margin_angstrom": margin, "fixtures": {}}

    # The whole trunk of one iteration, and the inputs every block sees.
    apply = jax.jit(model.apply)
    ret64 = runner.apply(apply, params, batch, dtype=np.float64)
    ret32 = runner.apply(apply, params, batch, dtype=np.float32)
    reps64 = {k: v for k, v in ret64["representations"].items() if k != "structure_module"}
    reps32 = {k: ret32["representations"][k] for k in reps64}
    captured = modulefix.capture_block_inputs(cfg, params, batch)
    s = feats["msa_feat"].shape[0]

    trunk_inputs = {**feats, **prev}
    save(out, "trunk", trunk_inputs, reps64, reps32, meta, "alphafold/alphafold_iteration")
    extra0, evo0 = captured["extra_msa_stack"][0], captured["evoformer_iteration"][0]
    embeddings = {"extra_msa_activations": extra0["activations/msa"],
                  "pair": extra0["activations/pair"],
                  "msa": evo0["activations/msa"][:s]}
    save(out, "embeddings", trunk_inputs, embeddings, None, meta,
         "alphafold/alphafold_iteration/evoformer")

    fns = module_fns(cfg)
    for name, (stack, module, fn, input_names) in sorted(fns.items()):
        block = captured[stack][0]
        available = {"msa": block["activations/msa"], "msa_mask": block["masks/msa"],
                     "pair": block["activations/pair"], "pair_mask": block["masks/pair"]}
        inputs = {k: available[k] for k in input_names}
        if module:
            p = sub_params(params, stack, module)
        else:
            p = modulefix._sub_params(params, modulefix.EVOFORMER, stack, block=0)
        out64, out32 = run_module(fn, p, inputs)
        scope = modulefix.EVOFORMER + stack + ("/" + module if module else "")
        save(out, name, inputs, out64, out32, meta, scope, block=0)

    # A standalone block must reproduce the full model's next block input.
    evo_block = np.load(out / "evo_block.npz")
    check = float(np.abs(evo_block["out64/msa"]
                         - captured["evoformer_iteration"][1]["activations/msa"]).max())
    if check > 1e-8:
        raise RuntimeError(f"standalone Evoformer block differs from the full model by {check}")
    meta["self_check_max_abs_fp64"] = check
    (out / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True))


def save(out, name, inputs, out64, out32, meta, scope, block=None):
    arrays = {f"input/{k}": np.asarray(v) for k, v in inputs.items()}
    arrays.update({f"out64/{k}": np.asarray(v) for k, v in out64.items()})
    entry = {"scope": scope, "block": block}
    if out32 is not None:
        arrays.update({f"out32/{k}": np.asarray(v) for k, v in out32.items()})
        entry["fp32_vs_fp64"] = gaps({k: np.asarray(v) for k, v in out64.items()},
                                     {k: np.asarray(v) for k, v in out32.items()})
    np.savez(out / f"{name}.npz", **arrays)
    meta["fixtures"][name] = entry


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    cache = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache"))
    parser.add_argument("--cache-root", type=pathlib.Path, default=cache / "exafold" / "fixtures")
    args = parser.parse_args(argv)
    final = args.cache_root / f"trunk-{fixture_hash()}"
    if not (final / "meta.json").exists():
        args.cache_root.mkdir(parents=True, exist_ok=True)
        tmp = pathlib.Path(tempfile.mkdtemp(prefix=".trunk-", dir=args.cache_root))
        try:
            generate(tmp)
            try:
                tmp.rename(final)
            except OSError:  # a concurrent run finished first; its result is identical
                if not (final / "meta.json").exists():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print(final)


if __name__ == "__main__":
    sys.exit(main())
