"""Confidence calibration: how well pLDDT predicts the lDDT-Cα a prediction scores against the
experimental structure (docs/calibration.md).

Predictions come from HDF5 shards, directories of shards, or PDB/mmCIF files with pLDDT in the
B-factor column; references are experimental mmCIF files read with gemmi. Each prediction is
aligned to a reference chain's sequence, the aligned residues' Cα pairs are scored by the
engine's ``lddt_ca``, and the results are accumulated into pLDDT bins and least-squares fits
without keeping per-residue arrays, so millions of structures fit in memory.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

import exafold
from exafold.files import write_atomic, write_with

# Jumper et al. 2021 (AlphaFold2), per chain on recent PDB chains: lDDT-Cα = 0.997·pLDDT - 1.17.
ALPHAFOLD2_REPORTED = {"slope": 0.997, "intercept": -1.17, "r": 0.76, "level": "per chain"}
BIN_EDGES = np.linspace(0.0, 100.0, 11)
REFERENCE_SUFFIXES = (".cif", ".cif.gz", ".mmcif")
PREDICTION_SUFFIXES = (".pdb", ".cif", ".mmcif", ".pdb.gz", ".cif.gz")
CA = 1  # atom37 index of Cα
MAX_CA_STEP = 4.2  # Å; consecutive Cα further apart (trans peptide: 3.8 Å) mark a chain break
# Aligned residues below this fraction of identical pairs mean the wrong entry or chain, not a
# mutated construct, and would score an unrelated structure.
DEFAULT_MIN_IDENTITY = 0.9


@dataclass
class PredictedChain:
    """One predicted chain: its Cα trace and per-residue pLDDT."""

    id: str
    sequence: str
    ca: np.ndarray  # [L, 3] float64, Å
    ca_mask: np.ndarray  # [L] bool, False where the Cα is missing
    plddt: np.ndarray  # [L] float64, 0-100
    source: str  # file, and row for shards


@dataclass
class ReferenceChain:
    """One protein chain of an experimental structure, on its full (SEQRES) sequence when the file
    has one, so unobserved residues are positions without a Cα."""

    name: str  # author chain id
    subchain: str  # label_asym_id
    sequence: str  # one-letter, X for unknown residues
    ca: np.ndarray  # [K, 3] float64
    ca_mask: np.ndarray  # [K] bool, False where the residue was not observed
    # Without SEQRES the sequence is the observed residues only; then connected[k] says residue k
    # follows k-1 without a chain break, so the alignment opens gaps only at breaks.
    connected: np.ndarray | None = None


@dataclass
class Scored:
    """One prediction scored against its reference chain (lDDT ×100, like pLDDT)."""

    id: str
    reference: str
    chain: str
    residues: int  # length of the prediction
    aligned: int  # prediction residues aligned to an observed reference residue
    identity: float  # fraction of aligned residues that are identical
    scored_residues: int  # residues with a defined per-residue lDDT
    mean_plddt: float  # over the scored residues
    mean_plddt_all: float  # over every residue of the prediction
    lddt_ca: float  # over all pairs
    lddt_ca_residue_mean: float
    source: str


@dataclass
class Skipped:
    id: str
    reason: str


class UnusableReference(ValueError):
    """A reference file that cannot be used; the message names the file."""


# ---------------------------------------------------------------------------------------------
# Predictions


def read_predictions(path: Path) -> Iterator[PredictedChain]:
    """Predictions from an HDF5 shard (.h5), a PDB/mmCIF file, or a directory holding either
    (its ``*.h5`` shards and structure files, not recursing). Unreadable files raise, naming them."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and _is_prediction_file(p))
        if not files:
            raise ValueError(f"{path}: no shards (*.h5) or PDB/mmCIF files")
    elif path.exists():
        files = [path]
    else:
        raise ValueError(f"{path} does not exist")
    for f in files:
        yield from (_read_shard(f) if f.suffix == ".h5" else [_read_structure_file(f)])


def _is_prediction_file(p: Path) -> bool:
    return p.suffix == ".h5" or p.name.lower().endswith(PREDICTION_SUFFIXES)


def _read_shard(path: Path) -> Iterator[PredictedChain]:
    s = exafold.read_shard(str(path))
    off = s["residue_offsets"]
    for row, (pid, seq) in enumerate(zip(s["id"], s["sequence"])):
        a, b = int(off[row]), int(off[row + 1])
        yield PredictedChain(pid, seq, s["atom_positions"][a:b, CA].astype(np.float64),
                         s["atom_mask"][a:b, CA] > 0, s["plddt"][a:b].astype(np.float64), f"{path}:{row}")


