"""The whole model against the AlphaFold2 reference on the harness fixtures (tests/reference).

The contract is float64 against the reference's float64 run: every compared tensor within 1e-6
of the reference's largest value (the reference is deterministic and platform-independent in
float64 to 1e-9, AF2-REFERENCE 7b, so anything larger is a difference in the math). Each
recycling iteration is compared teacher-forced (exafold is given the reference's recycled inputs,
since recycled distances are binned with hard thresholds), and the whole recycling loop once
free-running. float32 is held to 3x the reference's own float32-vs-float64 gap for the same
tensor (recorded by the harness) plus 16 float32 ulps of the tensor's scale, since exafold's
float32 summation order differs from XLA's. Only real residues and unmasked MSA rows are
compared: padded positions carry meaningless values in both engines.
"""

from __future__ import annotations

import json
import pathlib
import sys

import numpy as np
import pytest

import exafold

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "reference"))
import fixtures  # noqa: E402

pytestmark = pytest.mark.reference

# Output name in exafold -> name in the reference's saved outputs.
COMPARED = {
    "final_atom_positions": "structure_module/final_atom_positions",
    "plddt": "plddt",
    "mean_plddt": "mean_plddt",
    "distogram_logits": "distogram/logits",
    "masked_msa_logits": "masked_msa/logits",
    "experimentally_resolved_logits": "experimentally_resolved/logits",
    "plddt_logits": "predicted_lddt/logits",
    "single": "representations/single",
    "pair": "representations/pair",
    "msa": "representations/msa",
    "msa_first_row": "representations/msa_first_row",
    "structure_module": "representations/structure_module",
}
COMPARED_PTM = {
    "predicted_aligned_error": "predicted_aligned_error",
    "ptm": "ptm",
    "pae_logits": "pae_matrix_with_logits/logits",
}
REDUCED_SIZES = {
    "evoformer_blocks": 2, "extra_blocks": 1, "c_m": 32, "c_z": 16, "c_s": 32, "c_e": 16, "opm_channels": 8,
    "trimul_channels": 16, "structure_channels": 32, "sidechain_channels": 16, "plddt_channels": 16,
}
# Fixture case -> (preset, sizes): the harness's config overrides expressed as exafold settings.
CASES = {
    "fullwidth2": ("model_1_ptm", {"evoformer_blocks": 2, "extra_blocks": 1}),
    "model_1_ptm_full": ("model_1_ptm", {}),
    "model_3": ("model_3", REDUCED_SIZES),
}


def case(name):
    d = pathlib.Path(fixtures.fixture_dir(name))
    meta = json.loads((d / "meta.json").read_text())
    feats = dict(np.load(d / "features.npz"))
    return d, meta, feats


def real_mask(name, feats, r):
    """Which elements of output `name` carry meaning: real residues, unmasked MSA rows."""
    seq = feats["seq_mask"][r] > 0
    if name in ("msa", "masked_msa_logits"):
        return (feats["msa_mask"][r] > 0) & seq[None, :]
    if name in ("pair", "distogram_logits", "predicted_aligned_error", "pae_logits"):
        return seq[:, None] & seq[None, :]
    if name in ("mean_plddt", "ptm"):
        return None
    return seq


def compare(ours, ref, feats, r, tol_of, names):
    worst = {}
    for mine, theirs in names.items():
        a, b = np.asarray(ours[mine], dtype=np.float64), np.asarray(ref[theirs], dtype=np.float64)
        assert a.shape == b.shape, (mine, a.shape, b.shape)
        m = real_mask(mine, feats, r)
        if m is not None:
            a, b = a[m], b[m]
        diff = float(np.max(np.abs(a - b))) if a.size else 0.0
        scale = float(np.max(np.abs(b))) if b.size else 0.0
        worst[mine] = diff
        assert diff <= tol_of(mine, theirs, scale), f"iteration {r}: {mine} differs by {diff:.3g} (scale {scale:.3g})"
    return worst


def features_at(feats, r):
    return {k: v[r] for k, v in feats.items()}


@pytest.fixture(scope="module")
def reduced():
    return case("reduced")


@pytest.fixture(scope="module")
def reduced64(reduced):
    d, _, _ = reduced
    return exafold.Model.load(d / "params.npz", "reduced_ptm", "float64")


