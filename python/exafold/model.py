"""AlphaFold2 on exafold's C++ engine: official parameter files in, structures and confidence out."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from exafold import _core

# Names the model reads; a leading axis of size R on them means "one set per recycling iteration".
FEATURE_NAMES = (
    "aatype",
    "residue_index",
    "seq_mask",
    "target_feat",
    "msa_feat",
    "msa_mask",
    "extra_msa",
    "extra_msa_mask",
    "extra_has_deletion",
    "extra_deletion_value",
    "residx_atom37_to_atom14",
    "atom37_atom_exists",
    "atom14_atom_exists",
)


def _contiguous(features: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    missing = [k for k in FEATURE_NAMES if k not in features]
    if missing:
        raise ValueError(f"features are missing {', '.join(missing)}")
    return {k: np.ascontiguousarray(features[k]) for k in FEATURE_NAMES}


class Model:
    """An AlphaFold2 parameter set loaded for inference on the CPU.

    ``Model.load(path, preset)`` reads an official ``params_model_*.npz`` file (validated name by
    name and shape by shape against the preset) in float32, or float64 for exact checks. Calling
    the model on processed features returns a dict of numpy arrays: ``final_atom_positions``
    [N, 37, 3] (Angstrom), ``final_atom_mask``, ``plddt`` [N], ``mean_plddt``, the logits of every
    head, the representations, and for ``_ptm`` presets ``predicted_aligned_error`` and ``ptm``.
    The C++ engine releases the GIL while it works.
    """

    def __init__(self, core: _core.Model, preset: str):
        self._core = core
        self.preset = preset

    @classmethod
    def load(
        cls, path: str, preset: str, dtype: str = "float32", overrides: Mapping[str, int] | None = None
    ) -> "Model":
        """Loads ``path`` for ``preset`` (``model_1`` ... ``model_5_ptm``, or ``reduced[_ptm]``).

        ``overrides`` replaces named sizes of the preset (for example ``evoformer_blocks``) for
        parameter files of non-standard depth or width; the file is validated against the result.
        """
        items = sorted((overrides or {}).items())
        return cls(_core.Model.load(str(path), preset, dtype, items), preset)

    @classmethod
    def from_arrays(
        cls,
        arrays: Mapping[str, np.ndarray],
        preset: str,
        dtype: str = "float32",
        overrides: Mapping[str, int] | None = None,
    ) -> "Model":
        """A model from parameter arrays already in memory (for example broadcast from MPI rank
        0), validated exactly as a file would be. The arrays are used in place when they already
        have ``dtype`` and are contiguous."""
        arrs = {k: np.ascontiguousarray(v, dtype=dtype) for k, v in arrays.items()}
        items = sorted((overrides or {}).items())
        return cls(_core.Model.from_arrays(arrs, preset, dtype, items), preset)

    @property
    def config(self) -> dict:
        """The preset's dimensions and defaults."""
        return self._core.config

    @property
    def dtype(self) -> str:
        return self._core.dtype

    @property
    def num_parameters(self) -> int:
        return self._core.num_parameters

    def __call__(
        self,
        features: Mapping[str, np.ndarray],
        num_recycle: int | None = None,
        chunk_size: int = 0,
    ) -> dict[str, np.ndarray]:
        """Runs ``num_recycle + 1`` iterations (the preset's default when None).

        Features may carry a leading iteration axis (AlphaFold2 resamples the MSA per
        iteration); iteration r uses set r, the last set when there are fewer.
        ``chunk_size`` > 0 bounds the memory of attention and triangle operations.
        """
        return self._core.run(_contiguous(features), num_recycle, chunk_size)

    def run_iteration(
        self,
        features: Mapping[str, np.ndarray],
        prev: Mapping[str, np.ndarray] | None = None,
        chunk_size: int = 0,
    ) -> dict[str, np.ndarray]:
        """One iteration with the given recycled inputs (``prev_msa_first_row``, ``prev_pair``,
        ``prev_pos``; zeros when None). The result's ``prev_*`` entries feed the next one."""
        p = None if prev is None else {k: np.ascontiguousarray(v) for k, v in prev.items()}
        return self._core.run_iteration(_contiguous(features), p, chunk_size)


def presets() -> list[str]:
    """Every preset name Model.load accepts."""
    return list(_core.model_presets())


def param_spec(preset: str, overrides: Mapping[str, int] | None = None) -> list[tuple[str, tuple[int, ...]]]:
    """The official npz layout of ``preset``: every parameter name and shape."""
    return [(n, tuple(s)) for n, s in _core.param_spec(preset, sorted((overrides or {}).items()))]


def model_features(
    raw: Mapping[str, np.ndarray],
    seed: int,
    *,
    num_recycle: int = 3,
    max_clusters: int = 512,
    max_extra: int = 1024,
) -> dict[str, np.ndarray]:
    """The model's inputs for every recycling iteration (leading axis num_recycle + 1): the
    feature pipeline's processed features plus the structure module's atom maps."""
    from exafold.features import process_features

    feats = process_features(raw, seed, num_recycle=num_recycle, max_clusters=max_clusters, max_extra=max_extra)
    aatype = np.asarray(feats["aatype"])
    first = aatype[0] if aatype.ndim == 2 else aatype
    for name, value in _core.atom_maps(np.ascontiguousarray(first)).items():
        # A copy, not a broadcast view: with one iteration the view counts as contiguous, so it
        # would reach the engine read-only, which the engine refuses.
        feats[name] = np.broadcast_to(value, aatype.shape + value.shape[1:]).copy() if aatype.ndim == 2 else value
    return feats
