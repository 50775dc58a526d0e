"""Checks of the AlphaFold2 reference fixtures produced by tests/reference.

The first run builds the reference environment from PyPI and generates every
case (several minutes on 2 cores); later runs reuse the cache. Deselect with
`-m "not reference"`.
"""
import ast
import importlib.util
import json
import pathlib

import exafold
import numpy as np
import pytest

pytestmark = pytest.mark.reference

REFERENCE = pathlib.Path(__file__).resolve().parents[1] / "reference"
_spec = importlib.util.spec_from_file_location("exafold_reference_fixtures", REFERENCE / "fixtures.py")
fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixtures)

PTM_CASES = ("reduced", "fullwidth2", "model_1_ptm_full")
# Tensors that a float32 run cannot reproduce bit for bit; a zero gap would mean
# the "fp64" run was not float64 (or the fp32 run not float32).
GAP_KEYS = ("representations/pair", "representations/msa_first_row", "representations/single",
            "structure_module/final_atom_positions", "distogram/logits", "plddt")


@pytest.fixture(scope="session", params=fixtures.CASES)
def case(request):
    return request.param, fixtures.fixture_dir(request.param)


def _meta(path):
    return json.loads((path / "meta.json").read_text())


def _official_shapes():
    """The 338 names and shapes of the released params_model_1_ptm.npz."""
    rows = (line.split("\t") for line in (REFERENCE / "af2_param_shapes_model_1_ptm.tsv").read_text().splitlines())
    return {name: tuple(ast.literal_eval(shape)) for name, shape in rows}


def test_full_model_params_match_the_official_layout():
    official = _official_shapes()
    assert len(official) == 338
    params = exafold.read_weights(fixtures.fixture_dir("model_1_ptm_full") / "params.npz")
    shapes = {k: v.shape for k, v in params.items()}
    dtypes = {v.dtype for v in params.values()}
    assert shapes == official
    assert dtypes == {np.dtype(np.float32)}
    assert sum(int(np.prod(s)) for s in shapes.values()) == 93_237_338


def test_no_parameter_array_is_all_zero(case):
    name, path = case
    params = exafold.read_weights(path / "params.npz")
    zero = [k for k, v in params.items() if not v.any()]
    assert zero == []


def test_fp64_outputs_and_prev_are_finite(case):
    name, path = case
    iterations = _meta(path)["layout"]["iterations"]
    for r in range(iterations):
        for kind in ("out64", "prev"):
            with np.load(path / f"iter{r}_{kind}.npz") as data:
                assert data.files
                for key in data.files:
                    assert data[key].dtype == np.float64, key
                    assert np.isfinite(data[key]).all(), f"iter{r}_{kind}: {key}"


def test_recorded_fp32_gaps_are_nonzero_and_finite(case):
    name, path = case
    meta = _meta(path)
    keys = GAP_KEYS + (("ptm", "predicted_aligned_error") if name in PTM_CASES else ())
    assert len(meta["fp32_vs_fp64"]) == meta["layout"]["iterations"]
    for iteration, gaps in meta["fp32_vs_fp64"].items():
        for key in keys:
            gap = gaps[key]["max_abs_diff"]
            assert np.isfinite(gap) and gap > 0, f"{iteration} {key}: {gap}"
        assert all(np.isfinite(g["max_abs_diff"]) for g in gaps.values())


def test_outputs_follow_the_preset(case):
    name, path = case
    with np.load(path / "iter0_out64.npz") as out:
        keys = set(out.files)
    has_pae = {"ptm", "predicted_aligned_error", "aligned_confidence_probs",
               "pae_matrix_with_logits/logits"} <= keys
    assert has_pae == (name in PTM_CASES)
    assert {"representations/msa", "representations/pair", "representations/single",
            "representations/msa_first_row", "representations/structure_module",
            "structure_module/final_atom_positions", "structure_module/final_atom_mask",
            "distogram/logits", "masked_msa/logits", "experimentally_resolved/logits",
            "predicted_lddt/logits", "plddt"} <= keys


def test_meta_records_seeds_alpha_and_pinned_versions(case):
    name, path = case
    meta = _meta(path)
    assert all(isinstance(meta["seeds"][k], int) for k in ("features", "params", "haiku_init_key"))
    assert 0 < meta["alpha"] <= 1
    pins = {}
    for line in (REFERENCE / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            package, version = line.split("==")
            pins[package.lower().replace("_", "-")] = version
    for package, version in meta["versions"].items():
        assert pins[package.lower().replace("_", "-")] == version, package


def test_reduced_features_cover_the_edge_cases():
    path = fixtures.fixture_dir("reduced")
    layout = _meta(path)["layout"]
    with np.load(path / "features.npz") as f:
        seq_mask, aatype, residue_index = f["seq_mask"][0], f["aatype"][0], f["residue_index"][0]
        msa_mask, extra_mask, msa_feat = f["msa_mask"], f["extra_msa_mask"], f["msa_feat"]
        template_mask = f["template_mask"]
    n_real = layout["n_res"]
    assert msa_feat.shape[0] == layout["iterations"] == 3
    assert seq_mask[:n_real].all() and not seq_mask[n_real:].any()
    assert (aatype[:n_real] == 7).any()  # glycine
    assert (np.diff(residue_index[:n_real]) > 1).any()
    assert not msa_mask[:, -1].any() and not extra_mask[:, -1].any()
    assert not template_mask.any()
    assert all(not np.array_equal(msa_feat[0], msa_feat[r]) for r in range(1, 3))


def test_reduced_module_fixtures_reproduce_the_full_model():
    path = fixtures.fixture_dir("reduced")
    modules = _meta(path)["modules"]
    assert max(modules["self_check_max_abs_fp64"].values()) <= 1e-8
    for file in modules["params"]:
        with np.load(path / file) as data:
            prefixes = {k.split("/")[0] for k in data.files}
            assert prefixes == {"input", "out64", "out32"}
            assert all(np.isfinite(data[k]).all() for k in data.files if k.startswith("out64/"))
