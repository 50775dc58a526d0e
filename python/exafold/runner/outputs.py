"""Writing results: a writer thread appends structures to per-rank HDF5 shards (rolled over every
K structures), writes optional PDB/mmCIF files, applies the confidence filter, and journals each
structure once its shard is durable. Keeps file I/O off the worker's critical path.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import exafold
from exafold.files import write_atomic
from exafold.residues import aatype_of

from . import catalog
from .staging import Staging

PLDDT_BINS = np.linspace(0.0, 100.0, 11)  # per-structure residue histogram kept in the sidecar


class OutputError(OSError):
    """Results could not be written; finished shards are untouched."""


@dataclass(frozen=True)
class Filter:
    """Confidence thresholds a structure must meet to enter the distillation set. The verdict is
    recorded for every structure; all structures are kept in the shards with their pLDDT.
    """

    min_mean_plddt: float = 70.0
    min_ptm: float | None = None  # ignored for models without a pTM
    plddt_level: float = 70.0
    min_fraction: float = 0.0  # of residues with pLDDT >= plddt_level

    def apply(self, plddt: np.ndarray, mean_plddt: float, ptm: float) -> tuple[float, bool, dict[str, str]]:
        """Returns (fraction of residues at or above the level, passed, {threshold: why failed})
        with the thresholds named mean_plddt, ptm and fraction."""
        fraction = float(np.mean(plddt >= self.plddt_level)) if plddt.size else 0.0
        reasons = {}
        if mean_plddt < self.min_mean_plddt:
            reasons["mean_plddt"] = f"mean pLDDT {mean_plddt:.1f} < {self.min_mean_plddt:g}"
        if self.min_ptm is not None and math.isfinite(ptm) and ptm < self.min_ptm:
            reasons["ptm"] = f"pTM {ptm:.3f} < {self.min_ptm:g}"
        if fraction < self.min_fraction:
            reasons["fraction"] = (f"fraction of residues with pLDDT >= {self.plddt_level:g} is {fraction:.2f} "
                                   f"< {self.min_fraction:g}")
        return fraction, not reasons, reasons


@dataclass
class Structure:
    """One finished item: the kept (best) prediction and what the run knows about it."""

    id: str
    sequence: str
    seed: int
    model: str
    seconds: float  # the kept prediction's wall time
    flops: float  # the kept prediction's analytic FLOPs
    result: Mapping[str, Any]  # predict()'s output, checked by the worker
    candidates: dict[str, float] = field(default_factory=dict)  # model (+templates) -> mean pLDDT
    templates: tuple[tuple[str, float], ...] = ()  # (domain name, sum_probs) the kept prediction used


@dataclass(frozen=True)
class OutputOptions:
    shard_size: int = 1000
    pae: str = "float16"  # float16, float32 or none
    pdb: bool = False
    mmcif: bool = False
    filter: Filter = Filter()


class ShardSink:
    """The writer thread. `put()` hands it a Structure; `close()` finishes the open shard and
    waits. `on_row(row)` is called (writer thread) for every structure once journaled.
    A write failure stops the sink: the open shard is discarded (its rows are not journaled, so a
    rerun redoes them), and the next put()/close() raises OutputError.
    """

    def __init__(self, staging: Staging, journal: exafold.JournalWriter, rank: int, options: OutputOptions,
                 on_row: Callable[[dict], None] | None = None) -> None:
        if options.shard_size < 1:
            raise ValueError(f"shard size must be at least 1, got {options.shard_size}")
        self._staging = staging
        self._journal = journal
        self._rank = rank
        self._options = options
        self._on_row = on_row
        self._number = catalog.next_shard_number(staging.out_dir, rank)
        self._writer: exafold.ShardWriter | None = None
        self._name = ""
        self._rows: list[dict] = []
        self._queue: queue.Queue = queue.Queue(maxsize=8)  # backpressure when writing falls behind
        self.error: BaseException | None = None
        self.write_seconds = 0.0
        if options.pdb or options.mmcif:
            (staging.out_dir / "structures").mkdir(exist_ok=True)
        self._thread = threading.Thread(target=self._run, name=f"writer-r{rank}", daemon=True)
        self._thread.start()

    def put(self, s: Structure) -> None:
        """Queues a structure for writing. @raises OutputError when the sink has failed."""
        while True:
            self._raise_if_failed()
            try:
                self._queue.put(s, timeout=0.5)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        """Finishes the open shard (journaling its rows) and stops the thread.
        @raises OutputError when a write failed."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self.error is not None:
            raise OutputError(str(self.error)) from self.error

    def _run(self) -> None:
        while True:
            s = self._queue.get()
            try:
                t0 = time.perf_counter()
                if s is None:
                    if self._writer is not None:
                        self._roll()
                    self.write_seconds += time.perf_counter() - t0
                    return
                self._write(s)
                self.write_seconds += time.perf_counter() - t0
            except Exception as e:
                self.error = e
                self._writer = None  # the C++ destructor deletes the unfinished .tmp
                self._drain()
                return

    def _drain(self) -> None:
        # Unblock a producer waiting on a full queue; it then sees the error.
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    def _open(self) -> None:
        self._name = catalog.shard_name(self._rank, self._number)
        path = self._staging.shard_dir / self._name
        try:
            self._writer = exafold.ShardWriter(str(path), pae=self._options.pae)
        except OSError as e:  # the message names the file and the reason
            raise OutputError(str(e)) from e
        self._number += 1
        self._rows = []

    def _write(self, s: Structure) -> None:
        r = s.result
        n = len(s.sequence)
        positions = np.asarray(r["final_atom_positions"], dtype=np.float32)
        mask = np.asarray(r["final_atom_mask"]) > 0
        plddt = np.asarray(r["plddt"], dtype=np.float32)
        mean_plddt = float(r["mean_plddt"])
        ptm = float(r["ptm"]) if r.get("ptm") is not None else math.nan
        pae = r.get("predicted_aligned_error")
        aatype = aatype_of(s.sequence)
        residue_index = np.arange(1, n + 1, dtype=np.int32)
        opts = self._options
        if opts.pdb or opts.mmcif:
            self._write_structure_files(s, aatype, residue_index, positions, mask, plddt)
        if self._writer is None:
            self._open()
        row = self._writer.append(
            s.id, s.sequence, aatype, residue_index, positions, mask.astype(np.uint8), plddt,
            model=s.model, seed=s.seed, runtime_seconds=s.seconds, flops=s.flops,
            ptm=None if math.isnan(ptm) else ptm,
            pae=None if pae is None or opts.pae == "none" else np.asarray(pae, dtype=np.float32),
            templates=[t[0] for t in s.templates],
            template_sum_probs=np.array([t[1] for t in s.templates], dtype=np.float32),
        )
        fraction, passed, reasons = opts.filter.apply(plddt, mean_plddt, ptm)
        self._rows.append({
            # The seed as a decimal string: JSON readers that hold numbers as doubles would round it.
            "id": s.id, "row": int(row), "model": s.model, "seed": str(s.seed), "seconds": s.seconds,
            "flops": s.flops, "length": n, "atoms": int(mask.sum()), "mean_plddt": mean_plddt,
            "ptm": None if math.isnan(ptm) else ptm,
            "fraction_plddt_above": fraction, "passed": passed, "filter_reasons": reasons,
            "candidates": s.candidates,
            "templates": [{"name": name, "sum_probs": p} for name, p in s.templates],
            "plddt_histogram": np.histogram(plddt, bins=PLDDT_BINS)[0].tolist(),
        })
        if len(self._rows) >= opts.shard_size:
            self._roll()

    def _write_structure_files(self, s: Structure, aatype, residue_index, positions, mask, plddt) -> None:
        d = self._staging.out_dir / "structures"
        args = (aatype, residue_index, positions, mask.astype(np.uint8), plddt)
        files = []
        if self._options.pdb:
            files.append((d / f"{s.id}.pdb", exafold.make_pdb_string(*args)))
        if self._options.mmcif:
            files.append((d / f"{s.id}.cif", exafold.make_mmcif_string(*args, name=s.id)))
        for path, text in files:
            # The rename keeps readers off a partial file; the temporary one lives at the top of
            # the output directory, where a restart sweeps up what a kill left (catalog.reconcile),
            # without listing a directory of millions of structures. A failed write removes it.
            write_atomic(path, text, tmp=self._staging.out_dir / (path.name + ".tmp"))

    def _roll(self) -> None:
        """Finishes the open shard: sidecar, then shard, each complete before its final name
        (catalog's invariants), then moved out of scratch, then one journal record per row."""
        shard_dir = self._staging.shard_dir
        sidecar = catalog.sidecar_name(self._name)
        catalog.write_json_atomic(shard_dir / sidecar, {"shard": self._name, "rows": self._rows})
        self._writer.finish()
        self._writer = None
        self._staging.publish(sidecar)
        self._staging.publish(self._name)
        for r in self._rows:
            self._journal.done(r["id"], self._name, r["row"], r["model"], int(r["seed"]), r["seconds"])
            if self._on_row is not None:
                self._on_row({"shard": self._name, **r})
        self._rows = []
