"""The run summary: counts, filter statistics, failures, throughput, MFU and confidence
histograms, as summary.json, summary.txt and PNG plots (matplotlib, Agg backend).

Counts and histograms cover the whole output directory (every session of a resumed run, read
from the journals and sidecars); throughput covers this session, the only one whose wall time
is known.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from exafold.files import write_atomic, write_with

from .catalog import write_json_atomic
from .outputs import PLDDT_BINS
from .progress import hms

MAX_LISTED_FAILURES = 200


@dataclass
class SessionStats:
    """One rank's numbers for this session."""

    rank: int = 0
    wall_seconds: float = 0.0
    structures: int = 0  # journaled by this session
    residues: int = 0
    atoms: int = 0
    predictions: int = 0  # model calls, several per structure with several models
    flops: float = 0.0  # analytic FLOPs of every model call
    predict_seconds: float = 0.0
    prepare_seconds: float = 0.0  # summed over the prefetch threads
    wait_seconds: float = 0.0  # the worker blocked waiting for prepared features
    staged_bytes: int = 0  # features the prefetch threads placed on the device ahead of use
    unstaged: int = 0  # items whose features found no room there: the prediction uploads them
    write_seconds: float = 0.0
    failed: int = 0
    dispenser_requests: int = 0  # chunks rank 0 handed out (MPI runs)
    interrupted: bool = False


def _histogram(values: np.ndarray, bins: np.ndarray) -> dict:
    counts, edges = np.histogram(values, bins=bins)
    return {"edges": edges.tolist(), "counts": counts.tolist()}


def _stats(values: np.ndarray) -> dict:
    if values.size == 0:
        return {"mean": None, "median": None, "min": None, "max": None}
    return {"mean": float(values.mean()), "median": float(np.median(values)),
            "min": float(values.min()), "max": float(values.max())}


def build_summary(*, config: dict, config_hash: str, inputs: int, rejected: list[dict], rows: dict[str, dict],
                  failed: dict[str, str], pending: int, sessions: list[SessionStats],
                  device_peak_flops: float | None, weights_labels: dict[str, str] | None = None) -> dict:
    """The summary as a dict. `rows` are the sidecar rows of every finished structure, `failed`
    every failure id -> reason (rejected records with an id included), `rejected` the records
    refused without an id (duplicates, bad ids), `pending` the items still to do,
    `weights_labels` each preset's weights label (demo weights say so; empty ones are left out).
    """
    mean_plddt = np.array([r["mean_plddt"] for r in rows.values()], dtype=np.float64)
    ptm = np.array([r["ptm"] for r in rows.values() if r["ptm"] is not None and math.isfinite(r["ptm"])])
    lengths = np.array([r["length"] for r in rows.values()], dtype=np.int64)
    residue_counts = np.sum([r["plddt_histogram"] for r in rows.values()], axis=0) if rows else np.zeros(10, int)
    passed = sum(1 for r in rows.values() if r["passed"])
    reasons = Counter(kind for r in rows.values() for kind in r["filter_reasons"])

    ranks = len(sessions)
    wall = max((s.wall_seconds for s in sessions), default=0.0)
    total = SessionStats(rank=-1)
    for s in sessions:
        for k, v in asdict(s).items():
            if k not in ("rank", "wall_seconds", "interrupted"):
                setattr(total, k, getattr(total, k) + v)
    per_s = (lambda x: x / wall) if wall > 0 else (lambda x: 0.0)
    flops_per_s = per_s(total.flops)
    mfu = flops_per_s / (ranks * device_peak_flops) if device_peak_flops else None
    worker_seconds = sum(s.wall_seconds for s in sessions)

    failures = [{"id": k, "reason": v} for k, v in sorted(failed.items())]
    return {
        "config_hash": config_hash,
        "config": config,
        "weights_labels": {k: v for k, v in (weights_labels or {}).items() if v},
        "counts": {
            "inputs": inputs,
            "structures": len(rows),
            "failed": len(failed) + len(rejected),
            "pending": pending,
            "passed_filter": passed,
            "filtered_out": len(rows) - passed,
            "filter_reasons": dict(reasons),
        },
        "failures": failures[:MAX_LISTED_FAILURES],
        "failures_not_listed": max(0, len(failures) - MAX_LISTED_FAILURES),
        "rejected_records": rejected[:MAX_LISTED_FAILURES],
        "session": {
            "ranks": ranks,
            "interrupted": any(s.interrupted for s in sessions),
            "wall_seconds": wall,
            "structures": total.structures,
            "failed": total.failed,
            "structures_per_s": per_s(total.structures),
            "residues_per_s": per_s(total.residues),
            "atoms_per_s": per_s(total.atoms),
            "predictions": total.predictions,
            "flops": total.flops,
            "flops_per_s": flops_per_s,
            "device_peak_flops": device_peak_flops,
            "mfu": mfu,
            "wait_for_data_seconds": total.wait_seconds,
            "wait_for_data_fraction": total.wait_seconds / worker_seconds if worker_seconds > 0 else 0.0,
            "predict_seconds": total.predict_seconds,
            "prepare_seconds": total.prepare_seconds,
            "write_seconds": total.write_seconds,
            "staged_bytes": total.staged_bytes,
            "unstaged": total.unstaged,
            "dispenser_requests": total.dispenser_requests,
            "per_rank": [asdict(s) for s in sessions],
        },
        "confidence": {
            "mean_plddt": _stats(mean_plddt),
            "ptm": _stats(ptm),
            "length": _stats(lengths.astype(np.float64)),
            "histograms": {
                "mean_plddt": _histogram(mean_plddt, PLDDT_BINS),
                "ptm": _histogram(ptm, np.linspace(0.0, 1.0, 11)),
                "residue_plddt": {"edges": PLDDT_BINS.tolist(), "counts": [int(c) for c in residue_counts]},
                "length": _histogram(lengths, np.linspace(0, max(int(lengths.max()) if lengths.size else 1, 1), 21)),
            },
        },
    }


