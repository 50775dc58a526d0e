"""The contracts of the injected model and feature pipeline, and the worker that calls them.

- ``prepare(request: FeatureRequest) -> {Settings: features}``: the processed features of one
  sequence from its alignment files (in AlphaFold2's merge order; staged copies keep the
  original name after an ``NNN-`` prefix; none in single-sequence mode) and structure seed, one
  feature dict for each of ``request.settings`` (exafold.inference.build_features). Runs on
  prefetch threads; must release the GIL for its heavy work. Raising fails that item only (the
  message is its journaled reason). The features are then staged for ``RunConfig.device``
  (exafold.model.stage_features), on the same thread, so that their upload to a GPU overlaps
  the prediction before; an item that finds no room there keeps them on the host.
- ``models``: preset name (e.g. ``model_1_ptm``) -> ``predict(features) -> dict`` with
  ``final_atom_positions`` [N, 37, 3], ``final_atom_mask`` [N, 37], ``plddt`` [N] (0-100),
  ``mean_plddt`` (computed from plddt when absent), and for ``_ptm`` presets ``ptm`` and
  ``predicted_aligned_error`` [N, N]. Runs on the worker thread. Each sequence is predicted by
  every model on the features of its settings (exafold.inference.run_models, the path
  ``exafold predict`` and ``Model.predict`` take) and the best by ranking confidence is kept.
- Templates (``RunConfig.templates`` "on" or "both") are the worker's part: prepare_item adds
  the item's template inputs (exafold.templates) from the search result beside its alignments,
  and run_models predicts a template preset with them; with "both" also without (OpenFold3's
  distillation recipe), the higher mean pLDDT kept. Presets without templates predict once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

import exafold
from exafold import inference
from exafold.inference import Settings
from exafold.model import stage_features
from exafold.templates import ItemTemplates, TemplateInputs, uses_templates

from . import inputs
from .config import RunConfig
from .outputs import Structure
from .staging import Staging
from .summary import SessionStats


@dataclass(frozen=True)
class FeatureRequest:
    """What prepare() gets: the query, its alignment files (already staged), its structure
    seed and the settings to build features for."""

    id: str
    sequence: str
    alignments: tuple[str, ...]
    seed: int
    settings: tuple[Settings, ...]


Prepare = Callable[[FeatureRequest], Mapping[Settings, Mapping[str, np.ndarray]]]
Predict = inference.Predict
# The item's ItemTemplates rides with its prepared features under this key; the models never see it.
TEMPLATES_KEY = "exafold.templates"


class Worker:
    """Calls the injected callables for one rank: prepare_item() on the prefetch threads,
    predict_item() on the worker thread; counts predictions, FLOPs and time in `stats`."""

    def __init__(self, config: RunConfig, prepare: Prepare, models: Mapping[str, Predict], staging: Staging,
                 rank: int, templates: TemplateInputs | None = None) -> None:
        self.config = config
        self.prepare = prepare
        self.models = models
        self.staging = staging
        self.templates = templates if any(uses_templates(p) for p in models) else None
        self.stats = SessionStats(rank=rank)
        self.settings = config.settings()
        self._distinct = tuple(dict.fromkeys(self.settings.values()))
        self._stats_lock = threading.Lock()  # prefetch threads count their staging

    def prepare_item(self, item: inputs.Item) -> Mapping[Settings | str, Any]:
        """Runs on a prefetch thread: find and stage the alignments, then prepare (whose parse is
        the check of their content); with templates, the item's template inputs from the search
        result beside its alignments under TEMPLATES_KEY (a malformed one fails the item naming
        file and line)."""
        paths = [] if self.config.single_sequence else inputs.find_alignments(item, self.config.alignment_dir)
        staged, tmp = self.staging.stage_inputs(item.id, paths)
        try:
            seed = inference.structure_seed(item.id, self.config.seed)
            features = self.prepare(FeatureRequest(item.id, item.sequence, tuple(map(str, staged)), seed,
                                                   self._distinct))
        finally:
            self.staging.unstage(tmp)
        features = self._on_device(features)
        if self.templates is None:
            return features
        found = self.templates.beside(item.sequence, inputs.template_dir(item, self.config.alignment_dir))
        return {**features, TEMPLATES_KEY: found}

    def _on_device(self, features: Mapping[Settings, Mapping[str, np.ndarray]]
                   ) -> Mapping[Settings, Mapping[str, np.ndarray]]:
        """Each settings' features staged for the run's device, or all as given when the device
        has no room for them (counted in stats.unstaged: the prediction then uploads them)."""
        try:
            staged = {s: stage_features(f, self.config.device) for s, f in features.items()}
        except MemoryError:
            with self._stats_lock:
                self.stats.unstaged += 1
            return features
        moved = sum(a.nbytes for s, f in staged.items() for k, a in f.items() if a is not features[s][k])
        with self._stats_lock:
            self.stats.staged_bytes += moved
        return staged

    def estimate(self, item: inputs.Item) -> int:
        return inference.feature_bytes(len(item.sequence), self._distinct)

    @staticmethod
    def flops(c: inference.Candidate, length: int) -> float:
        """Analytic FLOPs from the features' real MSA depths (shallow MSAs give fewer rows), with
        the preset's own sizes (reduced presets do ~500x less work than the official sizes; a time
        model fitted to these numbers must see what really ran)."""
        clusters, extra = c.msa_rows
        return exafold.prediction_flops(length, preset=c.preset, msa_clusters=clusters, extra_msa_rows=extra,
                                        templates=c.template_count, passes=c.settings.recycles + 1)

    def predict_item(self, item: inputs.Item, features: Mapping[Settings | str, Any]) -> Structure:
        """Every model on the item (template presets with and, for "both", without templates),
        the best kept. Any prediction failing fails the item: a structure must come from the
        same set of models as the rest of the dataset. @raises RuntimeError naming the model
        and why."""
        n = len(item.sequence)
        found: ItemTemplates | None = features.get(TEMPLATES_KEY)
        ranked = inference.run_models(item.id, n, self.models, self.settings,
                                      lambda run_seed, s: features[s], [self.config.seed],
                                      templates=found, template_mode=self.config.templates)
        flops = {}
        for c in ranked:
            flops[c.model] = self.flops(c, n)
            self.stats.predictions += 1
            self.stats.flops += flops[c.model]
            self.stats.predict_seconds += c.seconds
        best = ranked[0]
        return Structure(item.id, item.sequence, best.structure_seed, best.preset, best.seconds, flops[best.model],
                         best.outputs, candidates={c.model: c.mean_plddt for c in ranked}, name=item.name,
                         run_seed=best.run_seed, settings=best.settings,
                         templates=() if best.templates is None else best.templates.used)
