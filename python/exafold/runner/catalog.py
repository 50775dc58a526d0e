"""What an output directory holds, how a restarted run reconciles it, and the merged index.

Layout (docs/formats.md, "Distillation output directory")::

    journal-r00000.jsonl        one journal per rank (exafold/sched/journal.h)
    shard-r00000-00000.h5       shards, per rank, numbered from 0
    shard-r00000-00000.json     the shard's sidecar: per-row scores and filter verdict
    structures/<id>.pdb|.cif    optional, per structure
    index.json                  id -> shard, row, scores (merged over ranks at the end)
    summary.json, summary.txt, histograms.png

Invariants a crash cannot break, because every file appears by rename: a sidecar is complete
before its shard gets its final name, and a shard has its final name before the journal names
its rows. So after a kill the directory holds finished shards (each with its sidecar), maybe
some of their rows not yet journaled, and leftover ``*.tmp`` files.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import socket
from pathlib import Path
from typing import Any

import exafold

from exafold.files import fsync_dir, write_atomic

SHARD_RE = re.compile(r"shard-r(\d{5})-(\d{5})\.h5")
JOURNAL_RE = re.compile(r"journal-r(\d{5})\.jsonl")


def journal_name(rank: int) -> str:
    return f"journal-r{rank:05d}.jsonl"


def shard_name(rank: int, number: int) -> str:
    return f"shard-r{rank:05d}-{number:05d}.h5"


def sidecar_name(shard: str) -> str:
    return shard[: -len(".h5")] + ".json"


def write_json_atomic(path: Path, obj: Any, *, durable: bool = True, indent: int | None = None) -> None:
    """Writes JSON to `path`.tmp and renames it, so readers see the old file or the whole new
    one; with `durable`, fsyncs the data and the directory. Compact unless `indent` is given
    (indenting takes the json module off its C encoder). NaN is refused: JSON has none.
    @raises OSError naming `path` and the reason (exafold.files.write_atomic).
    """
    separators = (",", ":") if indent is None else None
    # dumps, not dump: only the one-shot encoder is the C one.
    text = json.dumps(obj, indent=indent, separators=separators, allow_nan=False) + "\n"
    write_atomic(path, text, durable=durable)


class OutputLock:
    """An exclusive lock on an output directory for one run (rank 0 holds it), so two runs
    started into the same directory by mistake (say, N copies of a 1-rank run under mpiexec
    without MPI) fail at once instead of clobbering each other's shards. On file systems
    without flock support the lock is skipped.
    """

    def __init__(self, out_dir: Path) -> None:
        path = Path(out_dir) / ".exafold.lock"
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            holder = os.pread(self._fd, 64, 0).decode(errors="replace").strip()
            os.close(self._fd)
            self._fd = None
            if e.errno in (errno.EWOULDBLOCK, errno.EACCES):
                raise OSError(f"another run ({holder or 'unknown process'}) is writing to {out_dir}") from None
            if e.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                raise
            return
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


def next_shard_number(out_dir: Path, rank: int) -> int:
    """One past the highest shard number of `rank` in the output directory."""
    numbers = [int(m.group(2)) for p in Path(out_dir).iterdir()
               if (m := SHARD_RE.fullmatch(p.name)) and int(m.group(1)) == rank]
    return max(numbers, default=-1) + 1


def read_sidecar(path: Path) -> dict:
    with Path(path).open() as f:
        return json.load(f)


def _maybe_unjournaled(out_dir: Path, journaled_shards: set[str]) -> list[Path]:
    """The shards whose rows may be missing from the journal: a writer journals a shard's rows
    before it opens the next one, so only each rank's highest-numbered shard can be partly
    journaled, plus any shard no journal names at all. Checking just these keeps a restart from
    reading every sidecar of a large run.
    """
    last: dict[int, tuple[int, Path]] = {}
    unnamed = []
    for p in Path(out_dir).iterdir():
        if m := SHARD_RE.fullmatch(p.name):
            rank, number = int(m.group(1)), int(m.group(2))
            if number >= last.get(rank, (-1, p))[0]:
                last[rank] = (number, p)
            if p.name not in journaled_shards:
                unnamed.append(p)
    return sorted({p for _, p in last.values()} | set(unnamed))


def reconcile(out_dir: Path, config_hash: str) -> dict[str, int]:
    """Brings an output directory back to its invariants after a crash: removes ``*.tmp`` files
    and sidecars whose shard never got its final name, and journals the rows of finished shards
    that a kill left unjournaled, so they are neither lost nor predicted twice. Refuses journals
    of another configuration. Call once, before any rank opens its journal.
    @returns counts: removed temporary files, orphan sidecars, rows recovered.
    """
    out_dir = Path(out_dir)
    counts = {"tmp_removed": 0, "orphan_sidecars": 0, "rows_recovered": 0}
    for p in list(out_dir.iterdir()):
        if p.name.endswith(".tmp") and p.is_file():
            p.unlink()
            counts["tmp_removed"] += 1
        elif p.suffix == ".json" and p.name.startswith("shard-") and not (out_dir / (p.stem + ".h5")).exists():
            p.unlink()
            counts["orphan_sidecars"] += 1
    journals = {int(m.group(1)): p for p in out_dir.iterdir() if (m := JOURNAL_RE.fullmatch(p.name))}
    done: set[str] = set()
    journaled_shards: set[str] = set()
    for path in journals.values():
        j = exafold.read_journal(str(path))
        if j["config_hash"] and j["config_hash"] != config_hash:
            raise ValueError(f"{path} was written by a run with configuration {j['config_hash']}, this run's is "
                             f"{config_hash}: resume with the same settings, or use a new output directory")
        done.update(d["id"] for d in j["done"])
        journaled_shards.update(d["shard"] for d in j["done"])
    for shard in _maybe_unjournaled(out_dir, journaled_shards):
        rows = [r for r in read_sidecar(out_dir / sidecar_name(shard.name))["rows"] if r["id"] not in done]
        if not rows:
            continue
        rank = int(SHARD_RE.fullmatch(shard.name).group(1))
        writer = exafold.JournalWriter(str(out_dir / journal_name(rank)), config_hash)
        for r in rows:
            writer.done(r["id"], shard.name, r["row"], r["model"], int(r["seed"]), r["seconds"])
            done.add(r["id"])
            counts["rows_recovered"] += 1
        del writer  # closes the descriptor before the rank's own writer opens the file
    fsync_dir(out_dir)
    return counts


def journal_state(out_dir: Path) -> tuple[dict[str, dict], dict[str, str]]:
    """Done records (id -> record) and failures (id -> reason, for ids never done) over every
    rank's journal. A later done record supersedes an earlier failure (--retry-failed).
    """
    done: dict[str, dict] = {}
    failed: dict[str, str] = {}
    for path in sorted(Path(out_dir).glob("journal-r*.jsonl")):
        j = exafold.read_journal(str(path))
        for d in j["done"]:
            done.setdefault(d["id"], d)
        for f in j["failed"]:
            failed[f["id"]] = f["reason"]
    return done, {k: v for k, v in failed.items() if k not in done}


# The sidecar fields that the index and the summary use; the rest stays in the sidecars.
INDEX_FIELDS = ("row", "model", "seed", "length", "mean_plddt", "ptm", "fraction_plddt_above", "passed",
                "filter_reasons")
SUMMARY_FIELDS = ("plddt_histogram",)


def collect_rows(out_dir: Path) -> tuple[dict[str, dict], dict[str, str]]:
    """Every finished structure's scores (its sidecar row, trimmed, with its shard) keyed by id,
    and the failures. Reads each sidecar once and keeps only what the index and summary need.
    """
    out_dir = Path(out_dir)
    done, failed = journal_state(out_dir)
    by_shard: dict[str, list[tuple[str, int]]] = {}
    for sid, rec in done.items():
        by_shard.setdefault(rec["shard"], []).append((sid, rec["offset"]))
    rows: dict[str, dict] = {}
    for shard, members in by_shard.items():
        sidecar = read_sidecar(out_dir / sidecar_name(shard))["rows"]
        for sid, offset in members:
            row = sidecar[offset]
            if row["id"] != sid:
                raise ValueError(f"{out_dir / shard}: row {offset} holds {row['id']!r}, the journal says {sid!r}")
            rows[sid] = {"shard": shard, **{k: row[k] for k in INDEX_FIELDS + SUMMARY_FIELDS}}
    return rows, failed


def write_index(out_dir: Path, rows: dict[str, dict], failed: dict[str, str]) -> Path:
    """Writes index.json: id -> shard, row and scores for every structure, and id -> reason for
    every failure.
    """
    keep = ("shard",) + INDEX_FIELDS
    index = {
        "layout_version": 1,
        "structures": {sid: {k: r[k] for k in keep} for sid, r in sorted(rows.items())},
        "failed": dict(sorted(failed.items())),
    }
    path = Path(out_dir) / "index.json"
    write_json_atomic(path, index)
    return path
