"""The one prediction path. ``Model.predict``, ``exafold predict`` and ``exafold distill`` all come
here, so the same id, seed and settings give the same structure, to the last bit, on every path.

- Settings (recycles and MSA depths) default to the preset's, as AlphaFold2's model config sets
  them for run_alphafold.py and colabfold_batch (``exafold._core.run_settings``, C++
  model/run_settings.h): model_1_ptm samples 512 cluster centres and 5,120 extra rows over 3
  recycles; model_2_ptm 1,024 extra rows. A value given replaces the preset's.
- A structure's features are drawn from ``structure_seed(id, run seed)``; each distinct setting
  of the models gets its own features, as each AlphaFold2 model processes its own. In a run with
  templates the template presets sample 508 cluster centres (Note [Template MSA clusters]).
- Templates (exafold.templates) are candidates of their own: a template preset predicts with the
  item's templates (``<preset>+templates``), and with template mode "both" also without.
- Every model runs with every seed; the candidates are ranked by AlphaFold2's ranking confidence,
  the mean pLDDT for monomer models (run_alphafold.py's ``ranking_confidence``, colabfold_batch's
  ``--rank plddt``). ``exafold predict`` writes them all; ``exafold distill`` keeps the first.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from exafold import _core

Features = Mapping[str, np.ndarray]
Predict = Callable[[Features], Mapping[str, Any]]

_SEED_LIMIT = 1 << 64


@dataclass(frozen=True)
class Settings:
    """What one prediction runs with besides its weights and features' seed."""

    recycles: int
    max_msa_clusters: int
    max_extra_msa: int

    @classmethod
    def for_preset(cls, preset: str, *, recycles: int | None = None, max_msa_clusters: int | None = None,
                   max_extra_msa: int | None = None, overrides: Mapping[str, int] | None = None,
                   templates: bool = False) -> "Settings":
        """The preset's settings (after its size ``overrides``), each given value replacing its
        default; ``templates``: the run gives templates (a template preset then samples 508
        cluster centres, as AlphaFold2). @raises ValueError naming an unknown preset or a value
        out of range."""
        d = _core.run_settings(preset, recycles=recycles, max_msa_clusters=max_msa_clusters,
                               max_extra_msa=max_extra_msa, overrides=sorted((overrides or {}).items()),
                               templates=templates)
        return cls(d["recycles"], d["max_msa_clusters"], d["max_extra_msa"])

    def describe(self) -> str:
        return (f"{self.recycles} recycles, {self.max_msa_clusters} MSA clusters, "
                f"{self.max_extra_msa} extra MSA rows")

    def as_dict(self) -> dict[str, int]:
        return {"recycles": self.recycles, "max_msa_clusters": self.max_msa_clusters,
                "max_extra_msa": self.max_extra_msa}


def settings_report(settings: Mapping[str, Settings], seeds: Sequence[int], msa_mode: str = "alignments") -> str:
    """The lines every run prints first: the settings each model runs with and the seeds."""
    seed_text = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {seeds[0]}-{seeds[-1]}"
    lines = [f"settings: {seed_text}" + ("" if msa_mode == "alignments" else f", MSA mode {msa_mode}")]
    lines += [f"  {preset}: {s.describe()}" for preset, s in settings.items()]
    return "\n".join(lines)


def check_seed(seed: Any, name: str = "seed") -> int:
    """A run seed as the engine takes it. @raises ValueError naming the argument unless it is an
    integer in [0, 2**64)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < _SEED_LIMIT:
        raise ValueError(f"{name} must be an integer from 0 to 2**64 - 1, got {seed!r}")
    return int(seed)


def structure_seed(item_id: str, run_seed: int) -> int:
    """The structure's feature seed from its id and the run's seed (the engine's
    structure_seed: Note [Feature randomness])."""
    return _core.features.structure_seed(item_id, check_seed(run_seed))


def normalize_sequence(sequence: str, residues: str = "strict") -> str:
    """The engine's one residue rule (C++ features/residue_policy.h): whitespace removed,
    upper-cased, a terminal '*' dropped; ``residues="unknown"`` also accepts B J O U X Z as X.
    @raises ValueError naming the first refused residue and its position; a complex written
    ``A...:B...`` is refused as a multimer."""
    return _core.features.normalize_sequence(sequence, residues)


def build_features(raw: Mapping[str, np.ndarray], seed: int, settings: Iterable[Settings]
                   ) -> dict[Settings, dict[str, np.ndarray]]:
    """The model's inputs for each distinct settings, drawn from the structure seed ``seed``."""
    from exafold.model import model_features

    return {s: model_features(raw, seed, num_recycle=s.recycles, max_clusters=s.max_msa_clusters,
                              max_extra=s.max_extra_msa)
            for s in dict.fromkeys(settings)}


def feature_bytes(length: int, settings: Iterable[Settings]) -> int:
    """Bytes build_features holds at most for a sequence of ``length`` residues: what the
    prefetch pipeline reserves before it builds them (the engine's count of each array)."""
    total = 0
    for s in dict.fromkeys(settings):
        iterations = s.recycles + 1
        total += (_core.features.processed_feature_bytes(length, s.max_msa_clusters, s.max_extra_msa, iterations)
                  + _core.atom_map_bytes(length) * iterations)
    return total


