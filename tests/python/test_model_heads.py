"""The heads (pLDDT Alg 29, distogram, masked MSA, experimentally resolved, PAE) and the confidence
metrics (pLDDT, PAE, pTM, tol) against the AlphaFold2 reference. Fixtures and tolerances:
structure_fixtures.py."""
import numpy as np
import pytest

import structure_fixtures as fx
from exafold._core import _modules as m

DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]
PAE_HEAD = "alphafold/alphafold_iteration/predicted_aligned_error_head"
# exafold key -> reference key (the fork keeps the PAE logits under pae_matrix_with_logits).
REFERENCE_KEY = {"predicted_aligned_error/logits": "pae_matrix_with_logits/logits"}


def _heads(params, dtype, preset=fx.PRESET):
    data = fx.load("heads")["input"]
    reps = {k.split("/", 1)[1]: v.astype(dtype) for k, v in data.items()
            if k.startswith("representations/")}
    return m.heads(preset, params, reps, fx.meta()["msa_rows"], data["seq_mask"].astype(dtype))


def _masks():
    real = fx.real_residues("heads")
    pair = real[:, None] & real[None, :]
    return {"distogram/logits": pair[..., None], "predicted_aligned_error/logits": pair[..., None],
            "aligned_confidence_probs": pair[..., None], "predicted_aligned_error": pair,
            "plddt": real, "predicted_lddt/logits": real[:, None],
            "experimentally_resolved/logits": real[:, None]}


@pytest.mark.reference
@pytest.mark.parametrize("dtype", DTYPES)
def test_heads_and_confidence(dtype):
    out = _heads(fx.params(dtype), dtype)
    masks = _masks()
    assert set(out) == {"distogram/logits", "masked_msa/logits", "experimentally_resolved/logits",
                        "predicted_lddt/logits", "plddt", "mean_plddt",
                        "predicted_aligned_error/logits", "aligned_confidence_probs",
                        "predicted_aligned_error", "max_predicted_aligned_error", "ptm"}
    for key, value in out.items():
        fx.check(value, "heads", REFERENCE_KEY.get(key, key), dtype, masks.get(key))
    assert out["max_predicted_aligned_error"] == 31.75
    logits = out["distogram/logits"]
    np.testing.assert_array_equal(logits, logits.transpose(1, 0, 2))
    assert out["masked_msa/logits"].shape[0] == fx.meta()["msa_rows"]


@pytest.mark.reference
def test_preset_without_ptm_has_no_aligned_error():
    params = {k: v for k, v in fx.params(np.float64).items() if not k.startswith(PAE_HEAD)}
    out = _heads(params, np.float64, preset="reduced")
    assert "ptm" not in out and "predicted_aligned_error" not in out
    fx.check(out["plddt"], "heads", "plddt", np.float64, fx.real_residues("heads"))


@pytest.mark.reference
@pytest.mark.parametrize("dtype", DTYPES)
def test_tol(dtype):
    data = fx.load("heads")["input"]
    tol = m.compute_tol(data["prev_pos"].astype(dtype), data["pos"].astype(dtype),
                        data["seq_mask"])
    fx.check(tol, "heads", "tol", dtype)


@pytest.mark.reference
@pytest.mark.parametrize("key, bias_bin, delta", [
    ("predicted_aligned_error", 10, 1e-4),
    # pTM is a weighted mean over all pairs and bins: it needs a larger push, on the bin that
    # carries the most TM weight.
    ("ptm", 0, 1e-2),
])
def test_a_perturbed_parameter_breaks_parity(key, bias_bin, delta):
    params = fx.params(np.float64)
    params[f"{PAE_HEAD}/logits//bias"] = params[f"{PAE_HEAD}/logits//bias"].copy()
    params[f"{PAE_HEAD}/logits//bias"][bias_bin] += delta
    out = _heads(params, np.float64)
    with pytest.raises(AssertionError):
        fx.check(out[key], "heads", key, np.float64, _masks().get(key))


@pytest.mark.reference
def test_heads_reject_bad_shapes():
    params = fx.params(np.float64)
    data = fx.load("heads")["input"]
    reps = {k.split("/", 1)[1]: v for k, v in data.items() if k.startswith("representations/")}
    mask = data["seq_mask"]
    rows = fx.meta()["msa_rows"]
    with pytest.raises(ValueError, match="msa_rows"):
        m.heads(fx.PRESET, params, reps, reps["msa"].shape[0] + 1, mask)
    with pytest.raises(ValueError, match="pair"):
        m.heads(fx.PRESET, params, {**reps, "pair": reps["pair"][:, 1:]}, rows, mask)
    with pytest.raises(ValueError, match="structure_module"):
        m.heads(fx.PRESET, params, {**reps, "structure_module": reps["single"][:, :-1]}, rows,
                mask)
    with pytest.raises(ValueError, match="seq_mask"):
        m.heads(fx.PRESET, params, reps, rows, mask[1:])
    with pytest.raises(ValueError, match="lack 'msa'"):
        m.heads(fx.PRESET, params, {k: v for k, v in reps.items() if k != "msa"}, rows, mask)


def test_tol_rejects_bad_shapes():
    pos = np.zeros((5, 37, 3))
    with pytest.raises(ValueError, match="previous positions"):
        m.compute_tol(pos[1:], pos, np.ones(5))
    with pytest.raises(ValueError, match="tol mask"):
        m.compute_tol(pos, pos, np.ones(4))