def _read_structure_file(path: Path) -> PredictedChain:
    import gemmi

    try:
        st = gemmi.read_structure(str(path))
    except (RuntimeError, ValueError) as e:
        raise ValueError(f"{path}: cannot read the prediction: {e}") from None
    st.remove_alternative_conformations()
    chains = [c for c in st[0] if _is_protein(c.get_polymer())] if len(st) else []
    if not chains:
        raise ValueError(f"{path}: no protein chain")
    # A prediction file holds one chain (AlphaFold2 monomer output); a second one is ignored.
    polymer = chains[0].get_polymer()
    ca, mask, plddt = np.zeros((len(polymer), 3)), np.zeros(len(polymer), bool), np.zeros(len(polymer))
    for i, res in enumerate(polymer):
        atom = res.find_atom("CA", "*")
        if atom is not None:
            ca[i], mask[i] = atom.pos.tolist(), True
        plddt[i] = (atom if atom is not None else res[0]).b_iso
    name = path.name
    stem = name[: -len(next(s for s in PREDICTION_SUFFIXES if name.lower().endswith(s)))]
    return PredictedChain(stem, "".join(_one_letter(r.name) for r in polymer), ca, mask, plddt, str(path))


# ---------------------------------------------------------------------------------------------
# References


def split_id(prediction_id: str) -> tuple[str, str | None]:
    """(PDB id, chain hint) of a prediction id: ``2Q2K_A`` -> (2q2k, A), ``6KWC_1_model_1`` ->
    (6kwc, 1); without an underscore the first four characters are the PDB id."""
    if "_" in prediction_id:
        pdb, rest = prediction_id.split("_", 1)
        return pdb.lower(), rest.split("_", 1)[0] or None
    return prediction_id[:4].lower(), None


class References:
    """The experimental structures in a directory, found by PDB id (case-insensitive) as
    ``<id>.cif``, ``<id>.cif.gz`` or ``<id>.mmcif``, each read once while recently used."""

    def __init__(self, directory: Path):
        directory = Path(directory)
        if not directory.is_dir():
            raise ValueError(f"{directory}: not a directory of mmCIF references")
        self.directory = directory
        self._files = {p.name.lower(): p for p in directory.iterdir() if p.is_file()}
        # Predictions of one entry tend to come together (chains, models, seeds).
        self._cached_chains = functools.lru_cache(maxsize=64)(self._read_chains)

    def find(self, pdb_id: str) -> Path | None:
        """The reference file for a PDB id, or None."""
        for suffix in REFERENCE_SUFFIXES:
            if (p := self._files.get(pdb_id.lower() + suffix)) is not None:
                return p
        return None

    def chains(self, path: Path) -> list[ReferenceChain]:
        """The protein chains of a reference file; UnusableReference names the file otherwise."""
        return self._cached_chains(path)

    @staticmethod
    def _read_chains(path: Path) -> list[ReferenceChain]:
        import gemmi

        try:
            st = gemmi.read_structure(str(path), format=gemmi.CoorFormat.Mmcif)
        except (RuntimeError, ValueError) as e:
            raise UnusableReference(f"{path}: cannot read: {e}") from None
        if len(st) == 0:
            raise UnusableReference(f"{path}: no atoms")
        st.setup_entities()
        st.remove_alternative_conformations()
        # The first model (of an NMR ensemble too) is the reference.
        chains = [_reference_chain(st, c) for c in st[0] if _is_protein(c.get_polymer())]
        if not chains:
            raise UnusableReference(f"{path}: no protein chain")
        return chains


def _reference_chain(st, chain) -> ReferenceChain:
    import gemmi

    polymer = chain.get_polymer()
    entity = st.get_entity_of(polymer)
    full = list(entity.full_sequence) if entity is not None else []
    numbered = full and all(r.label_seq is not None and 1 <= r.label_seq <= len(full) for r in polymer)
    if numbered:
        # SEQRES positions: unobserved residues stay in the sequence, without a Cα.
        names = [gemmi.Entity.first_mon(m) for m in full]
        slot = [r.label_seq - 1 for r in polymer]
    else:
        names, slot = [r.name for r in polymer], list(range(len(polymer)))
    ca, mask = np.zeros((len(names), 3)), np.zeros(len(names), bool)
    for res, k in zip(polymer, slot):
        atom = res.find_atom("CA", "*")
        if atom is not None and not mask[k]:
            ca[k], mask[k] = atom.pos.tolist(), True
    connected = None
    if not numbered:
        step = np.linalg.norm(np.diff(ca, axis=0), axis=1)
        connected = np.concatenate([[False], (step < MAX_CA_STEP) & mask[1:] & mask[:-1]])
    return ReferenceChain(chain.name, polymer.subchain_id(), "".join(_one_letter(n) for n in names), ca, mask,
                          connected)


