"""Does grouping short sequences raise throughput? (issue 5)

The model runs one sequence at a time; it has no batch dimension. So the only ways to group
short sequences are (a) padding each to the group's longest length and running them back to
back, and (b) joining k of them into one item of length k*n (chain breaks by a residue_index
gap, as multimer-by-linker tricks do) so that one call serves k structures. Both pay only if a
call's fixed cost dominates; this measures it. For each length n: the median seconds of one
prediction at n (the per-structure cost unbatched), and t(k*n)/k for the largest k with
k*n <= --max-joined (the per-structure cost of one joined item). Padding to L costs t(L) per
structure, which the first column gives directly.

    .venv/bin/python bench/batching_bench.py [--reps 3] [--record bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import time
from pathlib import Path

import numpy as np

from exafold.demo import demo_params_path
from exafold.features import build_raw_features, parse_a3m
from exafold.model import Model, model_features
from bench_machine import machine  # noqa: E402

LENGTHS = (16, 24, 32, 48, 64, 96, 128)
AA = np.array(list("ACDEFGHIKLMNPQRSTVWY"))
# The demo job's sizes (exafold demo): shallow enough for a CPU, deep enough to fill the
# clusters and the extra MSA.
CONFIG = dict(num_recycle=1, max_clusters=32, max_extra=64)


def features(n: int, rng: np.random.Generator, chains: int = 1) -> dict:
    """Model inputs for a random query of n residues with a 200-row MSA (30% substitutions);
    `chains` > 1 joins that many such chains with a residue_index gap of 200 between them."""
    query = "".join(rng.choice(AA, n))
    rows = [query] + ["".join(np.where(rng.random(n) < 0.3, rng.choice(AA, n), list(query))) for _ in range(199)]
    text = "".join(f">r{i}\n{r}\n" for i, r in enumerate(rows))
    raw = build_raw_features(query, [parse_a3m(text, "synthetic.a3m")])
    if chains > 1:
        raw = join_chains(raw, chains)
    return model_features(raw, 0, **CONFIG)


def join_chains(raw: dict, k: int) -> dict:
    """k copies of one chain's raw features as a single item: every array tiled along its residue
    axis (the first of size n), residue_index offset by 200 per chain (a chain break)."""
    n = len(raw["residue_index"])
    out = {}
    for name, value in raw.items():
        value = np.asarray(value)
        axis = next((a for a, size in enumerate(value.shape) if size == n), None)
        out[name] = value if axis is None else np.concatenate([value] * k, axis=axis)
    out["residue_index"] = np.concatenate([np.asarray(raw["residue_index"]) + 200 * c for c in range(k)])
    if "seq_length" in raw:
        out["seq_length"] = np.full_like(np.asarray(raw["seq_length"]), n * k)
    return out


def timed(model: Model, feats: dict, reps: int) -> float:
    """Median seconds of `reps` predictions after one untimed warm-up."""
    model(feats, num_recycle=CONFIG["num_recycle"])
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        model(feats, num_recycle=CONFIG["num_recycle"])
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--max-joined", type=int, default=128, help="longest joined item (residues)")
    ap.add_argument("--record", type=Path, help="append the results to this markdown file")
    args = ap.parse_args()
    model = Model.load(str(demo_params_path("reduced_ptm")), "reduced_ptm")
    rng = np.random.default_rng(0)
    single = {n: timed(model, features(n, rng), args.reps) for n in LENGTHS}
    rows = []
    for n in LENGTHS:
        k = args.max_joined // n
        joined = timed(model, features(n, rng, k), args.reps) / k if k > 1 else single[n]
        rows.append((n, single[n], single[n] / n * 1e3, k, joined, single[n] / joined,
                     single[LENGTHS[-1]] / single[n]))
    table = ["| n | s/structure | ms/residue | k joined | s/structure joined | joined speed-up | "
             f"pad-to-{LENGTHS[-1]} slow-down |", "|---:|---:|---:|---:|---:|---:|---:|"]
    table += [f"| {n} | {t:.3f} | {r:.2f} | {k} | {j:.3f} | {s:.2f}x | {p:.2f}x |" for n, t, r, k, j, s, p in rows]
    text = "\n".join(table)
    print(text)
    if args.record:
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        with args.record.open("a") as f:
            f.write(f"\n## Short-sequence batching (issue 5), reduced_ptm demo weights\n\n- date: {now}\n"
                    f"- machine: {machine()}, EXAFOLD_NUM_THREADS={os.environ.get('EXAFOLD_NUM_THREADS', 'all')}\n"
                    f"- command: `.venv/bin/python bench/batching_bench.py --reps {args.reps} "
                    f"--max-joined {args.max_joined}`\n\n{text}\n\n"
                    f"Median of {args.reps} predictions after a warm-up; {CONFIG['num_recycle'] + 1} passes, "
                    f"{CONFIG['max_clusters']} clusters, {CONFIG['max_extra']} extra rows (the demo job's "
                    "sizes), 200-row synthetic MSA. Joined: k chains of length n as one item of k*n residues; "
                    "speed-up = unbatched / joined seconds per structure. Pad-to slow-down = t(128) / t(n), "
                    "the cost per structure of padding a length-n sequence into a group of 128.\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
