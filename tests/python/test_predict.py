"""``exafold predict`` as colabfold_batch and run_alphafold.py users expect it: every model's
structure with every seed, ranked, with scores, PAE, ranking and timings files; safe file names;
ColabFold's A3M inputs; single-sequence mode; keep-going with the failure count in the exit
status; demo weights labelled. On the bundled short73 example with demo weights."""

import json

import gemmi
import numpy as np
import pytest
from exafold.cli import main
from exafold.demo import DEMO_LABEL, demo_params_path, examples_dir

# Small MSA sizes and no recycling keep each prediction to a second or two on a CPU.
FAST = ["--recycles", "0", "--max-msa-clusters", "8", "--max-extra-msa", "16"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("inputs")
    text = (examples_dir() / "sequences.fasta").read_text()
    record = text[text.index(">short73"):]
    (d / "q.fasta").write_text(record)
    return d / "q.fasta", examples_dir() / "alignments", demo_params_path("reduced_ptm")


@pytest.fixture(scope="module")
def query():
    text = (examples_dir() / "sequences.fasta").read_text()
    return text[text.index(">short73"):].split("\n", 1)[1].replace("\n", "")


def predict(inputs, out, *extra):
    fasta, alignments, params = inputs
    return main(["predict", "--fasta", str(fasta), "--alignments", str(alignments),
                 "--model", f"reduced_ptm={params}", "--out", str(out), *FAST, *extra])


def bfactors(path):
    st = gemmi.read_structure(str(path))
    return st, [(r.seqid.num, a.b_iso) for r in st[0][0] for a in r]


def test_every_model_and_seed_is_written_ranked_with_its_scores(inputs, tmp_path, capsys):
    assert predict(inputs, tmp_path, "--model", f"reduced={demo_params_path('reduced')}", "--num-seeds", "2",
                   "--seed", "3", "--format", "pdb,mmcif") == 0
    out = capsys.readouterr().out
    d = tmp_path / "short73"
    ranking = json.loads((d / "short73_ranking.json").read_text())
    assert len(ranking["order"]) == 4  # two models, two seeds
    plddts = [ranking["plddts"][o] for o in ranking["order"]]
    assert plddts == sorted(plddts, reverse=True)  # ranked by mean pLDDT, as AlphaFold2 ranks monomers
    seen = set()
    for rank, stem in enumerate(ranking["order"], 1):
        model, seed = stem.split("_rank_")[1][4:].rsplit("_seed_", 1)
        seen.add((model, int(seed)))
        assert stem == f"short73_unrelaxed_rank_{rank:03d}_{model}_seed_{seed}"
        tail = stem.split("_unrelaxed_")[1]
        scores = json.loads((d / f"short73_scores_{tail}.json").read_text())
        assert (scores["id"], scores["model"], scores["seed"], scores["rank"]) == ("short73", model, int(seed), rank)
        assert len(scores["plddt"]) == 73
        assert scores["mean_plddt"] == pytest.approx(np.mean(scores["plddt"]), abs=0.01)
        assert scores["mean_plddt"] == pytest.approx(ranking["plddts"][stem], abs=1e-4)
        assert scores["settings"] == {"recycles": 0, "max_msa_clusters": 8, "max_extra_msa": 16}
        for suffix in (".pdb", ".cif"):
            st, b = bfactors(d / f"{stem}{suffix}")
            per_residue = dict(b)
            # pLDDT in the B-factor column, one value per residue, as in the scores.
            np.testing.assert_allclose([per_residue[i + 1] for i in range(73)], scores["plddt"], atol=0.006)
        pae_file = d / f"short73_predicted_aligned_error_{tail}.json"
        if model == "reduced_ptm":
            assert 0 <= scores["ptm"] <= 1 and scores["max_pae"] == 31.75
            pae = json.loads(pae_file.read_text())  # the AlphaFold Database's layout
            assert list(pae[0]) == ["predicted_aligned_error", "max_predicted_aligned_error"]
            assert np.asarray(pae[0]["predicted_aligned_error"]).shape == (73, 73)
            assert pae[0]["max_predicted_aligned_error"] == 31.75
        else:
            assert scores["ptm"] is None and scores["max_pae"] is None and not pae_file.exists()
        assert f"{rank:>4} {model:<14} {int(seed):>4} {scores['mean_plddt']:>6.2f}" in out
    assert seen == {("reduced_ptm", 3), ("reduced_ptm", 4), ("reduced", 3), ("reduced", 4)}
    timings = json.loads((d / "short73_timings.json").read_text())
    assert timings["features"] > 0
    assert sorted(k for k in timings if k.startswith("predict_")) == sorted(
        f"predict_{m}_seed_{s:03d}" for m, s in seen)
    assert json.loads((tmp_path / "ids.json").read_text())["short73"]["id"] == "short73"
    # The settings were printed first, each model's.
    assert out.splitlines()[:3] == ["settings: seeds 3-4", "  reduced_ptm: 0 recycles, 8 MSA clusters, 16 extra MSA rows",
                                    "  reduced: 0 recycles, 8 MSA clusters, 16 extra MSA rows"]


def test_settings_default_to_the_preset(inputs, tmp_path, capsys):
    fasta, alignments, params = inputs
    assert main(["predict", "--fasta", str(fasta), "--alignments", str(alignments), "--model",
                 f"reduced_ptm={params}", "--out", str(tmp_path)]) == 0
    assert "  reduced_ptm: 2 recycles, 16 MSA clusters, 32 extra MSA rows" in capsys.readouterr().out
    scores = json.loads(next((tmp_path / "short73").glob("*_scores_rank_001_*.json")).read_text())
    assert scores["settings"] == {"recycles": 2, "max_msa_clusters": 16, "max_extra_msa": 32}


def test_deterministic_for_a_seed(inputs, tmp_path):
    assert predict(inputs, tmp_path / "a", "--seed", "1") == 0
    assert predict(inputs, tmp_path / "b", "--seed", "1") == 0
    name = "short73/short73_unrelaxed_rank_001_reduced_ptm_seed_001.pdb"
    assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()


def test_demo_weights_are_labelled_in_every_file_and_warned_about(inputs, tmp_path, capsys):
    assert predict(inputs, tmp_path, "--format", "pdb,mmcif") == 0
    assert f"exafold predict: warning: reduced_ptm: {DEMO_LABEL}" in capsys.readouterr().err
    d = tmp_path / "short73"
    pdb = (d / "short73_unrelaxed_rank_001_reduced_ptm_seed_000.pdb").read_text()
    assert "REMARK 250 " + DEMO_LABEL[:50] in pdb
    assert DEMO_LABEL in gemmi.cif.read(str(d / "short73_unrelaxed_rank_001_reduced_ptm_seed_000.cif")
                                        ).sole_block().find_value("_struct.pdbx_model_details")
    assert json.loads((d / "short73_scores_rank_001_reduced_ptm_seed_000.json").read_text())["weights_label"] == DEMO_LABEL


def test_file_names_are_safe_for_any_header_and_the_ids_are_recorded(query, tmp_path):
    fasta = tmp_path / "uniprot.fasta"
    fasta.write_text(f">sp|P02640|VILI_CHICK Villin-1\n{query}\n>sp_P02640_VILI_CHICK\n{query}\n")
    assert main(["predict", "--fasta", str(fasta), "--msa-mode", "single_sequence", "--model",
                 f"reduced_ptm={demo_params_path('reduced_ptm')}", "--out", str(tmp_path / "o"), *FAST]) == 0
    ids = json.loads((tmp_path / "o" / "ids.json").read_text())
    # Two ids with one safe name get distinct directories, and each is recorded.
    assert {k: v["id"] for k, v in ids.items()} == {"sp_P02640_VILI_CHICK": "sp|P02640|VILI_CHICK",
                                                    "sp_P02640_VILI_CHICK_2": "sp_P02640_VILI_CHICK"}
    for name in ids:
        files = [p.name for p in (tmp_path / "o" / name).iterdir()]
        assert f"{name}_unrelaxed_rank_001_reduced_ptm_seed_000.pdb" in files
        assert all("|" not in f for f in files)


def test_a_bad_item_fails_alone_and_the_exit_status_counts_the_failures(inputs, query, tmp_path, capsys):
    fasta = tmp_path / "mixed.fasta"
    fasta.write_text(f">short73\n{query}\n>digits\nMK1V\n>no_msa\n{query}\n>complex\n{query}:{query}\n"
                     f">long\n{'A' * 120}\n")
    _, alignments, params = inputs
    args = ["predict", "--fasta", str(fasta), "--alignments", str(alignments), "--model",
            f"reduced_ptm={params}", *FAST, "--max-length", "100"]
    assert main([*args, "--out", str(tmp_path / "o")]) == 100 + 4
    err = capsys.readouterr().err
    assert f"{fasta}:3 (digits): line 4: unexpected '1' at column 3 in the sequence of 'digits'" in err
    assert f"{fasta}:5 (no_msa): no alignment files" in err
    assert f"{fasta}:7 (complex): multimer is not supported" in err
    assert f"{fasta}:9 (long): length 120 exceeds the maximum 100" in err
    assert "1 item(s) written" in err and "4 failed" in err
    # Only the item that finished has a directory: no empty ones.
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["ids.json", "short73"]
    # --no-keep-going stops at the first, before any model runs, and writes nothing.
    assert main([*args, "--out", str(tmp_path / "p"), "--no-keep-going"]) == 2
    assert f"exafold predict: error: {fasta}:3 (digits): line 4: unexpected '1'" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_every_item_failing_leaves_no_output_directory(inputs, tmp_path, capsys):
    assert predict(inputs, tmp_path / "o", "--max-length", "50") == 101
    assert f"{inputs[0]}:1 (short73): length 73 exceeds the maximum 50" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_colabfold_a3m_files_with_and_without_a_fasta(inputs, query, tmp_path, capsys):
    """ColabFold's A3M: the '#lengths cardinalities' line, the '>101' query header, and
    colabfold_search's NUL-separated file of several queries; a directory of .a3m files with no
    FASTA runs as colabfold_batch runs it (each file a query named by its stem)."""
    bfd = (examples_dir() / "alignments" / "short73" / "bfd_uniclust_hits.a3m").read_text()
    hits = bfd.split("\n>", 1)[1]
    colabfold = f"#73\t1\n>101\n{query}\n>{hits}"
    other = "MKTAYIAKQRQISFVKSHFSRQ"
    d = tmp_path / "msas"
    d.mkdir()
    (d / "one.a3m").write_text(colabfold)
    (d / "many.a3m").write_bytes(colabfold.encode() + b"\0" + f"#22\t1\n>101\n{other}\n".encode() + b"\0")
    params = demo_params_path("reduced_ptm")
    assert main(["predict", "--a3m", str(d), "--model", f"reduced_ptm={params}", "--out", str(tmp_path / "o"),
                 *FAST]) == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir() if p.is_dir()) == ["many_0", "many_1", "one"]
    ids = json.loads((tmp_path / "o" / "ids.json").read_text())
    assert ids["many_1"]["source"] == f"{d / 'many.a3m'} (alignment 1)"
    # With a FASTA, each query takes the alignments that start with it, from any file.
    fasta = tmp_path / "q.fasta"
    fasta.write_text(f">short73\n{query}\n>other\n{other}\n")
    assert main(["predict", "--fasta", str(fasta), "--a3m", str(d / "many.a3m"), "--model", f"reduced_ptm={params}",
                 "--out", str(tmp_path / "f"), *FAST]) == 0
    # The same alignment from a ColabFold file and from the example's own file: the same structure.
    assert main(["predict", "--fasta", str(inputs[0]), "--a3m", str(d / "one.a3m"), "--model",
                 f"reduced_ptm={params}", "--out", str(tmp_path / "g"), *FAST]) == 0
    assert main(["predict", "--fasta", str(inputs[0]), "--a3m",
                 str(examples_dir() / "alignments" / "short73" / "bfd_uniclust_hits.a3m"), "--model",
                 f"reduced_ptm={params}", "--out", str(tmp_path / "h"), *FAST]) == 0
    name = "short73/short73_unrelaxed_rank_001_reduced_ptm_seed_000.pdb"
    assert (tmp_path / "g" / name).read_text() == (tmp_path / "h" / name).read_text()
    # An alignment that starts with no query fails that query, naming the files.
    fasta.write_text(">stranger\nMKVLAAGIV\n")
    capsys.readouterr()
    assert main(["predict", "--fasta", str(fasta), "--a3m", str(d / "one.a3m"), "--model", f"reduced_ptm={params}",
                 "--out", str(tmp_path / "x"), *FAST]) == 101
    assert "(stranger): no --a3m alignment starts with this query" in capsys.readouterr().err


