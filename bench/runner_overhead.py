"""What the distillation runner costs per item, measured with timed stand-ins for the model and
the feature pipeline (this harness's own: instant or sleeping callables over fixed arrays).

1. the prefetch hand-off alone: an instant prepare, items taken as fast as possible;
2. a whole run with instant prepare/predict: shards, sidecars, fsynced journal, index, summary;
3. overlap: prepare and predict each sleep T; a pipelined run approaches T per item, not 2T,
   and the worker's wait for data stays near one T (the first item).

    .venv/bin/python bench/runner_overhead.py [--items 2000] [--record bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import datetime
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from exafold.runner.config import RunConfig
from exafold.runner.job import run
from exafold.runner.outputs import OutputOptions
from exafold.runner.pipeline import Prefetcher
from bench_machine import machine  # noqa: E402

LENGTH = 100


def make_inputs(root: Path, n: int) -> tuple[Path, Path]:
    fasta, msas = root / "in.fasta", root / "msas"
    seq = "MKVLA" * (LENGTH // 5)
    with fasta.open("w") as f:
        for i in range(n):
            f.write(f">b{i:06d}\n{seq}\n")
            (msas / f"b{i:06d}").mkdir(parents=True)
            (msas / f"b{i:06d}" / "a.a3m").write_text(f">q\n{seq}\n")
    return fasta, msas


def callables(delay: float):
    features = {"aatype": np.zeros(LENGTH, np.int32)}
    out = {"final_atom_positions": np.zeros((LENGTH, 37, 3), np.float32),
           "final_atom_mask": np.ones((LENGTH, 37), np.float32),
           "plddt": np.full(LENGTH, 80.0, np.float32), "mean_plddt": 80.0}

    def prepare(request):
        if delay:
            time.sleep(delay)
        return {s: features for s in request.settings}

    def predict(feats):
        if delay:
            time.sleep(delay)
        return out

    return prepare, {"model_1": predict}


def bench_handoff(n: int) -> float:
    t0 = time.perf_counter()
    p = Prefetcher(iter(range(n)), lambda i: {}, threads=2, budget_bytes=1 << 30, estimate=lambda i: 0)
    assert sum(1 for _ in p) == n
    return (time.perf_counter() - t0) / n


def bench_run(root: Path, fasta: Path, msas: Path, delay: float, shard_size: int) -> dict:
    prepare, models = callables(delay)
    cfg = RunConfig(out_dir=root / f"out-{delay}-{shard_size}", fasta=fasta, alignment_dir=msas,
                    models=(("model_1", "bench"),), outputs=OutputOptions(shard_size=shard_size),
                    progress=False, plots=False)
    t0 = time.perf_counter()
    result = run(cfg, prepare, models)
    wall = time.perf_counter() - t0
    return {"wall": wall, "stats": result.stats}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=2000)
    ap.add_argument("--overlap-items", type=int, default=100)
    ap.add_argument("--delay", type=float, default=0.02, help="seconds for prepare and for predict in part 3")
    ap.add_argument("--record", type=Path, help="append the results to this markdown file")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        root = Path(tmp)
        fasta, msas = make_inputs(root, args.items)
        handoff = bench_handoff(args.items * 10)
        rows.append(("prefetch hand-off", f"{args.items * 10}", f"{handoff * 1e6:.1f} us/item", ""))
        for shard_size in (1000, 10):
            r = bench_run(root, fasta, msas, 0.0, shard_size)
            rows.append((f"whole run, instant model, shard {shard_size}", str(args.items),
                         f"{r['wall'] / args.items * 1e3:.2f} ms/item",
                         f"writer {r['stats'].write_seconds / args.items * 1e3:.2f} ms/item"))
        small = root / "overlap"
        small.mkdir()
        fasta2, msas2 = make_inputs(small, args.overlap_items)
        r = bench_run(small, fasta2, msas2, args.delay, 10)
        per = r["stats"].wall_seconds / args.overlap_items
        rows.append((f"prepare and predict {args.delay * 1e3:.0f} ms each, shard 10", str(args.overlap_items),
                     f"{per * 1e3:.1f} ms/item ({per / args.delay:.2f} T)",
                     f"waiting for data {r['stats'].wait_seconds:.3f} s"))
    table = ["| case | items | cost | notes |", "|---|---:|---:|---|"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    text = "\n".join(table)
    print(text)
    if args.record:
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        with args.record.open("a") as f:
            f.write(f"\n## Distillation runner overhead per item\n\n- date: {now}\n"
                    f"- machine: {machine()}\n"
                    f"- command: `.venv/bin/python bench/runner_overhead.py --items {args.items}`\n\n{text}\n\n"
                    "Timed stand-ins for the model and features (the harness's own); one fsynced journal "
                    "record per item, and per shard an fsynced sidecar, shard and directory. T = the "
                    "stand-ins' delay: 1.0 T per item means preparation is fully hidden behind prediction. "
                    "The whole-run rows follow the disk's fsync latency, which varies several-fold on a "
                    "shared machine.\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
