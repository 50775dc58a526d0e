"""The template path against the AlphaFold2 reference, on real (unmasked) templates.

The fixture (tests/reference/templates_model.py, cached under ~/.cache/exafold/fixtures) runs the
reference's model_1_ptm at reduced widths on two templates with ideal-residue atoms on random
backbones: one template missing backbone atoms, a residue neither covers, a padded residue tail,
3 recycling iterations. exafold is fed exactly the torsion features of the template rows the
reference computed inside its network (template_angle_feat, template_angle_mask), so this tests
the model; the feature pipeline's torsions are tested against the same reference function
elsewhere.

Tolerances, as tests/python/test_model_parity.py: float64 within 1e-6 of the compared tensor's
largest value (at least 1) against the reference's float64 run, which is platform-independent
to 1e-9 (AF2-REFERENCE 7b), so more is a difference in the math; float32 within 3x the
reference's own float32-vs-float64 gap on the same tensor (recorded by the harness) plus 16
float32 ulps of the tensor's scale, since exafold's float32 summation order differs from XLA's.
Only real residues and unmasked MSA rows are compared.
"""

from __future__ import annotations

import json
import pathlib
import subprocess

import numpy as np
import pytest

import exafold
import test_model_parity as parity
from exafold import _core

pytestmark = pytest.mark.reference

M = _core._modules
REFERENCE = pathlib.Path(__file__).resolve().parents[1] / "reference"
RTOL64 = 1e-6
K32 = 3.0
FLOOR32 = 16 * float(np.finfo(np.float32).eps)
ITERATIONS = 3


@pytest.fixture(scope="module")
def case():
    result = subprocess.run([parity.fixtures.reference_python(), str(REFERENCE / "templates_model.py")],
                            check=True, stdout=subprocess.PIPE, text=True, cwd=REFERENCE)
    d = pathlib.Path(result.stdout.strip().splitlines()[-1])
    meta = json.loads((d / "meta.json").read_text())
    return d, meta, dict(np.load(d / "features.npz"))


@pytest.fixture(scope="module")
def model64(case):
    d, meta, _ = case
    return exafold.Model.load(d / "params.npz", meta["preset"], "float64")


def load(d, name):
    return dict(np.load(d / name))


def tol64(mine, theirs, scale):
    return RTOL64 * max(scale, 1.0)


def tol32_of(meta, r):
    gaps = meta["fp32_vs_fp64"][f"iter{r}"]
    return lambda mine, theirs, scale: K32 * gaps[theirs]["max_abs_diff"] + FLOOR32 * max(scale, 1.0)


def test_the_fixture_exercises_the_template_path(case):
    d, meta, feats = case
    assert feats["template_mask"].shape == (ITERATIONS, 2) and feats["template_mask"].all()
    real = feats["seq_mask"][0] > 0
    masks = feats["template_all_atom_masks"][0]
    uncovered = meta["templates"]["uncovered_residue"]
    assert real[uncovered] and not masks[:, uncovered].any()
    backbone = masks[..., :3].prod(-1)  # N, CA, C
    assert (backbone[1][real] == 0).sum() > (backbone[0][real] == 0).sum() >= 1
    assert 0 < feats["template_angle_mask"][0][:, real].mean() < 1
    out = load(d, "iter0_out64.npz")
    # The templates move the pair by O(1) and their rows carry O(1) activations.
    assert np.abs(out["templates/embedding"][np.ix_(real, real)]).max() > 0.1
    assert np.abs(out["templates/rows"][:, real]).max() > 0.1
    assert meta["template_dgram_edge_margin_angstrom"] >= 1e-3


def module_outputs(params, feats, r, query):
    f = {k: v[r] for k, v in feats.items()}
    return M.template_embedding(params, f, query)


def compare_modules(ours, ref, feats, tol):
    seq = feats["seq_mask"][0] > 0
    pairs = seq[:, None] & seq[None, :]
    for mine, theirs, mask in (("update", "templates/embedding", pairs), ("rows", "templates/rows", seq)):
        a, b = np.asarray(ours[mine], np.float64), np.asarray(ref[theirs], np.float64)
        assert a.shape == b.shape, (mine, a.shape, b.shape)
        a, b = (a[mask], b[mask]) if mine == "update" else (a[:, mask], b[:, mask])
        diff, scale = float(np.abs(a - b).max()), float(np.abs(b).max())
        assert diff <= tol(mine, theirs, scale), f"{mine} differs by {diff:.3g} (scale {scale:.3g})"


