"""lDDT-Cα and `exafold calibrate`, checked against Biotite's independent lDDT on real structures:
the experimental 2Q2K chain A and OpenFold's 6KWC prediction, each against perturbed copies.

Tolerance: both sides score the same float32 coordinates, and every lDDT is a ratio of integer
counts (pairs within the radius, deviations below each threshold). Biotite measures distances in
float32 (error ~1e-6 Å at 15 Å), exafold in float64, so the counts are equal unless a deviation
lies within ~1e-6 Å of a threshold or a reference distance within ~1e-6 Å of 15 Å; each case
first asserts a 1e-5 Å margin from every such boundary. With equal counts the scores differ only
by the rounding of Biotite's float64 mean, far below the 1e-6 tolerance (0-1 scale).
"""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path

import biotite.sequence as bseq
import biotite.structure as struc
import biotite.structure.io.pdb as bpdb
import biotite.structure.io.pdbx as bpdbx
import gemmi
import numpy as np
import pytest

import exafold
from exafold import calibration, cli
from exafold.runner.outputs import aatype_of

DATA = Path(__file__).resolve().parents[1] / "data"
CIF_2Q2K = DATA / "2q2k.cif"
PDB_6KWC = DATA / "6KWC_1_model_1_ptm_unrelaxed.pdb"
THRESHOLDS = np.array([0.5, 1.0, 2.0, 4.0])
TOL = 1e-6
MARGIN = 1e-5


def chain_ca(chain: str = "A") -> struc.AtomArray:
    """Cα atoms of a 2Q2K protein chain (author chain id), read by Biotite."""
    arr = bpdbx.get_structure(bpdbx.CIFFile.read(str(CIF_2Q2K)), model=1)
    return arr[(arr.chain_id == chain) & (arr.atom_name == "CA") & struc.filter_amino_acids(arr)]


def openfold_ca() -> struc.AtomArray:
    arr = bpdb.PDBFile.read(str(PDB_6KWC)).get_structure(model=1, extra_fields=["b_factor"])
    return arr[arr.atom_name == "CA"]


def sequence_of(atoms: struc.AtomArray) -> str:
    return "".join(bseq.ProteinSequence.convert_letter_3to1(n) for n in atoms.res_name)