def test_single_sequence_mode_needs_no_alignment(query, tmp_path, capsys):
    fasta = tmp_path / "q.fasta"
    fasta.write_text(f">q\n{query.lower()}\n")  # lower case, as the API takes it too
    params = demo_params_path("reduced_ptm")
    assert main(["predict", "--fasta", str(fasta), "--msa-mode", "single_sequence", "--model",
                 f"reduced_ptm={params}", "--out", str(tmp_path / "o"), *FAST]) == 0
    assert "MSA mode single_sequence" in capsys.readouterr().out
    assert (tmp_path / "o" / "q" / "q_unrelaxed_rank_001_reduced_ptm_seed_000.pdb").exists()
    # Without alignments and without the mode, the command says what to give.
    assert main(["predict", "--fasta", str(fasta), "--model", f"reduced_ptm={params}", "--out",
                 str(tmp_path / "p")]) == 2
    assert "--msa-mode single_sequence" in capsys.readouterr().err


def test_residue_rules_are_the_apis(query, tmp_path, capsys):
    """The CLI and Model.predict share one residue rule: X is refused with the same message and
    the way to allow it, and --residues unknown / residues="unknown" allow it as X."""
    import exafold

    fasta = tmp_path / "x.fasta"
    fasta.write_text(f">x\n{query[:20]}X{query[21:]}\n")
    params = demo_params_path("reduced_ptm")
    argv = ["predict", "--fasta", str(fasta), "--msa-mode", "single_sequence", "--model", f"reduced_ptm={params}",
            *FAST]
    assert main([*argv, "--out", str(tmp_path / "o")]) == 101
    cli_message = capsys.readouterr().err.split("(x): ")[1].splitlines()[0]
    assert cli_message.startswith("residue 'X' at position 21 is not allowed") and "--residues unknown" in cli_message
    model = exafold.Model.load(str(params), "reduced_ptm")
    with pytest.raises(ValueError) as e:
        model.predict(f"{query[:20]}X{query[21:]}", recycles=0, max_msa_clusters=8, max_extra_msa=16)
    assert str(e.value) == cli_message
    assert main([*argv, "--out", str(tmp_path / "p"), "--residues", "unknown"]) == 0
    p = model.predict(f"{query[:20]}x{query[21:]}", id="x", residues="unknown", recycles=0, max_msa_clusters=8,
                      max_extra_msa=16, progress=False)
    assert p.sequence[20] == "X"
    assert (tmp_path / "p" / "x" / "x_unrelaxed_rank_001_reduced_ptm_seed_000.pdb").read_text() == p.to_pdb()


