"""One prediction path: Model.predict, ``exafold predict`` and ``exafold distill`` give the same
structure, to the last bit, for the same id, seed and settings, and all take their default
settings from the preset (they once differed: the API took the preset's MSA depths, the
commands 512/1024/3, and the same id and seed gave structures 1.21 A apart)."""

import json

import exafold
import numpy as np
import pytest
from exafold import features
from exafold.cli import main
from exafold.demo import demo_params_path, examples_dir
from exafold.inference import Settings


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    d = tmp_path_factory.mktemp("example")
    text = (examples_dir() / "sequences.fasta").read_text()
    (d / "q.fasta").write_text(text[text.index(">short73"):])
    return d / "q.fasta", examples_dir() / "alignments" / "short73", demo_params_path("reduced_ptm")


@pytest.mark.parametrize("settings", [[], ["--recycles", "1", "--max-msa-clusters", "8", "--max-extra-msa", "12"]],
                         ids=["preset defaults", "given settings"])
def test_the_api_predict_and_distill_agree_to_the_last_bit(example, tmp_path, settings, capsys):
    fasta, alignments, params = example
    given = {"recycles": 1, "max_msa_clusters": 8, "max_extra_msa": 12} if settings else {}
    expected = Settings.for_preset("reduced_ptm", **given)
    seed = 11

    model = exafold.Model.load(str(params), "reduced_ptm")
    record = features.read_fasta(str(fasta))[0]
    api = model.predict(record, msa=alignments, seed=seed, progress=False, **given)
    assert api.settings == expected

    common = ["--fasta", str(fasta), "--alignments", str(alignments.parent), "--model", f"reduced_ptm={params}",
              "--seed", str(seed), "--model-memory", "none", *settings]
    assert main(["predict", *common, "--out", str(tmp_path / "p"), "--format", "pdb,mmcif"]) == 0
    assert f"  reduced_ptm: {expected.describe()}" in capsys.readouterr().out
    assert main(["distill", *common, "--out", str(tmp_path / "d"), "--pdb", "--mmcif", "--filter-min-plddt", "0",
                 "--progress", "log"]) == 0
    assert f"  reduced_ptm: {expected.describe()}" in capsys.readouterr().out

    # distill's shard keeps the exact arrays: they are the API's, bit for bit.
    index = json.loads((tmp_path / "d" / "index.json").read_text())["structures"]["short73"]
    shard = exafold.Prediction.from_shard(tmp_path / "d" / index["shard"], "short73")
    assert shard.seed == api.seed == features.structure_seed("short73", seed)
    for name in ("atom_positions", "atom_mask", "plddt"):
        np.testing.assert_array_equal(getattr(shard, name), getattr(api, name), err_msg=name)
    # The scores distill records are the model's (the shard's own mean_plddt column is its mean of
    # the stored pLDDT, rounded once to float32; pTM is stored as float32).
    assert index["mean_plddt"] == api.mean_plddt and index["ptm"] == api.ptm
    assert np.float32(shard.ptm) == np.float32(api.ptm)
    # exafold predict's files and distill's are the API's, byte for byte (remarks included: the
    # same model, seeds, settings, weights and scores).
    stem = f"short73/short73_unrelaxed_rank_001_reduced_ptm_seed_{seed:03d}"
    assert (tmp_path / "p" / f"{stem}.pdb").read_text() == (tmp_path / "d" / "structures" / "short73.pdb").read_text() \
        == api.to_pdb()
    assert (tmp_path / "p" / f"{stem}.cif").read_text() == (tmp_path / "d" / "structures" / "short73.cif").read_text() \
        == api.to_mmcif()
    scores = json.loads((tmp_path / "p" / "short73" / f"short73_scores_rank_001_reduced_ptm_seed_{seed:03d}.json"
                         ).read_text())
    assert scores == {**api.scores(), "rank": 1}
    assert scores["settings"] == expected.as_dict()