def perturbed(coord: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    return (coord + np.random.default_rng(seed).normal(0.0, sigma, coord.shape)).astype(np.float32)


def assert_clear_of_boundaries(model: np.ndarray, reference: np.ndarray) -> None:
    """No deviation near a threshold and no reference distance near 15 Å (module docstring)."""
    dist = lambda x: np.linalg.norm(x[:, None] - x[None], axis=-1)  # noqa: E731
    d_ref, d_mod = dist(reference.astype(np.float64)), dist(model.astype(np.float64))
    pairs = (d_ref < 15) & ~np.eye(len(reference), dtype=bool)
    dev = np.abs(d_mod - d_ref)[pairs]
    assert np.abs(dev[:, None] - THRESHOLDS).min() > MARGIN
    assert np.abs(d_ref - 15).min() > MARGIN


def lddt_numpy(model, reference, model_mask, reference_mask):
    """A direct float64 transcription of the definition: (per-residue, global)."""
    model, reference = np.asarray(model, np.float64), np.asarray(reference, np.float64)
    d_ref = np.linalg.norm(reference[:, None] - reference[None], axis=-1)
    d_mod = np.linalg.norm(model[:, None] - model[None], axis=-1)
    present = reference_mask[:, None] & reference_mask[None] & ~np.eye(len(reference), dtype=bool)
    pairs = present & (d_ref < 15)
    both = model_mask[:, None] & model_mask[None]
    kept = sum(((np.abs(d_mod - d_ref) < t) & pairs & both).sum(axis=1) for t in THRESHOLDS)
    n = pairs.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return kept / (4.0 * n), kept.sum() / (4.0 * n.sum())


# ---------------------------------------------------------------------------------------------
# lDDT-Cα against Biotite


@pytest.mark.parametrize("structure", ["2q2k", "6kwc"])
@pytest.mark.parametrize("sigma", [0.1, 0.3, 1.0, 2.0, 4.0])
def test_lddt_matches_biotite_on_perturbed_structures(structure, sigma):
    ref = chain_ca() if structure == "2q2k" else openfold_ca()
    model = perturbed(ref.coord, sigma, seed=int(sigma * 10) + len(ref))
    assert_clear_of_boundaries(model, ref.coord)
    r = exafold.lddt_ca(model, ref.coord)
    assert r["global"] == pytest.approx(struc.lddt(ref, model, aggregation="all"), abs=TOL)
    per_residue = struc.lddt(ref, model, aggregation="residue")
    np.testing.assert_allclose(r["per_residue"], per_residue, atol=TOL)
    assert r["mean_per_residue"] == pytest.approx(np.mean(per_residue), abs=TOL)
    assert r["total_pairs"] == r["pairs"].sum() > 0
    if sigma >= 1.0:
        assert r["global"] < 0.8  # the noise is seen: a wrong result cannot pass as 1.0


def test_identical_structures_score_one():
    ref = chain_ca()
    r = exafold.lddt_ca(ref.coord, ref.coord)
    assert r["global"] == 1.0 and r["mean_per_residue"] == 1.0
    assert np.all(r["per_residue"] == 1.0)


def test_residues_missing_from_the_reference_are_not_scored():
    ref = chain_ca()
    model = perturbed(ref.coord, 1.0, seed=3)
    present = np.ones(len(ref), bool)
    present[[0, 10, 11, 12, 13, 14, 30]] = False
    r = exafold.lddt_ca(model, ref.coord, reference_mask=present)
    assert np.all(np.isnan(r["per_residue"][~present]))
    # Biotite on the reference without those residues: the others are scored over present partners.
    kept = ref[present]
    assert_clear_of_boundaries(model[present], kept.coord)
    np.testing.assert_allclose(r["per_residue"][present], struc.lddt(kept, model[present], aggregation="residue"),
                               atol=TOL)
    assert r["global"] == pytest.approx(struc.lddt(kept, model[present]), abs=TOL)
    # ... which differs from scoring the whole chain, so the mask is really applied.
    assert abs(r["global"] - exafold.lddt_ca(model, ref.coord)["global"]) > 1e-3


def test_atom_missing_from_the_model_counts_as_not_preserved():
    ref = chain_ca()
    model = perturbed(ref.coord, 0.3, seed=4)
    has = np.ones(len(ref), bool)
    has[[5, 20]] = False
    r = exafold.lddt_ca(model, ref.coord, model_mask=has)
    per_residue, overall = lddt_numpy(model, ref.coord, has, np.ones(len(ref), bool))
    np.testing.assert_allclose(r["per_residue"], per_residue, atol=1e-12)
    assert r["global"] == pytest.approx(overall, abs=1e-12)
    assert r["per_residue"][5] == 0.0 and r["per_residue"][20] == 0.0
    # Biotite agrees when the missing atoms are NaN (a NaN deviation is never within a bin).
    missing = model.copy()
    missing[~has] = np.nan
    assert r["global"] == pytest.approx(struc.lddt(ref, missing), abs=TOL)


def test_reference_with_no_neighbour_within_the_radius():
    far = np.arange(5)[:, None] * np.array([[16.0, 0.0, 0.0]])
    r = exafold.lddt_ca(far, far)
    assert r["total_pairs"] == 0 and np.isnan(r["global"]) and np.isnan(r["mean_per_residue"])
    assert np.all(np.isnan(r["per_residue"]))


def test_lddt_rejects_bad_shapes():
    with pytest.raises(ValueError, match="reference"):
        exafold.lddt_ca(np.zeros((3, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="model has 2 residues"):
        exafold.lddt_ca(np.zeros((2, 3)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="reference_mask"):
        exafold.lddt_ca(np.zeros((3, 3)), np.zeros((3, 3)), reference_mask=[1, 1])


# ---------------------------------------------------------------------------------------------
# Matching predictions to references


def test_split_id():
    assert calibration.split_id("2Q2K_A") == ("2q2k", "A")
    assert calibration.split_id("6KWC_1_model_1_ptm_unrelaxed") == ("6kwc", "1")
    assert calibration.split_id("1abcD") == ("1abc", None)


def test_alignment_pairs_a_partial_chain():
    target = "KETKHLLKIKKEDYPQIFDFLENVPRG"
    query = "MGSS" + target[:10] + target[13:] + "WWW"  # extra ends, 3 target residues unmatched
    a = calibration.align(query, target)
    assert a.identity == 1.0
    assert all(query[i] == target[j] for i, j in a.pairs)
    assert len(a.pairs) == len(target) - 3


def write_reference(path: Path, edit=None, seqres: bool = True) -> None:
    """2Q2K as mmCIF written by gemmi after `edit(structure)`; without SEQRES when asked."""
    st = gemmi.read_structure(str(CIF_2Q2K))
    st.setup_entities()
    if edit is not None:
        edit(st)
    doc = st.make_mmcif_document()
    if not seqres:
        doc.sole_block().find_mmcif_category("_entity_poly_seq.").erase()
    doc.write_file(str(path))


def prediction(pid: str, sequence: str, ca: np.ndarray, plddt=None, mask=None) -> calibration.PredictedChain:
    n = len(sequence)
    return calibration.PredictedChain(pid, sequence, np.asarray(ca, np.float64),
                                  np.ones(n, bool) if mask is None else mask,
                                  np.full(n, 80.0) if plddt is None else np.asarray(plddt, np.float64), "test")


def scored_one(refs: Path, p: calibration.PredictedChain) -> calibration.Scored:
    report = calibration.calibrate([p], calibration.References(refs))
    assert not report.skipped, report.skipped
    return report.scored[0]


def test_reference_with_unobserved_residues_and_numbering_gaps(tmp_path):
    ref = chain_ca()
    gone = [0, 1, 2, 17, 18, 19, 20, 44]  # chain ends and a loop, as if unobserved

    def edit(st):
        chain = st[0]["A"]
        for k in sorted(gone, reverse=True):
            del chain[k]
        for res in chain:  # author numbering jumps by 100 after residue 30
            if res.seqid.num > 30:
                res.seqid.num += 100

    kept = np.setdiff1d(np.arange(len(ref)), gone)
    model = perturbed(ref.coord, 1.0, seed=5)
    for seqres in (True, False):
        refs = tmp_path / ("seqres" if seqres else "plain")
        refs.mkdir()
        write_reference(refs / "2q2k.cif", edit, seqres)
        s = scored_one(refs, prediction("2Q2K_A", sequence_of(ref), model))
        assert s.chain == "A" and s.aligned == len(kept) and s.scored_residues == len(kept)
        assert s.lddt_ca / 100 == pytest.approx(struc.lddt(ref[kept], model[kept]), abs=TOL)


def test_prediction_longer_than_the_observed_chain(tmp_path):
    # The prediction covers the whole construct (SEQRES, 70 residues) plus extra residues; the
    # experimental chain shows 45 of them, the only ones scored.
    ref = chain_ca()
    st = gemmi.read_structure(str(CIF_2Q2K))
    st.setup_entities()
    full = gemmi.one_letter_code(st.get_entity_of(st[0]["A"].get_polymer()).full_sequence).upper()
    sequence = "MW" + full + "GGW"
    offset = 2 + full.index(sequence_of(ref)[:10])
    model = perturbed(ref.coord, 0.5, seed=6)
    ca = np.random.default_rng(7).normal(0, 20, (len(sequence), 3))
    ca[offset + ref.res_id - ref.res_id[0]] = model
    plddt = np.linspace(30, 95, len(sequence))
    (tmp_path / "2Q2K.CIF").write_bytes(CIF_2Q2K.read_bytes())  # names match case-insensitively
    s = scored_one(tmp_path, prediction("2Q2K_A", sequence, ca, plddt))
    assert s.residues == len(sequence) and s.scored_residues == len(ref)
    assert s.lddt_ca / 100 == pytest.approx(struc.lddt(ref, model), abs=TOL)
    assert s.mean_plddt == pytest.approx(plddt[offset + ref.res_id - ref.res_id[0]].mean())
    assert s.mean_plddt_all == pytest.approx(plddt.mean())


def test_chain_choice(tmp_path):
    (tmp_path / "2q2k.cif").write_bytes(CIF_2Q2K.read_bytes())
    a, b = chain_ca("A"), chain_ca("B")
    model = perturbed(b.coord, 0.5, seed=8)
    seq = sequence_of(b)
    # Author chain B; label_asym_id C is the same chain; an unknown suffix aligns to the best
    # chain (A and B share the entity, so the first, A).
    want_b = struc.lddt(b, model)
    assert scored_one(tmp_path, prediction("2Q2K_B", seq, model)).lddt_ca / 100 == pytest.approx(want_b, abs=TOL)
    s = scored_one(tmp_path, prediction("2Q2K_C", seq, model))
    assert s.chain == "B" and s.lddt_ca / 100 == pytest.approx(want_b, abs=TOL)
    assert scored_one(tmp_path, prediction("2Q2K_1", seq, model)).chain == "A"
    assert scored_one(tmp_path, prediction("2Q2K_A", seq, model)).chain == "A"
    assert len(a) != len(b)


def test_reference_without_neighbours_is_skipped(tmp_path):
    ref = chain_ca()
    # Keep residues at least 15 Å from every other kept one: nothing to score.
    keep = []
    for i, x in enumerate(ref.coord):
        if all(np.linalg.norm(x - ref.coord[j]) >= 15 for j in keep):
            keep.append(i)
    assert len(keep) >= 2

    def edit(st):
        chain = st[0]["A"]
        for k in reversed(range(len(chain))):
            if chain[k].label_seq is not None and k < len(ref) and k not in keep:
                del chain[k]

    write_reference(tmp_path / "2q2k.cif", edit)
    report = calibration.calibrate([prediction("2Q2K_A", sequence_of(ref), ref.coord)],
                                   calibration.References(tmp_path))
    assert not report.scored
    assert "no aligned, observed residue has a partner within 15 Å" in report.skipped[0].reason


def test_unrelated_sequence_is_skipped(tmp_path):
    (tmp_path / "2q2k.cif").write_bytes(CIF_2Q2K.read_bytes())
    p = prediction("2Q2K_A", "W" * 45, chain_ca().coord)
    report = calibration.calibrate([p], calibration.References(tmp_path))
    assert not report.scored and "identical" in report.skipped[0].reason


def test_linear_fit_matches_numpy():
    rng = np.random.default_rng(9)
    x = rng.uniform(20, 100, 500)
    y = 0.9 * x + 3 + rng.normal(0, 8, 500)
    f = calibration.LinearFit()
    f.add(x[:200], y[:200])
    f.add(x[200:], y[200:])
    r = f.result()
    slope, intercept = np.polyfit(x, y, 1)
    assert (r["slope"], r["intercept"]) == pytest.approx((slope, intercept), rel=1e-10)
    assert r["r"] == pytest.approx(np.corrcoef(x, y)[0, 1], rel=1e-10)
    assert calibration.LinearFit().result()["slope"] is None


# ---------------------------------------------------------------------------------------------
# exafold calibrate end to end


def write_shard(path: Path, rows: list[tuple[str, str, np.ndarray, np.ndarray]]) -> None:
    """A shard whose structures carry only a Cα each (atom37 index 1)."""
    with exafold.ShardWriter(str(path), pae="none") as w:
        for pid, seq, ca, plddt in rows:
            n = len(seq)
            pos = np.zeros((n, 37, 3), np.float32)
            mask = np.zeros((n, 37), np.uint8)
            pos[:, 1], mask[:, 1] = ca, 1
            w.append(pid, seq, aatype_of(seq), np.arange(1, n + 1, dtype=np.int32), pos, mask,
                     np.asarray(plddt, np.float32), model="model_1", seed=0, runtime_seconds=0.0, flops=0.0)


def test_calibrate_cli_end_to_end(tmp_path, capsys):
    a, b = chain_ca("A"), chain_ca("B")
    rng = np.random.default_rng(10)
    want = {}  # id -> (reference chain, model, per-residue pLDDT)
    # 2q2k_x names no chain: the best alignment, chain A.
    for k, (pid, atoms, sigma) in enumerate((("2Q2K_A", a, 0.3), ("2Q2K_B", b, 1.0), ("2q2k_x", a, 2.5))):
        model = perturbed(atoms.coord, sigma, seed=20 + k)
        assert_clear_of_boundaries(model, atoms.coord)
        want[pid] = (atoms, model, rng.uniform(5, 100, len(atoms)).astype(np.float32))
    rows = [(pid, sequence_of(atoms), model, plddt) for pid, (atoms, model, plddt) in want.items()]
    unmatched = (sequence_of(a), a.coord, np.full(len(a), 50.0))
    rows += [("1ABC_A", *unmatched), ("BAD1_A", *unmatched)]
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    write_shard(run_dir / "shard-r00000-00000.h5", rows[:3])
    write_shard(run_dir / "shard-r00000-00001.h5", rows[3:])
    refs = tmp_path / "refs"
    refs.mkdir()
    (refs / "2q2k.cif").write_bytes(CIF_2Q2K.read_bytes())
    (refs / "bad1.cif").write_text("data_bad1\nloop_\n_atom_site.id\n_atom_site.Cartn_x\n1\n")
    out = tmp_path / "out"

    assert cli.main(["calibrate", "--predictions", str(run_dir), "--references", str(refs), "--out", str(out)]) == 0
    text = capsys.readouterr().out

    summary = json.loads((out / "calibration.json").read_text())
    assert summary["structures_scored"] == 3 and summary["structures_skipped"] == 2
    by_id = {s["id"]: s for s in summary["structures"]}
    bin_n, bin_sum, xs, ys, rx, ry = np.zeros(10), np.zeros(10), [], [], [], []
    for pid, (atoms, model, plddt) in want.items():
        lddt = struc.lddt(atoms, model)
        per_residue = 100 * struc.lddt(atoms, model, aggregation="residue")
        p = plddt.astype(np.float64)
        assert by_id[pid]["lddt_ca"] == pytest.approx(100 * lddt, abs=100 * TOL)
        assert by_id[pid]["lddt_ca_residue_mean"] == pytest.approx(per_residue.mean(), abs=100 * TOL)
        assert by_id[pid]["mean_plddt"] == pytest.approx(p.mean(), rel=1e-12)
        assert by_id[pid]["scored_residues"] == len(atoms)
        k = np.minimum(p // 10, 9).astype(int)
        np.add.at(bin_n, k, 1)
        np.add.at(bin_sum, k, per_residue)
        xs.append(p.mean())
        ys.append(100 * lddt)
        rx += list(p)
        ry += list(per_residue)
    assert by_id["2Q2K_B"]["chain"] == "B" and by_id["2q2k_x"]["chain"] == "A"
    assert [b["residues"] for b in summary["bins"]] == list(bin_n)
    for got, n, s in zip(summary["bins"], bin_n, bin_sum):
        assert (got["mean_lddt_ca"] is None) if n == 0 else got["mean_lddt_ca"] == pytest.approx(s / n, abs=1e-4)
    for key, x, y in (("fit_structures", xs, ys), ("fit_residues", rx, ry)):
        slope, intercept = np.polyfit(x, y, 1)
        fit = summary[key]
        assert fit["n"] == len(x)
        assert (fit["slope"], fit["intercept"]) == pytest.approx((slope, intercept), rel=1e-9, abs=1e-9)
        assert fit["r"] == pytest.approx(np.corrcoef(x, y)[0, 1], rel=1e-9)
    assert summary["alphafold2_reported"]["slope"] == 0.997

    skipped = {s["id"]: s["reason"] for s in summary["skipped"]}
    assert "no reference 1abc.cif" in skipped["1ABC_A"]
    assert str(refs / "bad1.cif") in skipped["BAD1_A"]
    assert "1ABC_A: no reference" in text and "BAD1_A:" in text and "bad1.cif" in text
    assert f"{summary['fit_structures']['slope']:7.3f}" in text and "0.997" in text

    with (out / "structures.csv").open() as f:
        table = list(csv.DictReader(f))
    assert [r["id"] for r in table] == list(by_id)
    assert float(table[0]["lddt_ca"]) == pytest.approx(by_id["2Q2K_A"]["lddt_ca"])
    assert (out / "calibration.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_calibrate_cli_reads_pdb_predictions(tmp_path, capsys):
    # The reference is a perturbed copy of OpenFold's model written as mmCIF; the prediction is the
    # PDB file itself, its pLDDT read from the B-factor column.
    st = gemmi.read_structure(str(PDB_6KWC))
    st.setup_entities()
    rng = np.random.default_rng(11)
    for res in st[0][0]:
        for atom in res:
            atom.pos = gemmi.Position(*(np.array(atom.pos.tolist()) + rng.normal(0, 0.8, 3)))
    refs = tmp_path / "refs"
    refs.mkdir()
    st.make_mmcif_document().write_file(str(refs / "6kwc.cif"))
    ca = openfold_ca()
    with warnings.catch_warnings():  # gemmi writes no auth_comp_id; Biotite says it uses label_comp_id
        warnings.simplefilter("ignore", UserWarning)
        reference = bpdbx.get_structure(bpdbx.CIFFile.read(str(refs / "6kwc.cif")), model=1)
    reference = reference[reference.atom_name == "CA"]
    assert_clear_of_boundaries(ca.coord, reference.coord)

    out = tmp_path / "out"
    assert cli.main(["calibrate", "--predictions", str(PDB_6KWC), "--references", str(refs), "--out", str(out)]) == 0
    s = json.loads((out / "calibration.json").read_text())["structures"][0]
    assert s["id"] == "6KWC_1_model_1_ptm_unrelaxed" and s["scored_residues"] == len(ca)
    assert s["lddt_ca"] == pytest.approx(100 * struc.lddt(reference, ca.coord), abs=100 * TOL)
    assert s["mean_plddt"] == pytest.approx(float(np.mean(ca.b_factor.astype(np.float64))), abs=1e-4)


def test_calibrate_cli_fails_when_nothing_is_scored(tmp_path, capsys):
    write_shard(tmp_path / "one.h5", [("9XYZ_A", "GG", np.zeros((2, 3)), [50, 50])])
    refs = tmp_path / "refs"
    refs.mkdir()
    assert cli.main(["calibrate", "--predictions", str(tmp_path / "one.h5"), "--references", str(refs),
                     "--out", str(tmp_path / "out")]) == 2
    io = capsys.readouterr()
    assert "9XYZ_A: no reference 9xyz.cif" in io.out and "no prediction could be scored" in io.err
    assert not (tmp_path / "out").exists()


def test_a_structure_in_pdb_and_mmcif_counts_once(tmp_path, capsys):
    refs = tmp_path / "refs"
    refs.mkdir()
    st = gemmi.read_structure(str(PDB_6KWC))
    st.setup_entities()
    st.make_mmcif_document().write_file(str(refs / "6kwc.cif"))
    preds = tmp_path / "preds"
    preds.mkdir()
    (preds / "6KWC_1.pdb").write_bytes(PDB_6KWC.read_bytes())
    st.make_mmcif_document().write_file(str(preds / "6KWC_1.cif"))
    assert cli.main(["calibrate", "--predictions", str(preds), "--references", str(refs), "--out",
                     str(tmp_path / "out")]) == 0
    summary = json.loads((tmp_path / "out" / "calibration.json").read_text())
    assert summary["structures_scored"] == 1 and [s["id"] for s in summary["structures"]] == ["6KWC_1"]
    (skipped,) = summary["skipped"]
    assert skipped["id"] == "6KWC_1" and "was read already, from" in skipped["reason"]


def test_the_bundled_pairing_calibrates_exafold_predicts_output(tmp_path, capsys):
    """docs/calibration.md's recipe on the bundled data: exafold predict on the real 2Q2K chain A
    sequence (single-sequence, demo weights), then calibrate against the bundled 2q2k.cif."""
    from exafold.demo import demo_params_path, examples_dir

    ex = examples_dir() / "calibration"
    preds = tmp_path / "predictions"
    assert cli.main(["predict", "--fasta", str(ex / "2Q2K_A.fasta"), "--msa-mode", "single_sequence", "--model",
                     f"reduced_ptm={demo_params_path('reduced_ptm')}", "--out", str(preds), "--recycles", "0",
                     "--format", "pdb,mmcif"]) == 0
    out = tmp_path / "calibration"
    assert cli.main(["calibrate", "--predictions", str(preds), "--references", str(ex), "--out", str(out)]) == 0
    summary = json.loads((out / "calibration.json").read_text())
    # One query, written as PDB and mmCIF, scored once against chain A, every residue aligned.
    assert summary["structures_scored"] == 1
    (s,) = summary["structures"]
    assert (s["id"], s["chain"], s["residues"], s["identity"]) == ("2Q2K_A", "A", 70, 1.0)
    assert 0 <= s["lddt_ca"] <= 100