def test_float64_every_iteration_teacher_forced(reduced, reduced64):
    d, meta, feats = reduced
    iterations = feats["aatype"].shape[0]
    assert iterations == 3
    for r in range(iterations):
        prev = dict(np.load(d / f"iter{r}_prev.npz"))
        ref = dict(np.load(d / f"iter{r}_out64.npz"))
        out = reduced64.run_iteration(features_at(feats, r), prev)
        worst = compare(out, ref, feats, r, lambda m, t, s: 1e-6 * max(s, 1.0), {**COMPARED, **COMPARED_PTM})
        assert worst["final_atom_positions"] < 1e-6


def test_float64_free_running_recycling_matches_the_last_iteration(reduced, reduced64):
    d, meta, feats = reduced
    out = reduced64(feats, num_recycle=2)
    ref = dict(np.load(d / "iter2_out64.npz"))
    compare(out, ref, feats, 2, lambda m, t, s: 1e-6 * max(s, 1.0), {**COMPARED, **COMPARED_PTM})


def test_float32_within_the_reference_float32_noise(reduced):
    d, meta, feats = reduced
    model = exafold.Model.load(d / "params.npz", "reduced_ptm", "float32")
    eps = float(np.finfo(np.float32).eps)
    for r in range(feats["aatype"].shape[0]):
        gaps = meta["fp32_vs_fp64"][f"iter{r}"]
        prev = {k: v.astype(np.float32) for k, v in np.load(d / f"iter{r}_prev.npz").items()}
        ref = dict(np.load(d / f"iter{r}_out64.npz"))
        out = model.run_iteration(features_at(feats, r), prev)
        tol = lambda mine, theirs, scale: 3 * gaps[theirs]["max_abs_diff"] + 16 * eps * max(scale, 1.0)  # noqa: E731
        compare(out, ref, feats, r, tol, {**COMPARED, **COMPARED_PTM})


def test_chunking_changes_nothing_but_rounding(reduced, reduced64):
    d, meta, feats = reduced
    prev = dict(np.load(d / "iter1_prev.npz"))
    whole = reduced64.run_iteration(features_at(feats, 1), prev)
    chunked = reduced64.run_iteration(features_at(feats, 1), prev, chunk_size=5)
    for k in ("final_atom_positions", "pair", "msa", "plddt"):
        np.testing.assert_allclose(chunked[k], whole[k], rtol=0, atol=1e-10 * max(1.0, np.abs(whole[k]).max()))


def test_a_perturbed_parameter_is_caught(reduced, tmp_path):
    d, meta, feats = reduced
    params = exafold.read_weights(d / "params.npz", "reduced_ptm")
    key = "alphafold/alphafold_iteration/evoformer/evoformer_iteration/pair_transition/transition2//bias"
    params[key] = params[key].copy()
    params[key][1, 3] += 1e-3
    np.savez(tmp_path / "perturbed.npz", **params)
    model = exafold.Model.load(tmp_path / "perturbed.npz", "reduced_ptm", "float64")
    out = model.run_iteration(features_at(feats, 0), dict(np.load(d / "iter0_prev.npz")))
    ref = dict(np.load(d / "iter0_out64.npz"))
    with pytest.raises(AssertionError):
        compare(out, ref, feats, 0, lambda m, t, s: 1e-6 * max(s, 1.0), COMPARED)


@pytest.mark.parametrize("name", ["fullwidth2", "model_1_ptm_full", "model_3"])
def test_other_cases_float64_first_iteration(name):
    d, meta, feats = case(name)
    preset, sizes = CASES[name]
    assert meta["preset"] == preset
    model = exafold.Model.load(d / "params.npz", preset, "float64", sizes)
    ref = dict(np.load(d / "iter0_out64.npz"))
    out = model.run_iteration(features_at(feats, 0), dict(np.load(d / "iter0_prev.npz")))
    names = dict(COMPARED)
    if "ptm" in ref:
        names.update(COMPARED_PTM)
    compare(out, ref, feats, 0, lambda m, t, s: 1e-6 * max(s, 1.0), names)


def test_bad_features_are_value_errors(reduced, reduced64):
    d, meta, feats = reduced
    f = features_at(feats, 0)
    del f["msa_feat"]
    with pytest.raises(ValueError, match="msa_feat"):
        reduced64.run_iteration(f)
    f = features_at(feats, 0)
    f["msa_feat"] = f["msa_feat"][:, :, :40]
    with pytest.raises(ValueError):
        reduced64.run_iteration(f)
