"""``Model.predict`` and ``Prediction``: the API result is the engine's result on exafold's own
features, written files carry its arrays, plots draw its numbers, the 3D view colours residues by
its pLDDT bands, progress bars and Ctrl-C behave, and shard round trips keep the structure."""

import io
import os
import signal
import threading
from contextlib import redirect_stderr

import gemmi
import matplotlib
import numpy as np
import pytest

import exafold
from exafold.cli import main
from exafold.demo import demo_params_path, examples_dir
from exafold.features import build_raw_features, read_fasta, structure_seed
from exafold.model import model_features
from exafold.prediction import PLDDT_BANDS
from exafold.runner.inputs import Item, find_alignments

matplotlib.use("Agg")

# Small MSA sizes keep each prediction well under a second on a CPU.
SIZES = dict(recycles=1, max_msa_clusters=8, max_extra_msa=16)


@pytest.fixture(scope="module")
def model():
    return exafold.Model.load(demo_params_path("reduced_ptm"), "reduced_ptm")


@pytest.fixture(scope="module")
def query():
    record = next(r for r in read_fasta(str(examples_dir() / "sequences.fasta")) if r.description.startswith("short73"))
    return record, examples_dir() / "alignments" / "short73"


@pytest.fixture(scope="module")
def prediction(model, query):
    record, msas = query
    return model.predict(record, msas, seed=7, **SIZES)


def test_predict_is_the_model_on_the_feature_pipelines_features(model, query, prediction):
    record, msas = query
    seed = structure_seed("short73", 7)
    files = find_alignments(Item("short73", record.sequence, "", ()), msas.parent)
    feats = model_features(build_raw_features(record.sequence, [str(p) for p in files]), seed,
                           num_recycle=1, max_clusters=8, max_extra=16)
    out = model(feats, num_recycle=1)
    p = prediction
    assert (p.id, p.sequence, p.preset, p.seed) == ("short73", record.sequence, "reduced_ptm", seed)
    # Same inputs, same engine, same thread count: bit-identical.
    np.testing.assert_array_equal(p.atom_positions, out["final_atom_positions"])
    np.testing.assert_array_equal(p.plddt, out["plddt"])
    np.testing.assert_array_equal(p.pae, out["predicted_aligned_error"])
    np.testing.assert_array_equal(p.distogram_logits, out["distogram_logits"])
    assert p.ptm == out["ptm"] and p.mean_plddt == out["mean_plddt"]
    assert p.atom_positions.shape == (73, 37, 3) and p.atom_mask.shape == (73, 37)
    assert p.mean_plddt == pytest.approx(np.mean(p.plddt, dtype=np.float64), abs=1e-4)
    assert p.residue_index.tolist() == list(range(1, 74))


def test_distogram_is_a_distribution_over_the_bins(prediction):
    d = prediction.distogram
    assert d.shape == (73, 73, 64)
    np.testing.assert_allclose(d.sum(-1), 1.0, atol=1e-12)
    z = prediction.distogram_logits[3, 5].astype(np.float64)
    np.testing.assert_allclose(d[3, 5], np.exp(z) / np.exp(z).sum(), rtol=1e-10)


def test_seed_and_id_choose_the_draws_as_the_cli_does(model, query, prediction, tmp_path):
    record, msas = query
    again = model.predict(record, msas, seed=7, **SIZES)
    np.testing.assert_array_equal(again.atom_positions, prediction.atom_positions)
    other = model.predict(record, msas, seed=8, **SIZES)
    assert not np.array_equal(other.atom_positions, prediction.atom_positions)
    # `exafold predict` with the same id, seed and sizes writes the same file.
    fasta = tmp_path / "q.fasta"
    fasta.write_text(f">{record.description}\n{record.sequence}\n")
    assert main(["predict", "--fasta", str(fasta), "--alignments", str(examples_dir() / "alignments"),
                 "--model", f"reduced_ptm={demo_params_path('reduced_ptm')}", "--out", str(tmp_path),
                 "--seed", "7", "--recycles", "1", "--max-msa-clusters", "8", "--max-extra-msa", "16"]) == 0
    assert (tmp_path / "short73.pdb").read_text() == prediction.to_pdb()


def test_msa_objects_single_path_and_no_msa(model, query, prediction):
    record, msa_dir = query
    from exafold.features import read_msa

    files = find_alignments(Item("short73", record.sequence, "", ()), msa_dir.parent)
    objects = [read_msa(str(p), max_rows=exafold.features.af2_hit_limit(str(p))) for p in files]
    same = model.predict(record, objects, seed=7, **SIZES)
    np.testing.assert_array_equal(same.atom_positions, prediction.atom_positions)
    listed = model.predict(record, files, seed=7, **SIZES)
    np.testing.assert_array_equal(listed.atom_positions, prediction.atom_positions)
    single = model.predict(record.sequence, files[0], id="short73", seed=7, **SIZES)
    assert single.id == "short73" and len(single) == 73
    alone = model.predict("MKTAYIAKQR", recycles=0)
    assert alone.id == "query" and alone.atom_positions.shape == (10, 37, 3)


