"""Generates AlphaFold2 parity fixtures with the reference implementation on the CPU.

Run with the reference environment's python (env.sh creates it and prints its path):
    python generate.py --case reduced --out DIR

Writes to DIR: params.npz (official 'scope//name' keys, float32), features.npz
(leading iteration axis), iter{r}_prev.npz (the recycled input of iteration r,
fp64), iter{r}_out64.npz / iter{r}_out32.npz (fp64 truth; fp32 teacher-forced
on the same fp64 prev), module fixtures where the case has them, meta.json.
"""
import argparse
import dataclasses
import importlib.metadata
import json
import os
import pathlib
import platform
import sys
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import numpy as np  # noqa: E402

import refcompat  # noqa: E402,F401  (patches the reference before any model is built)
import cases  # noqa: E402
import compare  # noqa: E402
import modulefix  # noqa: E402
import randomize  # noqa: E402
import runner  # noqa: E402
import synth  # noqa: E402

PACKAGES = ("alphafold-colabfold", "jax", "jaxlib", "dm-haiku", "ml-collections", "dm-tree",
            "chex", "immutabledict", "numpy", "scipy")
# A module fixture run alone must reproduce the full model to this (fp64) level.
SELF_CHECK_TOL = 1e-8


def zero_prev(cfg, n):
    evo = cfg.model.embeddings_and_evoformer
    return {"prev_msa_first_row": np.zeros([n, evo.msa_channel]),
            "prev_pair": np.zeros([n, n, evo.pair_channel]),
            "prev_pos": np.zeros([n, 37, 3])}


def init_params(f, batch, param_seed, alpha):
    """haiku init (for the parameter tree and its fan-in inits), then randomised."""
    with runner.precision(np.float32):
        p0 = jax.jit(f.init)(runner.KEY, runner.cast(batch, np.float32))
    return randomize.randomize(jax.tree_util.tree_map(np.asarray, p0), param_seed, alpha)


def generate(case_name, out, alpha):
    case = cases.CASES[case_name]
    cfg, overrides = cases.build_config(case)
    templates = bool(cfg.model.embeddings_and_evoformer.template.enabled)
    features = synth.make_features(case.layout, case.seed, templates)
    np.savez(out / "features.npz", **features)
    n = features["aatype"].shape[1]
    per_iter = [{k: v[r] for k, v in features.items()} for r in range(case.layout.iterations)]

    f = modulefix.full_model(cfg)
    prev = zero_prev(cfg, n)
    t0 = time.perf_counter()
    params = init_params(f, {**per_iter[0], "prev": prev}, case.seed + 1, alpha)
    np.savez(out / "params.npz", **randomize.to_flat(params))
    timings = {"init": time.perf_counter() - t0}

    apply = jax.jit(f.apply)
    gaps, recycle, prevs, outputs64 = {}, {}, [], []
    t0 = time.perf_counter()
    for r, feats in enumerate(per_iter):
        np.savez(out / f"iter{r}_prev.npz", **prev)
        prevs.append(prev)
        batch = {**feats, "prev": prev}
        ret64 = runner.apply(apply, params, batch, dtype=np.float64)
        ret32 = runner.apply(apply, params, batch, dtype=np.float32)
        next_prev, prev32 = ret64.pop("prev"), ret32.pop("prev")
        out64, out32 = runner.flatten(ret64), runner.flatten(ret32)
        np.savez(out / f"iter{r}_out64.npz", **out64)
        np.savez(out / f"iter{r}_out32.npz", **out32)
        gaps[f"iter{r}"] = compare.gaps(out32, out64, compare.mask_table(feats))
        if r + 1 < len(per_iter):
            recycle[f"iter{r + 1}"] = compare.recycle_margins(
                next_prev["prev_pos"], prev32["prev_pos"], per_iter[r + 1])
        outputs64.append(out64)
        prev = next_prev
    timings["forward_fp64_and_fp32"] = time.perf_counter() - t0

    meta = {
        "case": case_name,
        "preset": case.preset,
        "cfg_overrides": overrides,
        "layout": dataclasses.asdict(case.layout),
        "templates": "one fully masked template (T=1)" if templates else "disabled by the preset",
        "seeds": {"features": case.seed, "params": case.seed + 1, "haiku_init_key": 0, "apply_key": 0},
        "alpha": alpha,
        "num_params": int(sum(v.size for s in params.values() for v in s.values())),
        "num_param_arrays": int(sum(len(s) for s in params.values())),
        "versions": {p: importlib.metadata.version(p) for p in PACKAGES},
        "python": platform.python_version(),
        "jax_backend": jax.default_backend(),
        "fp32_vs_fp64": gaps,
        "recycling": recycle,
    }
    if case.module_fixtures:
        t0 = time.perf_counter()
        meta["modules"] = module_fixtures(cfg, params, per_iter, prevs, outputs64, out,
                                          iteration=1)
        timings["module_fixtures"] = time.perf_counter() - t0
    meta["timings_s"] = timings
    (out / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True))


def module_fixtures(cfg, params, per_iter, prevs, outputs64, out, iteration):
    """Module fixtures on the inputs those modules see in the given fp64 iteration."""
    feats = per_iter[iteration]
    captured = modulefix.capture_block_inputs(cfg, params, {**feats, "prev": prevs[iteration]})
    evo64, evo_gaps = modulefix.evoformer_block(
        cfg, params, captured, "evoformer_iteration", feats, out / "module_evoformer_block.npz")
    extra64, extra_gaps = modulefix.evoformer_block(
        cfg, params, captured, "extra_msa_stack", feats, out / "module_extra_msa_block.npz")
    reps = {k: outputs64[iteration][f"representations/{k}"] for k in ("single", "pair")}
    sm64, sm_gaps = modulefix.structure_module(cfg, params, reps, feats,
                                               out / "module_structure_module.npz")

    # Standalone fp64 modules must reproduce the full model: block 0 of the
    # Evoformer feeds block 1, the (single) extra block feeds Evoformer block 0
    # its pair, and the structure module gives the full model's atoms.
    checks = {
        "evoformer_block0_vs_block1_input": np.abs(
            evo64["msa"] - captured["evoformer_iteration"][1]["activations/msa"]).max(),
        "extra_block_vs_evoformer_pair_input": np.abs(
            extra64["pair"] - captured["evoformer_iteration"][0]["activations/pair"]).max(),
        "structure_module_vs_full_model": np.abs(
            sm64["final_atom_positions"]
            - outputs64[iteration]["structure_module/final_atom_positions"]).max(),
    }
    checks = {k: float(v) for k, v in checks.items()}
    if max(checks.values()) > SELF_CHECK_TOL:
        raise RuntimeError(f"module fixtures disagree with the full model: {checks}")
    return {
        "iteration": iteration,
        "params": {
            "module_evoformer_block.npz": modulefix.EVOFORMER + "evoformer_iteration, block 0",
            "module_extra_msa_block.npz": modulefix.EVOFORMER + "extra_msa_stack, block 0",
            "module_structure_module.npz": modulefix.ITERATION + "structure_module",
        },
        "fp32_vs_fp64": {"module_evoformer_block.npz": evo_gaps,
                         "module_extra_msa_block.npz": extra_gaps,
                         "module_structure_module.npz": sm_gaps},
        "self_check_max_abs_fp64": checks,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", required=True, choices=sorted(cases.CASES))
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--alpha", type=float, default=cases.ALPHA,
                        help="output scale of zero-initialised layers (for re-measuring; "
                             "cached fixtures always use the default)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    generate(args.case, args.out, args.alpha)
    print(f"{args.case}: {time.perf_counter() - t0:.1f} s -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
