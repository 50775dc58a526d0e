"""``exafold simulate``: replay the scheduler with the cost model for any worker count.

Each item's seconds come from the engine's cost model for the preset and MSA sizes the run would
use (each defaulting to the preset's, as ``exafold distill`` does) and a device time model: the
one ``--time-model`` names (``exafold fit-time-model`` writes them, with the preset and sizes of
the runs it was fitted to, which are then the defaults), or a nominal device."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import exafold
from exafold.commands import shared
from exafold.inference import Settings

POLICIES = ["round_robin", "lpt", "dispenser"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulated makespan and parallel efficiency of the scheduling policies",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--lengths", type=Path, help="sequence lengths: one integer per line, or a FASTA file")
    src.add_argument("--distribution", choices=["uniprot", "uniform"], help="synthetic length distribution")
    p.add_argument("--count", type=int, help="number of synthetic sequences (with --distribution only)")
    p.add_argument("--max-length", type=int, default=2500, help="longest synthetic sequence (default 2500)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic lengths (default 0)")
    p.add_argument("--workers", type=int, required=True, help="number of workers (GPUs or ranks) to simulate")
    p.add_argument("--policy", choices=POLICIES + ["all"], default="all",
                   help="scheduling policy, or all to compare them (default all)")
    p.add_argument("--latency", type=float, default=0.01, help="seconds per dispenser request (default 0.01)")
    p.add_argument("--min-chunk", type=int, default=1,
                   help="smallest batch the dispenser hands out (default 1)")
    p.add_argument("--chunk-divisor", type=float, default=2.0, help="k in chunk = remaining work / (k * workers)")
    p.add_argument(
        "--time-model",
        type=Path,
        help="a time model from exafold fit-time-model; default: a nominal 50 TFLOP/s device with 1 s overhead "
             "per structure",
    )
    p.add_argument("--preset", help="the model preset the items run with (default: the time model's, else "
                                    "model_1_ptm)")
    shared.add_feature_arguments(p)
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=run)


def read_lengths(path: Path) -> np.ndarray:
    """Integers one per line ('#' comments allowed), or the sequence lengths of a FASTA file."""
    text = path.read_text()
    if text.lstrip().startswith(">"):
        lengths, n = [], None
        for line in text.splitlines():
            if line.startswith(">"):
                if n is not None:
                    lengths.append(n)
                n = 0
            elif n is not None:
                n += len(line.strip())
        lengths.append(n)
    else:
        lengths = []
        for number, line in enumerate(text.splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            try:
                lengths.append(int(line))
            except ValueError:
                raise ValueError(f"{path}:{number}: expected a sequence length, got {line!r}") from None
    if not lengths:
        raise ValueError(f"{path} holds no sequence lengths")
    arr = np.asarray(lengths, dtype=np.int64)
    if arr.min() < 1:
        raise ValueError(f"{path}: sequence lengths must be positive, found {arr.min()}")
    return arr.astype(np.int32)


def workload(args: argparse.Namespace, fitted: dict) -> tuple[str, Settings]:
    """The preset and settings the items run with: the command line's, else those the time
    model was fitted to (for its preset), else the preset's own."""
    preset = args.preset or fitted.get("preset") or "model_1_ptm"
    same = preset == fitted.get("preset")
    given = {k: getattr(args, k) if getattr(args, k) is not None else (fitted.get(k) if same else None)
             for k in ("recycles", "max_msa_clusters", "max_extra_msa")}
    return preset, Settings.for_preset(preset, **given)


def run(args: argparse.Namespace) -> int:
    if args.distribution is not None:
        if args.count is None:
            raise ValueError("--distribution needs --count")
        lengths = exafold.synthetic_lengths(args.distribution, args.count, args.max_length, args.seed)
    else:
        if args.count is not None:
            raise ValueError("--count applies to --distribution; --lengths gives the sequences themselves")
        lengths = read_lengths(args.lengths)
    fitted: dict = {}
    if args.time_model is not None:
        time_model = shared.read_time_model(args.time_model)
        fitted = fitted_workload(args.time_model)
    else:
        time_model = exafold.DeviceTimeModel("nominal-50TFLOPs", 1 / 50e12, 0.0, 1.0)
    preset, settings = workload(args, fitted)
    seconds = exafold.item_seconds(lengths, time_model, preset=preset, msa_clusters=settings.max_msa_clusters,
                                   extra_msa_rows=settings.max_extra_msa, passes=settings.recycles + 1)

    policies = POLICIES if args.policy == "all" else [args.policy]
    rows = []
    for policy in policies:
        r = exafold.simulate(
            seconds,
            args.workers,
            policy=policy,
            min_chunk=args.min_chunk,
            chunk_divisor=args.chunk_divisor,
            dispatch_latency_s=args.latency,
        )
        rows.append(
            {
                "policy": policy,
                "makespan_s": r["makespan_s"],
                "efficiency": r["efficiency"],
                "mean_tail_idle_s": r["tail_idle_s"] / args.workers,
                "max_tail_idle_s": r["max_tail_idle_s"],
                "requests": r["requests"],
            }
        )
    if args.json:
        print(json.dumps({"workers": args.workers, "items": int(lengths.size), "preset": preset,
                          "settings": settings.as_dict(), "time_model": json.loads(time_model.to_json()),
                          "results": rows}, indent=2))
        return 0
    print(
        f"{lengths.size:,} sequences (mean length {lengths.mean():.0f}, max {lengths.max()}) on "
        f"{args.workers:,} workers; {preset}, {settings.describe()}; time model {time_model.device}"
    )
    print(f"{'policy':<12} {'makespan (h)':>12} {'efficiency':>10} {'tail idle (h)':>13} {'requests':>10}")
    for row in rows:
        print(
            f"{row['policy']:<12} {row['makespan_s'] / 3600:>12.3f} {100 * row['efficiency']:>9.2f}% "
            f"{row['mean_tail_idle_s'] / 3600:>13.4f} {row['requests']:>10,}"
        )
    return 0


def fitted_workload(path: Path) -> dict:
    """The preset and settings a time model file says it was fitted to (fit-time-model records
    them when every run it read agrees), or {}."""
    o = json.loads(path.read_text())
    return {k: o[f"fit_{k}"] for k in ("preset", "recycles", "max_msa_clusters", "max_extra_msa")
            if o.get(f"fit_{k}") is not None}
