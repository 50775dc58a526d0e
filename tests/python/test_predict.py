"""``exafold predict`` on the bundled short73 example with demo weights: files written and readable,
pLDDT in the B-factors, deterministic for a seed, clear errors on bad inputs."""

import gemmi
import numpy as np
import pytest
from exafold.cli import main
from exafold.demo import demo_params_path, examples_dir

# Small MSA sizes and no recycling keep each prediction to a few seconds on a CPU.
FAST = ["--recycles", "0", "--max-msa-clusters", "8", "--max-extra-msa", "16"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("inputs")
    text = (examples_dir() / "sequences.fasta").read_text()
    record = text[text.index(">short73"):]
    (d / "q.fasta").write_text(record)
    return d / "q.fasta", examples_dir() / "alignments", demo_params_path("reduced_ptm")


def predict(inputs, out, *extra):
    fasta, alignments, params = inputs
    return main(["predict", "--fasta", str(fasta), "--alignments", str(alignments),
                 "--model", f"reduced_ptm={params}", "--out", str(out), *FAST, *extra])


def bfactors(path):
    st = gemmi.read_structure(str(path))
    return st, [(r.seqid.num, a.b_iso) for r in st[0][0] for a in r]


def test_writes_pdb_and_mmcif_with_plddt_in_bfactors(inputs, tmp_path, capsys):
    assert predict(inputs, tmp_path, "--format", "pdb,mmcif", "--seed", "3") == 0
    line = capsys.readouterr().out.splitlines()[-1].split()
    assert line[:3] == ["short73", "73", "reduced_ptm"]
    mean_plddt, ptm = float(line[3]), float(line[4])
    assert 0 <= mean_plddt <= 100 and 0 <= ptm <= 1
    for name in ("short73.pdb", "short73.cif"):
        st, b = bfactors(tmp_path / name)
        assert len(st[0][0]) == 73
        per_residue = {}
        for num, value in b:
            per_residue.setdefault(num, set()).add(round(value, 2))
        # One B-factor per residue (its pLDDT), and their mean is the reported mean pLDDT.
        assert all(len(v) == 1 for v in per_residue.values())
        assert np.mean([v.pop() for v in per_residue.values()]) == pytest.approx(mean_plddt, abs=0.02)


def test_bfactors_equal_the_models_plddt(inputs, tmp_path):
    from exafold.features import build_raw_features
    from exafold.model import Model, model_features
    from exafold.runner.inputs import find_alignments, read_fasta, structure_seed

    assert predict(inputs, tmp_path, "--seed", "5") == 0
    fasta, alignments, params = inputs
    item = read_fasta(fasta, max_length=1000).items[0]
    raw = build_raw_features(item.sequence, [str(p) for p in find_alignments(item, alignments)])
    feats = model_features(raw, structure_seed(item.id, 5), num_recycle=0, max_clusters=8, max_extra=16)
    plddt = Model.load(str(params), "reduced_ptm")(feats, num_recycle=0)["plddt"]
    _, b = bfactors(tmp_path / "short73.pdb")
    got = {num: value for num, value in b}
    np.testing.assert_allclose([got[i + 1] for i in range(73)], plddt, atol=0.006)


def test_deterministic_for_a_seed(inputs, tmp_path):
    assert predict(inputs, tmp_path / "a", "--seed", "1") == 0
    assert predict(inputs, tmp_path / "b", "--seed", "1") == 0
    assert (tmp_path / "a" / "short73.pdb").read_text() == (tmp_path / "b" / "short73.pdb").read_text()


def test_missing_alignment_is_a_clear_error(inputs, tmp_path, capsys):
    fasta, _, params = inputs
    empty = tmp_path / "msas"
    empty.mkdir()
    assert main(["predict", "--fasta", str(fasta), "--alignments", str(empty), "--model",
                 f"reduced_ptm={params}", "--out", str(tmp_path / "o"), *FAST]) == 2
    err = capsys.readouterr().err
    assert f"{fasta}:1 (short73)" in err and "no alignment files" in err and str(empty / "short73") in err
    assert not (tmp_path / "o").exists()
    assert main(["predict", "--fasta", str(fasta), "--a3m", str(tmp_path / "nope.a3m"), "--model",
                 f"reduced_ptm={params}", "--out", str(tmp_path / "o")]) == 2
    assert "nope.a3m does not exist" in capsys.readouterr().err


def test_bad_record_names_file_and_line(inputs, tmp_path, capsys):
    _, alignments, params = inputs
    bad = tmp_path / "bad.fasta"
    bad.write_text(">ok\nMKV\n>broken\nMK1V\n")
    assert main(["predict", "--fasta", str(bad), "--alignments", str(alignments), "--model",
                 f"reduced_ptm={params}", "--out", str(tmp_path / "o")]) == 2
    assert f"{bad}:3:" in capsys.readouterr().err


def test_a3m_with_the_wrong_query_names_the_record(inputs, tmp_path, capsys):
    fasta, _, params = inputs
    a3m = tmp_path / "other.a3m"
    a3m.write_text(">query\nMKVLAAGIV\n")
    assert main(["predict", "--fasta", str(fasta), "--a3m", str(a3m), "--model",
                 f"reduced_ptm={params}", "--out", str(tmp_path / "o"), *FAST]) == 2
    err = capsys.readouterr().err
    assert "short73" in err and "other.a3m" in err


def test_max_length_refuses_a_long_sequence_before_loading_a_model(inputs, tmp_path, capsys):
    assert predict(inputs, tmp_path / "o", "--max-length", "50") == 2
    fasta = inputs[0]
    assert f"exafold predict: error: {fasta}:1: length 73 exceeds the maximum 50" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_model_memory_refuses_an_item_that_cannot_fit_with_the_numbers(inputs, tmp_path, capsys):
    """The memory model is asked before each model runs: a budget no chunk size fits refuses the
    item up front, saying how much it would need, instead of running out of memory midway."""
    assert predict(inputs, tmp_path / "o", "--model-memory", "0.0001") == 2
    err = capsys.readouterr().err
    fasta = inputs[0]
    assert f"exafold predict: error: {fasta}:1 (short73): reduced_ptm cannot predict 73 residues within " \
           "--model-memory 0.0001 GiB" in err, err
    # The smallest peak any chunk size reaches, from the engine's memory model.
    from exafold.memory_model import predict_peak_bytes

    floor = predict_peak_bytes("reduced_ptm", 73, 8, 16, chunk_size=1, iterations=1)
    assert f"needs at least {floor / 2**20:.2f} MiB ({floor} bytes)" in err, err
    assert not list((tmp_path / "o").glob("*.pdb"))
    assert predict(inputs, tmp_path / "p", "--model-memory", "none") == 0
    assert (tmp_path / "p" / "short73.pdb").exists()
