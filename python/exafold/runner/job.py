"""A distillation run: inputs in, shards, journal, index and summary out. Orchestrates one
rank: set-up collectives (output directory, reconciliation, plan), the prefetch pipeline, the
worker loop (exafold.runner.worker, where the injected model and feature pipeline are called),
the writer thread, signals, and at the end the merged index and summary.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import exafold
from exafold import stopping

from . import catalog, inputs
from .outputs import OutputError, OutputOptions, ShardSink
from .pipeline import Prefetcher
from .progress import Progress
from .staging import Staging
from .summary import SessionStats, build_summary, write_summary
from .worker import TEMPLATES_KEY, Predict, Prepare, Worker, failure_reason
from ..templates import MODES as TEMPLATE_MODES
from ..templates import TemplateInputs, uses_templates


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs besides the injected callables. `models` pairs each preset with an
    identity of its parameters (file name and size) for the configuration hash.
    """

    out_dir: Path
    models: tuple[tuple[str, str], ...]
    fasta: Path | None = None
    manifest: Path | None = None
    alignment_dir: Path | None = None
    seed: int = 0
    max_msa_clusters: int = 512
    max_extra_msa: int = 1024
    recycles: int = 3
    max_length: int = 2500
    residues: str = "strict"
    outputs: OutputOptions = field(default_factory=OutputOptions)
    scratch: Path | None = None
    prefetch_threads: int = 2
    prefetch_depth: int = 4  # prepared items in flight at most
    memory_budget_bytes: int = 8 << 30
    device_peak_flops: float | None = None
    retry_failed: bool = False
    progress: bool | None = None  # None: a bar on a terminal, log lines otherwise
    progress_interval: float = 30.0
    plots: bool = True  # histograms.png in the summary (matplotlib)
    chunk_divisor: float = 2.0
    min_chunk: int = 1
    # A fitted exafold.DeviceTimeModel as JSON: order and split work by its predicted seconds
    # instead of FLOPs. Left out of the hash: it changes only the order, not the structures.
    time_model: str | None = None
    # Templates: "off"; "on" (template presets predict with the hits beside the alignments);
    # "both" (and also without, the higher mean pLDDT kept). The structures: an mmCIF directory
    # or a template store.
    templates: str = "off"
    template_structures: Path | None = None
    max_template_date: str | None = None
    obsolete_pdbs: Path | None = None

    def template_inputs(self) -> TemplateInputs | None:
        """The run's template settings with its structures opened, or None with templates off.
        @raises ValueError for settings that cannot be used."""
        if self.templates not in TEMPLATE_MODES:
            raise ValueError(f"templates must be one of {', '.join(TEMPLATE_MODES)}, got {self.templates!r}")
        if self.templates == "off":
            return None
        if self.template_structures is None:
            raise ValueError("templates need the template structures (--template-mmcif-dir)")
        if not any(uses_templates(preset) for preset, _ in self.models):
            raise ValueError("templates need a template preset (model_1, model_2 or their _ptm); the run has "
                             + ", ".join(preset for preset, _ in self.models))
        return TemplateInputs(self.template_structures, max_template_date=self.max_template_date,
                              obsolete=self.obsolete_pdbs)

    def canonical(self) -> dict:
        """The settings that change what a structure or its verdict is; their hash guards
        resume. Paths, staging, threads and shard size are left out: they change only how."""
        return {
            "models": [list(m) for m in self.models],
            "seed": self.seed,
            "max_msa_clusters": self.max_msa_clusters,
            "max_extra_msa": self.max_extra_msa,
            "recycles": self.recycles,
            "max_length": self.max_length,
            "residues": self.residues,
            "pae": self.outputs.pae,
            "filter": asdict(self.outputs.filter),
            # Only with templates on, so that the hash of a run without them stays as it was.
            **({} if self.templates == "off" else {"templates": {
                "mode": self.templates,
                "structures": None if self.template_structures is None else Path(self.template_structures).name,
                "max_template_date": self.max_template_date,
                "obsolete": None if self.obsolete_pdbs is None else Path(self.obsolete_pdbs).name}}),
        }

    def config_hash(self) -> str:
        return exafold.config_hash(json.dumps(self.canonical(), sort_keys=True))


