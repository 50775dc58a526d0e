"""Job inputs: sequences from a FASTA file or a manifest, and their alignment files.

A run reads its records up front (cheap: only the input file is touched) and validates each one
on its own: a bad record is rejected with a reason naming the file and line, and the rest of the
run goes on. Alignment files are found and checked later, on the prefetch threads of the rank
that predicts the item, so a run over millions of ids does not stat millions of directories
from one process before it starts.

Manifest (``.tsv``/``.tab`` tab-separated, ``.csv`` comma-separated), a header row naming the
columns ``id``, ``sequence`` and optionally ``alignments`` (paths separated by ``;``, relative
ones taken from the manifest's directory)::

    id	sequence	alignments
    6KWC_1	MKTAYIAKQR...	msas/6KWC_1/uniref90.sto;msas/6KWC_1/bfd.a3m
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from exafold import _core
from exafold.features import alignment_files
from exafold.files import safe_name
from exafold.inference import normalize_sequence

RESIDUE_POLICIES = ("strict", "unknown")
MAX_ID_LENGTH = 200


class InputError(ValueError):
    """An input file that cannot be used at all (unreadable, not FASTA, no header row)."""


@dataclass(frozen=True)
class Item:
    """One sequence to predict. `source` is "file:line" of its record, for messages; `name` is
    its file name stem (exafold.files.safe_name, made distinct within the run)."""

    id: str
    sequence: str
    source: str
    listed_alignments: tuple[Path, ...] = ()
    name: str = ""


@dataclass(frozen=True)
class Rejected:
    """A record that failed validation; `id` is None when the record had no usable id."""

    id: str | None
    source: str
    reason: str


@dataclass(frozen=True)
class InputSet:
    """Valid items in input order, and the rejected records with their reasons."""

    items: list[Item]
    rejected: list[Rejected]


def id_problem(rid: str) -> str | None:
    """Why `rid` cannot be an id, or None. Ids name alignment directories (DIR/<id>/), so '/'
    and the names '.' and '..' are refused; every other text is fine (files are named with
    exafold.files.safe_name)."""
    if not rid or len(rid) > MAX_ID_LENGTH or "/" in rid or rid in (".", ".."):
        shown = rid if len(rid) <= 60 else rid[:60] + "..."
        return (f"invalid id {shown!r}: an id is the header's first word, 1-{MAX_ID_LENGTH} characters, "
                "without '/'")
    return None


class Validator:
    """Shared record checks: id, duplicates, residues (the engine's rule), length; and each
    item's distinct file name."""

    def __init__(self, max_length: int, policy: str) -> None:
        if max_length < 1:
            raise ValueError(f"maximum sequence length must be positive, got {max_length}")
        if policy not in RESIDUE_POLICIES:
            raise ValueError(f"residue policy must be one of {', '.join(RESIDUE_POLICIES)}, got {policy!r}")
        self.max_length = max_length
        self.policy = policy
        self.first_seen: dict[str, str] = {}
        self.names: set[str] = set()
        self.items: list[Item] = []
        self.rejected: list[Rejected] = []

    def add(self, rid: str, raw_seq: str, source: str, listed: tuple[Path, ...] = ()) -> None:
        if not _is_utf8(rid):
            self.rejected.append(Rejected(None, source, "the id is not valid UTF-8"))
            return
        if (why := id_problem(rid)) is not None:
            self.rejected.append(Rejected(None, source, why))
            return
        if rid in self.first_seen:
            # Not journaled under the id: the first record with this id is the one predicted.
            self.rejected.append(Rejected(None, source, f"duplicate id {rid!r} (first at {self.first_seen[rid]})"))
            return
        self.first_seen[rid] = source
        if not _is_utf8(raw_seq):
            self.rejected.append(Rejected(rid, source, "the sequence is not valid UTF-8"))
            return
        try:
            seq = normalize_sequence(raw_seq, self.policy)
        except ValueError as e:
            self.rejected.append(Rejected(rid, source, str(e)))
            return
        if len(seq) > self.max_length:
            self.rejected.append(Rejected(rid, source, f"length {len(seq)} exceeds the maximum {self.max_length}"))
            return
        self.items.append(Item(rid, seq, source, listed, self._name(rid)))

    def reject(self, rid: str | None, source: str, reason: str) -> None:
        if rid is not None and rid in self.first_seen:
            rid = None
        elif rid is not None:
            self.first_seen[rid] = source
        self.rejected.append(Rejected(rid, source, reason))

    def _name(self, rid: str) -> str:
        base = safe_name(rid)
        name, k = base, 2
        while name.lower() in self.names:
            name, k = f"{base}_{k}", k + 1
        self.names.add(name.lower())
        return name

    def result(self) -> InputSet:
        return InputSet(self.items, self.rejected)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # surrogate escapes: bytes that were not UTF-8
        return False
    return True


def read_fasta(path: Path, *, max_length: int, residues: str = "strict") -> InputSet:
    """Records of a FASTA file, read by the engine's FASTA reader (the one the feature pipeline
    and the Python API use); the id is the header's first word. A bad record (a damaged byte, a
    bad character, no sequence) fails only itself. @raises InputError when the file cannot be
    read or is not FASTA."""
    path = Path(path)
    try:
        entries = _core.features.scan_fasta(str(path))
    except OSError as e:
        raise InputError(str(e)) from None
    except ValueError as e:
        raise InputError(str(e)) from None
    v = Validator(max_length, residues)
    for record, problem, problem_line in entries:
        source = f"{path}:{record.line}"
        if problem:
            rid = record.id or None
            v.reject(rid if rid and id_problem(rid) is None else None, source,
                     problem if problem_line == record.line else f"line {problem_line}: {problem}")
        else:
            v.add(record.id, record.sequence, source)
    return v.result()


def _open_text(path: Path):
    """Opens a manifest for streaming: UTF-8, a damaged byte failing only its record.
    @raises InputError when the file cannot be opened."""
    try:
        return Path(path).open(encoding="utf-8", errors="surrogateescape", newline="")
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}") from None


