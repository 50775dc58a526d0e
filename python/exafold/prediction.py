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

# AlphaFold2's distogram head: 64 bins, 63 edges evenly from 2.3125 to 21.6875 Angstrom.
DISTOGRAM_BIN_EDGES = np.linspace(2.3125, 21.6875, 63)

# The confidence bands of the AlphaFold Protein Structure Database, with its colours.
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
    seed), ``seconds`` (model time) and ``feature_seconds`` (feature building); ``outputs`` keeps
    every array the model returned. ``templates``: (domain name, sum_probs) of the templates the
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
            seconds=float(s["runtime_seconds"][i]),
            templates=tuple(zip(s["template_name"][ta:tb], map(float, s["template_sum_probs"][ta:tb]))),
        )

    def __len__(self) -> int:
        return len(self.sequence)

    def __repr__(self) -> str:
        ptm = "" if self.ptm is None else f", pTM {self.ptm:.3f}"
        return (f"Prediction({self.id!r}, {len(self)} residues, {self.preset or 'model'}, "
                f"mean pLDDT {self.mean_plddt:.1f}{ptm})")

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
        """The structure as PDB text, pLDDT in the B-factor column; also written to ``path``
        (through a temporary, so no partial file is left; OSError names the file and reason)."""
        text = _core.make_pdb_string(*self._structure_args())
        if path is not None:
            write_atomic(path, text)
        return text

    def to_mmcif(self, path: str | Path | None = None) -> str:
        """The structure as mmCIF text (with pLDDT per atom); also written to ``path`` (as
        to_pdb writes)."""
        text = _core.make_mmcif_string(*self._structure_args(), name=self.id)
        if path is not None:
            write_atomic(path, text)
        return text

    def plot_plddt(self, ax: Any = None) -> Any:
        """Per-residue pLDDT against residue number over the confidence bands; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 3))
        for low, high, colour, label in PLDDT_BANDS:
            ax.axhspan(low, high, color=colour, alpha=0.15, lw=0, label=label)
        ax.plot(self.residue_index, self.plddt, color="black", lw=1.2)
        ax.set(xlim=(self.residue_index[0], self.residue_index[-1]), ylim=(0, 100),
               xlabel="residue", ylabel="pLDDT", title=f"{self.id}: mean pLDDT {self.mean_plddt:.1f}")
        ax.legend(loc="lower left", fontsize="x-small", ncol=4, frameon=False)
        return ax

    def plot_pae(self, ax: Any = None) -> Any:
        """The predicted aligned error matrix (row: aligned residue, column: scored residue);
        returns the Axes. Only ``_ptm`` presets predict PAE."""
        if self.pae is None:
            raise ValueError(f"{self.id}: no PAE (preset {self.preset or 'unknown'} has no PAE head; use a _ptm model)")
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4.6, 4))
        first, last = self.residue_index[0], self.residue_index[-1]
        image = ax.imshow(self.pae, cmap="Greens_r", vmin=0, vmax=max(float(self.pae.max()), 1e-6),
                          extent=(first - 0.5, last + 0.5, last + 0.5, first - 0.5))
        ax.figure.colorbar(image, ax=ax, label="expected position error (Å)")
        title = f"{self.id}: PAE" + ("" if self.ptm is None else f", pTM {self.ptm:.3f}")
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