@dataclass
class RunResult:
    """What a rank returns: its session numbers; on rank 0 also the summary."""

    stats: SessionStats
    summary: dict | None
    stop_signal: int | None  # the signal that stopped the run early, if any


def _flop_polynomial(preset: str, config: RunConfig) -> tuple[float, float, float, float]:
    """FLOPs of one prediction with `preset` as a cubic in the length: the preset's own sizes
    when exafold knows it, else the official monomer sizes."""
    if preset in exafold.presets():
        return exafold._core.preset_flop_polynomial(preset, msa_clusters=config.max_msa_clusters,
                                                    extra_msa_rows=config.max_extra_msa,
                                                    passes=config.recycles + 1,
                                                    templates=0 if config.templates == "off" else 4)
    return exafold.flop_polynomial(msa_clusters=config.max_msa_clusters, extra_msa_rows=config.max_extra_msa,
                                   templates=0, passes=config.recycles + 1, ptm=preset.endswith("_ptm"))


def _order_longest_first(items: list[inputs.Item], config: RunConfig) -> tuple[list[inputs.Item], np.ndarray]:
    """Items by descending predicted cost (ties in input order) and their costs: FLOPs, or
    seconds when the run has a fitted time model (it also charges the S^2 memory-bound work and
    the fixed per-call overhead that FLOPs miss, which matter most for short sequences)."""
    lengths = np.array([len(i.sequence) for i in items], dtype=np.float64)
    time_model = None if config.time_model is None else exafold.DeviceTimeModel.from_json(config.time_model)
    costs = np.zeros_like(lengths)
    for preset, _ in config.models:
        c3, c2, c1, c0 = _flop_polynomial(preset, config)
        flops = ((c3 * lengths + c2) * lengths + c1) * lengths + c0
        if time_model is None:
            costs += flops
        else:
            costs += time_model.flop_seconds * flops + time_model.pair_seconds * lengths**2 + time_model.overhead_seconds
    order = np.argsort(-costs, kind="stable")
    return [items[i] for i in order], costs[order]


def _read_inputs(config: RunConfig) -> inputs.InputSet:
    if (config.fasta is None) == (config.manifest is None):
        raise ValueError("give exactly one of a FASTA file and a manifest")
    if config.fasta is not None:
        return inputs.read_fasta(config.fasta, max_length=config.max_length, residues=config.residues)
    return inputs.read_manifest(config.manifest, max_length=config.max_length, residues=config.residues)


def prepare_output_dir(out_dir: Path) -> None:
    """Creates the output directory and proves it writable, before any work is done.
    @raises OutputError naming the directory and the reason."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".exafold-write-test"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as e:
        raise OutputError(f"output directory {out_dir} is not writable: {e.strerror or e}") from None


@dataclass
class _Plan:
    """Rank 0's view after reconciling the output directory."""

    pending: list[inputs.Item]
    costs: np.ndarray
    input_count: int
    rejected_unjournaled: list[dict]


def _plan(config: RunConfig, journal: exafold.JournalWriter) -> _Plan:
    """Rank 0: reads the inputs, journals rejected records, and lists the work not finished."""
    found = _read_inputs(config)
    done, failed = catalog.journal_state(config.out_dir)
    finished = set(done) | (set() if config.retry_failed else set(failed))
    unjournaled = []
    for r in found.rejected:
        if r.id is None:
            unjournaled.append({"source": r.source, "reason": r.reason})
        elif r.id not in finished:
            journal.failed(r.id, f"{r.source}: {r.reason}")
    pending = [i for i in found.items if i.id not in finished]
    ordered, costs = _order_longest_first(pending, config)
    return _Plan(ordered, costs, len(found.items) + len(found.rejected), unjournaled)


