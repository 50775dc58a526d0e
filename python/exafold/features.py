"""AlphaFold2 input features, computed natively.

Parsing: ``read_fasta``, ``read_msa`` / ``read_a3m`` / ``read_stockholm`` (and ``parse_*`` for text
in memory) give ``FastaRecord`` and ``Msa`` objects; bad input raises ``ValueError`` whose message
starts with ``file:line:``. Raw features (AlphaFold2's data pipeline): ``build_raw_features``.
Processed features (what the model consumes per recycling iteration): ``process_features``.
Every random choice comes from one generator per structure keyed by ``structure_seed(id, run_seed)``
(Note [Feature randomness] in cpp/include/exafold/features/rng.h), so a rerun is bit-identical.

Templates: ``read_hhr`` / ``read_hmmsearch_sto`` give AlphaFold2's ``TemplateHit`` records,
``read_template_mmcif`` a ``TemplateEntry`` (SEQRES and atom37 per chain), ``template_features``
AlphaFold2's raw template features from hits and an mmCIF directory or a ``TemplateStore``, and
``process_template_features`` what the model takes (pseudo-beta, and the template torsion-angle
features AlphaFold2 computes inside its network).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence, Union

import numpy as np

from exafold._core.features import (
    FastaRecord,
    MmcifDirectory,
    Msa,
    ProcessConfig,
    TemplateChain,
    TemplateEntry,
    TemplateHit,
    TemplateHitReport,
    TemplateSearchResult,
    TemplateSource,
    TemplateStore,
    af2_hit_limit,
    build_template_store,
    build_raw_features_from_msas,
    draw_msa_sample,
    find_template_hits,
    iteration_features,
    parse_a3m,
    parse_fasta,
    parse_hhr,
    parse_hmmsearch_sto,
    parse_stockholm,
    read_a3m,
    read_fasta,
    read_hhr,
    read_hmmsearch_sto,
    read_msa,
    read_obsolete_pdbs,
    read_stockholm,
    read_template_hits,
    read_template_mmcif,
    structure_seed,
)
from exafold._core.features import build_raw_features as _build_raw_features
from exafold._core.features import featurize_templates as _featurize_templates
from exafold._core.features import process_features as _process_features
from exafold._core.features import process_template_features as _process_template_features

__all__ = [
    "ALIGNMENT_SUFFIXES",
    "FastaRecord",
    "MmcifDirectory",
    "Msa",
    "ProcessConfig",
    "TemplateChain",
    "TemplateEntry",
    "TemplateHit",
    "TemplateHitReport",
    "TemplateSearchResult",
    "TemplateSource",
    "TemplateStore",
    "af2_hit_limit",
    "alignment_files",
    "alignment_order",
    "build_raw_features",
    "build_template_store",
    "draw_msa_sample",
    "find_template_hits",
    "iteration_features",
    "parse_a3m",
    "parse_fasta",
    "parse_hhr",
    "parse_hmmsearch_sto",
    "parse_stockholm",
    "process_features",
    "process_template_features",
    "read_a3m",
    "read_fasta",
    "read_hhr",
    "read_hmmsearch_sto",
    "read_msa",
    "read_obsolete_pdbs",
    "read_stockholm",
    "read_template_hits",
    "read_template_mmcif",
    "structure_seed",
    "template_features",
]

Alignment = Union[str, os.PathLike, "tuple[str, int]", Msa]
ALIGNMENT_SUFFIXES = (".a3m", ".sto")


def alignment_order(path: Path) -> tuple[int, str]:
    """Sort key giving AlphaFold2's merge order, uniref90, then BFD/Uniclust (uniref30 for
    ColabFold-style searches), then MGnify, then anything else, each by name. The order decides
    which copy of a duplicated sequence survives and the MSA's row order, so it must match the
    reference pipeline's for parity."""
    name = Path(path).name.lower()
    for rank, keys in enumerate((("uniref90",), ("bfd", "uniclust", "uniref"), ("mgnify",))):
        if any(k in name for k in keys):
            return rank, name
    return 3, name


def alignment_files(directory: str | os.PathLike) -> list[Path]:
    """The directory's alignment files (``*.a3m``, ``*.sto``) in AlphaFold2's merge order."""
    return sorted((p for p in Path(directory).iterdir() if p.suffix.lower() in ALIGNMENT_SUFFIXES),
                  key=alignment_order)


def build_raw_features(query: FastaRecord | str, alignments: Sequence[Alignment] = (), *,
                       deduplicate: bool = True) -> dict[str, np.ndarray]:
    """AlphaFold2's raw features for `query` and its alignments, merged in the given order.

    An alignment is a path (its hit limit from ``af2_hit_limit``: uniref90 10,000 rows, mgnify
    501), a ``(path, max_rows)`` pair (0 keeps all), or an ``Msa``. Each must start with the
    query. ``deduplicate`` drops later copies of identical aligned sequences as DeepMind's
    AlphaFold2 does; the ColabFold fork keeps them (``deduplicate=False``).
    """
    if isinstance(query, str):
        query = FastaRecord("query", query)
    if alignments and all(isinstance(a, Msa) for a in alignments):
        return build_raw_features_from_msas(query, list(alignments), deduplicate)
    if any(isinstance(a, Msa) for a in alignments):
        raise TypeError("alignments must be all paths or all Msa objects")
    specs = [os.fspath(a) if isinstance(a, (str, os.PathLike)) else (os.fspath(a[0]), int(a[1]))
             for a in alignments]
    return _build_raw_features(query, specs, deduplicate)