def _is_protein(polymer) -> bool:
    import gemmi

    return len(polymer) > 0 and polymer.check_polymer_type() in (gemmi.PolymerType.PeptideL,
                                                                 gemmi.PolymerType.PeptideD)


def _one_letter(name: str) -> str:
    import gemmi

    info = gemmi.find_tabulated_residue(name)
    return info.one_letter_code.upper() if info is not None and info.is_amino_acid() else "X"


# ---------------------------------------------------------------------------------------------
# Alignment and scoring


@dataclass
class Alignment:
    """Aligned residue pairs, gemmi's alignment score and the fraction of identical pairs."""

    pairs: np.ndarray  # [A, 2] (prediction index, reference index) of aligned residues
    score: int
    identity: float


def align(query: str, target: str, connected: np.ndarray | None = None) -> Alignment:
    """Global BLOSUM62 alignment (gemmi) of two one-letter sequences; every aligned position is
    kept, identical or not, as in AlphaFold2's template and evaluation mapping. With `connected`
    (ReferenceChain.connected) a gap in the target opens freely at chain breaks and at a high
    cost elsewhere, like gemmi's align_sequence_to_polymer."""
    import gemmi

    kind = gemmi.ResidueKind.AA
    scoring = gemmi.AlignmentScoring("b")
    gap_open = [] if connected is None else [scoring.bad_gapo if c else scoring.good_gapo for c in connected]
    r = gemmi.align_string_sequences(gemmi.expand_one_letter_sequence(query, kind),
                                     gemmi.expand_one_letter_sequence(target, kind), gap_open, scoring)
    pairs, q, t = [], 0, 0
    for count, op in re.findall(r"(\d+)([MID])", r.cigar_str()):
        n = int(count)
        if op == "M":
            pairs.extend(zip(range(q, q + n), range(t, t + n)))
        q += n if op in "MI" else 0
        t += n if op in "MD" else 0
    pairs = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    same = sum(query[i] == target[j] for i, j in pairs)
    return Alignment(pairs, int(r.score), same / len(pairs) if len(pairs) else 0.0)


def choose_chain(prediction: PredictedChain, chains: list[ReferenceChain],
                 hint: str | None) -> tuple[ReferenceChain, Alignment]:
    """The chain the hint names (author chain id first, then label_asym_id), else the chain whose
    alignment scores best."""
    for key in ("name", "subchain"):
        named = [c for c in chains if getattr(c, key) == hint]
        if named:
            return named[0], align(prediction.sequence, named[0].sequence, named[0].connected)
    scored = [(c, align(prediction.sequence, c.sequence, c.connected)) for c in chains]
    return max(scored, key=lambda ca: ca[1].score)


def score(prediction: PredictedChain, chain: ReferenceChain, alignment: Alignment) -> dict:
    """exafold.lddt_ca of the prediction against the chain on the aligned residues: per_residue
    is over the prediction's residues, NaN where unscored."""
    n = len(prediction.sequence)
    ref, ref_mask = np.zeros((n, 3)), np.zeros(n, bool)
    i, j = alignment.pairs[:, 0], alignment.pairs[:, 1]
    ref[i], ref_mask[i] = chain.ca[j], chain.ca_mask[j]
    return exafold.lddt_ca(prediction.ca, ref, prediction.ca_mask, ref_mask)


# ---------------------------------------------------------------------------------------------
# Accumulation


class LinearFit:
    """Streaming least squares y = a·x + b and Pearson r. Sums are kept around 50 (the middle of
    the 0-100 scale) so the centred moments lose no digits over millions of points."""

    CENTRE = 50.0

    def __init__(self):
        self.n, self.sx, self.sy, self.sxx, self.syy, self.sxy = 0, 0.0, 0.0, 0.0, 0.0, 0.0

    def add(self, x: np.ndarray, y: np.ndarray) -> None:
        """Adds points (float64 sums)."""
        x = np.asarray(x, np.float64) - self.CENTRE
        y = np.asarray(y, np.float64) - self.CENTRE
        self.n += x.size
        self.sx += float(x.sum())
        self.sy += float(y.sum())
        self.sxx += float(x @ x)
        self.syy += float(y @ y)
        self.sxy += float(x @ y)

    def result(self) -> dict:
        """slope, intercept, r and n; None for what the points do not determine."""
        out = {"slope": None, "intercept": None, "r": None, "n": self.n}
        if self.n < 2:
            return out
        cxx = self.sxx - self.sx * self.sx / self.n
        cyy = self.syy - self.sy * self.sy / self.n
        cxy = self.sxy - self.sx * self.sy / self.n
        if cxx > 0:
            slope = cxy / cxx
            out["slope"] = slope
            out["intercept"] = (self.sy - slope * self.sx) / self.n + self.CENTRE * (1 - slope)
            if cyy > 0:
                out["r"] = cxy / math.sqrt(cxx * cyy)
        return out


