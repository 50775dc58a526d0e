"""What templates cost: the whole model with 4 templates against the same model without.

    .venv/bin/python bench/model_templates_bench.py --length 64 --reps 3 --record bench/RESULTS.md

model_1_ptm at full width (exafold's demo weights: random, official layout, all 48 + 4 blocks and
the 2-block template pair stack), S residues, 128 clusters, 512 extra rows, 2 iterations (1
recycle), float32, EXAFOLD_NUM_THREADS threads (2 unless set). Three variants of one prediction,
run alternately (paired) rep after rep so that a change of the machine's load hits them alike:
  without    no template features (zero-template inference)
  templates  4 templates, embedded once per prediction (Model.__call__, as exafold runs them)
  per pass   4 templates, embedded again in every iteration (Model.run_iteration per
             iteration: what OpenFold's loop and its FLOP count do)
The features are random but well formed (residue types, masks, atoms in a box); the time does
not depend on their values. Reported: the median seconds per prediction and the ratio to
`without`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
from bench_machine import append_entry

import exafold
from exafold.demo import demo_arrays

PRESET = "model_1_ptm"
CLUSTERS, EXTRA, ITERATIONS, TEMPLATES = 128, 512, 2, 4


def features(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    aatype = rng.integers(0, 20, n).astype(np.int32)
    f = {
        "aatype": aatype,
        "residue_index": np.arange(n, dtype=np.int32),
        "seq_mask": np.ones(n, np.float32),
        "target_feat": np.eye(22, dtype=np.float32)[aatype + 1],
        "msa_feat": rng.random((CLUSTERS, n, 49), dtype=np.float32),
        "msa_mask": np.ones((CLUSTERS, n), np.float32),
        "extra_msa": rng.integers(0, 22, (EXTRA, n)).astype(np.int32),
        "extra_msa_mask": np.ones((EXTRA, n), np.float32),
        "extra_has_deletion": np.zeros((EXTRA, n), np.float32),
        "extra_deletion_value": np.zeros((EXTRA, n), np.float32),
    }
    f.update(exafold._core.atom_maps(aatype))
    return f


def templates(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "template_aatype": rng.integers(0, 21, (TEMPLATES, n)).astype(np.int32),
        "template_all_atom_positions": rng.uniform(0, 30, (TEMPLATES, n, 37, 3)).astype(np.float32),
        "template_all_atom_masks": (rng.random((TEMPLATES, n, 37)) < 0.9).astype(np.float32),
        "template_mask": np.ones(TEMPLATES, np.float32),
        "template_angle_feat": rng.uniform(-1, 1, (TEMPLATES, n, 57)).astype(np.float32),
        "template_angle_mask": np.ones((TEMPLATES, n), np.float32),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--length", type=int, default=64)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--record", help="append the table to this RESULTS.md")
    args = parser.parse_args(argv)
    os.environ.setdefault("EXAFOLD_NUM_THREADS", "2")

    model = exafold.Model.from_arrays(demo_arrays(PRESET), PRESET)
    bare = features(args.length)
    with_templates = {**bare, **templates(args.length)}

    def per_pass():
        prev = None
        for _ in range(ITERATIONS):
            out = model.run_iteration(with_templates, prev)
            prev = {k: out[k] for k in ("prev_msa_first_row", "prev_pair", "prev_pos")}
        return out

    variants = {
        "without": lambda: model(bare, num_recycle=ITERATIONS - 1),
        "templates": lambda: model(with_templates, num_recycle=ITERATIONS - 1),
        "per pass": per_pass,
    }
    load_before = os.getloadavg()
    for run in variants.values():  # warm-up: parameters placed, caches filled
        run()
    times = {name: [] for name in variants}
    for _ in range(args.reps):
        for name, run in variants.items():
            t0 = time.perf_counter()
            out = run()
            times[name].append(time.perf_counter() - t0)
            assert np.isfinite(out["final_atom_positions"]).all(), name
    load_after = os.getloadavg()

    base = statistics.median(times["without"])
    lines = [f"{'variant':<10} {'median s':>9} {'runs s':>24} {'vs without':>10}", "-" * 56]
    for name, ts in times.items():
        med = statistics.median(ts)
        runs = " ".join(f"{t:.2f}" for t in ts)
        lines.append(f"{name:<10} {med:9.2f} {runs:>24} {med / base:9.3f}x")
    table = "\n".join(lines)
    print(table)
    if args.record:
        threads = os.environ["EXAFOLD_NUM_THREADS"]
        notes = (f"{PRESET} at full width (48 Evoformer + 4 extra-MSA blocks, 2-block template pair "
                 f"stack), S = {args.length}, {CLUSTERS} clusters, {EXTRA} extra rows, "
                 f"{ITERATIONS} iterations, float32, {threads} threads, exafold's demo weights, "
                 f"random features; {TEMPLATES} templates. Medians of {args.reps} paired runs "
                 "(the three variants alternate) after one warm-up each. `templates` embeds the "
                 "templates once per prediction, `per pass` in every iteration. Load average "
                 f"{load_before[0]:.1f} before and {load_after[0]:.1f} after (the machine is "
                 "shared; the variants ran under the same load).")
        command = "EXAFOLD_NUM_THREADS={} .venv/bin/python bench/model_templates_bench.py --length {} --reps {} --record {}".format(
            threads, args.length, args.reps, args.record)
        append_entry(args.record, f"Templates: model_1_ptm with {TEMPLATES} templates against "
                     f"none, S={args.length}, float32", command, table, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
