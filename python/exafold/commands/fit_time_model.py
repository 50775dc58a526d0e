"""``exafold fit-time-model``: a device time model fitted to finished distill runs.

Every finished structure's sidecar row records the kept prediction's wall time (``seconds``),
its analytic FLOPs and its length (docs/formats.md). Least squares over FLOPs, S^2 and a constant
(exafold.DeviceTimeModel.fit) gives seconds per FLOP, per pair and per call; the saved JSON is
what ``exafold distill --time-model`` orders the work by.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import exafold
from exafold.files import write_atomic
from exafold.runner import catalog


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fit-time-model", help="fit a device time model to the timings of finished distill runs")
    p.add_argument("--runs", type=Path, nargs="+", required=True, metavar="DIR", help="distill output directories")
    p.add_argument("--out", type=Path, required=True, metavar="FILE", help="where to save the model (JSON)")
    p.add_argument("--device", default="cpu", help="name recorded in the model (default cpu)")
    p.set_defaults(func=run)


def read_timings(run_dirs: list[Path]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lengths, FLOPs, seconds) of every finished structure in the runs' sidecars. Only sidecars
    whose shard has its final name count: the others belong to shards a kill left unfinished.
    @raises ValueError when a directory holds no finished structure."""
    lengths, flops, seconds = [], [], []
    for d in run_dirs:
        if not d.is_dir():
            raise ValueError(f"{d}: not a directory")
        shards = sorted(p for p in d.iterdir() if catalog.SHARD_RE.fullmatch(p.name))
        rows = [r for s in shards for r in catalog.read_sidecar(d / catalog.sidecar_name(s.name))["rows"]]
        if not rows:
            raise ValueError(f"{d}: no finished structures (no shard-*.h5 with its sidecar)")
        for r in rows:
            lengths.append(int(r["length"]))
            flops.append(float(r["flops"]))
            seconds.append(float(r["seconds"]))
    return np.array(lengths, dtype=np.int64), np.array(flops), np.array(seconds)


def fit_report(model: exafold.DeviceTimeModel, lengths: np.ndarray, flops: np.ndarray,
               seconds: np.ndarray) -> dict[str, float]:
    """Goodness of the fit on its own data: R^2 and the median relative error."""
    predicted = np.array([model.seconds(int(n), float(f)) for n, f in zip(lengths, flops)])
    residual = np.sum((seconds - predicted) ** 2)
    total = np.sum((seconds - seconds.mean()) ** 2)
    return {
        "r2": float(1.0 - residual / total) if total > 0 else 1.0,
        "median_relative_error": float(np.median(np.abs(predicted - seconds) / seconds)),
        "structures": int(len(seconds)),
    }


def load_time_model(path: Path) -> exafold.DeviceTimeModel:
    """A model saved by this command. @raises ValueError naming the file when it is not one."""
    try:
        o = json.loads(Path(path).read_text())
        return exafold.DeviceTimeModel(str(o["device"]), float(o["flop_seconds"]), float(o["pair_seconds"]),
                                       float(o["overhead_seconds"]))
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: not a time model from exafold fit-time-model ({e})") from None


def run(args: argparse.Namespace) -> int:
    lengths, flops, seconds = read_timings(args.runs)
    model = exafold.DeviceTimeModel.fit(args.device, lengths.tolist(), flops.tolist(), seconds.tolist())
    report = fit_report(model, lengths, flops, seconds)
    print(f"fitted on {report['structures']} structures, lengths {lengths.min()}-{lengths.max()}")
    print(f"  seconds per FLOP       {model.flop_seconds:.4e}  ({1e-9 / model.flop_seconds:.2f} GFLOP/s)"
          if model.flop_seconds > 0 else f"  seconds per FLOP       {model.flop_seconds:.4e}")
    print(f"  seconds per pair (S^2) {model.pair_seconds:.4e}")
    print(f"  seconds per call       {model.overhead_seconds:.4e}")
    print(f"  R^2 {report['r2']:.4f}, median relative error {100 * report['median_relative_error']:.1f}%")
    if min(model.flop_seconds, model.pair_seconds, model.overhead_seconds) < 0:
        # Unconstrained least squares: a negative term only bends the curve to fit these lengths.
        print(f"  note: a negative term means the data do not resolve it; trust the model within "
              f"lengths {lengths.min()}-{lengths.max()}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out, json.dumps({**json.loads(model.to_json()), "fit": report}, indent=2) + "\n")
    print(f"saved {args.out}")
    return 0
