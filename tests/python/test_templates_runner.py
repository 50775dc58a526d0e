"""Templates in predictions: exafold.templates (the one path the runner, exafold predict and
Model.predict take) on the real short73 case, template presets with and without templates in a
distillation run, what the shards, sidecars and journal record, and bad input (a missing mmCIF
skipped with its reason in the journal, a malformed hits file failing its item with file:line,
an item with no usable template predicted without and saying so)."""
from __future__ import annotations

import json
import shutil

import exafold
import numpy as np
import pytest
import runner_doubles as d
import template_fixtures as T
from exafold import features as F
from exafold.commands.distill import msa_clusters_for
from exafold.demo import demo_arrays
from exafold.runner.job import run
from exafold.templates import MODEL_TEMPLATE_KEYS, TemplateInputs, variants

MMCIFS = T.SHORT73 / "mmcifs"
HITS = T.SHORT73 / "pdb70_hits.hhr"
EXAMPLE = T.DATA.parents[1] / "python" / "exafold" / "examples" / "alignments" / "short73"


def test_an_items_templates_are_the_featurisers_first_four_and_the_skips_say_why():
    found = TemplateInputs(MMCIFS).for_item(T.SHORT73_QUERY, HITS)
    r = F.template_features(T.SHORT73_QUERY, str(HITS), str(MMCIFS))
    names = [n.decode() for n in r.features["template_domain_names"][:4]]
    assert [n for n, _ in found.used] == names and found.count == 4
    assert [p for _, p in found.used] == pytest.approx(r.features["template_sum_probs"][:4, 0].tolist())
    p = F.process_template_features(r)
    assert sorted(found.features) == sorted(MODEL_TEMPLATE_KEYS)
    for k in MODEL_TEMPLATE_KEYS:
        np.testing.assert_array_equal(found.features[k], p[k])
    # 1hf9 is missing from the mirror: skipped, as AlphaFold2 skips it, with the reason.
    assert found.notes == tuple(f"template {h.name} skipped: {h.reason}" for h in r.hits
                                if h.status in ("warning", "error"))
    assert any(n.startswith("template 1hf9_B skipped: ") and "1hf9.cif not found" in n for n in found.notes)


def test_no_usable_template_runs_without_and_says_so(tmp_path):
    inputs = TemplateInputs(MMCIFS, max_template_date="1990-01-01")  # older than every entry
    found = inputs.for_item(T.SHORT73_QUERY, HITS)
    assert found.features == {} and found.used == ()
    assert found.notes[-1] == "no usable template among 10 hits: predicted without templates"
    missing = inputs.beside(T.SHORT73_QUERY, tmp_path)
    assert missing.count == 0 and "no template search result" in missing.notes[0] and str(tmp_path) in missing.notes[0]


def test_bad_template_settings_fail_at_once(tmp_path):
    with pytest.raises(ValueError, match="do not exist"):
        TemplateInputs(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="max_template_date must be YYYY-MM-DD"):
        TemplateInputs(MMCIFS, max_template_date="2021-13-01")
    with pytest.raises(ValueError, match="obsolete entries file"):
        TemplateInputs(MMCIFS, obsolete=tmp_path / "obsolete.dat")


def test_template_variants_follow_the_preset_and_the_mode():
    found = TemplateInputs(MMCIFS).for_item(T.SHORT73_QUERY, HITS)
    feats = {"aatype": np.zeros(73, np.int32)}
    assert [u for u, _ in variants(feats, found, "model_1_ptm", "on")] == [found]
    assert [u for u, _ in variants(feats, found, "model_1_ptm", "both")] == [found, None]
    assert [u for u, _ in variants(feats, found, "model_3_ptm", "both")] == [None]  # no template stack
    assert [u for u, _ in variants(feats, found, "model_1_ptm", "off")] == [None]
    with_them, bare = (f for _, f in variants(feats, found, "model_2", "both"))
    assert set(with_them) == {"aatype", *MODEL_TEMPLATE_KEYS} and set(bare) == {"aatype"}


def test_template_presets_sample_508_cluster_centres():
    assert exafold._core.preset_config("model_1_ptm")["sampled_msa_clusters"] == 508
    assert exafold._core.preset_config("model_2")["sampled_msa_clusters"] == 508
    assert exafold._core.preset_config("model_3_ptm")["sampled_msa_clusters"] == 512
    assert msa_clusters_for(["model_3_ptm"], None) == 512
    assert msa_clusters_for(["model_1_ptm", "model_3_ptm"], None) == 508
    assert msa_clusters_for(["model_1_ptm"], 100) == 100


def template_predict(preset: str, gain: float):
    """A double whose pLDDT moves by `gain` when the features carry templates, which it checks
    are well formed."""
    base = d.make_predict(preset)

    def predict(features):
        out = base(features)
        if "template_mask" in features:
            n = features["aatype"].size
            t = features["template_mask"].shape[0]
            assert features["template_aatype"].shape == (t, n)
            assert features["template_angle_feat"].shape == (t, n, 57)
            out["plddt"] = np.clip(out["plddt"] + gain, 0, 100).astype(np.float32)
            out["mean_plddt"] = float(out["plddt"].mean(dtype=np.float64))
        return out

    return predict


