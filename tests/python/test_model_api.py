"""The model's Python surface: atom maps, in-memory parameters, demo weights, cost by preset."""

import pathlib
import sys

import numpy as np
import pytest

import exafold
from exafold.demo import demo_arrays, demo_params_path

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "reference"))
import fixtures  # noqa: E402


@pytest.mark.reference
def test_atom_maps_match_the_reference_features():
    # The harness built these with AlphaFold2's residue_constants, independently of exafold;
    # padded residues (seq_mask 0) it leaves zero, so only real ones are compared.
    feats = np.load(pathlib.Path(fixtures.fixture_dir("reduced")) / "features.npz")
    real = feats["seq_mask"][0] > 0
    maps = exafold._core.atom_maps(np.ascontiguousarray(feats["aatype"][0]))
    for name in ("residx_atom37_to_atom14", "atom37_atom_exists", "atom14_atom_exists"):
        np.testing.assert_array_equal(maps[name][real], feats[name][0][real])
    with pytest.raises(ValueError, match="outside 0..20"):
        exafold._core.atom_maps(np.array([0, 21], dtype=np.int32))


def test_demo_weights_fit_the_preset_and_are_deterministic():
    a, b = demo_arrays("reduced_ptm"), demo_arrays("reduced_ptm")
    assert a.keys() == b.keys()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert dict(exafold.model.param_spec("reduced_ptm")).keys() == a.keys()
    model = exafold.Model.from_arrays(a, "reduced_ptm")
    assert model.num_parameters == sum(v.size for v in a.values())
    assert exafold.Model.load(demo_params_path("reduced_ptm"), "reduced_ptm").num_parameters == model.num_parameters


def test_from_arrays_validates_like_a_file():
    a = demo_arrays("reduced_ptm")
    a.pop("alphafold/alphafold_iteration/distogram_head/half_logits//bias")
    with pytest.raises(ValueError, match="missing alphafold/alphafold_iteration/distogram_head/half_logits//bias"):
        exafold.Model.from_arrays(a, "reduced_ptm")
    with pytest.raises(ValueError, match="unknown model preset 'model_9'"):
        exafold.Model.from_arrays(a, "model_9")
    with pytest.raises(ValueError, match="unknown model setting 'layers'"):
        exafold.Model.from_arrays(a, "reduced_ptm", overrides={"layers": 3})


def test_api_arguments_fail_with_messages_that_name_them(tmp_path):
    path = demo_params_path("reduced_ptm")
    # dtype as the numpy type works; anything else is named, not a raw binding error.
    assert exafold.Model.load(path, "reduced_ptm", dtype=np.float64).dtype == "float64"
    for bad in ("int8", np.int32, "half", None):
        with pytest.raises(ValueError, match=r"dtype must be float32 or float64 \(a name or the numpy type\), got"):
            exafold.Model.load(path, "reduced_ptm", dtype=bad)
    model = exafold.Model.load(path, "reduced_ptm")
    for bad in (-1, 2**64, 1.5, "0"):
        with pytest.raises(ValueError, match=r"seed must be an integer from 0 to 2\*\*64 - 1, got"):
            model.predict("MKTAYIAKQR", seed=bad, recycles=0)
    # A directory is named for what it is.
    with pytest.raises(OSError, match=f"{tmp_path} is a directory, not an .npz file"):
        exafold.Model.load(tmp_path, "reduced_ptm")
    with pytest.raises(OSError, match=f"{tmp_path} is a directory, not an .npz file"):
        exafold.read_weights(tmp_path, "reduced_ptm")


def test_settings_come_from_the_preset():
    assert exafold.Model.load(demo_params_path("reduced_ptm"), "reduced_ptm").settings().describe() == \
        "2 recycles, 16 MSA clusters, 32 extra MSA rows"
    model = exafold.Model.from_arrays(demo_arrays("model_2_ptm"), "model_2_ptm")
    s = model.settings(recycles=1)
    assert (s.recycles, s.max_msa_clusters, s.max_extra_msa) == (1, 512, 1024)
    with pytest.raises(ValueError, match="recycles must be >= 0, got -1"):
        model.settings(recycles=-1)


