"""AlphaFold2 input features, computed natively.

Parsing: ``read_fasta``, ``read_msa`` / ``read_a3m`` / ``read_stockholm`` (and ``parse_*`` for text
in memory) give ``FastaRecord`` and ``Msa`` objects; bad input raises ``ValueError`` whose message
starts with ``file:line:``. Raw features (AlphaFold2's data pipeline): ``build_raw_features``.
Processed features (what the model consumes per recycling iteration): ``process_features``.
Every random choice comes from one generator per structure keyed by ``structure_seed(id, run_seed)``
(Note [Feature randomness] in cpp/include/exafold/features/rng.h), so a rerun is bit-identical.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence, Union

import numpy as np

from exafold._core.features import (
    FastaRecord,
    Msa,
    ProcessConfig,
    af2_hit_limit,
    build_raw_features_from_msas,
    draw_msa_sample,
    iteration_features,
    parse_a3m,
    parse_fasta,
    parse_stockholm,
    read_a3m,
    read_fasta,
    read_msa,
    read_stockholm,
    structure_seed,
)
from exafold._core.features import build_raw_features as _build_raw_features
from exafold._core.features import process_features as _process_features

__all__ = [
    "ALIGNMENT_SUFFIXES",
    "FastaRecord",
    "Msa",
    "ProcessConfig",
    "af2_hit_limit",
    "alignment_files",
    "alignment_order",
    "build_raw_features",
    "draw_msa_sample",
    "iteration_features",
    "parse_a3m",
    "parse_fasta",
    "parse_stockholm",
    "process_features",
    "read_a3m",
    "read_fasta",
    "read_msa",
    "read_stockholm",
    "structure_seed",
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