def _lines(f, path: Path):
    """The file's lines without their endings (\n or \r\n).
    @raises InputError when reading fails midway."""
    try:
        for line in f:
            yield line.rstrip("\r\n")
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}") from None


def read_manifest(path: Path, *, max_length: int, residues: str = "strict") -> InputSet:
    """Records of a TSV or CSV manifest (see the module docstring for the columns).

    @raises InputError when the file cannot be read, has an unknown extension, or its header row
    lacks the id or sequence column.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".tsv", ".tab"):
        delimiter = "\t"
    elif suffix == ".csv":
        delimiter = ","
    else:
        raise InputError(f"{path}: a manifest must end in .tsv, .tab or .csv")
    with _open_text(path) as f:
        return _read_manifest_rows(path, csv.reader(_lines(f, path), delimiter=delimiter), max_length, residues)


def _read_manifest_rows(path: Path, rows, max_length: int, residues: str) -> InputSet:
    header = next(rows, None)
    if header is None:
        raise InputError(f"{path}: empty manifest")
    header = [h.strip().lower() for h in header]
    missing = [c for c in ("id", "sequence") if c not in header]
    if missing:
        raise InputError(f"{path}:1: the header row must name the columns id and sequence "
                         f"(and optionally alignments); missing {', '.join(missing)}")
    col = {name: header.index(name) for name in ("id", "sequence", "alignments") if name in header}
    v = Validator(max_length, residues)
    for number, row in enumerate(rows, 2):
        if not any(f.strip() for f in row):
            continue
        source = f"{path}:{number}"
        if len(row) != len(header):
            v.rejected.append(Rejected(None, source, f"expected {len(header)} fields, got {len(row)}"))
            continue
        listed: tuple[Path, ...] = ()
        if "alignments" in col:
            listed = tuple(path.parent / p.strip() for p in row[col["alignments"]].split(";") if p.strip())
        v.add(row[col["id"]].strip(" \t"), row[col["sequence"]], source, listed)
    return v.result()


def find_alignments(item: Item, alignment_dir: Path | None) -> list[Path]:
    """The item's alignment files: those its manifest row lists, in that order, then
    `<dir>/<id>/*.a3m|*.sto` in AlphaFold2's order (features.alignment_files), or, without that
    directory, `<dir>/<id>.a3m` as colabfold_search writes it (with the id made safe for file
    names, as colabfold_search makes it).
    @raises ValueError when there are none, naming where it looked.
    """
    found = list(item.listed_alignments)
    if alignment_dir is not None:
        d = Path(alignment_dir) / item.id
        if d.is_dir():
            found += [p for p in alignment_files(d) if p not in found]
        else:
            for stem in dict.fromkeys([item.id, safe_name(item.id)]):
                f = Path(alignment_dir) / f"{stem}.a3m"
                if f.is_file() and f not in found:
                    found.append(f)
                    break
    if not found:
        if alignment_dir is None:
            raise ValueError(f"no alignment files for {item.id}: its record lists none and no alignment "
                             "directory was given")
        raise ValueError(f"no alignment files (*.a3m, *.sto) for {item.id} in {Path(alignment_dir) / item.id}/ "
                         f"(nor {Path(alignment_dir) / safe_name(item.id)}.a3m)")
    return found


def template_dir(item: Item, alignment_dir: Path | None) -> Path:
    """Where the item's template search result lies, beside its alignments: `<dir>/<id>/`, else
    the directory of the first alignment its manifest row lists."""
    if alignment_dir is not None and (Path(alignment_dir) / item.id).is_dir():
        return Path(alignment_dir) / item.id
    if item.listed_alignments:
        return Path(item.listed_alignments[0]).parent
    return Path(alignment_dir or ".") / item.id


def check_alignment(path: Path, query: str = "") -> None:
    """Reads the alignment's first record with the engine's parser (``exafold.features.read_msa``,
    the one the feature pipeline uses, so it accepts exactly what the pipeline accepts, ColabFold's
    leading ``#`` line included) and, with `query`, checks that record is the query. A cheap
    check before a slow step (``exafold predict`` runs it before loading the models); errors
    further into the file come from the pipeline's own parse.
    @raises ValueError naming the file (and line) and the reason.
    """
    from exafold.features import read_msa

    try:
        read_msa(str(path), max_rows=1, query=query)
    except OSError as e:
        raise ValueError(str(e)) from None