class _Collective:
    """Runs a step on rank 0 (or on every rank) and raises the same error on every rank when one
    fails, so no rank is left waiting in a collective for a rank that gave up."""

    def __init__(self, comm) -> None:
        self.comm = comm
        self.rank = comm.Get_rank() if comm is not None else 0

    def root(self, fn: Callable[[], Any]) -> Any:
        value, error = None, None
        if self.rank == 0:
            try:
                value = fn()
            except Exception as e:
                error = e
        if self.comm is None:
            if error is not None:
                raise error
            return value
        message = self.comm.bcast(None if error is None else (type(error).__name__, str(error)), root=0)
        if error is not None:
            raise error
        if message is not None:
            raise RuntimeError(f"rank 0 failed: {message[0]}: {message[1]}")
        return value

    def every(self, fn: Callable[[], Any]) -> Any:
        error = None
        try:
            value = fn()
        except Exception as e:
            error, value = e, None
        if self.comm is not None:
            errors = [m for m in self.comm.allgather(None if error is None else str(error)) if m]
            if errors and error is None:
                raise RuntimeError(f"another rank failed: {errors[0]}")
        if error is not None:
            raise error
        return value


def run(config: RunConfig, prepare: Prepare, models: Mapping[str, Predict], *, comm=None) -> RunResult:
    """Runs (or resumes) the distillation job described by `config` on this rank. With an MPI
    communicator of several ranks, work is dispensed from rank 0 and every rank must call this.
    @raises InputError / ValueError for unusable inputs or a configuration that differs from the
    journal's; OutputError when results cannot be written (finished shards stay intact).
    """
    presets = [m[0] for m in config.models]
    if not presets:
        raise ValueError("a run needs at least one model")
    if list(models) != presets:
        raise ValueError(f"models {list(models)} do not match the configured presets {presets}")
    comm = comm if comm is not None and comm.Get_size() > 1 else None
    coll = _Collective(comm)
    coll.root(lambda: prepare_output_dir(config.out_dir))
    lock = coll.root(lambda: catalog.OutputLock(config.out_dir))
    try:
        return _run_rank(config, prepare, models, comm, coll)
    finally:
        if lock is not None:
            lock.release()