def test_pdb_and_mmcif_carry_the_arrays(prediction, tmp_path):
    p = prediction
    for text, path in ((p.to_pdb(tmp_path / "x.pdb"), tmp_path / "x.pdb"),
                       (p.to_mmcif(tmp_path / "x.cif"), tmp_path / "x.cif")):
        assert path.read_text() == text
        chain = gemmi.read_structure(str(path))[0][0]
        assert gemmi.one_letter_code([r.name for r in chain]) == p.sequence
        for i, residue in enumerate(chain):
            ca = residue["CA"][0]
            # Files hold 3 decimals of coordinates and 2 of B-factors.
            np.testing.assert_allclose(ca.pos.tolist(), p.atom_positions[i, 1], atol=6e-4)
            assert ca.b_iso == pytest.approx(p.plddt[i], abs=6e-3)
            assert len(residue) == int(p.atom_mask[i].sum())


def test_plots_draw_the_predictions_numbers(prediction):
    ax = prediction.plot_plddt()
    x, y = ax.lines[0].get_data()
    np.testing.assert_array_equal(x, prediction.residue_index)
    np.testing.assert_array_equal(y, prediction.plddt)
    assert ax.get_ylim() == (0, 100)
    ax = prediction.plot_pae()
    np.testing.assert_array_equal(ax.images[0].get_array(), prediction.pae)
    import matplotlib.pyplot as plt

    plt.close("all")


def test_no_pae_without_a_ptm_head(tmp_path):
    m = exafold.Model.load(demo_params_path("reduced"), "reduced")
    p = m.predict("MKTAYIAKQRQISFVKSHFSRQ", recycles=0)
    assert p.pae is None and p.ptm is None
    with pytest.raises(ValueError, match="no PAE"):
        p.plot_pae()


def test_view_colours_residues_by_plddt_band(prediction):
    js = prediction.view().startjs
    assert prediction.to_pdb().splitlines()[1] in js.replace("\\n", "\n")
    for low, high, colour, _ in PLDDT_BANDS:
        in_band = [int(r) for r, v in zip(prediction.residue_index, prediction.plddt)
                   if low <= v < high or (high == 100.0 and v == 100.0)]
        if in_band:
            assert f'setStyle({{"resi": {in_band}}},{{"cartoon": {{"color": "{colour}"}}}})' in js


def test_progress_bar_counts_features_and_iterations(model):
    err = io.StringIO()
    with redirect_stderr(err):
        model.predict("MKTAYIAKQR", recycles=2, progress=True)
    assert "4/4" in err.getvalue() and "query" in err.getvalue()
    quiet = io.StringIO()
    with redirect_stderr(quiet):  # not a terminal: no bar unless asked for
        model.predict("MKTAYIAKQR", recycles=2)
    assert quiet.getvalue() == ""


def test_iteration_callback_sees_every_iteration_and_can_stop_the_run(model):
    feats = model_features(build_raw_features("MKTAYIAKQRQISFVKSHFSRQ"), 1, num_recycle=3, max_clusters=4, max_extra=4)
    seen = []
    model(feats, num_recycle=3, on_iteration=seen.append)
    assert seen == [0, 1, 2, 3]

    def stop(r):
        if r == 1:
            raise KeyboardInterrupt

    seen.clear()
    with pytest.raises(KeyboardInterrupt):
        model(feats, num_recycle=3, on_iteration=lambda r: (seen.append(r), stop(r)))
    assert seen == [0, 1]


def test_ctrl_c_stops_between_iterations(model):
    feats = model_features(build_raw_features("MKTAYIAKQRQISFVKSHFSRQ" * 3), 1, num_recycle=0, max_clusters=8, max_extra=8)
    seen = []
    # The signal goes out once the first iteration is done (however long a loaded machine takes
    # for it), 0.3 s before the next few hundred would be: it lands mid-run.
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))

    def iteration_done(r):
        seen.append(r)
        if r == 0:
            timer.start()

    try:
        with pytest.raises(KeyboardInterrupt):
            model(feats, num_recycle=2000, on_iteration=iteration_done)
    finally:
        timer.cancel()
    assert 0 < len(seen) < 2001


def test_shard_round_trip(prediction, tmp_path):
    p = prediction
    path = tmp_path / "s.h5"
    with exafold.ShardWriter(str(path), pae="float32") as w:
        w.append(p.id, p.sequence, exafold.residues.aatype_of(p.sequence), p.residue_index, p.atom_positions,
                 p.atom_mask, p.plddt, model=p.preset, seed=p.seed, runtime_seconds=1.5, flops=2.0,
                 ptm=p.ptm, pae=p.pae)
    q = exafold.Prediction.from_shard(path, "short73")
    np.testing.assert_array_equal(q.atom_positions, p.atom_positions)
    np.testing.assert_array_equal(q.plddt, p.plddt)
    np.testing.assert_array_equal(q.pae, p.pae)
    assert (q.sequence, q.preset, q.seed, q.seconds) == (p.sequence, p.preset, p.seed, 1.5)
    assert q.ptm == pytest.approx(p.ptm, rel=1e-7) and q.distogram_logits is None
    assert q.to_pdb() == p.to_pdb()
    with pytest.raises(KeyError, match="not in the shard"):
        exafold.Prediction.from_shard(exafold.read_shard(str(path)), "nope")
    with pytest.raises(ValueError, match="no distogram"):
        q.distogram
