"""The AlphaFold2 reference (alphafold-colabfold on JAX) at the device check's settings.

    python3 bench/gpu/reference_gpu_bench.py --lengths 128,256,512,1024 --csv ref.csv

model_1_ptm at full width, no templates, the reference's own precision (its default
global_config.bfloat16: a bfloat16 Evoformer), `--clusters` cluster rows and `--extra` extra rows,
`--recycles` recycles run as ColabFold runs them (one jitted iteration called with the previous
outputs), random parameters in the official layout (haiku's initialisation redrawn by
tests/reference/randomize.py) and features from tests/reference/synth.py. Its
`global_config.subbatch_size` is tuned per length: unchunked (None) where it fits, else the
largest of `--subbatches` that fits. Each (length, subbatch size) runs in a child process of its
own, so that an out-of-memory failure and the peak memory are that child's alone. A prediction's
time is the median of `--reps` after one warm-up prediction (which compiles).

With `--compare EXAFOLD_CSV REFERENCE_CSV` it prints, and appends to `--record`, the two engines'
rows side by side (gpu_model_bench's --csv and this script's), with the ratios and the targets
of docs/gpu.md; the entry's machine line is the last one already in `--record` (the
gpu_model_bench entry of the same run).

Peak memory is the device's peak_bytes_in_use (XLA_PYTHON_CLIENT_PREALLOCATE is switched off so
that it is what the run needs), or the process's peak RSS where the device reports none (the
CPU). Rows go to `--csv` as each length finishes, so a time limit keeps what was measured.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
REFERENCE = HERE.parent.parent / "tests" / "reference"
PRESET = "model_1_ptm"


def compat():
    """The reference on a JAX newer than the one it was written for: jnp.clip's a_min/a_max
    keywords (removed in later JAX) map to min/max. Nothing changes where JAX still has them."""
    import jax.numpy as jnp

    try:
        jnp.clip(jnp.arange(3), a_min=1, a_max=1)
    except TypeError:
        clip = jnp.clip

        def clip_with_old_keywords(x, a_min=None, a_max=None, **kw):
            return clip(x, kw.pop("min", a_min), kw.pop("max", a_max), **kw)

        jnp.clip = clip_with_old_keywords


def config(subbatch: int | None):
    from alphafold.model import config as af_config

    cfg = af_config.model_config(PRESET)
    cfg.model.global_config.deterministic = True
    cfg.model.global_config.subbatch_size = subbatch
    cfg.model.embeddings_and_evoformer.template.enabled = False
    cfg.data.eval.num_ensemble = 1
    # The fork's AlphaFold_noE reads these; True keeps the PAE logits, as exafold computes them.
    cfg.model.calc_extended_ptm = True
    cfg.model.use_probs_extended = False
    return cfg


def child(args) -> dict:
    """One length at one subbatch size: warm-up, then --reps timed predictions."""
    sys.path.insert(0, str(REFERENCE))
    compat()
    import haiku as hk
    import jax
    import numpy as np
    from alphafold.model import modules

    import randomize
    import synth

    subbatch = None if args.subbatch == "none" else int(args.subbatch)
    cfg = config(subbatch)
    evo = cfg.model.embeddings_and_evoformer
    n = args.length
    layout = synth.Layout(n_res=n, n_res_pad=0, n_msa=args.clusters, n_msa_pad=0,
                          n_extra=args.extra, n_extra_pad=0, iterations=args.recycles + 1,
                          gap_after=n // 2, gap=5, with_unknown=False)
    feats = {k: v.astype(np.float32) if np.issubdtype(v.dtype, np.floating) else v
             for k, v in synth.make_features(layout, seed=n, templates=False).items()}
    model = hk.transform(
        lambda batch: modules.AlphaFold_noE(cfg.model)(batch, is_training=False))
    key = jax.random.PRNGKey(0)
    zero_prev = {"prev_msa_first_row": np.zeros([n, evo.msa_channel], np.float32),
                 "prev_pair": np.zeros([n, n, evo.pair_channel], np.float32),
                 "prev_pos": np.zeros([n, 37, 3], np.float32)}

    def batch(r, prev):
        return {**{k: v[r] for k, v in feats.items()}, "prev": prev}

    params = jax.jit(model.init)(key, batch(0, zero_prev))
    params = jax.device_put(randomize.randomize(jax.tree_util.tree_map(np.asarray, params),
                                                seed=1, alpha=0.1))
    apply = jax.jit(model.apply)

    def predict() -> bool:
        prev = zero_prev
        for r in range(args.recycles + 1):
            out = apply(params, key, batch(r, prev))
            prev = out["prev"]
        positions = np.asarray(out["structure_module"]["final_atom_positions"])
        return bool(np.isfinite(positions).all())

    t0 = time.perf_counter()
    finite = predict()
    warmup = time.perf_counter() - t0
    times = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        finite = predict() and finite
        times.append(time.perf_counter() - t0)
    device = jax.devices()[0]
    stats = device.memory_stats() or {}
    if "peak_bytes_in_use" in stats:
        peak, peak_kind = int(stats["peak_bytes_in_use"]), "device"
    else:
        peak, peak_kind = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "host RSS"
    return {"seconds": statistics.median(times), "times": times, "warmup_s": warmup,
            "peak_bytes": peak, "peak_kind": peak_kind, "finite": finite,
            "device": getattr(device, "device_kind", "") or device.platform,
            "jax": jax.__version__}


def run_child(args, length: int, subbatch: str) -> dict:
    cmd = [sys.executable, str(pathlib.Path(__file__).resolve()), "--child", "--length",
           str(length), "--subbatch", subbatch, "--clusters", str(args.clusters), "--extra",
           str(args.extra), "--recycles", str(args.recycles), "--reps", str(args.reps)]
    env = {**os.environ, "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    lines = [l for l in res.stdout.splitlines() if l.startswith("{")]
    if res.returncode == 0 and lines:
        return json.loads(lines[-1])
    tail = res.stderr[-3000:]
    oom = "RESOURCE_EXHAUSTED" in tail or "out of memory" in tail.lower()
    return {"error": "out of memory" if oom else f"exit {res.returncode}", "log": tail}


# Seconds per prediction that docs/gpu.md aims under: a third of the best published time at
# each length (the reference tuned, or OpenFold, on one H100 80GB).
TARGETS = {128: 0.89, 256: 0.56, 512: 2.9, 1024: 6.6}


def read_csv(path: pathlib.Path) -> dict[int, dict]:
    import csv

    with path.open() as f:
        return {int(r["S"]): r for r in csv.DictReader(f)}


def _number(text: str | None) -> float | None:
    """A CSV cell as a number, or None for an empty one or a word (OOM)."""
    try:
        return float(text) if text else None
    except ValueError:
        return None


def compare(exafold_csv: pathlib.Path, reference_csv: pathlib.Path, record: pathlib.Path | None):
    ours, ref = read_csv(exafold_csv), read_csv(reference_csv)
    lines = [f"{'S':>6} {'exafold s':>10} {'chunk':>6} {'reference s':>12} {'subbatch':>9} {'speed-up':>9} "
             f"{'exafold MiB':>12} {'reference MiB':>14} {'target s':>9}"]
    for n in sorted(set(ours) | set(ref)):
        o, r = ours.get(n, {}), ref.get(n, {})
        o_s, r_s = _number(o.get("seconds")), _number(r.get("seconds"))
        o_mib = f"{float(o['peak_bytes']) / 2**20:.0f}" if o.get("peak_bytes") else "-"
        r_mib = f"{float(r['peak_bytes']) / 2**20:.0f}" if r.get("peak_bytes") else "-"
        ratio = f"{r_s / o_s:.2f}x" if o_s and r_s else "-"
        o_txt = f"{o_s:.3f}" if o_s is not None else o.get("seconds") or "-"  # "OOM" as it is
        r_txt = f"{r_s:.3f}" if r_s is not None else r.get("seconds") or "-"
        lines.append(f"{n:>6} {o_txt:>10} {o.get('chunk') or '-':>6} {r_txt:>12} {r.get('subbatch_size') or '-':>9} "
                     f"{ratio:>9} {o_mib:>12} {r_mib:>14} {TARGETS.get(n, '-'):>9}")
    table = "\n".join(lines)
    print(table)
    if record:
        machine = "see the entry above"
        if record.exists():
            found = [l for l in record.read_text().splitlines() if l.startswith("- machine: ")]
            machine = found[-1][len("- machine: "):] if found else machine
        jax = next((r["jax"] for r in ref.values() if r.get("jax")), "?")
        now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        with record.open("a") as f:
            f.write(f"\n## exafold vs the AlphaFold2 reference on the GPU\n\n- date: {now}\n"
                    f"- machine: {machine}\n- command: `bash bench/gpu/device_check.sh`\n\n"
                    f"```\n{table}\n```\n\nThe reference: alphafold-colabfold on JAX {jax}, "
                    "its default precision (bfloat16 Evoformer), subbatch_size tuned per length "
                    "(bench/gpu/reference_gpu_bench.py); exafold's chunk the engine's (0: "
                    "unchunked); speed-up = reference s / exafold s; "
                    "medians; target: docs/gpu.md.\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lengths", default="128,256,512,1024")
    ap.add_argument("--clusters", type=int, default=512)
    ap.add_argument("--extra", type=int, default=5120)
    ap.add_argument("--recycles", type=int, default=3)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--subbatches", default="none,256,128,64,32,16,8,4",
                    help="subbatch sizes to try per length, in order (none: unchunked)")
    ap.add_argument("--csv", type=pathlib.Path)
    ap.add_argument("--compare", nargs=2, type=pathlib.Path, metavar=("EXAFOLD_CSV", "REF_CSV"))
    ap.add_argument("--record", type=pathlib.Path)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--length", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--subbatch", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args)), flush=True)
        return
    if args.compare:
        compare(*args.compare, args.record)
        return

    header = "S,subbatch_size,seconds,peak_bytes,peak_kind,warmup_s,device,jax,tried\n"
    if args.csv:
        args.csv.write_text(header)
    print(f"{'S':>6} {'subbatch':>9} {'seconds':>9} {'peak MiB':>10} {'warm-up s':>10}  tried")
    failed = False
    for length in (int(s) for s in args.lengths.split(",")):
        tried = []
        for subbatch in args.subbatches.split(","):
            r = run_child(args, length, subbatch)
            if "error" not in r:
                break
            tried.append(f"{subbatch}: {r['error']}")
            if r["error"] != "out of memory":
                print(r["log"], file=sys.stderr)
                break
        if "error" in r:
            failed = failed or r["error"] != "out of memory"
            print(f"{length:>6} {'-':>9} {'-':>9} {'-':>10} {'-':>10}  {'; '.join(tried)}",
                  flush=True)
            row = f"{length},,,,,,,,{' / '.join(tried)}\n"
        else:
            failed = failed or not r["finite"]
            print(f"{length:>6} {subbatch:>9} {r['seconds']:>9.3f} {r['peak_bytes'] / 2**20:>10.0f} "
                  f"{r['warmup_s']:>10.1f}  {'; '.join(tried) or '-'} ({r['peak_kind']}, "
                  f"{r['device']}, JAX {r['jax']}{'' if r['finite'] else ', NOT FINITE'})",
                  flush=True)
            row = (f"{length},{subbatch},{r['seconds']:.4f},{r['peak_bytes']},{r['peak_kind']},"
                   f"{r['warmup_s']:.2f},{r['device']},{r['jax']},{' / '.join(tried)}\n")
        if args.csv:
            with args.csv.open("a") as f:
                f.write(row)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
