"""A distillation run: inputs in, shards, journal, index and summary out. Orchestrates one
rank: set-up collectives (output directory, reconciliation, plan), the prefetch pipeline, the
worker loop (exafold.runner.worker, where the injected model and feature pipeline are called),
the writer thread, and at the end the merged index and summary. The configuration is
runner.config, the order of the work runner.ordering, the collectives runner.collective, and
what signals do exafold.stopping.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import exafold
from exafold import stopping
from exafold.inference import failure_reason

from . import catalog, inputs, ordering
from .collective import Collective
from .config import RunConfig
from .outputs import OutputError, ShardSink
from .pipeline import Prefetcher
from .progress import Progress
from .staging import Staging
from .summary import SessionStats, build_summary, write_summary
from .worker import TEMPLATES_KEY, Predict, Prepare, Worker

__all__ = ["RunConfig", "RunResult", "run", "prepare_output_dir"]


@dataclass
class RunResult:
    """What a rank returns: its session numbers; on rank 0 also the summary."""

    stats: SessionStats
    summary: dict | None
    stop_signal: int | None  # the signal that stopped the run early, if any


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
    already_done: int  # inputs a previous session finished (done, or failed unless retried)


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
    ordered, costs = ordering.longest_first(pending, config)
    return _Plan(ordered, costs, len(found.items) + len(found.rejected), unjournaled,
                 len(found.items) - len(pending))


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
    coll = Collective(comm)
    coll.root(lambda: prepare_output_dir(config.out_dir))
    lock = coll.root(lambda: catalog.OutputLock(config.out_dir))
    try:
        return _run_rank(config, prepare, models, comm, coll)
    finally:
        if lock is not None:
            lock.release()


def _run_rank(config: RunConfig, prepare: Prepare, models: Mapping[str, Predict], comm,
              coll: Collective) -> RunResult:
    rank = coll.rank
    chash = config.config_hash()
    out_dir = Path(config.out_dir)
    staging = coll.every(lambda: Staging(out_dir, config.scratch, rank))
    coll.every(staging.clear)
    coll.root(lambda: catalog.reconcile(out_dir, chash))
    journal = coll.every(lambda: exafold.JournalWriter(str(out_dir / catalog.journal_name(rank)), chash))
    plan = coll.root(lambda: _plan(config, journal))
    total = comm.bcast(len(plan.pending) if rank == 0 else None, root=0) if comm else len(plan.pending)
    if rank == 0 and total == 0 and plan.already_done:
        print(f"exafold distill: nothing to do: {plan.already_done} of {plan.input_count} inputs already done "
              f"in {out_dir}" + (" (failed ones too: --retry-failed predicts them again)"
                                 if not config.retry_failed else ""), file=sys.stderr, flush=True)

    templates = coll.every(config.template_inputs)
    worker = Worker(config, prepare, models, staging, rank, templates)
    stats = worker.stats
    on_stop: list[Callable[[], None]] = []
    # Nothing to do (a rerun of a finished job): no progress line to print.
    progress = (Progress(total, tty=config.progress, interval=config.progress_interval)
                if rank == 0 and total > 0 else None)
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
    labels = dict(config.weights_labels)
    weights = {preset: (identity.rsplit(":", 1)[0], labels.get(preset, "")) for preset, identity in config.models}
    sink = ShardSink(staging, journal, rank, config.outputs, on_row=on_row, weights=weights,
                     weights_label=config.weights_label())
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
        sessions = comm.gather(stats, root=0) if comm is not None else [stats]
        if progress is not None:
            # What the other ranks finished after their last request only arrives here.
            progress.set_remote(sum(s.structures + s.failed for s in sessions if s.rank != rank))
            progress.close()
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
                            sessions=sessions, device_peak_flops=config.device_peak_flops,
                            weights_labels=dict(config.weights_labels))
    write_summary(config.out_dir, summary, plots=config.plots)
    return summary