def test_with_templates_the_three_paths_agree_to_the_last_bit(example, tmp_path, capsys):
    """Templates travel the one path too: the same templates, the 508-cluster rule of the run
    settings (here the reduced preset's 16 less its 4 template rows) and the same structure."""
    import shutil

    import template_fixtures as T
    from exafold.templates import TemplateInputs

    fasta, alignments, params = example
    msas = tmp_path / "msas"
    shutil.copytree(alignments, msas / "short73")
    shutil.copy(T.SHORT73 / "pdb70_hits.hhr", msas / "short73")
    mmcifs = T.SHORT73 / "mmcifs"
    seed = 5
    expected = Settings.for_preset("reduced_ptm", recycles=0, templates=True)
    assert expected.max_msa_clusters == Settings.for_preset("reduced_ptm").max_msa_clusters - 4

    model = exafold.Model.load(str(params), "reduced_ptm")
    api = model.predict(features.read_fasta(str(fasta))[0], msa=msas / "short73", seed=seed, recycles=0,
                        templates=TemplateInputs(mmcifs), progress=False)
    assert api.settings == expected and len(api.templates) == 4

    common = ["--fasta", str(fasta), "--alignments", str(msas), "--model", f"reduced_ptm={params}",
              "--seed", str(seed), "--recycles", "0", "--model-memory", "none", "--templates",
              "--template-mmcif-dir", str(mmcifs)]
    assert main(["predict", *common, "--out", str(tmp_path / "p")]) == 0
    assert f"  reduced_ptm: {expected.describe()}" in capsys.readouterr().out
    assert main(["distill", *common, "--out", str(tmp_path / "d"), "--pdb", "--filter-min-plddt", "0",
                 "--progress", "log"]) == 0

    index = json.loads((tmp_path / "d" / "index.json").read_text())["structures"]["short73"]
    shard = exafold.Prediction.from_shard(tmp_path / "d" / index["shard"], "short73")
    assert shard.templates == api.templates
    for name in ("atom_positions", "atom_mask", "plddt"):
        np.testing.assert_array_equal(getattr(shard, name), getattr(api, name), err_msg=name)
    stem = f"short73/short73_unrelaxed_rank_001_reduced_ptm+templates_seed_{seed:03d}"
    assert (tmp_path / "p" / f"{stem}.pdb").read_text() == (tmp_path / "d" / "structures" / "short73.pdb").read_text() \
        == api.to_pdb()
    scores = json.loads((tmp_path / "p" / "short73" / f"short73_scores_rank_001_reduced_ptm+templates_seed_{seed:03d}.json"
                         ).read_text())
    assert scores == {**api.scores(), "rank": 1}


def test_length_buckets_pad_the_prediction_and_crop_it_back(example):
    """The API path with length buckets on the cpu (off there by default): 73 residues run as
    80 and come back as 73, the same structure to float32 rounding (the engine's float64 test,
    LengthBuckets.PaddedPredictionMatchesUnpaddedOnRealResidues, holds it to 1e-11)."""
    fasta, alignments, params = example
    model = exafold.Model.load(str(params), "reduced_ptm")
    record = features.read_fasta(str(fasta))[0]
    given = {"recycles": 1, "max_msa_clusters": 8, "max_extra_msa": 12}
    plain = model.predict(record, msa=alignments, seed=3, progress=False, **given)
    padded = model.predict(record, msa=alignments, seed=3, progress=False, length_buckets=True, **given)
    assert padded.atom_positions.shape == plain.atom_positions.shape == (73, 37, 3)
    np.testing.assert_array_equal(padded.atom_mask, plain.atom_mask)
    # float32 sums over residues in another order: a few ulps per op, carried through 2
    # iterations of the reduced trunk (measured: 1.1e-5 Angstrom, 4.2e-5 pLDDT). A padded
    # residue left unmasked moves atoms by Angstroms and pLDDT by tenths (the engine's test).
    np.testing.assert_allclose(padded.atom_positions, plain.atom_positions, rtol=0, atol=1e-3)
    np.testing.assert_allclose(padded.plddt, plain.plddt, rtol=0, atol=5e-3)