@dataclass
class Report:
    """Everything calibrate() found; summary() makes it JSON-ready."""

    predictions: str
    references: str
    scored: list[Scored] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    bin_counts: np.ndarray = field(default_factory=lambda: np.zeros(10, np.int64))
    bin_sums: np.ndarray = field(default_factory=lambda: np.zeros(10))
    residue_fit: LinearFit = field(default_factory=LinearFit)
    structure_fit: LinearFit = field(default_factory=LinearFit)

    def add(self, s: Scored, plddt: np.ndarray, lddt100: np.ndarray) -> None:
        """Adds one structure and its scored residues (pLDDT, lDDT ×100)."""
        self.scored.append(s)
        self.structure_fit.add([s.mean_plddt], [s.lddt_ca])
        self.residue_fit.add(plddt, lddt100)
        b = np.clip((plddt // 10).astype(np.int64), 0, 9)  # pLDDT 100 joins the 90-100 bin
        self.bin_counts += np.bincount(b, minlength=10)
        self.bin_sums += np.bincount(b, weights=lddt100, minlength=10)

    def summary(self) -> dict:
        """The report as plain data (None where a value is undefined; JSON has no NaN)."""
        bins = [{"low": float(BIN_EDGES[k]), "high": float(BIN_EDGES[k + 1]),
                 "residues": int(self.bin_counts[k]),
                 "mean_lddt_ca": float(self.bin_sums[k] / self.bin_counts[k]) if self.bin_counts[k] else None}
                for k in range(10)]
        return {
            "predictions": self.predictions,
            "references": self.references,
            "structures_scored": len(self.scored),
            "structures_skipped": len(self.skipped),
            "residues_scored": int(self.bin_counts.sum()),
            "bins": bins,
            "fit_structures": self.structure_fit.result(),
            "fit_residues": self.residue_fit.result(),
            "alphafold2_reported": ALPHAFOLD2_REPORTED,
            "structures": [{k: _finite(v) for k, v in asdict(s).items()} for s in self.scored],
            "skipped": [asdict(s) for s in self.skipped],
        }


def _finite(v):
    return None if isinstance(v, float) and not math.isfinite(v) else v


def calibrate(predictions: Iterable[PredictedChain], references: References, *,
              min_identity: float = DEFAULT_MIN_IDENTITY, predictions_name: str = "") -> Report:
    """Scores every prediction against its reference; one without a usable reference is recorded
    in ``skipped`` with the reason, never fatal."""
    report = Report(predictions_name, str(references.directory))
    for p in predictions:
        pdb_id, hint = split_id(p.id)
        path = references.find(pdb_id)
        if path is None:
            names = " / ".join(pdb_id + s for s in REFERENCE_SUFFIXES)
            report.skipped.append(Skipped(p.id, f"no reference {names} in {references.directory}"))
            continue
        try:
            chains = references.chains(path)
        except UnusableReference as e:
            report.skipped.append(Skipped(p.id, str(e)))
            continue
        chain, alignment = choose_chain(p, chains, hint)
        if alignment.identity < min_identity:
            report.skipped.append(Skipped(p.id, f"{path} chain {chain.name}: {alignment.identity:.0%} of "
                                                f"{len(alignment.pairs)} aligned residues identical, "
                                                f"below {min_identity:.0%}"))
            continue
        r = score(p, chain, alignment)
        per_residue = r["per_residue"]
        scored = np.isfinite(per_residue)
        if not scored.any():
            report.skipped.append(Skipped(p.id, f"{path} chain {chain.name}: no aligned, observed residue has a "
                                                "partner within 15 Å"))
            continue
        observed = int(chain.ca_mask[alignment.pairs[:, 1]].sum())
        report.add(Scored(p.id, str(path), chain.name, len(p.sequence), observed, alignment.identity,
                          int(scored.sum()), float(p.plddt[scored].mean()), float(p.plddt.mean()),
                          100 * r["global"], 100 * r["mean_per_residue"], p.source),
                   p.plddt[scored], 100 * per_residue[scored])
    return report


# ---------------------------------------------------------------------------------------------
# Output


def format_table(summary: dict) -> str:
    """The report as text: residue bins, the fits beside AlphaFold2's, and the skipped predictions."""
    lines = [f"calibrated {summary['structures_scored']} structures ({summary['residues_scored']} residues) "
             f"against {summary['references']}; skipped {summary['structures_skipped']}", "",
             f"{'pLDDT':>8} {'residues':>10} {'lDDT-Ca':>8}"]
    for b in summary["bins"]:
        mean = "-" if b["mean_lddt_ca"] is None else f"{b['mean_lddt_ca']:.2f}"
        lines.append(f"{int(b['low']):>3}-{int(b['high']):<4} {b['residues']:>10} {mean:>8}")
    lines += ["", f"{'lDDT-Ca = a * pLDDT + b':<26} {'a':>7} {'b':>7} {'r':>6} {'n':>10}"]
    for label, f in (("structures", summary["fit_structures"]), ("residues", summary["fit_residues"])):
        lines.append(f"{label:<26} {_cell(f['slope'], 7, 3)} {_cell(f['intercept'], 7, 2)} "
                     f"{_cell(f['r'], 6, 3)} {f['n']:>10}")
    af2 = summary["alphafold2_reported"]
    lines.append(f"{'AlphaFold2, ' + af2['level']:<26} {af2['slope']:7.3f} {af2['intercept']:7.2f} {af2['r']:6.3f}")
    if summary["skipped"]:
        lines += ["", "skipped:"]
        lines += [f"  {s['id']}: {s['reason']}" for s in summary["skipped"][:20]]
        if len(summary["skipped"]) > 20:
            lines.append(f"  ... and {len(summary['skipped']) - 20} more (calibration.json lists all)")
    return "\n".join(lines)


def _cell(v: float | None, width: int, digits: int) -> str:
    return f"{'-':>{width}}" if v is None else f"{v:{width}.{digits}f}"


def write_outputs(report: Report, summary: dict, out_dir: Path) -> dict[str, Path]:
    """Writes calibration.json, structures.csv and calibration.png into out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "calibration.json", "csv": out_dir / "structures.csv",
             "png": out_dir / "calibration.png"}
    write_atomic(paths["json"], json.dumps(summary, indent=1, allow_nan=False) + "\n")
    columns = list(Scored.__dataclass_fields__)
    table = io.StringIO(newline="")
    w = csv.writer(table)
    w.writerow(columns)
    for s in report.scored:
        w.writerow([getattr(s, c) for c in columns])
    write_atomic(paths["csv"], table.getvalue())
    plot(report, summary, paths["png"])
    return paths


def plot(report: Report, summary: dict, path: Path) -> None:
    """Structures' mean pLDDT against lDDT-Cα, residue bin means, the fitted line and y = x."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 6))
    ax.plot([0, 100], [0, 100], color="0.6", lw=1, label="y = x")
    ax.scatter([s.mean_plddt for s in report.scored], [s.lddt_ca for s in report.scored], s=8, alpha=0.5,
               label="structures")
    centres = [(b["low"] + b["high"]) / 2 for b in summary["bins"] if b["mean_lddt_ca"] is not None]
    means = [b["mean_lddt_ca"] for b in summary["bins"] if b["mean_lddt_ca"] is not None]
    ax.plot(centres, means, "s-", color="tab:orange", label="residues, bin means")
    x = np.array([0.0, 100.0])
    fit = summary["fit_structures"]
    if fit["slope"] is not None:
        r = "" if fit["r"] is None else f", r = {fit['r']:.2f}"
        ax.plot(x, fit["slope"] * x + fit["intercept"], color="tab:red",
                label=f"fit over structures: {fit['slope']:.3f}·pLDDT {fit['intercept']:+.2f}{r}")
    af2 = ALPHAFOLD2_REPORTED
    ax.plot(x, af2["slope"] * x + af2["intercept"], "--", color="0.3", lw=1,
            label=f"AlphaFold2: {af2['slope']}·pLDDT {af2['intercept']:+}, r = {af2['r']}")
    ax.set(xlim=(0, 100), ylim=(0, 100), xlabel="pLDDT (mean over scored residues)", ylabel="lDDT-Cα × 100",
           title=f"Confidence calibration ({len(report.scored)} structures)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    write_with(path, lambda f: fig.savefig(f, format="png", dpi=120))
    plt.close(fig)
