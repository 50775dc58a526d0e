"""Templates for predictions: an item's template search result and the template structures ->
the model's template inputs, with what was used and what was left out and why. The one path
``Model.predict``, ``exafold predict`` and ``exafold distill`` take (docs/templates.md, "In
predictions").
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from exafold import features as F
from exafold.model import TEMPLATE_FEATURE_RANKS

# What the model reads of the processed template features.
MODEL_TEMPLATE_KEYS = tuple(TEMPLATE_FEATURE_RANKS)


@dataclass(frozen=True)
class ItemTemplates:
    """One item's templates. ``features``: the model's template inputs, empty when no template
    is usable (the item is then predicted without). ``used``: (domain name, sum_probs) of the
    templates given to the model, best first. ``notes``: every hit left out for missing or
    unusable data or a failed match, with its reason, and, when none is usable, why the item
    runs without templates."""

    features: dict[str, np.ndarray] = field(default_factory=dict)
    used: tuple[tuple[str, float], ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.used)


class TemplateInputs:
    """The template settings of a run, with its structure source opened once (safe to share
    between threads): ``structures`` is an mmCIF directory (``<id>.cif`` or ``<id>.cif.gz``)
    or a template store made by ``exafold.features.build_template_store`` (an ``.h5`` file);
    ``max_template_date`` ('YYYY-MM-DD') and ``obsolete`` (the PDB's obsolete.dat) as
    AlphaFold2 takes them; the model gets the first ``max_templates``.
    @raises ValueError when the structures or the obsolete file cannot be used."""

    def __init__(self, structures: str | os.PathLike, *, max_template_date: str | None = None,
                 obsolete: str | os.PathLike | None = None, max_templates: int = 4) -> None:
        path = Path(structures)
        if path.is_dir():
            self.source = F.MmcifDirectory(str(path))
        elif path.is_file():
            self.source = F.TemplateStore(str(path))
        else:
            raise ValueError(f"template structures {path} do not exist (an mmCIF directory or a template store)")
        if obsolete is not None and not Path(obsolete).is_file():
            raise ValueError(f"obsolete entries file {obsolete} does not exist")
        self.structures = path
        self.max_template_date = max_template_date
        self.obsolete = None if obsolete is None else os.fspath(obsolete)
        self.max_templates = max_templates
        # A malformed date fails here, once, rather than on every item.
        F.template_features("A", [], self.source, format="hhr", max_template_date=max_template_date)

    def canonical(self) -> dict:
        """The settings that change a structure, for a run's configuration hash."""
        return {"structures": self.structures.name, "max_template_date": self.max_template_date,
                "obsolete": None if self.obsolete is None else Path(self.obsolete).name,
                "max_templates": self.max_templates}

    def for_item(self, query: str, hits: str | os.PathLike | None, where: str | os.PathLike = "") -> ItemTemplates:
        """The templates of `query` from its hits file (None: it has none, found nowhere near
        `where`, and runs without templates). @raises ValueError naming the file and line of a
        malformed hits file."""
        if hits is None:
            return ItemTemplates(notes=(f"no template search result (pdb70_hits.hhr, pdb_hits.hhr, pdb_hits.sto "
                                        f"or hmm_output.sto) in {where}: predicted without templates",))
        result = F.template_features(query, hits, self.source, max_template_date=self.max_template_date,
                                     obsolete=self.obsolete)
        notes = [f"template {h.name} skipped: {h.reason}" for h in result.hits
                 if h.status in ("warning", "error")]
        processed = F.process_template_features(result, max_templates=self.max_templates)
        count = int(processed["template_mask"].sum()) if "template_mask" in processed else 0
        if count == 0:
            why = result.message or "no usable template"
            notes.append(f"{why}: predicted without templates")
            return ItemTemplates(notes=tuple(notes))
        names = result.features["template_domain_names"][:count]
        probs = np.asarray(result.features["template_sum_probs"]).reshape(-1)[:count]
        used = tuple((n.decode() if isinstance(n, bytes) else str(n), float(p)) for n, p in zip(names, probs))
        return ItemTemplates({k: processed[k] for k in MODEL_TEMPLATE_KEYS}, used, tuple(notes))

    def beside(self, query: str, alignment_dir: str | os.PathLike) -> ItemTemplates:
        """The templates of `query` from the search result beside its alignments
        (``find_template_hits``: AlphaFold2's and OpenFold's file names)."""
        found = F.find_template_hits(os.fspath(alignment_dir))
        return self.for_item(query, None if found is None else found[0], alignment_dir)


MODES = ("off", "on", "both")


def without_templates(features: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The features less the template inputs: zero-template inference."""
    return {k: v for k, v in features.items() if k not in MODEL_TEMPLATE_KEYS}


def uses_templates(preset: str) -> bool:
    """Whether the preset embeds templates (model_1, model_2 and their _ptm)."""
    from exafold import _core

    return preset in _core.model_presets() and bool(_core.preset_config(preset)["templates"])


def variants(features: Mapping[str, np.ndarray], found: ItemTemplates | None, preset: str, mode: str
             ) -> list[tuple[ItemTemplates | None, dict[str, np.ndarray]]]:
    """The predictions `preset` makes of an item, as (templates used or None, features): with
    its templates for a template preset when the item has usable ones, and with `mode` "both"
    also without them (OpenFold3's distillation recipe: the higher mean pLDDT is kept); one
    prediction without templates in every other case."""
    if mode not in MODES:
        raise ValueError(f"templates must be one of {', '.join(MODES)}, got {mode!r}")
    bare = without_templates(features)
    if mode == "off" or found is None or found.count == 0 or not uses_templates(preset):
        return [(None, bare)]
    with_them = {**bare, **found.features}
    return [(found, with_them)] + ([(None, bare)] if mode == "both" else [])
