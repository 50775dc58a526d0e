"""Feature-pipeline throughput: exafold against the AlphaFold2 reference, in the same run.

    .venv/bin/python bench/features_bench.py [--reps 10] [--ref-reps 3] [--record bench/RESULTS.md]

A "feature set" is one structure taken from files to the model's inputs: read the query and its
alignments (AlphaFold2's hit limits), build the raw features, then the processed features of all
4 iterations (num_recycle 3) with model_1's sizes (512 clusters, 5,120 extra rows, padded as the
reference pads). Both sides keep every alignment row (the reference fork does not de-duplicate),
so both do the same work. Inputs: 6kwc's real alignments (../shared/data) and a synthetic
10,000-row A3M of a 500-residue query. The reference runs in its own environment
(tests/python/refenv_features.py) after one untimed warm-up that compiles its jitted clustering.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from exafold import features as F

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("EXAFOLD_SHARED_DATA", ROOT.parent / "shared" / "data"))
sys.path.insert(0, str(ROOT / "tests" / "python"))
import refenv_features  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from bench_machine import append_entry  # noqa: E402

CONFIG = dict(num_recycle=3, max_clusters=512, max_extra=5120, fixed_size=True)


def synthetic_case(directory, rows=10000, length=500, seed=0):
    """A query and an A3M of `rows` rows: ~30% substitutions, 10% gaps, insertions of 1-3
    residues before ~5% of the columns."""
    rng = np.random.default_rng(seed)
    aa = np.array(list("ACDEFGHIKLMNPQRSTVWY"))
    query = aa[rng.integers(0, 20, length)]
    lines = [">query", "".join(query)]
    for r in range(1, rows):
        row = query.copy()
        u = rng.random(length)
        row[u < 0.3] = aa[rng.integers(0, 20, int((u < 0.3).sum()))]
        row[(u >= 0.3) & (u < 0.4)] = "-"
        text = []
        for j in range(length):
            if rng.random() < 0.05:
                text.append("".join(rng.choice(aa, rng.integers(1, 4))).lower())
            text.append(row[j])
        lines += [f">synthetic_{r}", "".join(text)]
    a3m = directory / "bfd_uniref_hits.a3m"
    a3m.write_text("\n".join(lines) + "\n")
    fasta = directory / "synthetic.fasta"
    fasta.write_text(f">synthetic\n{''.join(query)}\n")
    return fasta, [(a3m, 0)]


def cases(directory):
    out = {}
    if (SHARED / "6kwc").exists():
        d = SHARED / "6kwc"
        out["6kwc (A3M + Stockholm)"] = (d / "6kwc.fasta",
                                         [(d / "bfd_uniref_hits.a3m", 0), (d / "mgnify_hits.sto", 501)])
    out["synthetic 10,000 x 500"] = synthetic_case(directory)
    return out


def time_exafold(fasta, msas, reps):
    def once(seed):
        t0 = time.perf_counter()
        query = F.read_fasta(str(fasta))[0]
        raw = F.build_raw_features(query, [(str(p), n) for p, n in msas], deduplicate=False)
        t1 = time.perf_counter()
        F.process_features(raw, F.structure_seed(query.description, seed), **CONFIG)
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1, raw["msa"].shape[0]
    once(0)
    runs = [once(s + 1) for s in range(reps)]
    return [r[0] for r in runs], [r[1] for r in runs], runs[0][2]


def time_reference(fasta, msas, reps):
    args = [str(refenv_features.reference_python()), str(ROOT / "bench" / "features_ref_bench.py"),
            "--fasta", str(fasta), "--reps", str(reps), "--max-clusters", str(CONFIG["max_clusters"]),
            "--max-extra", str(CONFIG["max_extra"]), "--num-recycle", str(CONFIG["num_recycle"])]
    for path, limit in msas:
        args += ["--msa", f"{path}:{limit}" if limit else str(path)]
    proc = subprocess.run(args, capture_output=True, text=True, check=True,
                          env={**os.environ, "JAX_PLATFORMS": "cpu"})
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return out["raw_s"], out["processed_s"], out["rows"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--ref-reps", type=int, default=3)
    p.add_argument("--record", help="append the results to this RESULTS.md")
    args = p.parse_args()
    threads = os.environ.get("EXAFOLD_NUM_THREADS", str(len(os.sched_getaffinity(0))))
    header = (f"{'input':<26} {'rows':>6} | {'exafold raw':>11} {'processed':>9} {'sets/s':>7} | "
              f"{'reference raw':>13} {'processed':>9} {'sets/s':>7} | {'ratio':>6}")
    lines = [header, "-" * len(header)]
    load_before = os.getloadavg()[0]
    print(header, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, (fasta, msas) in cases(pathlib.Path(tmp)).items():
            e_raw, e_proc, rows = time_exafold(fasta, msas, args.reps)
            r_raw, r_proc, ref_rows = time_reference(fasta, msas, args.ref_reps)
            assert rows == ref_rows, (rows, ref_rows)
            e_total = statistics.median(a + b for a, b in zip(e_raw, e_proc))
            r_total = statistics.median(a + b for a, b in zip(r_raw, r_proc))
            line = (f"{name:<26} {rows:>6} | {statistics.median(e_raw) * 1e3:>9.1f}ms "
                    f"{statistics.median(e_proc) * 1e3:>7.1f}ms {1 / e_total:>7.2f} | "
                    f"{statistics.median(r_raw) * 1e3:>11.1f}ms {statistics.median(r_proc) * 1e3:>7.1f}ms "
                    f"{1 / r_total:>7.2f} | {r_total / e_total:>5.1f}x")
            lines.append(line)
            print(line, flush=True)
    if args.record:
        notes = (f"sets/s = feature sets per second (median total time); ratio = reference time / "
                 f"exafold time. exafold threads: {threads}; medians of {args.reps} (exafold) and "
                 f"{args.ref_reps} (reference, alphafold-colabfold "
                 f"{_reference_version()}) repetitions. Raw = parse + raw features; processed = "
                 f"4 iterations, 512 clusters, 5,120 extra rows, fixed size. Load average "
                 f"{load_before:.1f} before and {os.getloadavg()[0]:.1f} after the run (the "
                 f"machine is shared; both sides ran under the same load).")
        append_entry(args.record, "Feature pipeline: exafold vs AlphaFold2 reference",
                     " ".join([_relative(sys.executable)] + sys.argv), "\n".join(lines), notes)

def _relative(path):
    p = pathlib.Path(path)
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else p.name


def _reference_version():
    req = (ROOT / "tests" / "reference" / "requirements-features.txt").read_text()
    return next(l.split("==")[1] for l in req.splitlines() if l.startswith("alphafold-colabfold"))


if __name__ == "__main__":
    main()