def test_model_memory_refuses_an_item_that_cannot_fit_with_the_numbers(inputs, tmp_path, capsys):
    """The memory model is asked before each model runs: a budget no chunk size fits fails the
    item up front, saying how much it would need, instead of running out of memory midway."""
    assert predict(inputs, tmp_path / "o", "--model-memory", "0.0001") == 101
    err = capsys.readouterr().err
    fasta = inputs[0]
    assert f"exafold predict: failed: {fasta}:1 (short73): prediction with reduced_ptm failed: reduced_ptm cannot " \
           "predict 73 residues within --model-memory 0.0001 GiB" in err, err
    # The smallest peak any chunk size reaches, from the engine's memory model.
    from exafold.memory_model import predict_peak_bytes

    floor = predict_peak_bytes("reduced_ptm", 73, 8, 16, chunk_size=1, iterations=1)
    assert f"needs at least {floor / 2**20:.2f} MiB ({floor} bytes)" in err, err
    assert not (tmp_path / "o").exists()
    assert predict(inputs, tmp_path / "p", "--model-memory", "none") == 0


def test_inputs_that_do_not_exist_are_errors_before_any_model_loads(inputs, tmp_path, capsys):
    fasta, _, params = inputs
    assert main(["predict", "--fasta", str(fasta), "--a3m", str(tmp_path / "nope.a3m"), "--model",
                 f"reduced_ptm={params}", "--out", str(tmp_path / "o")]) == 2
    assert "nope.a3m does not exist" in capsys.readouterr().err
    assert main(["predict", "--fasta", str(fasta), "--msa-mode", "single_sequence", "--model",
                 f"model_1_ptm={params}", "--out", str(tmp_path / "o")]) == 2
    assert "The file has the layout of preset 'reduced_ptm'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