def test_cost_follows_the_preset():
    official = exafold.flop_polynomial(msa_clusters=128, extra_msa_rows=512, templates=0, passes=2, ptm=True)
    assert exafold._core.preset_flop_polynomial("model_1_ptm", msa_clusters=128, extra_msa_rows=512, passes=2) == official
    reduced = exafold._core.preset_flop_polynomial("reduced_ptm", msa_clusters=128, extra_msa_rows=512, passes=2)
    assert 0 < reduced[1] < official[1] / 10


def test_demo_job_end_to_end(tmp_path, capsys):
    from exafold.cli import main

    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.count("DEMO WEIGHTS: random parameters") == 4  # the demo's lines, and the summary's
    assert "structures       2" in text
    shards = sorted(out.rglob("*.h5"))
    assert shards
    data = exafold.read_shard(str(shards[0]))
    assert set(data["id"]) <= {"6KWC_1", "short73"} and set(data["index"]) == set(data["id"])
    assert (out / "DEMO_WEIGHTS.txt").exists()
    assert len(list(out.rglob("*.pdb"))) == 2
    # Every output the demo weights touch says so: shards, summary, structure files.
    label = exafold.demo.DEMO_LABEL
    assert data["weights_label"] == f"reduced_ptm: {label}"
    summary = __import__("json").loads((out / "summary.json").read_text())
    assert summary["weights_labels"] == {"reduced_ptm": label}
    assert f"*** reduced_ptm: {label} ***" in (out / "summary.txt").read_text()
    for f in list(out.rglob("*.pdb")) + list(out.rglob("*.cif")):
        assert "DEMO WEIGHTS" in f.read_text(), f


def tiny_features(n=6, s=3, e=4, seed=0):
    rng = np.random.default_rng(seed)
    aatype = rng.integers(0, 20, n).astype(np.int32)
    feats = {
        "aatype": aatype,
        "residue_index": np.arange(n, dtype=np.int32),
        "seq_mask": np.ones(n, np.float32),
        "target_feat": np.concatenate([np.zeros((n, 1)), np.eye(21)[aatype]], axis=1).astype(np.float32),
        "msa_feat": (rng.random((s, n, 49)) < 0.1).astype(np.float32),
        "msa_mask": np.ones((s, n), np.float32),
        "extra_msa": rng.integers(0, 22, (e, n)).astype(np.int32),
        "extra_msa_mask": np.ones((e, n), np.float32),
        "extra_has_deletion": np.zeros((e, n), np.float32),
        "extra_deletion_value": np.zeros((e, n), np.float32),
    }
    feats.update(exafold._core.atom_maps(aatype))
    return feats


@pytest.mark.parametrize("preset", [p for p in exafold.presets() if not p.startswith("reduced")])
def test_every_official_preset_loads_and_runs(preset):
    model = exafold.Model.from_arrays(demo_arrays(preset), preset)
    assert model.num_parameters == sum(int(np.prod(s)) for _, s in exafold.model.param_spec(preset))
    out = model(tiny_features(), num_recycle=0)
    assert out["final_atom_positions"].shape == (6, 37, 3)
    assert np.isfinite(out["final_atom_positions"]).all() and np.isfinite(out["plddt"]).all()
    assert ("ptm" in out) == preset.endswith("_ptm")