def short73_inputs(tmp_path):
    """Three items with the short73 sequence: its hits beside its alignments; a malformed hits
    file; no hits file."""
    fasta = tmp_path / "in.fasta"
    msas = tmp_path / "msas"
    fasta.write_text("".join(f">{i}\n{T.SHORT73_QUERY}\n" for i in ("good", "bad_hits", "no_hits")))
    for i in ("good", "bad_hits", "no_hits"):
        (msas / i).mkdir(parents=True)
        shutil.copy(EXAMPLE / "bfd_uniclust_hits.a3m", msas / i)
    shutil.copy(HITS, msas / "good")
    text = HITS.read_text().replace("Sum_probs=11.0", "Sum_probs=1l.0")
    (msas / "bad_hits" / "pdb70_hits.hhr").write_text(text)
    line = text.splitlines().index(next(x for x in text.splitlines() if "Sum_probs=1l.0" in x)) + 1
    return fasta, msas, f"{msas / 'bad_hits' / 'pdb70_hits.hhr'}:{line}"


@pytest.mark.parametrize("gain", [5.0, -5.0])
def test_distill_with_and_without_templates_keeps_the_better_and_records_both(tmp_path, gain):
    fasta, msas, bad_line = short73_inputs(tmp_path)
    cfg = d.config(tmp_path / "out", fasta, msas, templates="both", template_structures=MMCIFS)
    run(cfg, d.prepare, {"model_1_ptm": template_predict("model_1_ptm", gain)})
    out = cfg.out_dir
    index = json.loads((out / "index.json").read_text())
    assert sorted(index["structures"]) == ["good", "no_hits"]
    assert index["failed"]["bad_hits"].startswith(f"features: {bad_line}: 'Sum_probs=' is not a number")

    rows = {r["id"]: r for p in out.glob("shard-*.json") for r in json.loads(p.read_text())["rows"]}
    good = rows["good"]
    assert set(good["candidates"]) == {"model_1_ptm", "model_1_ptm+templates"}
    assert good["candidates"]["model_1_ptm+templates"] - good["candidates"]["model_1_ptm"] == pytest.approx(gain, abs=0.5)
    expected = TemplateInputs(MMCIFS).for_item(T.SHORT73_QUERY, HITS).used
    kept = [(t["name"], t["sum_probs"]) for t in good["templates"]]
    assert kept == (list(expected) if gain > 0 else [])  # sum_probs: float32 values, exact in JSON
    assert rows["no_hits"]["candidates"].keys() == {"model_1_ptm"} and rows["no_hits"]["templates"] == []

    shard = exafold.read_shard(str(out / index["structures"]["good"]["shard"]))
    i = shard["index"]["good"]
    a, b = shard["template_offsets"][i : i + 2]
    assert shard["template_name"][a:b] == ([n for n, _ in expected] if gain > 0 else [])
    np.testing.assert_allclose(shard["template_sum_probs"][a:b], [p for _, p in expected] if gain > 0 else [])

    warnings = exafold.read_journal(str(out / "journal-r00000.jsonl"))["warnings"]
    reasons = {w["id"]: [] for w in warnings}
    for w in warnings:
        reasons[w["id"]].append(w["reason"])
    assert any(r.startswith("template 1hf9_B skipped: ") for r in reasons["good"])
    assert reasons["no_hits"][0].startswith("no template search result") and "predicted without templates" in reasons["no_hits"][0]
    assert "bad_hits" not in reasons


def test_distill_with_templates_on_predicts_template_presets_once_with_them(tmp_path):
    fasta, msas, _ = short73_inputs(tmp_path)
    cfg = d.config(tmp_path / "out", fasta, msas, templates="on", template_structures=MMCIFS,
                   presets=("model_1_ptm", "model_3_ptm"))
    run(cfg, d.prepare, {p: template_predict(p, 0.0) for p in ("model_1_ptm", "model_3_ptm")})
    rows = {r["id"]: r for p in cfg.out_dir.glob("shard-*.json") for r in json.loads(p.read_text())["rows"]}
    assert set(rows["good"]["candidates"]) == {"model_1_ptm+templates", "model_3_ptm"}
    assert set(rows["no_hits"]["candidates"]) == {"model_1_ptm", "model_3_ptm"}
    # Templates change what a structure is: they enter the configuration hash.
    assert cfg.config_hash() != d.config(tmp_path / "o2", fasta, msas, presets=("model_1_ptm", "model_3_ptm")).config_hash()
    assert "templates" not in d.config(tmp_path / "o2", fasta, msas).canonical()


def test_templates_need_a_template_preset_and_structures(tmp_path):
    fasta, msas, _ = short73_inputs(tmp_path)
    with pytest.raises(ValueError, match="need a template preset"):
        d.config(tmp_path / "out", fasta, msas, templates="on", template_structures=MMCIFS,
                 presets=("model_3_ptm",)).template_inputs()
    with pytest.raises(ValueError, match="--template-mmcif-dir"):
        d.config(tmp_path / "out", fasta, msas, templates="on").template_inputs()