def _run_rank(config: RunConfig, prepare: Prepare, models: Mapping[str, Predict], comm,
              coll: _Collective) -> RunResult:
    rank = coll.rank
    chash = config.config_hash()
    out_dir = Path(config.out_dir)
    staging = coll.every(lambda: Staging(out_dir, config.scratch, rank))
    coll.every(staging.clear)
    coll.root(lambda: catalog.reconcile(out_dir, chash))
    journal = coll.every(lambda: exafold.JournalWriter(str(out_dir / catalog.journal_name(rank)), chash))
    plan = coll.root(lambda: _plan(config, journal))
    total = comm.bcast(len(plan.pending) if rank == 0 else None, root=0) if comm else len(plan.pending)

    templates = coll.every(config.template_inputs)
    worker = Worker(config, prepare, models, staging, rank, templates)
    stats = worker.stats
    on_stop: list[Callable[[], None]] = []
    progress = Progress(total, tty=config.progress, interval=config.progress_interval) if rank == 0 else None
    dispenser = None
    if comm is None:
        source = iter(plan.pending)
    else:
        from .mpi import ChunkSource, Dispenser

        if rank == 0:
            dispenser = Dispenser(comm, plan.pending, plan.costs, divisor=config.chunk_divisor,
                                  min_chunk=config.min_chunk)
            on_stop.append(dispenser.stop)
        source = ChunkSource(comm, dispenser, lambda: stats.structures + stats.failed)

    def on_row(row: dict) -> None:
        stats.structures += 1
        stats.residues += row["length"]
        stats.atoms += row["atoms"]
        if progress is not None:
            progress.update(done=1)
            if dispenser is not None:
                progress.set_remote(dispenser.remote_done)

    def fail(item: inputs.Item, reason: str) -> None:
        journal.failed(item.id, reason)
        stats.failed += 1
        if progress is not None:
            progress.update(failed=1)

    def warn(item: inputs.Item, reason: str) -> None:
        journal.warning(item.id, reason)

    start = time.perf_counter()
    sink = ShardSink(staging, journal, rank, config.outputs, on_row=on_row)
    prefetcher = Prefetcher(source, worker.prepare_item, threads=config.prefetch_threads,
                            budget_bytes=config.memory_budget_bytes, estimate=worker.estimate,
                            depth=config.prefetch_depth)
    on_stop.append(prefetcher.request_stop)
    # Signals (exafold.stopping): the first stops taking work, abandons the prediction in
    # progress at its next iteration and lets the open shard be finished below; a second exits.
    with stopping.graceful(lambda: [f() for f in on_stop], "the open shard and the summary are finished first"):
        error = _work(prefetcher, worker, sink, fail, warn)
        prefetcher.close()
        stats.prepare_seconds = prefetcher.prepare_seconds
        stats.wait_seconds = prefetcher.wait_seconds
        try:
            sink.close()  # finishes the open shard: everything predicted so far is kept
        except OutputError as e:
            error = error or e
        stats.write_seconds = sink.write_seconds
        stop_signal = stopping.requested()
        if error is not None:
            if comm is not None:
                # The other ranks would wait for this one forever; their finished shards are safe.
                print(f"exafold distill: rank {rank}: {failure_reason(error)}; aborting all ranks", file=sys.stderr,
                      flush=True)
                comm.Abort(1)
            raise error
        if comm is not None:
            source.close()
            if dispenser is not None:
                dispenser.join()
                stats.dispenser_requests = dispenser.requests
        stats.wall_seconds = time.perf_counter() - start
        stats.interrupted = stop_signal is not None
        if progress is not None:
            if dispenser is not None:
                progress.set_remote(dispenser.remote_done)
            progress.close()

        sessions = comm.gather(stats, root=0) if comm is not None else [stats]
        summary = coll.root(lambda: _finish(config, chash, plan, sessions))
    return RunResult(stats, summary, stop_signal)


def _work(prefetcher: Prefetcher, worker: Worker, sink: ShardSink, fail: Callable[[inputs.Item, str], None],
          warn: Callable[[inputs.Item, str], None]) -> BaseException | None:
    """The worker loop: each prepared item predicted and handed to the writer, until the items
    run out or a stop is asked for; what an item goes without (template hits left out, no
    usable template) is journaled as it is taken. Returns the error that ended it early, if
    any (a stop is not one: the item in progress is left unfinished, for a rerun)."""
    try:
        for p in prefetcher:
            if stopping.requested() is not None:
                break
            if p.error is not None:
                fail(p.item, f"features: {failure_reason(p.error)}")
                continue
            if TEMPLATES_KEY in p.features:
                for note in p.features[TEMPLATES_KEY].notes:
                    warn(p.item, note)
            try:
                structure = worker.predict_item(p.item, p.features)
            except RuntimeError as e:
                fail(p.item, str(e))
                continue
            finally:
                p.features = None  # the features' memory goes before the next prediction
            sink.put(structure)
    except stopping.Stopped:
        pass
    except BaseException as e:
        return e
    return None


def _finish(config: RunConfig, chash: str, plan: _Plan, sessions: list[SessionStats]) -> dict:
    """Rank 0, at the end: the merged index and the summary over the whole output directory."""
    rows, failed = catalog.collect_rows(config.out_dir)
    catalog.write_index(config.out_dir, rows, failed)
    input_ids = {i.id for i in plan.pending}
    pending = len(input_ids - set(rows) - set(failed))
    summary = build_summary(config=config.canonical(), config_hash=chash, inputs=plan.input_count,
                            rejected=plan.rejected_unjournaled, rows=rows, failed=failed, pending=pending,
                            sessions=sessions, device_peak_flops=config.device_peak_flops)
    write_summary(config.out_dir, summary, plots=config.plots)
    return summary
