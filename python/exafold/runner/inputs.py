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
import re
from dataclasses import dataclass
from pathlib import Path

from exafold.features import alignment_files

STANDARD_RESIDUES = frozenset("ACDEFGHIKLMNPQRSTVWY")
# Letters IUPAC allows in protein sequences beyond the 20 (ambiguity codes, selenocysteine,
# pyrrolysine, unknown); AlphaFold2 maps each of them to X.
NONSTANDARD_RESIDUES = frozenset("BJOUXZ")
RESIDUE_POLICIES = ("strict", "unknown")
# Ids name directories and files (alignments, PDB/mmCIF output), so path separators, spaces and
# control characters are refused; '|' and ':' stay allowed for UniProt-style ids.
_ID_PATTERN = re.compile(r"[A-Za-z0-9_.:|+=-]{1,200}")
# ASCII whitespace only: str.split() would also drop Latin-1 bytes such as 0x85 and 0xA0, and a
# damaged byte must fail its record, not vanish.
_SPACES = str.maketrans("", "", " \t\v\f")
_FIRST_WORD = re.compile(r"[ \t\v\f]*([^ \t\v\f]*)")


class InputError(ValueError):
    """An input file that cannot be used at all (unreadable, not FASTA, no header row)."""


@dataclass(frozen=True)
class Item:
    """One sequence to predict. `source` is "file:line" of its record, for messages."""

    id: str
    sequence: str
    source: str
    listed_alignments: tuple[Path, ...] = ()


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


def normalize_sequence(raw: str, policy: str) -> str:
    """Upper-cases `raw`, drops one trailing stop '*', and applies the residue policy.

    "strict" accepts only the 20 standard residues; "unknown" also accepts B, J, O, U, X and Z
    and writes them as X, as AlphaFold2 does. Anything else is refused.
    @raises ValueError naming the first bad residue and its 1-based position.
    """
    if policy not in RESIDUE_POLICIES:
        raise ValueError(f"residue policy must be one of {', '.join(RESIDUE_POLICIES)}, got {policy!r}")
    if not raw.isascii():  # before upper(), which would turn Latin-1 bytes into other letters
        pos, c = next((i, c) for i, c in enumerate(raw, 1) if not c.isascii())
        raise ValueError(f"residue '\\x{ord(c):02x}' at position {pos} is not allowed")
    seq = raw.upper()
    if seq.endswith("*"):
        seq = seq[:-1]
    if not seq:
        raise ValueError("empty sequence")
    if set(seq) <= STANDARD_RESIDUES:  # the common case, at C speed
        return seq
    out = []
    for pos, c in enumerate(seq, 1):
        if c in STANDARD_RESIDUES:
            out.append(c)
        elif policy == "unknown" and c in NONSTANDARD_RESIDUES:
            out.append("X")
        else:
            shown = c if c.isprintable() else f"\\x{ord(c):02x}"
            hint = " (allowed with --residues unknown)" if c in NONSTANDARD_RESIDUES else ""
            raise ValueError(f"residue {shown!r} at position {pos} is not allowed{hint}")
    return "".join(out)


class _Validator:
    """Shared record checks: id syntax, duplicates, residues, length."""

    def __init__(self, max_length: int, policy: str) -> None:
        if max_length < 1:
            raise ValueError(f"maximum sequence length must be positive, got {max_length}")
        if policy not in RESIDUE_POLICIES:
            raise ValueError(f"residue policy must be one of {', '.join(RESIDUE_POLICIES)}, got {policy!r}")
        self.max_length = max_length
        self.policy = policy
        self.first_seen: dict[str, str] = {}
        self.items: list[Item] = []
        self.rejected: list[Rejected] = []

    def add(self, rid: str, raw_seq: str, source: str, listed: tuple[Path, ...] = ()) -> None:
        if not _ID_PATTERN.fullmatch(rid):
            shown = rid if len(rid) <= 60 else rid[:60] + "..."
            self.rejected.append(Rejected(None, source, f"invalid id {shown!r}: ids are 1-200 characters "
                                          "of letters, digits and _ . : | + = -"))
            return
        if rid in self.first_seen:
            # Not journaled under the id: the first record with this id is the one predicted.
            self.rejected.append(Rejected(None, source, f"duplicate id {rid!r} (first at {self.first_seen[rid]})"))
            return
        self.first_seen[rid] = source
        try:
            seq = normalize_sequence(raw_seq, self.policy)
        except ValueError as e:
            self.rejected.append(Rejected(rid, source, str(e)))
            return
        if len(seq) > self.max_length:
            self.rejected.append(Rejected(rid, source, f"length {len(seq)} exceeds the maximum {self.max_length}"))
            return
        self.items.append(Item(rid, seq, source, listed))

    def result(self) -> InputSet:
        return InputSet(self.items, self.rejected)


