"""The structure module and the heads on the reference harness's full-model fixtures
(tests/reference/fixtures.py): real trunk representations as inputs, teacher-forced per
recycling iteration, and the harness's standalone structure-module fixture. Tolerances as in
structure_fixtures.py, with the gaps the harness recorded (for the full model these include the
trunk's own float32 error, so they bound the float32 engine loosely)."""
import importlib.util
import json
import pathlib

import exafold
import numpy as np
import pytest

import structure_fixtures as fx
from exafold._core import _modules as m

pytestmark = pytest.mark.reference

_FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "reference" / "fixtures.py"
if not _FIXTURES.exists():
    pytest.skip("tests/reference/fixtures.py is not in this checkout", allow_module_level=True)
_spec = importlib.util.spec_from_file_location("exafold_reference_fixtures", _FIXTURES)
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)

# Harness case -> exafold preset with the same parameter layout.
PRESETS = {"reduced": "reduced_ptm", "model_1_ptm_full": "model_1_ptm"}
DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]
# exafold key -> the harness's full-model key.
HEAD_KEYS = {"distogram/logits": "distogram/logits", "masked_msa/logits": "masked_msa/logits",
             "experimentally_resolved/logits": "experimentally_resolved/logits",
             "predicted_lddt/logits": "predicted_lddt/logits", "plddt": "plddt",
             "mean_plddt": "mean_plddt",
             "predicted_aligned_error/logits": "pae_matrix_with_logits/logits",
             "aligned_confidence_probs": "aligned_confidence_probs",
             "predicted_aligned_error": "predicted_aligned_error", "ptm": "ptm"}


def _npz(path):
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def _case(name):
    path = harness.fixture_dir(name)
    meta = json.loads((path / "meta.json").read_text())
    params = exafold.read_weights(path / "params.npz")
    features = _npz(path / "features.npz")
    return path, meta, params, features


def _iterations():
    return [(case, r) for case, iterations in (("reduced", 3), ("model_1_ptm_full", 1))
            for r in range(iterations)]


def _cast(params, dtype):
    return {k: v.astype(dtype) for k, v in params.items()}


@pytest.mark.parametrize("dtype", DTYPES)
def test_harness_structure_module_fixture(dtype):
    path, meta, params, _ = _case("reduced")
    data = _npz(path / "module_structure_module.npz")
    gaps = meta["modules"]["fp32_vs_fp64"]["module_structure_module.npz"]
    batch = {k[len("input/batch/"):]: v for k, v in data.items() if k.startswith("input/batch/")}
    out = m.structure_module(PRESETS["reduced"], _cast(params, dtype),
                             data["input/representations/single"].astype(dtype),
                             data["input/representations/pair"].astype(dtype), batch)
    real = batch["seq_mask"] > 0
    masks = {"final_atom_positions": batch["atom37_atom_exists"][..., None] > 0,
             "final_atom14_positions": batch["atom14_atom_exists"][..., None] > 0,
             "representations/structure_module": real[:, None], "traj": real[None, :, None],
             "sidechains/angles_sin_cos": real[None, :, None, None],
             "sidechains/unnormalized_angles_sin_cos": real[None, :, None, None]}
    for key, mask in masks.items():
        fx.assert_close(out[key], data[f"out64/{key}"], dtype, gaps[key]["max_abs_diff"], mask,
                        f"module_structure_module/{key}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case, iteration", _iterations())
def test_structure_module_and_heads_in_the_full_model(case, iteration, dtype):
    path, meta, params, features = _case(case)
    preset, params = PRESETS[case], _cast(params, dtype)
    ref = _npz(path / f"iter{iteration}_out64.npz")
    prev = _npz(path / f"iter{iteration}_prev.npz")
    gaps = meta["fp32_vs_fp64"][f"iter{iteration}"]
    feats = {k: v[iteration] for k, v in features.items()}
    real = feats["seq_mask"] > 0
    pair_real = real[:, None] & real[None, :]

    def close(actual, key, mask=None):
        fx.assert_close(actual, ref[key], dtype, gaps[key]["max_abs_diff"], mask,
                        f"{case} iter{iteration} {key}")

    reps = {k: ref[f"representations/{k}"].astype(dtype)
            for k in ("single", "pair", "msa", "structure_module")}
    sm = m.structure_module(preset, params, reps["single"], reps["pair"], feats)
    close(sm["final_atom_positions"], "structure_module/final_atom_positions",
          feats["atom37_atom_exists"][..., None] > 0)
    close(sm["representations/structure_module"], "representations/structure_module",
          real[:, None])

    heads = m.heads(preset, params, reps, reps["msa"].shape[0], feats["seq_mask"])
    masks = {"distogram/logits": pair_real[..., None], "plddt": real,
             "predicted_lddt/logits": real[:, None],
             "experimentally_resolved/logits": real[:, None],
             "masked_msa/logits": (feats["msa_mask"] > 0)[..., None],
             "predicted_aligned_error/logits": pair_real[..., None],
             "aligned_confidence_probs": pair_real[..., None],
             "predicted_aligned_error": pair_real}
    for key, ref_key in HEAD_KEYS.items():
        close(heads[key], ref_key, masks.get(key))

    tol = m.compute_tol(prev["prev_pos"].astype(dtype),
                        ref["structure_module/final_atom_positions"].astype(dtype),
                        feats["seq_mask"])
    close(tol, "tol")