def _small_features(n=6, s=3, e=4, seed=0):
    rng = np.random.default_rng(seed)
    aatype = rng.integers(0, 20, n).astype(np.int32)
    f = {"aatype": aatype, "residue_index": np.arange(n, dtype=np.int32), "seq_mask": np.ones(n, np.float32),
         "target_feat": np.eye(22, dtype=np.float32)[aatype + 1],
         "msa_feat": rng.random((s, n, 49), dtype=np.float32), "msa_mask": np.ones((s, n), np.float32),
         "extra_msa": rng.integers(0, 22, (e, n)).astype(np.int32), "extra_msa_mask": np.ones((e, n), np.float32),
         "extra_has_deletion": np.zeros((e, n), np.float32), "extra_deletion_value": np.zeros((e, n), np.float32)}
    f.update(exafold._core.atom_maps(aatype))
    t = 2
    templates = {"template_aatype": rng.integers(0, 22, (t, n)).astype(np.int32),
                 "template_all_atom_positions": rng.normal(0, 8, (t, n, 37, 3)).astype(np.float32),
                 "template_all_atom_masks": np.ones((t, n, 37), np.float32),
                 "template_mask": np.ones(t, np.float32),
                 "template_angle_feat": rng.random((t, n, 57), dtype=np.float32),
                 "template_angle_mask": np.ones((t, n), np.float32)}
    return f, templates


def test_templates_are_optional_inputs_of_the_template_presets():
    model = exafold.Model.from_arrays(demo_arrays("reduced_ptm"), "reduced_ptm", "float64")
    f, t = _small_features()
    bare = model.run_iteration(f)
    with_templates = model.run_iteration({**f, **t})
    assert np.abs(with_templates["pair"] - bare["pair"]).max() > 1e-3
    assert with_templates["msa"].shape == bare["msa"].shape  # the S cluster rows
    # A leading iteration axis that repeats the templates is the same input.
    repeated = {k: np.stack([v, v]) for k, v in t.items()}
    out = model({**f, **t}, num_recycle=1)
    np.testing.assert_array_equal(model({**f, **repeated}, num_recycle=1)["pair"], out["pair"])
    # Only padding templates (template_mask 0): zero-template inference.
    padding = {**t, "template_mask": np.zeros(2, np.float32)}
    np.testing.assert_array_equal(model.run_iteration({**f, **padding})["pair"], bare["pair"])


def test_bad_template_inputs_are_value_errors():
    model = exafold.Model.from_arrays(demo_arrays("reduced_ptm"), "reduced_ptm")
    f, t = _small_features()
    with pytest.raises(ValueError, match="template features are missing template_angle_feat"):
        model.run_iteration({**f, **{k: v for k, v in t.items() if k != "template_angle_feat"}})
    with pytest.raises(ValueError, match="without template_mask"):
        model.run_iteration({**f, **{k: v for k, v in t.items() if k != "template_mask"}})
    changing = {**t, "template_aatype": np.stack([t["template_aatype"], t["template_aatype"][::-1]])}
    with pytest.raises(ValueError, match="template_aatype differs between recycling iterations"):
        model({**f, **changing}, num_recycle=1)
    with pytest.raises(ValueError, match="template_angle_feat has shape"):
        model.run_iteration({**f, **t, "template_angle_feat": t["template_angle_feat"][..., :50]})


def test_precision_is_the_compute_dtype_and_the_cpu_refuses_bfloat16():
    """``precision`` reaches the engine: float32 is the parameters' own run to the bit, and
    bfloat16 on the cpu fails naming the dtype (the cpu backend has no bfloat16 arithmetic;
    --precision auto picks it on GPUs only)."""
    arrays = demo_arrays("reduced_ptm")
    f = tiny_features()
    plain = exafold.Model.from_arrays(arrays, "reduced_ptm")(f, num_recycle=0)
    as32 = exafold.Model.from_arrays(arrays, "reduced_ptm", precision="float32")(f, num_recycle=0)
    assert np.array_equal(plain["final_atom_positions"], as32["final_atom_positions"])
    with pytest.raises(Exception, match="bfloat16"):
        exafold.Model.from_arrays(arrays, "reduced_ptm", precision="bfloat16")(f, num_recycle=0)