def process_features(raw: Mapping[str, np.ndarray], seed: int, *, num_recycle: int = 3,
                     max_clusters: int = 512, max_extra: int = 1024, fixed_size: bool = False,
                     replace_fraction: float = 0.15, uniform_prob: float = 0.1,
                     profile_prob: float = 0.1, same_prob: float = 0.1) -> dict[str, np.ndarray]:
    """The features of all ``num_recycle + 1`` iterations, stacked on a leading axis.

    ``seed`` keys the structure's generator; use ``structure_seed(sequence_id, run_seed)``.
    """
    config = ProcessConfig(max_clusters=max_clusters, max_extra=max_extra,
                           num_recycle=num_recycle, replace_fraction=replace_fraction,
                           uniform_prob=uniform_prob, profile_prob=profile_prob,
                           same_prob=same_prob, fixed_size=fixed_size)
    return _process_features(dict(raw), config, seed)


Hits = Union[str, os.PathLike, Sequence[TemplateHit]]


def template_features(query: FastaRecord | str, hits: Hits,
                      structures: str | os.PathLike | TemplateSource, *,
                      format: str | None = None, max_template_date: str | None = None,
                      max_hits: int = 20, filters: str = "alphafold",
                      residue_letters: str = "biopython-1.79", kalign: str = "kalign",
                      obsolete: str | os.PathLike | None = None) -> TemplateSearchResult:
    """AlphaFold2's raw template features for `query`, as its template featuriser builds them.

    ``hits``: a hits file (``.hhr`` from HHsearch, ``.sto`` from hmmsearch; see
    ``find_template_hits``) or ``TemplateHit`` records with their ``format`` ('hhr' or 'sto').
    ``structures``: an mmCIF directory (``<id>.cif``), an ``MmcifDirectory`` or a
    ``TemplateStore``. ``max_template_date`` ('YYYY-MM-DD') skips entries released later;
    ``max_hits`` templates are made at most (the model takes the first 4: see
    ``process_template_features``). ``filters``: 'alphafold' (DeepMind's: date, align ratio,
    duplicates of the query, minimum length) or 'colabfold' (the date only, as
    alphafold-colabfold). ``residue_letters``: 'biopython-1.79' (SEQRES names as DeepMind's
    AlphaFold2 reads them, MSE as M) or 'standard' (20 names, as with Biopython >= 1.80).
    ``kalign`` realigns a hit whose sequence is not in its mmCIF. ``obsolete``: the PDB's
    obsolete.dat. Hits that cannot be used are reported in ``.hits``, ``.warnings`` and
    ``.errors``; no usable hit gives no template and a ``.message``.
    """
    if isinstance(query, FastaRecord):
        query = query.sequence
    if isinstance(hits, (str, os.PathLike)):
        path = os.fspath(hits)
        hits = read_template_hits(path, query)
        format = format or ("hhr" if path.lower().endswith(".hhr") else "sto")
    elif format is None:
        raise ValueError("format ('hhr' or 'sto') is needed with TemplateHit records")
    source = os.fspath(structures) if isinstance(structures, (str, os.PathLike)) else structures
    return _featurize_templates(query, list(hits), format, source, max_template_date, max_hits,
                                filters, residue_letters, kalign,
                                None if obsolete is None else os.fspath(obsolete))


def process_template_features(raw: Mapping[str, np.ndarray] | TemplateSearchResult, *,
                              max_templates: int = 4, pad_to_max_templates: bool = False,
                              dtype: str = "float32") -> dict[str, np.ndarray]:
    """The template features the model takes, from the raw ones (a ``TemplateSearchResult`` or
    AlphaFold2's raw dict): the first ``max_templates`` templates (padded with empty ones when
    ``pad_to_max_templates``, as AlphaFold2's fixed-size pipeline does), ``template_aatype`` in
    AlphaFold2's residue order, ``template_mask``, ``template_pseudo_beta`` and its mask, and
    ``template_angle_feat`` [T, N, 57] with its row mask ``template_angle_mask`` [T, N]: the
    torsion-angle features of the MSA rows the templates add, which AlphaFold2 computes inside
    its network and exafold here (in float64, returned in ``dtype``; Note [Template torsion
    angles] in cpp/include/exafold/features/processed_templates.h).
    """
    if isinstance(raw, TemplateSearchResult):
        raw = raw.features
    return _process_template_features(dict(raw), max_templates, pad_to_max_templates, dtype)
