"""The contracts of the injected model and feature pipeline, and the worker that calls them.

- ``prepare(request: FeatureRequest) -> dict[str, np.ndarray]``: the processed features of one
  sequence from its alignment files (in AlphaFold2's merge order; staged copies keep the
  original name after an ``NNN-`` prefix) and seed. Runs on prefetch threads; must release the
  GIL for its heavy work. Raising fails that item only (the message is its journaled reason).
- ``models``: preset name (e.g. ``model_1_ptm``) -> ``predict(features) -> dict`` with
  ``final_atom_positions`` [N, 37, 3], ``final_atom_mask`` [N, 37], ``plddt`` [N] (0-100),
  ``mean_plddt`` (computed from plddt when absent), and for ``_ptm`` presets ``ptm`` and
  ``predicted_aligned_error`` [N, N]. Runs on the worker thread. With several presets each
  sequence is predicted by all of them and the best by mean pLDDT is kept.
- Templates (``RunConfig.templates`` "on" or "both") are the worker's part: it adds the item's
  template inputs (exafold.templates) to prepare()'s features, and a template preset predicts
  with them; with "both" it also predicts without them (OpenFold3's distillation recipe), and
  the higher mean pLDDT is kept. Presets without templates predict once, without.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

import exafold

from . import inputs
from .outputs import Structure
from ..templates import TemplateInputs, uses_templates
from ..templates import variants as template_variants
from .pipeline import estimate_feature_bytes
from .staging import Staging
from .summary import SessionStats

if TYPE_CHECKING:
    from .job import RunConfig


@dataclass(frozen=True)
class FeatureRequest:
    """What prepare() gets: the query, its alignment files (already staged) and its seed."""

    id: str
    sequence: str
    alignments: tuple[str, ...]
    seed: int


Prepare = Callable[[FeatureRequest], Mapping[str, np.ndarray]]
# The item's ItemTemplates rides with its prepared features under this key; the models never see it.
TEMPLATES_KEY = "exafold.templates"
Predict = Callable[[Mapping[str, np.ndarray]], Mapping[str, Any]]


def failure_reason(e: BaseException) -> str:
    """An exception as a journal reason: the message of input and I/O errors, else type and message."""
    text = str(e)
    return text if isinstance(e, (ValueError, OSError)) and text else f"{type(e).__name__}: {text}"


def check_prediction(out: Mapping[str, Any], n: int, preset: str) -> dict:
    """predict()'s result checked against the sequence length, with mean_plddt filled in.
    @raises ValueError naming the model and the array at fault."""
    def arr(key: str, shape: tuple) -> np.ndarray:
        if key not in out:
            raise ValueError(f"{preset} returned no {key}")
        a = np.asarray(out[key])
        if a.shape != shape:
            raise ValueError(f"{preset} returned {key} of shape {a.shape}, expected {shape}")
        return a

    positions = arr("final_atom_positions", (n, 37, 3))
    mask = arr("final_atom_mask", (n, 37))
    plddt = arr("plddt", (n,)).astype(np.float32)
    if not np.isfinite(positions[mask > 0]).all() or not np.isfinite(plddt).all():
        raise ValueError(f"{preset} returned non-finite coordinates or pLDDT")
    result = {"final_atom_positions": positions, "final_atom_mask": mask, "plddt": plddt}
    mean = out.get("mean_plddt")
    result["mean_plddt"] = float(np.mean(plddt, dtype=np.float64)) if mean is None else float(mean)
    if out.get("ptm") is not None:
        result["ptm"] = float(out["ptm"])
    if not all(np.isfinite([result["mean_plddt"], result.get("ptm", 0.0)])):
        raise ValueError(f"{preset} returned a non-finite mean pLDDT or pTM")
    if out.get("predicted_aligned_error") is not None:
        result["predicted_aligned_error"] = arr("predicted_aligned_error", (n, n))
    return result


class Worker:
    """Calls the injected callables for one rank: prepare_item() on the prefetch threads,
    predict_item() on the worker thread; counts predictions, FLOPs and time in `stats`."""

    def __init__(self, config: RunConfig, prepare: Prepare, models: Mapping[str, Predict], staging: Staging,
                 rank: int, templates: TemplateInputs | None = None) -> None:
        self.config = config
        self.prepare = prepare
        self.models = models
        self.staging = staging
        self.templates = templates
        self.stats = SessionStats(rank=rank)
        self._passes = config.recycles + 1
        self._template_presets = {p for p in models if uses_templates(p)}

    def prepare_item(self, item: inputs.Item) -> Mapping[str, np.ndarray]:
        """Runs on a prefetch thread: find and stage the alignments, then prepare (whose parse is
        the check of their content); with templates, the item's template inputs from the search
        result beside its alignments (a malformed one fails the item naming file and line)."""
        paths = inputs.find_alignments(item, self.config.alignment_dir)
        staged, tmp = self.staging.stage_inputs(item.id, paths)
        try:
            seed = inputs.structure_seed(item.id, self.config.seed)
            features = self.prepare(FeatureRequest(item.id, item.sequence, tuple(map(str, staged)), seed))
        finally:
            self.staging.unstage(tmp)
        if self.templates is None or not self._template_presets:
            return features
        found = self.templates.beside(item.sequence, inputs.template_dir(item, self.config.alignment_dir))
        return {**features, TEMPLATES_KEY: found}

    def estimate(self, item: inputs.Item) -> int:
        c = self.config
        return estimate_feature_bytes(len(item.sequence), c.max_msa_clusters, c.max_extra_msa, self._passes)

    def flops(self, features: Mapping[str, np.ndarray], length: int, preset: str, templates: int = 0) -> float:
        """Analytic FLOPs from the features' real MSA depths (shallow MSAs give fewer rows), with
        the preset's own sizes when exafold knows it (reduced presets do ~500x less work than the
        official sizes; a time model fitted to these numbers must see what really ran)."""
        c = self.config
        clusters = features["msa_feat"].shape[-3] if "msa_feat" in features else c.max_msa_clusters
        extra = features["extra_msa"].shape[-2] if "extra_msa" in features else c.max_extra_msa
        if preset in exafold.presets():
            c3, c2, c1, c0 = exafold.preset_flop_polynomial(preset, msa_clusters=int(clusters),
                                                            extra_msa_rows=int(extra), passes=self._passes,
                                                            templates=templates)
            return float(((c3 * length + c2) * length + c1) * length + c0)
        return exafold.prediction_flops(length, msa_clusters=int(clusters), extra_msa_rows=int(extra), templates=0,
                                        passes=self._passes, ptm=preset.endswith("_ptm"))

    def predict_item(self, item: inputs.Item, features: Mapping[str, np.ndarray]) -> Structure:
        """Every model on the item (template presets with and, for "both", without templates),
        the best by mean pLDDT kept. Any prediction failing fails the item: a structure must
        come from the same set of models as the rest of the dataset."""
        n = len(item.sequence)
        best: Structure | None = None
        candidates: dict[str, float] = {}
        for preset, predict in self.models.items():
            found = features.get(TEMPLATES_KEY)
            bare = {k: v for k, v in features.items() if k != TEMPLATES_KEY}
            for used, feats in template_variants(bare, found, preset, self.config.templates):
                name = preset if used is None else f"{preset}+templates"
                t0 = time.perf_counter()
                try:
                    result = check_prediction(predict(feats), n, preset)
                except Exception as e:
                    raise RuntimeError(f"prediction with {name} failed: {failure_reason(e)}") from e
                seconds = time.perf_counter() - t0
                flops = self.flops(feats, n, preset, 0 if used is None else used.count)
                self.stats.predictions += 1
                self.stats.flops += flops
                self.stats.predict_seconds += seconds
                candidates[name] = result["mean_plddt"]
                if best is None or result["mean_plddt"] > best.result["mean_plddt"]:
                    seed = inputs.structure_seed(item.id, self.config.seed)
                    best = Structure(item.id, item.sequence, seed, preset, seconds, flops, result,
                                     templates=() if used is None else used.used)
        best.candidates = candidates
        return best