def failure_reason(e: BaseException) -> str:
    """An exception as a reason: the message of input and I/O errors, else type and message."""
    text = str(e)
    return text if isinstance(e, (ValueError, OSError)) and text else f"{type(e).__name__}: {text}"


def check_prediction(out: Mapping[str, Any], n: int, preset: str) -> dict:
    """A model's result checked against the sequence length, with mean_plddt filled in.
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
    # Only what is kept: the representations (the pair one alone is 4·S²·c_z bytes) go at once.
    result = {"final_atom_positions": positions, "final_atom_mask": mask, "plddt": plddt}
    mean = out.get("mean_plddt")
    result["mean_plddt"] = float(np.mean(plddt, dtype=np.float64)) if mean is None else float(mean)
    if out.get("ptm") is not None:
        result["ptm"] = float(out["ptm"])
    if not all(np.isfinite([result["mean_plddt"], result.get("ptm", 0.0)])):
        raise ValueError(f"{preset} returned a non-finite mean pLDDT or pTM")
    if out.get("predicted_aligned_error") is not None:
        result["predicted_aligned_error"] = arr("predicted_aligned_error", (n, n))
        if out.get("max_predicted_aligned_error") is not None:
            result["max_predicted_aligned_error"] = float(out["max_predicted_aligned_error"])
    return result


class PredictionError(RuntimeError):
    """A model failed on an item; the message names the model and why."""


@dataclass
class Candidate:
    """One model's prediction with one seed: its checked outputs and how it was made."""

    preset: str
    run_seed: int
    structure_seed: int
    settings: Settings
    outputs: dict  # check_prediction's result (every output with keep_outputs)
    seconds: float  # the model's time, features excluded
    msa_rows: tuple[int, int]  # cluster and extra rows it ran on (shallow MSAs have fewer)
    templates: Any = None  # the exafold.templates.ItemTemplates it ran with; None: without templates

    @property
    def mean_plddt(self) -> float:
        return self.outputs["mean_plddt"]

    @property
    def ptm(self) -> float | None:
        return self.outputs.get("ptm")

    @property
    def ranking_confidence(self) -> float:
        return ranking_confidence(self.mean_plddt, self.ptm)

    @property
    def template_count(self) -> int:
        return 0 if self.templates is None else self.templates.count

    @property
    def model(self) -> str:
        """The preset, ``<preset>+templates`` when it ran with templates."""
        return self.preset if self.templates is None else f"{self.preset}+templates"

    @property
    def name(self) -> str:
        """``<model>_seed_<NNN>``: the candidate's part of file names and ranking keys."""
        return f"{self.model}_seed_{self.run_seed:03d}"


def ranking_confidence(mean_plddt: float, ptm: float | None = None) -> float:
    """AlphaFold2's ranking confidence of a monomer prediction: its mean pLDDT (run_alphafold.py
    ranks monomer and monomer_ptm models by it; pTM enters only for multimer models)."""
    return float(mean_plddt)


def rank(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Best first by ranking confidence; ties keep the order the candidates ran in."""
    return sorted(candidates, key=operator.attrgetter("ranking_confidence"), reverse=True)


def run_models(item_id: str, n: int, models: Mapping[str, Predict], settings: Mapping[str, Settings],
               features: Callable[[int, Settings], Features], seeds: Sequence[int], *,
               keep_outputs: bool = False, templates: Any = None, template_mode: str = "off") -> list[Candidate]:
    """Every model with every seed on one item (``item_id``, ``n`` residues), ranked best first.
    ``features(run_seed, settings)`` gives the inputs (built once per seed and settings by the
    caller); ``models[preset](features)`` runs one. ``templates`` (the item's
    exafold.templates.ItemTemplates) with ``template_mode`` "on" or "both": a template preset
    runs with them (the candidate ``<preset>+templates``), with "both" also without
    (exafold.templates.variants). Any model failing fails the item: every structure of a run
    comes from the same models. Each candidate keeps the checked arrays, or with
    ``keep_outputs`` every output (the representations and logits too). @raises
    PredictionError naming the model and why; exafold.stopping.Stopped passes through (a stop
    is not a failure)."""
    from exafold.templates import variants

    candidates = []
    for run_seed in seeds:
        for preset, predict in models.items():
            s = settings[preset]
            for used, feats in variants(features(run_seed, s), templates, preset, template_mode):
                model = preset if used is None else f"{preset}+templates"
                t0 = time.perf_counter()
                try:
                    raw = predict(feats)
                    out = check_prediction(raw, n, preset)
                    if keep_outputs:
                        out = {**raw, **out}
                    del raw
                except Exception as e:
                    raise PredictionError(f"prediction with {model} failed: {failure_reason(e)}") from e
                seconds = time.perf_counter() - t0
                rows = (int(feats["msa_feat"].shape[-3]) if "msa_feat" in feats else s.max_msa_clusters,
                        int(feats["extra_msa"].shape[-2]) if "extra_msa" in feats else s.max_extra_msa)
                candidates.append(Candidate(preset, run_seed, structure_seed(item_id, run_seed), s, out, seconds,
                                            rows, used))
    return rank(candidates)