@pytest.mark.parametrize("r", range(ITERATIONS))
def test_float64_template_embedding_and_rows(case, r):
    d, meta, feats = case
    params = M.load_params(str(d / "params.npz"), meta["preset"], "float64")
    ref = load(d, f"iter{r}_out64.npz")
    ours = module_outputs(params, feats, r, ref["templates/query"])
    np.testing.assert_array_equal(ours["row_mask"], feats["template_angle_mask"][r])
    compare_modules(ours, ref, feats, tol64)


def test_float32_template_embedding_and_rows_within_reference_noise(case):
    d, meta, feats = case
    params = M.load_params(str(d / "params.npz"), meta["preset"], "float32")
    for r in range(ITERATIONS):
        ref = load(d, f"iter{r}_out64.npz")
        ours = module_outputs(params, feats, r, ref["templates/query"])
        compare_modules(ours, ref, feats, tol32_of(meta, r))


def test_float64_every_iteration_teacher_forced(case, model64):
    d, meta, feats = case
    for r in range(ITERATIONS):
        prev = load(d, f"iter{r}_prev.npz")
        ref = load(d, f"iter{r}_out64.npz")
        out = model64.run_iteration(parity.features_at(feats, r), prev)
        assert out["msa"].shape[0] == feats["msa_feat"].shape[1]  # the S clusters, not S + T
        parity.compare(out, ref, feats, r, tol64, {**parity.COMPARED, **parity.COMPARED_PTM})


def test_float64_free_running_recycling_matches_the_last_iteration(case, model64):
    d, meta, feats = case
    out = model64(feats, num_recycle=ITERATIONS - 1)
    ref = load(d, f"iter{ITERATIONS - 1}_out64.npz")
    parity.compare(out, ref, feats, ITERATIONS - 1, tol64, {**parity.COMPARED, **parity.COMPARED_PTM})


def test_float32_every_iteration_within_the_reference_float32_noise(case):
    d, meta, feats = case
    model = exafold.Model.load(d / "params.npz", meta["preset"], "float32")
    for r in range(ITERATIONS):
        prev = {k: v.astype(np.float32) for k, v in load(d, f"iter{r}_prev.npz").items()}
        ref = load(d, f"iter{r}_out64.npz")
        out = model.run_iteration(parity.features_at(feats, r), prev)
        parity.compare(out, ref, feats, r, tol32_of(meta, r), {**parity.COMPARED, **parity.COMPARED_PTM})


def test_without_templates_the_prediction_differs(case, model64):
    d, meta, feats = case
    bare = {k: v for k, v in feats.items() if not k.startswith("template_")}
    out = model64.run_iteration(parity.features_at(bare, 0), load(d, "iter0_prev.npz"))
    with pytest.raises(AssertionError):
        parity.compare(out, load(d, "iter0_out64.npz"), feats, 0, tol64, parity.COMPARED)


@pytest.mark.parametrize("name", [
    "template_embedding/single_template_embedding/embedding2d//weights",
    "template_embedding/single_template_embedding/template_pair_stack/__layer_stack_no_state/"
    "triangle_attention_ending_node//feat_2d_weights",
    "template_embedding/attention//key_w",
    "template_single_embedding//weights",
])
def test_a_perturbed_template_parameter_is_caught(case, tmp_path, name):
    # A 1e-3 relative change of one template parameter array moves the pair by 1e-5..1e-4 of its
    # scale (measured), 10-100x the float64 bound; exafold's float64 run is within 2e-15 of it.
    d, meta, feats = case
    params = load(d, "params.npz")
    key = f"alphafold/alphafold_iteration/evoformer/{name}"
    params[key] = params[key] * np.float32(1 + 1e-3)
    np.savez(tmp_path / "perturbed.npz", **params)
    model = exafold.Model.load(tmp_path / "perturbed.npz", meta["preset"], "float64")
    out = model.run_iteration(parity.features_at(feats, 0), load(d, "iter0_prev.npz"))
    with pytest.raises(AssertionError):
        parity.compare(out, load(d, "iter0_out64.npz"), feats, 0, tol64, parity.COMPARED)
