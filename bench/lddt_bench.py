"""lDDT-Cα throughput: exafold's engine against Biotite's implementation, in the same run.

    .venv/bin/python bench/lddt_bench.py [--lengths 100 300 1000 3000] [--reps 7] [--record bench/RESULTS.md]

Calibrating a distillation set scores every structure against its experimental chain, so the
metric's cost per structure bounds how fast `exafold calibrate` goes. Inputs: a random Cα trace
(3.8 Å steps, compact) and a copy perturbed by 1 Å Gaussian noise, at each length; both sides
score all residues (radius 15 Å, thresholds 0.5/1/2/4 Å) and must agree.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import biotite
import biotite.structure as struc
import numpy as np

import exafold

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_machine import append_entry  # noqa: E402


def trace(n: int, rng: np.random.Generator) -> np.ndarray:
    """A compact random walk of Cα positions 3.8 Å apart, folded back into a sphere so that each
    residue has a realistic number of neighbours within 15 Å."""
    steps = rng.standard_normal((n, 3))
    steps *= 3.8 / np.linalg.norm(steps, axis=1, keepdims=True)
    xyz = np.cumsum(steps, axis=0)
    radius = 2.2 * n ** (1 / 3) * 1.5  # about a globule's radius
    return radius * np.tanh(xyz / radius)


def ca_array(xyz: np.ndarray) -> struc.AtomArray:
    a = struc.AtomArray(len(xyz))
    a.coord = xyz.astype(np.float32)
    a.atom_name[:] = "CA"
    a.element[:] = "C"
    a.res_id = np.arange(1, len(xyz) + 1)
    a.res_name[:] = "ALA"
    a.chain_id[:] = "A"
    return a


def timed(fn, reps: int) -> tuple[float, object]:
    out = fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--lengths", type=int, nargs="+", default=[100, 300, 1000, 3000])
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--record", help="append the results to this RESULTS.md")
    args = p.parse_args()
    rng = np.random.default_rng(0)
    load_before = os.getloadavg()[0]
    header = f"{'residues':>8} | {'exafold ms':>10} {'Biotite ms':>10} | {'ratio':>6} | {'|diff|':>8}"
    lines = [header, "-" * len(header)]
    print("\n".join(lines))
    for n in args.lengths:
        ref = trace(n, rng)
        model = ref + rng.normal(scale=1.0, size=ref.shape)
        # Biotite works in float32 coordinates; give both sides the same rounded inputs.
        ref, model = ref.astype(np.float32).astype(np.float64), model.astype(np.float32).astype(np.float64)
        t_ex, ours = timed(lambda: exafold.lddt_ca(model, ref), args.reps)
        ref_atoms, model_atoms = ca_array(ref), ca_array(model)
        t_bt, theirs = timed(lambda: struc.lddt(ref_atoms, model_atoms, aggregation="all"), args.reps)
        diff = abs(float(ours["global"]) - float(theirs))
        line = f"{n:>8} | {t_ex * 1e3:>10.2f} {t_bt * 1e3:>10.2f} | {t_bt / t_ex:>5.1f}x | {diff:>8.1e}"
        lines.append(line)
        print(line, flush=True)
    if args.record:
        notes = (f"Medians of {args.reps} calls after one warm-up; ratio = Biotite time / exafold time; "
                 f"|diff| = difference of the global lDDT-Cα. exafold threads: "
                 f"{exafold.info()['num_threads']}; Biotite {biotite.__version__} (numpy). Load average {load_before:.1f} "
                 f"before and {os.getloadavg()[0]:.1f} after (the machine is shared).")
        append_entry(args.record, "lDDT-Cα: exafold vs Biotite", f".venv/bin/python {' '.join(sys.argv)}",
                     "\n".join(lines), notes)

if __name__ == "__main__":
    main()
