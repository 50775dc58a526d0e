"""HDF5 shards: size and write time with the datasets compressed (shuffle + deflate 1, the
default) and without, for a shard of a few small structures and a large one.

    .venv/bin/python bench/shard_write_bench.py --reps 3 --record bench/RESULTS.md

Structures are helices with coordinate noise (5 atoms per residue), pLDDT profiles and PAE that
grows with sequence separation plus noise, as the runner's test doubles make them: smoother than
random numbers, less regular than a real model's output. Each configuration is written `reps`
times, alternating with the other, and the median time is kept; the data is made beforehand.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_machine import append_entry

import exafold


def structures(count: int, length: int, seed: int) -> list[tuple]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        t = np.arange(length, dtype=np.float64)
        ca = np.stack([2.3 * np.cos(1.745 * t), 2.3 * np.sin(1.745 * t), 1.5 * t], axis=1)
        pos = np.zeros((length, 37, 3), np.float32)
        mask = np.zeros((length, 37), np.uint8)
        for a in range(5):
            pos[:, a] = ca + rng.normal(0, 0.6, (length, 3))
            mask[:, a] = 1
        plddt = np.clip(60 + 20 * np.sin(t / 7) + rng.normal(0, 3, length), 0, 100).astype(np.float32)
        pae = (np.abs(t[:, None] - t[None, :]) / 8 + rng.gamma(2.0, 0.7, (length, length))).astype(np.float32)
        out.append((f"s{i:05d}", "A" * length, np.zeros(length, np.uint8), np.arange(1, length + 1, dtype=np.int32),
                    pos, mask, plddt, pae))
    return out


def write(path: Path, items: list[tuple], level: int) -> float:
    t0 = time.perf_counter()
    with exafold.ShardWriter(str(path), pae="float16", deflate_level=level) as w:
        for sid, seq, aatype, resi, pos, mask, plddt, pae in items:
            w.append(sid, seq, aatype, resi, pos, mask, plddt, model="model_1_ptm", seed=1, runtime_seconds=1.0,
                     flops=1.0, ptm=0.5, pae=pae)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--record", type=Path)
    args = ap.parse_args()
    cases = [("4 x 60 residues", structures(4, 60, 0)), ("200 x 300 residues", structures(200, 300, 1))]
    rows = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        for name, items in cases:
            seconds = {0: [], 1: []}
            size = {}
            for _ in range(args.reps):
                for level in (1, 0):
                    path = Path(tmp) / f"shard-{level}.h5"
                    seconds[level].append(write(path, items, level))
                    size[level] = path.stat().st_size
                    path.unlink()
            rows.append((name, size[0], statistics.median(seconds[0]), size[1], statistics.median(seconds[1])))
    load_after = os.getloadavg()
    table = [f"{'shard':<20} {'plain MB':>9} {'s':>7} | {'deflate MB':>10} {'s':>7} | {'size':>6} {'time':>6}",
             "-" * 75]
    for name, s0, t0, s1, t1 in rows:
        table.append(f"{name:<20} {s0 / 1e6:>9.3f} {t0:>7.3f} | {s1 / 1e6:>10.3f} {t1:>7.3f} | "
                     f"{s1 / s0:>5.2f}x {t1 / t0:>5.2f}x")
    text = "\n".join(table)
    print(text)
    if args.record:
        notes = (f"PAE stored as float16, chunk_residues 8192 (the defaults). size = deflate / plain bytes, time = "
                 f"deflate / plain write seconds (append of every structure and finish, which fsyncs); medians of "
                 f"{args.reps} alternating writes into a temporary directory on the local disk. Load average "
                 f"{load_before[0]:.1f} before and {load_after[0]:.1f} after (the machine is shared).")
        append_entry(args.record, "HDF5 shard size and write time, compressed and not",
                     f".venv/bin/python bench/shard_write_bench.py --reps {args.reps} --record {args.record}", text, notes)


if __name__ == "__main__":
    main()
