"""Full-width AlphaFold2 (model_1_ptm) on the CPU: exafold vs the AlphaFold2 reference (JAX).

    .venv/bin/python bench/model_cpu_bench.py --lengths 64 128 --reps 3 --record bench/RESULTS.md

With --baseline DIR, another build of exafold (a checkout whose `bash cpp/tools/setup.sh` has
run, e.g. `git worktree add ../baseline HEAD~1`) is measured in the same rounds, so that a change
is judged against the code before it on the same machine at the same moment.

Both engines read the same parameter file (exafold's demo weights: random, official layout, all
48 + 4 blocks) and the same features (tests/reference/synth.py: 128 clusters, 512 extra rows, no
templates, one set per iteration), run 2 iterations (1 recycle) in float32 with 2 threads, each in
its own child process so that its peak RSS is its own. The reference runs with the reference
python (tests/reference/env.sh) and its default global_config.subbatch_size. Its first call
compiles; compile time is that call minus the median steady call, and is excluded from the timing.
Every engine is one long-lived child that warms up once and then predicts on the parent's
signal, one prediction per engine per round, in turn: a shared machine's load changes between
rounds, not between the engines of one round.
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
import tempfile
import time

import numpy as np
from bench_machine import append_entry

HERE = pathlib.Path(__file__).resolve().parent
REFERENCE = HERE.parent / "tests" / "reference"
PRESET = "model_1_ptm"
CLUSTERS, EXTRA, ITERATIONS = 128, 512, 2
THREADS = 2


def thread_env() -> dict[str, str]:
    """Both engines on THREADS threads: exafold's pool, XLA's intra-op pool and BLAS/OpenMP."""
    env = dict(os.environ)
    env.update({
        "EXAFOLD_NUM_THREADS": str(THREADS),
        "OMP_NUM_THREADS": str(THREADS),
        "OPENBLAS_NUM_THREADS": str(THREADS),
        "XLA_FLAGS": f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={THREADS}",
        "JAX_PLATFORMS": "cpu",
    })
    return env


def maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


# ---- children -------------------------------------------------------------------------------


def child_prepare(args):
    """Reference python: synthetic features for length S (the parity harness's generator)."""
    sys.path.insert(0, str(REFERENCE))
    import synth

    layout = synth.Layout(n_res=args.length, n_res_pad=0, n_msa=CLUSTERS, n_msa_pad=0, n_extra=EXTRA,
                          n_extra_pad=0, iterations=ITERATIONS, gap_after=args.length // 2, gap=5,
                          with_unknown=False)
    np.savez(pathlib.Path(args.dir) / "features.npz", **synth.make_features(layout, seed=args.length,
                                                                           templates=False))
    print(json.dumps({}))


def serve(predict, info: dict):
    """One warm-up prediction, then one more per "run" line on stdin, until "done"."""
    t0 = time.perf_counter()
    finite = predict()
    print(json.dumps({"warmup_s": time.perf_counter() - t0}), flush=True)
    for line in sys.stdin:
        if line.strip() == "done":
            break
        t0 = time.perf_counter()
        finite = predict() and finite
        print(json.dumps({"t": time.perf_counter() - t0}), flush=True)
    print(json.dumps({**info, "maxrss": maxrss_bytes(), "finite": finite}), flush=True)


def child_exafold(args):
    import exafold

    d = pathlib.Path(args.dir)
    model = exafold.Model.load(d / "params.npz", PRESET, "float32")
    feats = dict(np.load(d / "features.npz"))

    def predict():
        out = model(feats, num_recycle=ITERATIONS - 1)
        return bool(np.isfinite(out["final_atom_positions"]).all())

    info = exafold.info()
    serve(predict, {"blas": f"{info['blas_vendor']} {info['blas_version']}, kernel {info['blas_core']}",
                    "version": exafold.__version__})


def child_reference(args):
    sys.path.insert(0, str(REFERENCE))
    import jax
    import refcompat  # noqa: F401  (patches the reference before any model is built)
    import cases
    import modulefix
    import randomize
    import runner

    cfg, _ = cases.build_config(cases.Case(PRESET, {}, None, 0))
    # model_1_ptm carries template parameters; exafold runs without templates, so must this.
    cfg.model.embeddings_and_evoformer.template.enabled = False
    d = pathlib.Path(args.dir)
    feats = dict(np.load(d / "features.npz"))
    # Cast and placed once: runner.apply would copy the float32 parameters on every call.
    params = jax.device_put(runner.cast(randomize.from_flat(dict(np.load(d / "params.npz"))),
                                        np.float32))
    apply = jax.jit(modulefix.full_model(cfg).apply)
    n = feats["aatype"].shape[1]

    def predict():
        prev = {k: np.zeros(v.shape, np.float32) for k, v in generate_zero_prev(cfg, n).items()}
        for r in range(ITERATIONS):
            batch = runner.cast({**{k: v[r] for k, v in feats.items()}, "prev": prev}, np.float32)
            with runner.precision(np.float32):
                out = jax.tree_util.tree_map(np.asarray, apply(params, runner.KEY, batch))
            prev = out.pop("prev")
        return bool(np.isfinite(out["structure_module"]["final_atom_positions"]).all())

    serve(predict, {"subbatch_size": int(cfg.model.global_config.subbatch_size)})


def generate_zero_prev(cfg, n):
    evo = cfg.model.embeddings_and_evoformer
    return {"prev_msa_first_row": np.zeros([n, evo.msa_channel]),
            "prev_pair": np.zeros([n, n, evo.pair_channel]),
            "prev_pos": np.zeros([n, 37, 3])}


# ---- parent ---------------------------------------------------------------------------------


def reference_python() -> str:
    return subprocess.run(["bash", str(REFERENCE / "env.sh")], check=True, capture_output=True,
                          text=True).stdout.strip()


class Child:
    """An engine's serving child (see serve)."""

    def __init__(self, python: str, role: str, length: int, d: str):
        cmd = [python, str(pathlib.Path(__file__).resolve()), "--child", role, "--length",
               str(length), "--dir", d]
        self.role = role
        self.proc = subprocess.Popen(cmd, env=thread_env(), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.times: list[float] = []

    def reply(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise RuntimeError(f"{self.role} child failed:\n{self.proc.stderr.read()[-4000:]}")
        return json.loads(line)

    def warm_up(self):
        self.warmup_s = self.reply()["warmup_s"]

    def run(self):
        self.proc.stdin.write("run\n")
        self.proc.stdin.flush()
        self.times.append(self.reply()["t"])

    def finish(self) -> dict:
        self.proc.stdin.write("done\n")
        self.proc.stdin.flush()
        info = self.reply()
        self.proc.wait()
        return {**info, "warmup_s": self.warmup_s, "times_s": self.times}


def run_prepare(python: str, length: int, d: str):
    cmd = [python, str(pathlib.Path(__file__).resolve()), "--child", "prepare", "--length",
           str(length), "--dir", d]
    res = subprocess.run(cmd, env=thread_env(), capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"prepare child failed:\n{res.stderr[-4000:]}")


def flops(length: int) -> float:
    import exafold

    c = exafold._core.preset_flop_polynomial(PRESET, msa_clusters=CLUSTERS, extra_msa_rows=EXTRA,
                                             passes=ITERATIONS)
    return ((c[0] * length + c[1]) * length + c[2]) * length + c[3]


def measure(length: int, reps: int, ref_python: str, baseline: str | None) -> dict:
    from exafold.demo import demo_arrays

    with tempfile.TemporaryDirectory(prefix="model_bench_") as d:
        np.savez(pathlib.Path(d) / "params.npz", **demo_arrays(PRESET))
        run_prepare(ref_python, length, d)
        engines = {"exafold": (sys.executable, "exafold"), "reference": (ref_python, "reference")}
        if baseline:
            engines["baseline"] = (baseline, "exafold")
        # Warmed up one at a time, so that no warm-up (the reference's compile) overlaps a
        # timed prediction; both stay resident (a few hundred MiB each at these sizes).
        children = {}
        for name, (python, role) in engines.items():
            children[name] = Child(python, role, length, d)
            children[name].warm_up()
        for _ in range(reps):
            for child in children.values():
                child.run()
        res = {name: child.finish() for name, child in children.items()}
    row = {"S": length, "flops": flops(length), **res}
    for name in res:
        row[f"{name}_s"] = statistics.median(res[name]["times_s"])
    row["compile_s"] = res["reference"]["warmup_s"] - row["reference_s"]
    row["ratio"] = row["reference_s"] / row["exafold_s"]
    if baseline:
        row["baseline_ratio"] = row["reference_s"] / row["baseline_s"]
        row["speedup"] = row["baseline_s"] / row["exafold_s"]
    return row


def table(rows: list[dict]) -> str:
    base = "baseline" in rows[0]
    head = (f"{'S':>4} {'GFLOP':>7} | {'exafold s':>9} {'GFLOP/s':>7} {'peak MiB':>8} | "
            f"{'reference s':>11} {'compile s':>9} {'GFLOP/s':>7} {'peak MiB':>8} | {'ratio':>6}")
    if base:
        head += f" | {'baseline s':>10} {'peak MiB':>8} {'ratio':>6} {'speedup':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        g = r["flops"] / 1e9
        line = (
            f"{r['S']:>4} {g:>7.1f} | {r['exafold_s']:>9.2f} {g / r['exafold_s']:>7.2f} "
            f"{r['exafold']['maxrss'] / 2**20:>8.0f} | {r['reference_s']:>11.2f} {r['compile_s']:>9.1f} "
            f"{g / r['reference_s']:>7.2f} {r['reference']['maxrss'] / 2**20:>8.0f} | {r['ratio']:>5.2f}x")
        if base:
            line += (f" | {r['baseline_s']:>10.2f} {r['baseline']['maxrss'] / 2**20:>8.0f} "
                     f"{r['baseline_ratio']:>5.2f}x "
                     f"{r['speedup']:>6.2f}x")
        lines.append(line)
    return "\n".join(lines)


def record(path: pathlib.Path, text: str, rows: list[dict], reps: int, load: tuple, subbatch: int,
           baseline: str | None):
    forced = os.environ.get("OPENBLAS_CORETYPE")
    cmd = " ".join([*([f"OPENBLAS_CORETYPE={forced}"] if forced else []), ".venv/bin/python",
                    "bench/model_cpu_bench.py", *sys.argv[1:]])
    finite = all(r[e]["finite"] for r in rows for e in ("exafold", "reference", "baseline") if e in r)
    # The reference's XLA brings its own GEMM kernels; OPENBLAS_CORETYPE changes only exafold's.
    blas = rows[0]["exafold"]["blas"] + (f", forced by OPENBLAS_CORETYPE={forced}" if forced else "")
    notes = (
        f"{PRESET} at full width (48 Evoformer + 4 extra-MSA blocks), {CLUSTERS} clusters, {EXTRA} extra "
        f"rows, no templates, {ITERATIONS} iterations (1 recycle), float32, exafold's demo weights in one "
        f"npz read by both engines, features from tests/reference/synth.py. {THREADS} threads each "
        f"(EXAFOLD_NUM_THREADS, OMP/OPENBLAS_NUM_THREADS, XLA intra_op_parallelism_threads). Times are "
        f"medians of {reps} predictions after one warm-up; the reference's compile time (first call "
        f"minus the median) is excluded and shown apart. The engines ran in turn, one prediction "
        f"each per round, after one warm-up each. Reference: alphafold-colabfold "
        f"{reference_version()} on JAX CPU, global_config.subbatch_size {subbatch} (its default). "
        f"Peak = ru_maxrss of each child process (parameters and features included). GFLOP = "
        f"preset_flop_polynomial (analytic, both iterations). ratio = reference time / exafold time. "
        f"exafold chunk_size 0 (unchunked). exafold's BLAS: {blas}. Outputs finite in both: {finite}. Load average "
        f"{load[0]:.1f} before and {load[1]:.1f} after (the machine is shared; both engines ran "
        f"under it).")
    if "baseline" in rows[0]:
        notes += (f" Baseline: exafold {rows[0]['baseline']['version']} built from {baseline}, "
                  f"BLAS {rows[0]['baseline']['blas']}, measured in the same rounds; its ratio is "
                  f"reference time / baseline time, speedup = baseline time / exafold time.")
    append_entry(path, "Full model on the CPU: exafold vs AlphaFold2 reference", cmd, text, notes)


def reference_version() -> str:
    py = reference_python()
    return subprocess.run([py, "-c", "import importlib.metadata as m; print(m.version('alphafold-colabfold'))"],
                          capture_output=True, text=True).stdout.strip()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--lengths", type=int, nargs="+", default=[64, 128])
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--record", type=pathlib.Path)
    p.add_argument("--baseline", type=pathlib.Path,
                   help="a checkout of another exafold build (its .venv), measured in the same rounds")
    p.add_argument("--child", choices=["prepare", "exafold", "reference"], help=argparse.SUPPRESS)
    p.add_argument("--length", type=int, help=argparse.SUPPRESS)
    p.add_argument("--dir", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        {"prepare": child_prepare, "exafold": child_exafold, "reference": child_reference}[args.child](args)
        return

    ref_python = reference_python()
    baseline_python = None
    if args.baseline:
        baseline_python = str(args.baseline.resolve() / ".venv" / "bin" / "python")
        if not os.access(baseline_python, os.X_OK):
            p.error(f"--baseline {args.baseline}: no {baseline_python} (run cpp/tools/setup.sh there)")
    load_before = os.getloadavg()[0]
    rows = []
    for length in args.lengths:
        rows.append(measure(length, args.reps, ref_python, baseline_python))
        print(table(rows[-1:]), flush=True)
    text = table(rows)
    print(text)
    if args.record:
        record(args.record, text, rows, args.reps, (load_before, os.getloadavg()[0]),
               rows[0]["reference"]["subbatch_size"], args.baseline)


if __name__ == "__main__":
    main()
