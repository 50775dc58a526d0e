"""``exafold fit-time-model``: a device time model fitted to finished distill runs.

Every finished structure's sidecar row records the kept prediction's wall time (``seconds``),
its analytic FLOPs and its length (docs/formats.md). Least squares over FLOPs, S^2 and a constant
(exafold.DeviceTimeModel.fit) gives seconds per FLOP, per pair and per call. The saved file is one
flat JSON object, read by the engine's one parser (exafold.DeviceTimeModel.from_json) wherever a
time model is taken: ``exafold distill --time-model`` orders the work by it, ``exafold simulate
--time-model`` replays a run with it. Besides the coefficients it records the fit (``fit_r2``,
``fit_median_relative_error``, ``fit_structures``) and, when every run agrees, the preset and
settings the runs used (``fit_preset``, ``fit_recycles``, ``fit_max_msa_clusters``,
``fit_max_extra_msa``), which simulate takes as its defaults.
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
    lengths, flops, seconds, _ = read_runs(run_dirs)
    return lengths, flops, seconds


def read_runs(run_dirs: list[Path]) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """read_timings' arrays, and the preset and settings every structure was predicted with when
    they are one ({} otherwise): from the rows' models and the runs' summary.json."""
    lengths, flops, seconds = [], [], []
    workloads = set()
    for d in run_dirs:
        if not d.is_dir():
            raise ValueError(f"{d}: not a directory")
        shards = sorted(p for p in d.iterdir() if catalog.SHARD_RE.fullmatch(p.name))
        rows = [r for s in shards for r in catalog.read_sidecar(d / catalog.sidecar_name(s.name))["rows"]]
        if not rows:
            raise ValueError(f"{d}: no finished structures (no shard-*.h5 with its sidecar)")
        settings = _run_settings(d)
        for r in rows:
            lengths.append(int(r["length"]))
            flops.append(float(r["flops"]))
            seconds.append(float(r["seconds"]))
            workloads.add((r.get("model"), settings.get(r.get("model"))))
    workload = {}
    if len(workloads) == 1 and (w := workloads.pop())[1] is not None:
        workload = {"preset": w[0], **dict(w[1])}
    return np.array(lengths, dtype=np.int64), np.array(flops), np.array(seconds), workload


def _run_settings(run_dir: Path) -> dict[str, tuple]:
    """preset -> its settings (as sorted items) in a run's summary.json, or {} when it has none."""
    try:
        models = json.loads((run_dir / "summary.json").read_text())["config"]["models"]
        return {m[0]: tuple(sorted(m[2].items())) for m in models if len(m) > 2}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


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


def run(args: argparse.Namespace) -> int:
    lengths, flops, seconds, workload = read_runs(args.runs)
    model = exafold.DeviceTimeModel.fit(args.device, lengths.tolist(), flops.tolist(), seconds.tolist())
    report = fit_report(model, lengths, flops, seconds)
    print(f"fitted on {report['structures']} structures, lengths {lengths.min()}-{lengths.max()}")
    print(f"  seconds per FLOP       {model.flop_seconds:.4e}  ({1e-9 / model.flop_seconds:.2f} GFLOP/s)"
          if model.flop_seconds > 0 else f"  seconds per FLOP       {model.flop_seconds:.4e}")
    print(f"  seconds per pair (S^2) {model.pair_seconds:.4e}")
    print(f"  seconds per call       {model.overhead_seconds:.4e}")
    print(f"  R^2 {report['r2']:.4f}, median relative error {100 * report['median_relative_error']:.1f}%")
    zero = [name for name, v in (("per FLOP", model.flop_seconds), ("per pair", model.pair_seconds),
                                 ("per call", model.overhead_seconds)) if v == 0]
    if zero:
        # The fit keeps every coefficient >= 0; one at 0 is a term these runs do not resolve.
        print(f"  note: the runs do not resolve the seconds {' and '.join(zero)} (fitted as 0); trust the "
              f"model within lengths {lengths.min()}-{lengths.max()}")
    if workload:
        print(f"  fitted to {workload['preset']} runs with {workload['recycles']} recycles, "
              f"{workload['max_msa_clusters']} MSA clusters, {workload['max_extra_msa']} extra MSA rows")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # Flat: the engine's parser reads exactly this file (DeviceTimeModel.from_json).
    record = {**json.loads(model.to_json()), **{f"fit_{k}": v for k, v in {**report, **workload}.items()}}
    write_atomic(args.out, json.dumps(record, indent=2) + "\n")
    print(f"saved {args.out}")
    return 0