def format_summary(s: dict) -> str:
    """The summary as text for people."""
    c, t, conf = s["counts"], s["session"], s["confidence"]

    def num(x: Any, fmt: str = ".1f") -> str:
        return "n/a" if x is None else format(x, fmt)

    labels = [f"*** {preset}: {label} ***" for preset, label in s.get("weights_labels", {}).items()]
    lines = labels + [
        f"exafold distill summary (configuration {s['config_hash']})",
        f"  inputs           {c['inputs']}",
        f"  structures       {c['structures']}  (passed the filter {c['passed_filter']}, filtered out {c['filtered_out']})",
        f"  failed           {c['failed']}",
        f"  still to do      {c['pending']}" + ("  (this session was interrupted; rerun to resume)" if t["interrupted"] else ""),
    ]
    for reason, n in sorted(c["filter_reasons"].items()):
        lines.append(f"    filtered: {reason:<28} {n}")
    lines += [
        f"  this session     {t['structures']} structures on {t['ranks']} rank(s) in {hms(t['wall_seconds'])}",
        f"    throughput     {t['structures_per_s']:.3f} structures/s, {t['residues_per_s']:.1f} residues/s, "
        f"{t['atoms_per_s']:.1f} atoms/s",
        f"    compute        {t['flops'] / 1e12:.3f} TFLOP in {t['predictions']} predictions, "
        f"{t['flops_per_s'] / 1e12:.3f} TFLOP/s, MFU "
        + ("n/a (no --device-peak-tflops)" if t["mfu"] is None else f"{100 * t['mfu']:.2f}%"),
        f"    waiting for data {t['wait_for_data_seconds']:.2f} s ({100 * t['wait_for_data_fraction']:.1f}% of worker time)"
        + (f", {t['dispenser_requests']} dispenser chunks" if t["ranks"] > 1 else ""),
    ]
    if t.get("staged_bytes") or t.get("unstaged"):
        lines.append(f"    staged ahead   {t['staged_bytes'] / 2**30:.2f} GiB of features on the device"
                     + (f", {t['unstaged']} item(s) uploaded by their prediction (no room)" if t["unstaged"] else ""))
    lines += [
        f"  mean pLDDT       mean {num(conf['mean_plddt']['mean'])}, median {num(conf['mean_plddt']['median'])}",
        f"  pTM              mean {num(conf['ptm']['mean'], '.3f')}, median {num(conf['ptm']['median'], '.3f')}",
    ]
    if s["failures"]:
        lines.append("  failures")
        lines += [f"    {f['id']}: {f['reason']}" for f in s["failures"]]
        if s["failures_not_listed"]:
            lines.append(f"    ... and {s['failures_not_listed']} more (index.json lists all)")
    if s["rejected_records"]:
        lines.append("  rejected input records")
        lines += [f"    {r['source']}: {r['reason']}" for r in s["rejected_records"]]
    lines += labels
    return "\n".join(lines) + "\n"


def plot_histograms(s: dict, path: Path) -> Path:
    """The four confidence histograms (mean pLDDT with the filter threshold, pTM, per-residue
    pLDDT, length) as one PNG."""
    fig = histogram_figure(s)
    write_with(path, lambda f: fig.savefig(f, format="png"))
    return path


def histogram_figure(s: dict):
    """plot_histograms' figure: four panels, titled with the weights' labels when any."""
    # A bare Figure draws without pyplot, so the caller's backend (a notebook's inline one) and
    # pyplot's global state are left alone, and no display is needed.
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    panels = [
        ("mean_plddt", "Mean pLDDT per structure", "structures"),
        ("ptm", "pTM per structure", "structures"),
        ("residue_plddt", "pLDDT per residue", "residues"),
        ("length", "Sequence length (residues)", "structures"),
    ]
    threshold = s["config"].get("filter", {}).get("min_mean_plddt")
    fig = Figure(figsize=(9, 6), dpi=100)
    axes = fig.subplots(2, 2)
    for ax, (key, title, ylabel) in zip(axes.flat, panels):
        h = s["confidence"]["histograms"][key]
        edges, counts = np.asarray(h["edges"]), np.asarray(h["counts"])
        ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="#3b7dd8", edgecolor="white")
        if key == "mean_plddt" and threshold is not None:
            ax.axvline(threshold, color="#d83b3b", linestyle="--", label=f"filter {threshold:g}")
            ax.legend(frameon=False)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.5 structures
    labels = s.get("weights_labels", {})
    if labels:
        fig.suptitle("; ".join(f"{p}: {label}" for p, label in labels.items()), fontsize=9, color="#d83b3b")
    # Fixed margins: tight_layout costs more than the drawing itself.
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.07, top=0.90 if labels else 0.94, hspace=0.35,
                        wspace=0.25)
    return fig


def write_summary(out_dir: Path, summary: dict, *, plots: bool = True) -> list[Path]:
    """Writes summary.json, summary.txt and (with `plots`) histograms.png into the output
    directory; returns the files written."""
    out_dir = Path(out_dir)
    write_json_atomic(out_dir / "summary.json", summary, durable=False, indent=1)
    write_atomic(out_dir / "summary.txt", format_summary(summary))
    written = [out_dir / "summary.json", out_dir / "summary.txt"]
    if plots:
        written.append(plot_histograms(summary, out_dir / "histograms.png"))
    return written