def test_model_predict_takes_templates(tmp_path):
    """The reduced template preset with demo weights on short73: the templates beside the
    alignments reach the model (the prediction differs from the one without) and are recorded."""
    msa = tmp_path / "short73"
    shutil.copytree(EXAMPLE, msa)
    shutil.copy(HITS, msa)
    model = exafold.Model.from_arrays(demo_arrays("reduced_ptm"), "reduced_ptm")
    assert model.config["templates"]
    inputs = TemplateInputs(MMCIFS)
    with_them = model.predict(T.SHORT73_QUERY, msa, recycles=0, templates=inputs, progress=False)
    bare = model.predict(T.SHORT73_QUERY, msa, recycles=0, progress=False)
    expected = inputs.for_item(T.SHORT73_QUERY, HITS)
    assert with_them.templates == expected.used and with_them.template_notes == expected.notes
    assert bare.templates == () and not np.array_equal(with_them.atom_positions, bare.atom_positions)
    explicit = model.predict(T.SHORT73_QUERY, msa, recycles=0, templates=inputs, template_hits=HITS, progress=False)
    np.testing.assert_array_equal(explicit.atom_positions, with_them.atom_positions)
    with pytest.raises(ValueError, match="template_hits"):
        model.predict(T.SHORT73_QUERY, [str(msa / "bfd_uniclust_hits.a3m")], recycles=0, templates=inputs,
                      progress=False)


def test_shards_record_templates_and_layout_1_reads_as_without(tmp_path):
    import h5py

    n = 6
    args = (np.zeros(n, np.uint8), np.arange(1, n + 1, dtype=np.int32), np.zeros((n, 37, 3), np.float32),
            np.ones((n, 37), np.uint8), np.full(n, 80, np.float32))
    path = tmp_path / "s.h5"
    with exafold.ShardWriter(str(path)) as w:
        w.append("a", "A" * n, *args, model="model_1_ptm", seed=1, runtime_seconds=1, flops=1,
                 templates=["2crb_A", "4zey_A"], template_sum_probs=np.array([11.0, 10.5], np.float32))
        w.append("b", "A" * n, *args, model="model_1_ptm", seed=2, runtime_seconds=1, flops=1)
        with pytest.raises(ValueError, match="2 templates but 1 sum_probs"):
            w.append("c", "A" * n, *args, model="model_1_ptm", seed=3, runtime_seconds=1, flops=1,
                     templates=["2crb_A", "4zey_A"], template_sum_probs=np.array([11.0], np.float32))
    s = exafold.read_shard(str(path))
    np.testing.assert_array_equal(s["template_offsets"], [0, 2, 2])
    assert s["template_name"] == ["2crb_A", "4zey_A"]
    np.testing.assert_array_equal(s["template_sum_probs"], np.array([11.0, 10.5], np.float32))
    assert exafold.Prediction.from_shard(s, "a").templates == (("2crb_A", 11.0), ("4zey_A", 10.5))
    with h5py.File(path, "r+") as f:  # a shard as version 1 wrote it
        for name in ("template_offsets", "template_name", "template_sum_probs"):
            del f[name]
        f.attrs["layout_version"] = np.int32(1)
    s = exafold.read_shard(str(path))
    assert s["layout_version"] == 1 and s["template_name"] == []
    np.testing.assert_array_equal(s["template_offsets"], [0, 0, 0])
    assert exafold.Prediction.from_shard(s, "b").templates == ()


def test_exafold_predict_takes_templates(tmp_path, capsys):
    from exafold.cli import main
    from exafold.demo import demo_params_path

    msa = tmp_path / "short73"
    shutil.copytree(EXAMPLE, msa)
    shutil.copy(HITS, msa)
    fasta = tmp_path / "q.fasta"
    fasta.write_text(f">short73\n{T.SHORT73_QUERY}\n")
    args = ["predict", "--fasta", str(fasta), "--alignments", str(tmp_path), "--recycles", "0",
            "--max-extra-msa", "16", "--model", f"reduced_ptm={demo_params_path('reduced_ptm')}",
            "--out", str(tmp_path / "out")]
    assert main(args + ["--templates", "both", "--template-mmcif-dir", str(MMCIFS)]) == 0
    out = capsys.readouterr().out
    assert "short73: template 1hf9_B skipped: " in out
    assert main(args + ["--templates", "--template-mmcif-dir", str(MMCIFS)]) == 0
    used = " ".join(n for n, _ in TemplateInputs(MMCIFS).for_item(T.SHORT73_QUERY, HITS).used)
    assert capsys.readouterr().out.splitlines()[-1].endswith(f"templates {used}")
    assert main(args + ["--templates"]) == 2
    assert "--template-mmcif-dir" in capsys.readouterr().err
    assert main(args + ["--templates", "--template-mmcif-dir", str(MMCIFS), "--max-template-date", "2021-1-1"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
