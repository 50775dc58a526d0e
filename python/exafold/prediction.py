"""One predicted structure with its confidence, as numpy arrays, and what people do with it:
write PDB/mmCIF, plot pLDDT and PAE, look at it in 3D.

Matplotlib (plots) and py3Dmol (``view``) are imported only when those methods are called, so
the rest works without them (``pip install exafold[notebook]`` brings both).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from exafold import _core
from exafold.files import write_atomic
from exafold.residues import aatype_of


def _ascii(text: str) -> str:
    """Text for the PDB format, which is ASCII: anything else as a backslash escape."""
    return text.encode("ascii", "backslashreplace").decode("ascii")


# AlphaFold2's distogram head: 64 bins, 63 edges evenly from 2.3125 to 21.6875 Angstrom.
DISTOGRAM_BIN_EDGES = np.linspace(2.3125, 21.6875, 63)

# AlphaFold2's PAE head: 64 bins over 0-31 A; the last bin's centre is the largest error it
# predicts (max_predicted_aligned_error).
MAX_PREDICTED_ALIGNED_ERROR = 31.75

# The confidence bands of the AlphaFold Protein Structure Database, with its colours, and how
# strongly the pLDDT plot shades them.
BAND_ALPHA = 0.15
PLDDT_BANDS = (
    (90.0, 100.0, "#0053D6", "very high (> 90)"),
    (70.0, 90.0, "#65CBF3", "confident (70-90)"),
    (50.0, 70.0, "#FFDB13", "low (50-70)"),
    (0.0, 50.0, "#FF7D45", "very low (< 50)"),
)


@dataclass
class Prediction:
    """A predicted structure: atom37 coordinates and confidence for one sequence.

    Arrays: ``atom_positions`` [N, 37, 3] (Angstrom, AlphaFold2 atom37 order), ``atom_mask``
    [N, 37] (1 where the atom exists), ``plddt`` [N] (0-100), ``residue_index`` [N] (1-based
    numbering written to files), ``distogram_logits`` [N, N, 64] (None when read from a shard,
    which does not keep them), and for ``_ptm`` presets ``pae`` [N, N] (Angstrom). Scalars:
    ``mean_plddt``, ``ptm`` (None without the PAE head), ``seed`` (the structure's feature
    seed), ``run_seed`` (the seed it was derived from with the id), ``seconds`` (model time) and
    ``feature_seconds`` (feature building); ``settings`` (recycles and MSA depths it ran with);
    ``weights`` (the parameter file) and ``weights_label`` (the file's label: demo weights say
    so, and every file and plot made from the prediction repeats it); ``outputs`` keeps every
    array the model returned. ``templates``: (domain name, sum_probs) of the templates the
    prediction used, best first; ``template_notes``: the hits left out, and why (empty without
    templates).
    """

    id: str
    sequence: str
    preset: str
    atom_positions: np.ndarray
    atom_mask: np.ndarray
    plddt: np.ndarray
    mean_plddt: float
    residue_index: np.ndarray
    distogram_logits: np.ndarray | None = None
    pae: np.ndarray | None = None
    ptm: float | None = None
    seed: int | None = None
    seconds: float | None = None
    feature_seconds: float | None = None
    outputs: Mapping[str, Any] = field(default_factory=dict, repr=False)
    run_seed: int | None = None
    settings: Any = None  # exafold.inference.Settings
    weights: str = ""
    weights_label: str = ""
    templates: tuple[tuple[str, float], ...] = ()
    template_notes: tuple[str, ...] = ()

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any], sequence: str, *, id: str = "query",
                     preset: str = "", seed: int | None = None, seconds: float | None = None,
                     feature_seconds: float | None = None) -> "Prediction":
        """A Prediction from the dict a ``Model`` call returns (kept whole in ``outputs``)."""
        n = len(sequence)
        positions = np.asarray(outputs["final_atom_positions"], dtype=np.float32)
        if positions.shape != (n, 37, 3):
            raise ValueError(f"{id}: the outputs hold {positions.shape[0]} residues, the sequence {n}")
        pae = outputs.get("predicted_aligned_error")
        ptm = outputs.get("ptm")
        return cls(
            id=id, sequence=sequence, preset=preset,
            atom_positions=positions,
            atom_mask=(np.asarray(outputs["final_atom_mask"]) > 0).astype(np.uint8),
            plddt=np.asarray(outputs["plddt"], dtype=np.float32),
            mean_plddt=float(outputs["mean_plddt"]),
            residue_index=np.arange(1, n + 1, dtype=np.int32),
            distogram_logits=outputs.get("distogram_logits"),
            pae=None if pae is None else np.asarray(pae, dtype=np.float32),
            ptm=None if ptm is None else float(ptm),
            seed=seed, seconds=seconds, feature_seconds=feature_seconds, outputs=outputs,
        )

    @classmethod
    def from_candidate(cls, c: Any, id: str, sequence: str, *, weights: str = "", weights_label: str = "",
                       feature_seconds: float | None = None, item_templates: Any = None) -> "Prediction":
        """A Prediction from one of exafold.inference.run_models' candidates. ``item_templates``
        (the item's exafold.templates.ItemTemplates): when none was usable, its notes say why
        the prediction ran without."""
        p = cls.from_outputs(c.outputs, sequence, id=id, preset=c.preset, seed=c.structure_seed,
                             seconds=c.seconds, feature_seconds=feature_seconds)
        p.run_seed, p.settings, p.weights, p.weights_label = c.run_seed, c.settings, weights, weights_label
        if c.templates is not None:
            p.templates, p.template_notes = c.templates.used, c.templates.notes
        elif item_templates is not None and item_templates.count == 0:
            p.template_notes = item_templates.notes
        return p

    @classmethod
    def from_shard(cls, shard: Mapping[str, Any] | str | Path, id: str) -> "Prediction":
        """Structure ``id`` of an HDF5 shard, given as a path or as ``read_shard``'s dict."""
        s = _core.read_shard(str(shard)) if isinstance(shard, (str, Path)) else shard
        if id not in s["index"]:
            raise KeyError(f"{id!r} is not in the shard (it holds {len(s['index'])} structures)")
        i = s["index"][id]
        a, b = (int(x) for x in s["residue_offsets"][i : i + 2])
        n = b - a
        pae = None
        if "pae_offsets" in s:
            pa, pb = (int(x) for x in s["pae_offsets"][i : i + 2])
            if pb > pa:
                pae = np.asarray(s["pae"][pa:pb], dtype=np.float32).reshape(n, n)
        ptm = float(s["ptm"][i])
        ta, tb = (int(x) for x in s["template_offsets"][i : i + 2])
        return cls(
            id=id, sequence=s["sequence"][i], preset=s["model"][i],
            atom_positions=s["atom_positions"][a:b], atom_mask=s["atom_mask"][a:b],
            plddt=s["plddt"][a:b], mean_plddt=float(s["mean_plddt"][i]),
            residue_index=s["residue_index"][a:b], pae=pae,
            ptm=None if math.isnan(ptm) else ptm, seed=int(s["seed"][i]),
            seconds=float(s["runtime_seconds"][i]), weights_label=s.get("weights_label", ""),
            templates=tuple(zip(s["template_name"][ta:tb], map(float, s["template_sum_probs"][ta:tb]))),
        )

    def __len__(self) -> int:
        return len(self.sequence)

    def __repr__(self) -> str:
        ptm = "" if self.ptm is None else f", pTM {self.ptm:.3f}"
        label = f", {self.weights_label}" if self.weights_label else ""
        return (f"Prediction({self.id!r}, {len(self)} residues, {self.preset or 'model'}, "
                f"mean pLDDT {self.mean_plddt:.1f}{ptm}{label})")

    @property
    def max_pae(self) -> float | None:
        """The largest PAE the head can predict (AlphaFold2's max_predicted_aligned_error: the
        centre of its last bin, 31.75 A), None without the PAE head."""
        value = self.outputs.get("max_predicted_aligned_error")
        if value is None and self.pae is not None:
            value = MAX_PREDICTED_ALIGNED_ERROR
        return None if value is None else float(value)

    def _tag(self) -> str:
        """A short mark of labelled weights for titles: "DEMO WEIGHTS" from "DEMO WEIGHTS: ..."."""
        return f" [{self.weights_label.split(':', 1)[0]}]" if self.weights_label else ""

    def remarks(self) -> list[str]:
        """What a structure file says about the prediction: the model, the settings, the
        templates used, the weights and the scores (PDB REMARK 250 records; the mmCIF's model
        description)."""
        lines = [f"exafold {_core.info()['version']} prediction of {self.id}"]
        model = f"model {self.preset or 'unknown'}"
        if self.run_seed is not None:
            model += f", seed {self.run_seed}"
        if self.seed is not None:
            model += f" (structure seed {self.seed})"
        lines.append(model)
        if self.settings is not None:
            lines.append(self.settings.describe())
        if self.templates:
            lines.append("templates: " + ", ".join(f"{name} (sum_probs {p:g})" for name, p in self.templates))
        lines.append(f"weights: {self.weights or 'not recorded'}")
        if self.weights_label:
            lines.append(self.weights_label)
        scores = f"mean pLDDT {self.mean_plddt:.2f}"
        if self.ptm is not None:
            scores += f", pTM {self.ptm:.3f}"
        lines.append(scores)
        return [_ascii(x) for x in lines]

    def scores(self) -> dict:
        """The scores JSON of one structure (as colabfold_batch writes it): per-residue pLDDT,
        mean pLDDT, pTM, max PAE, with the model, seeds, settings, the templates used (and the
        hits left out) and weights."""
        return {
            "id": self.id, "model": self.preset, "seed": self.run_seed,
            "structure_seed": None if self.seed is None else str(self.seed),
            "plddt": np.round(self.plddt.astype(np.float64), 2).tolist(),
            "mean_plddt": round(float(self.mean_plddt), 4),
            "ptm": None if self.ptm is None else round(float(self.ptm), 4),
            "max_pae": self.max_pae,
            "settings": None if self.settings is None else self.settings.as_dict(),
            "templates": [{"name": name, "sum_probs": p} for name, p in self.templates],
            "template_notes": list(self.template_notes),
            "weights": self.weights, "weights_label": self.weights_label,
        }

    def pae_json(self) -> list:
        """The PAE matrix in the AlphaFold Protein Structure Database's JSON layout (AlphaFold2's
        confidence.pae_json: values rounded to 2 decimals). @raises ValueError without PAE."""
        if self.pae is None:
            raise ValueError(f"{self.id}: no PAE (preset {self.preset or 'unknown'} has no PAE head)")
        return [{"predicted_aligned_error": np.round(self.pae.astype(np.float64), 2).tolist(),
                 "max_predicted_aligned_error": self.max_pae}]

    @property
    def distogram(self) -> np.ndarray:
        """Distance-bin probabilities [N, N, 64] (softmax of ``distogram_logits``; bins split at
        ``DISTOGRAM_BIN_EDGES``)."""
        if self.distogram_logits is None:
            raise ValueError(f"{self.id}: no distogram (predictions read from shards do not keep it)")
        z = np.asarray(self.distogram_logits, dtype=np.float64)
        z = np.exp(z - z.max(axis=-1, keepdims=True))
        return z / z.sum(axis=-1, keepdims=True)

    def _structure_args(self) -> tuple:
        return (aatype_of(self.sequence), np.ascontiguousarray(self.residue_index, dtype=np.int32),
                np.ascontiguousarray(self.atom_positions, dtype=np.float32),
                np.ascontiguousarray(self.atom_mask, dtype=np.uint8),
                np.ascontiguousarray(self.plddt, dtype=np.float32))

    def to_pdb(self, path: str | Path | None = None) -> str:
        """The structure as PDB text, pLDDT in the B-factor column, REMARK 250 records naming the
        model, its weights and scores; also written to ``path`` (through a temporary, so no
        partial file is left; OSError names the file and reason)."""
        text = _core.make_pdb_string(*self._structure_args(), remarks=self.remarks())
        if path is not None:
            write_atomic(path, text)
        return text

    def to_mmcif(self, path: str | Path | None = None, *, name: str | None = None) -> str:
        """The structure as ModelCIF-conformant mmCIF text (pLDDT per atom, per residue and mean,
        pTM, the model and its weights); also written to ``path`` (as to_pdb writes). ``name``
        is the data block's name (default: the id made safe for file names)."""
        from exafold.files import safe_name

        remarks = self.remarks()
        text = _core.make_mmcif_string(
            *self._structure_args(), name=name or safe_name(self.id), title=remarks[0],
            model_name=", ".join(remarks[1:2]), details="; ".join(remarks[2:-1]), ptm=self.ptm)
        if path is not None:
            write_atomic(path, text)
        return text

    def plot_plddt(self, ax: Any = None) -> Any:
        """Per-residue pLDDT against residue number over the confidence bands; returns the Axes."""
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 3), layout="constrained")
        for low, high, colour, _ in PLDDT_BANDS:
            ax.axhspan(low, high, color=colour, alpha=BAND_ALPHA, lw=0)
        ax.plot(self.residue_index, self.plddt, color="black", lw=1.2)
        ax.set(xlim=(self.residue_index[0], self.residue_index[-1]), ylim=(0, 100),
               xlabel="residue", ylabel="pLDDT",
               title=f"{self.id}: mean pLDDT {self.mean_plddt:.1f}{self._tag()}")
        # Each swatch is its band as drawn (colour and alpha), on an opaque white frame: without
        # one the translucent swatches took the colour of the band behind the legend, where the
        # "very low" one vanished. Two columns keep the legend inside a small subplot.
        handles = [Patch(facecolor=colour, alpha=BAND_ALPHA, edgecolor="none", label=label)
                   for _, _, colour, label in PLDDT_BANDS]
        ax.legend(handles=handles, loc="lower left", fontsize="x-small", ncol=2, frameon=True,
                  facecolor="white", framealpha=1.0, edgecolor="0.8")
        return ax

    def plot_pae(self, ax: Any = None) -> Any:
        """The predicted aligned error matrix (row: aligned residue, column: scored residue);
        returns the Axes. Only ``_ptm`` presets predict PAE."""
        if self.pae is None:
            raise ValueError(f"{self.id}: no PAE (preset {self.preset or 'unknown'} has no PAE head; use a _ptm model)")
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4.6, 4), layout="constrained")
        first, last = self.residue_index[0], self.residue_index[-1]
        image = ax.imshow(self.pae, cmap="Greens_r", vmin=0, vmax=max(float(self.pae.max()), 1e-6),
                          extent=(first - 0.5, last + 0.5, last + 0.5, first - 0.5))
        ax.figure.colorbar(image, ax=ax, label="expected position error (Å)")
        title = f"{self.id}: PAE" + ("" if self.ptm is None else f", pTM {self.ptm:.3f}") + self._tag()
        ax.set(xlabel="scored residue", ylabel="aligned residue", title=title)
        return ax

    def view(self, width: int = 640, height: int = 480) -> Any:
        """An interactive 3D view (py3Dmol) coloured by pLDDT; display it in Jupyter by leaving
        it as a cell's value."""
        import py3Dmol

        v = py3Dmol.view(width=width, height=height)
        v.addModel(self.to_pdb(), "pdb")
        v.setStyle({"cartoon": {"color": "white"}})
        for low, high, colour, _ in PLDDT_BANDS:
            in_band = (self.plddt >= low) & ((self.plddt < high) | (high == 100.0))
            residues = [int(r) for r in self.residue_index[in_band]]
            if residues:
                v.setStyle({"resi": residues}, {"cartoon": {"color": colour}})
        v.zoomTo()
        return v
