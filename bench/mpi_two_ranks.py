"""Measured parallel efficiency of exafold distill on 1 and 2 MPI ranks of this machine.

Sixteen structures (eight copies each of the bundled 6KWC and short73 inputs, with their real
alignments) with the reduced_ptm demo weights, one thread per rank. Efficiency = T(1 rank) /
(2 x T(2 ranks)), the strong-scaling efficiency; the simulator's prediction for the same lengths
with the dispenser is printed beside it. Appends a section to bench/RESULTS.md with --record.

    .venv/bin/python bench/mpi_two_ranks.py --record bench/RESULTS.md
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import exafold
from exafold.demo import demo_params_path, examples_dir
from bench_machine import append_entry  # noqa: E402


def make_inputs(root: Path, copies: int) -> tuple[Path, Path]:
    records = (examples_dir() / "sequences.fasta").read_text().split(">")[1:]
    fasta, ali = root / "seqs.fasta", root / "alignments"
    lines = []
    for rec in records:
        head, seq = rec.split("\n", 1)
        name = head.split()[0]
        for c in range(copies):
            ident = f"{name}_{c}"
            lines.append(f">{ident}\n{seq.strip()}\n")
            shutil.copytree(examples_dir() / "alignments" / name, ali / ident)
    fasta.write_text("".join(lines))
    return fasta, ali


def run(ranks: int, fasta: Path, ali: Path, out: Path, params: Path) -> float:
    cmd = [sys.executable, "-m", "exafold", "distill", "--fasta", str(fasta), "--alignments", str(ali),
           "--model", f"reduced_ptm={params}", "--out", str(out), "--max-msa-clusters", "32",
           "--max-extra-msa", "64", "--recycles", "1", "--progress", "log", "--prefetch-threads", "1"]
    env = {**os.environ, "EXAFOLD_NUM_THREADS": "1", "OMPI_ALLOW_RUN_AS_ROOT": "1",
           "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
    if ranks > 1:
        cmd = ["mpiexec", "-n", str(ranks), "--oversubscribe"] + cmd + ["--mpi", "on"]
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=8)
    ap.add_argument("--record", type=Path)
    args = ap.parse_args()
    params = demo_params_path("reduced_ptm")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        fasta, ali = make_inputs(root, args.copies)
        run(1, fasta, ali, root / "warm", params)  # loads caches and the demo weights once
        t1 = run(1, fasta, ali, root / "one", params)
        t2 = run(2, fasta, ali, root / "two", params)
    c3, c2, c1, c0 = exafold._core.preset_flop_polynomial("reduced_ptm", msa_clusters=32, extra_msa_rows=64, passes=2)
    costs = [((c3 * s + c2) * s + c1) * s + c0 for s in [191] * args.copies + [73] * args.copies]
    sim = exafold.simulate(costs, 2, policy="dispenser")
    eff = t1 / (2 * t2)
    table = (f"{'ranks':>6} {'seconds':>9}\n{1:>6} {t1:>9.2f}\n{2:>6} {t2:>9.2f}\n"
             f"strong-scaling efficiency {eff:.1%}")
    table += f"; simulator (dispenser, cost model) {sim['efficiency']:.1%}"
    table += f"\nload average after: {os.getloadavg()[0]:.2f}\n"
    print(table)
    if args.record:
        notes = (f"{2 * args.copies} structures (bundled 6KWC and short73 inputs, {args.copies} copies each), "
                 "reduced_ptm demo weights, 32 clusters, 64 extra rows, 1 recycle, one thread per rank, "
                 "wall time of the whole command including start-up and output. The machine has 2 cores "
                 "shared with other work, so 2 ranks compete with everything else running.")
        append_entry(args.record, "exafold distill on 1 and 2 MPI ranks (measured)", " ".join(sys.argv), table, notes)


if __name__ == "__main__":
    main()
