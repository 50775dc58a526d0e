"""Deterministic test doubles for the runner's injected callables, and a job script for the
subprocess tests (kill/resume, signals, MPI). Not product code: the real prepare and predict
come from the feature pipeline and the model.

prepare() parses every alignment file with the engine's parser (so bad inputs fail as they would
in the real pipeline) and returns tiny features; predict() returns a structure that is a pure function of
(id's seed, sequence, preset), so any two runs with the same seeds give identical structures.

As a script: ``python runner_doubles.py OUT --fasta F --alignments D [options]`` runs a job
with these doubles (add ``--mpi`` under mpiexec); ``python runner_doubles.py --cli distill ARGS``
runs the ``exafold distill`` command line itself with these doubles wired in as its engine (the
``--model`` files must exist but are not read).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from exafold.features import read_msa
from exafold.runner.inputs import structure_seed
from exafold.runner.job import RunConfig, run
from exafold.runner.outputs import Filter, OutputOptions
from exafold.runner.worker import FeatureRequest

AA = "ACDEFGHIKLMNPQRSTVWY"


def prepare(request: FeatureRequest, *, delay: float = 0.0) -> dict[str, np.ndarray]:
    """Features whose content encodes the request: the seed and the sequence."""
    depth = 0
    for path in request.alignments:
        depth += read_msa(path, query=request.sequence).num_rows
    if delay:
        time.sleep(delay)
    s = len(request.sequence)
    return {
        "aatype": np.frombuffer(request.sequence.encode(), np.uint8).copy(),
        "seed": np.array([request.seed], dtype=np.uint64),
        "msa_feat": np.zeros((1, max(depth, 1), s, 49), np.float32),
        "extra_msa": np.zeros((1, 2, s), np.int32),
    }


def make_predict(preset: str, *, delay: float = 0.0, fail_ids: frozenset[int] = frozenset()):
    """A predict() for `preset`: a helix with seed-dependent noise and a pLDDT profile whose
    level depends on the seed and the preset (so presets win on different sequences)."""
    bias = sum(preset.encode())

    def predict(features):
        if delay:
            time.sleep(delay)
        seed = int(features["seed"][0])
        if seed in fail_ids:
            raise MemoryError("out of device memory (test)")
        aatype = features["aatype"]
        n = aatype.size
        rng = np.random.default_rng([seed, bias])
        t = np.arange(n, dtype=np.float64)
        ca = np.stack([2.3 * np.cos(1.745 * t), 2.3 * np.sin(1.745 * t), 1.5 * t], axis=1)
        pos = np.zeros((n, 37, 3), np.float32)
        for a, offset in enumerate([(-1.0, 0.3, -0.5), (0, 0, 0), (1.2, 0.4, 0.3), (0.5, -1.2, 0.2), (2.2, 0.1, 0.8)]):
            pos[:, a] = ca + np.asarray(offset) + rng.normal(0, 0.05, (n, 3))
        mask = np.zeros((n, 37), np.float32)
        mask[:, [0, 1, 2, 4]] = 1
        mask[aatype != ord("G"), 3] = 1
        level = 30 + int(rng.integers(0, 60))
        plddt = np.clip(level + 10 * np.sin(t / 3), 0, 100).astype(np.float32)
        out = {"final_atom_positions": pos, "final_atom_mask": mask, "plddt": plddt,
               "mean_plddt": float(plddt.mean(dtype=np.float64))}
        if preset.endswith("_ptm"):
            out["ptm"] = float((seed % 1000) / 1000)
            out["predicted_aligned_error"] = (np.abs(t[:, None] - t[None, :]) / 4).astype(np.float32)
        return out

    return predict


def write_inputs(root: Path, lengths: list[int], *, prefix: str = "seq") -> tuple[Path, Path, list[str]]:
    """A FASTA file and an alignment directory (one A3M per id) for sequences of the given lengths."""
    rng = np.random.default_rng(len(lengths))
    fasta = root / "input.fasta"
    msas = root / "msas"
    ids = []
    with fasta.open("w") as f:
        for i, n in enumerate(lengths):
            sid = f"{prefix}{i:04d}"
            seq = "".join(rng.choice(list(AA), n))
            f.write(f">{sid} test sequence {i}\n{seq}\n")
            (msas / sid).mkdir(parents=True, exist_ok=True)
            (msas / sid / "uniref90.a3m").write_text(f">{sid}\n{seq}\n>hit1\n{seq}\n")
            ids.append(sid)
    return fasta, msas, ids


def config(out: Path, fasta: Path, msas: Path, *, presets=("model_1_ptm",), **kw) -> RunConfig:
    """A small run's configuration with the test defaults (no progress bar, no plots, small
    shards)."""
    kw.setdefault("plots", False)
    kw.setdefault("progress", False)
    outputs = kw.pop("outputs", OutputOptions(shard_size=kw.pop("shard_size", 3), filter=Filter(min_mean_plddt=60)))
    return RunConfig(out_dir=out, fasta=fasta, alignment_dir=msas,
                     models=tuple((p, f"{p}.npz:0") for p in presets), outputs=outputs, **kw)


def models(presets=("model_1_ptm",), **kw):
    return {p: make_predict(p, **kw) for p in presets}


def seed_of(item_id: str, run_seed: int = 0) -> int:
    return structure_seed(item_id, run_seed)


def cli(argv: list[str]) -> int:
    """The exafold command line with the doubles as distill's engine."""
    from exafold.cli import main as exafold_main
    from exafold.commands import distill

    delay = float(os.environ.get("EXAFOLD_TEST_DELAY", "0"))
    distill.load_engine = lambda config, args, comm: (
        prepare, models(tuple(m[0] for m in config.models), delay=delay))
    return exafold_main(argv)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--cli"]:
        return cli(argv[1:])
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--fasta", type=Path, required=True)
    ap.add_argument("--alignments", type=Path, required=True)
    ap.add_argument("--presets", default="model_1_ptm")
    ap.add_argument("--shard-size", type=int, default=3)
    ap.add_argument("--delay", type=float, default=0.0, help="seconds per prediction")
    ap.add_argument("--scratch", type=Path)
    ap.add_argument("--mpi", action="store_true")
    ap.add_argument("--pid-dir", type=Path, help="write rankN.pid here before the run starts")
    ap.add_argument("--structures", action="store_true", help="also write PDB and mmCIF files")
    args = ap.parse_args(argv)
    presets = tuple(args.presets.split(","))
    comm = None
    if args.mpi:
        from exafold.runner.mpi import world

        comm = world()
    outputs = OutputOptions(shard_size=args.shard_size, pdb=args.structures, mmcif=args.structures,
                            filter=Filter(min_mean_plddt=60))
    cfg = config(args.out, args.fasta, args.alignments, presets=presets, outputs=outputs, scratch=args.scratch)
    if args.pid_dir is not None:  # for tests that signal the ranks
        rank = comm.Get_rank() if comm is not None else 0
        (args.pid_dir / f"rank{rank}.pid").write_text(str(os.getpid()))
    result = run(cfg, prepare, models(presets, delay=args.delay), comm=comm)
    print(f"rank {result.stats.rank}: {result.stats.structures} structures, pid {os.getpid()}", flush=True)
    return 128 + result.stop_signal if result.stop_signal else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