def _open_text(path: Path):
    """Opens an input for streaming. Latin-1 decodes any byte, so a damaged byte fails only its
    record (as a bad residue or id), never the file; lines end only at \n, \r\n or \r.
    @raises InputError when the file cannot be opened."""
    try:
        return Path(path).open(encoding="latin-1", newline="")
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}") from None


def read_fasta(path: Path, *, max_length: int, residues: str = "strict") -> InputSet:
    """Records of a FASTA file; the id is the header's first word.

    Streams the file; a damaged byte fails only its record. @raises InputError when the file
    cannot be read or is not FASTA.
    """
    path = Path(path)
    v = _Validator(max_length, residues)
    header: tuple[str, str] | None = None  # (id, source) of the record being read
    chunks: list[str] = []
    with _open_text(path) as f:
        for number, line in enumerate(_lines(f, path), 1):
            if header is None and not line.startswith(">"):
                if line.strip():
                    raise InputError(f"{path}:{number}: not a FASTA file: text before the first '>' header")
                continue
            if line.startswith(">"):
                if header is not None:
                    v.add(header[0], "".join(chunks), header[1])
                header = (_FIRST_WORD.match(line, 1).group(1), f"{path}:{number}")
                chunks = []
            else:
                chunks.append(line.translate(_SPACES))
    if header is None:
        raise InputError(f"{path}: no FASTA records")
    v.add(header[0], "".join(chunks), header[1])
    return v.result()


def _lines(f, path: Path):
    """The file's lines without their endings (\n, \r\n or \r).
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
    v = _Validator(max_length, residues)
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
        v.add(row[col["id"]].strip(" \t"), row[col["sequence"]].translate(_SPACES), source, listed)
    return v.result()


def find_alignments(item: Item, alignment_dir: Path | None) -> list[Path]:
    """The item's alignment files: those its manifest row lists, in that order, then
    `<dir>/<id>/*.a3m|*.sto` in AlphaFold2's order (features.alignment_files).
    @raises ValueError when there are none, naming where it looked.
    """
    found = list(item.listed_alignments)
    if alignment_dir is not None:
        d = Path(alignment_dir) / item.id
        if d.is_dir():
            found += [p for p in alignment_files(d) if p not in found]
    if not found:
        if alignment_dir is None:
            raise ValueError(f"no alignment files for {item.id}: its record lists none and no alignment "
                             "directory was given")
        raise ValueError(f"no alignment files (*.a3m, *.sto) for {item.id} in {Path(alignment_dir) / item.id}/")
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


_MASK64 = (1 << 64) - 1


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def structure_seed(item_id: str, run_seed: int) -> int:
    """A structure's 64-bit seed from its id and the run's seed: FNV-1a over the id's bytes,
    combined by SplitMix64, the same function as the feature pipeline's C++ structure_seed
    (Note [Feature randomness]), so every rank derives the same seed for an id.
    """
    h = 0xCBF29CE484222325
    for b in item_id.encode():
        h = ((h ^ b) * 0x100000001B3) & _MASK64
    return _splitmix64(h ^ _splitmix64(run_seed & _MASK64))
