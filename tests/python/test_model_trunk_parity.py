"""Parity of the trunk with the AlphaFold2 reference (JAX, float64 on the CPU).

Per-module fixtures come from tests/reference/trunk_modules.py: every algorithm
of the trunk run standalone on the inputs it sees in the full model, plus the
embeddings and one whole trunk iteration with random recycled inputs. The
teacher-forced iterations come from the harness cases (tests/reference,
generate.py): iteration r is fed the reference's own recycled inputs.

Tolerances:
- float64: max |ours - reference| <= RTOL64 * max |reference| per tensor. Both
  sides evaluate the same formulas in float64 and differ only in summation
  order, measured at 1e-16..1e-14 relative; a formula slip (a missing term, an
  epsilon off by 10x, a swapped operand, a 1e-5 relative parameter change as in
  the perturbation tests) shows at 1e-6 or more.
- float32: ours (float32 throughout) against the float64 truth, within
  K32 x the reference's own float32-vs-float64 gap on the same tensor and
  entries. The two float32 runs round independently, so their errors are of the
  same size; measured ratios ours/reference are 0.4..1.6 per module.
Padded residues and masked MSA rows are compared only where the reference
computes them the same way (modules: everywhere; the trunk: real entries, see
trunk.h on the masked template row).
"""
import importlib.util
import json
import pathlib
import subprocess

import exafold
import numpy as np
import pytest

import trunk_calls
from trunk_calls import FEATURES, PREV, M

pytestmark = pytest.mark.reference

REFERENCE = pathlib.Path(__file__).resolve().parents[1] / "reference"
_spec = importlib.util.spec_from_file_location("exafold_reference_fixtures",
                                               REFERENCE / "fixtures.py")
fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixtures)

RTOL64 = 1e-8
K32 = 3.0
# Entries where both float32 runs happen to land on the float64 value still carry the
# rounding of the float32 inputs: a floor of a few float32 ulps of the tensor's scale.
FLOOR32 = 4 * np.finfo(np.float32).eps
PERTURBATION = 1e-5  # relative change of one parameter array in the "can fail" tests


@pytest.fixture(scope="session")
def trunk_dir():
    result = subprocess.run([fixtures.reference_python(), str(REFERENCE / "trunk_modules.py")],
                            check=True, stdout=subprocess.PIPE, text=True, cwd=REFERENCE)
    return pathlib.Path(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def meta(trunk_dir):
    return json.loads((trunk_dir / "meta.json").read_text())


@pytest.fixture(scope="session")
def params(trunk_dir, meta):
    return {dtype: M.load_params(str(trunk_dir / "params.npz"), meta["preset"], dtype)
            for dtype in ("float64", "float32")}


def _load(trunk_dir, name):
    with np.load(trunk_dir / f"{name}.npz") as f:
        return ({k[6:]: f[k] for k in f.files if k.startswith("input/")},
                {k[6:]: f[k] for k in f.files if k.startswith("out64/")},
                {k[6:]: f[k] for k in f.files if k.startswith("out32/")})


def _run(params, meta, name, inputs):
    entry = meta["fixtures"][name]
    return trunk_calls.call(params, name, inputs, scope=entry["scope"], block=entry["block"])


def _tolerance32(out32, out64, mask=None):
    gap, _ = trunk_calls.max_rel_diff(out32, out64, mask)
    _, scale = trunk_calls.max_rel_diff(np.zeros_like(out64), out64, mask)
    return K32 * gap + FLOOR32 * scale


@pytest.mark.parametrize("name", trunk_calls.fixture_names())
def test_module_float64_matches_reference(trunk_dir, meta, params, name):
    inputs, out64, _ = _load(trunk_dir, name)
    ours = _run(params["float64"], meta, name, inputs)
    assert ours.keys() == out64.keys()
    for key, ref in out64.items():
        assert ours[key].dtype == np.float64 and ours[key].shape == ref.shape
        _, rel = trunk_calls.max_rel_diff(ours[key], ref)
        assert rel <= RTOL64, (name, key, rel)


@pytest.mark.parametrize("name", trunk_calls.fixture_names())
def test_module_float32_within_reference_noise(trunk_dir, meta, params, name):
    inputs, out64, out32 = _load(trunk_dir, name)
    ours = _run(params["float32"], meta, name, inputs)
    for key, ref in out64.items():
        assert ours[key].dtype == np.float32
        diff, _ = trunk_calls.max_rel_diff(ours[key], ref)
        assert diff <= _tolerance32(out32[key], ref), (name, key, diff, _tolerance32(out32[key], ref))


@pytest.mark.parametrize("name", trunk_calls.fixture_names())
def test_perturbed_parameter_fails_the_comparison(trunk_dir, meta, name, tmp_path):
    """The float64 comparison above must notice a 1e-5 relative change of one parameter."""
    entry = meta["fixtures"][name]
    arrays = exafold.read_weights(trunk_dir / "params.npz")
    target = sorted(k for k in arrays if k.startswith(entry["scope"] + "/"))[0]
    arrays[target] = arrays[target].copy()
    arrays[target][entry["block"]] *= 1 + PERTURBATION
    np.savez(tmp_path / "params.npz", **arrays)
    perturbed = M.load_params(str(tmp_path / "params.npz"), meta["preset"], "float64")
    inputs, out64, _ = _load(trunk_dir, name)
    ours = _run(perturbed, meta, name, inputs)
    worst = max(trunk_calls.max_rel_diff(ours[k], out64[k])[1] for k in out64)
    assert worst > RTOL64, (name, target, worst)


def _features_prev(inputs):
    return {k: inputs[k] for k in FEATURES}, {k: inputs[k] for k in PREV}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_embeddings_match_reference(trunk_dir, params, dtype):
    # Input embedder, recycling embedder (random recycled inputs, every distance bin used),
    # relative positions and the extra-MSA embedding: shallow, so float32 stays within a few
    # ulps of the float64 truth (the reference recorded no float32 run of these inputs).
    inputs, out64, _ = _load(trunk_dir, "embeddings")
    ours = M.embeddings(params[dtype], *_features_prev(inputs))
    assert ours.keys() == out64.keys()
    for key, ref in out64.items():
        _, rel = trunk_calls.max_rel_diff(ours[key], ref)
        assert rel <= (RTOL64 if dtype == "float64" else 10 * FLOOR32), (key, rel)


def _trunk_masks(features):
    seq = features["seq_mask"] > 0
    return {"msa": features["msa_mask"] > 0, "pair": np.outer(seq, seq), "single": seq,
            "msa_first_row": seq}


def _check_trunk(ours, out64, out32, features, label):
    masks = _trunk_masks(features)
    for key, ref in out64.items():
        _, rel = trunk_calls.max_rel_diff(ours["float64"][key], ref, masks[key])
        assert rel <= RTOL64, (label, "float64", key, rel)
        diff, _ = trunk_calls.max_rel_diff(ours["float32"][key], ref, masks[key])
        tol = _tolerance32(out32[key], ref, masks[key])
        assert diff <= tol, (label, "float32", key, diff, tol)


def test_trunk_matches_reference(trunk_dir, params):
    inputs, out64, out32 = _load(trunk_dir, "trunk")
    features, prev = _features_prev(inputs)
    ours = {dtype: M.run_trunk(params[dtype], features, prev) for dtype in params}
    _check_trunk(ours, out64, out32, features, "trunk")


def _case_params(case_dir, dtype):
    """The harness case's parameters, loaded against the preset its overrides describe."""
    meta = json.loads((case_dir / "meta.json").read_text())
    overrides, preset = meta["cfg_overrides"], meta["preset"]
    evo = "model.embeddings_and_evoformer."
    kwargs = {"evoformer_blocks": overrides.get(evo + "evoformer_num_block"),
              "extra_blocks": overrides.get(evo + "extra_msa_stack_num_block"),
              "templates": preset.split("_")[1] in ("1", "2")}
    if overrides.get(evo + "msa_channel") == 32:  # the reduced widths of AF2-REFERENCE section 3
        preset = "reduced_ptm" if preset.endswith("_ptm") else "reduced"
    return M.load_params(str(case_dir / "params.npz"), preset, dtype, **kwargs)


@pytest.mark.parametrize("case", ["reduced", "model_3", "fullwidth2", "model_1_ptm_full"])
def test_teacher_forced_iterations_match_reference(case):
    """Each recycling iteration of a harness case, fed the reference's recycled inputs."""
    case_dir = fixtures.fixture_dir(case)
    params = {dtype: _case_params(case_dir, dtype) for dtype in ("float64", "float32")}
    with np.load(case_dir / "features.npz") as f:
        all_features = {k: f[k] for k in FEATURES}
    r = 0
    while (case_dir / f"iter{r}_prev.npz").exists():
        features = {k: v[r] for k, v in all_features.items()}
        with np.load(case_dir / f"iter{r}_prev.npz") as f:
            prev = {k: f[k] for k in PREV}
        reps = {}
        for suffix in ("64", "32"):
            with np.load(case_dir / f"iter{r}_out{suffix}.npz") as f:
                reps[suffix] = {k: f[f"representations/{k}"]
                                for k in ("msa", "pair", "single", "msa_first_row")}
        ours = {dtype: M.run_trunk(params[dtype], features, prev) for dtype in params}
        _check_trunk(ours, reps["64"], reps["32"], features, f"{case} iteration {r}")
        r += 1
    assert r > 0


@pytest.mark.parametrize("fixture,column", [("module_evoformer_block", "full"),
                                            ("module_extra_msa_block", "global")])
def test_harness_block_fixtures_match_reference(fixture, column):
    """The harness's own single-block fixtures (reduced case, inputs of recycling iteration 1)."""
    case_dir = fixtures.fixture_dir("reduced")
    params = {dtype: _case_params(case_dir, dtype) for dtype in ("float64", "float32")}
    stack = "evoformer_iteration" if column == "full" else "extra_msa_stack"
    with np.load(case_dir / f"{fixture}.npz") as f:
        data = {k: f[k] for k in f.files}
    args = [data[f"input/{k}"] for k in ("activations/msa", "masks/msa", "activations/pair",
                                          "masks/pair")]
    for dtype in params:
        ours = M.evoformer_block(params[dtype], f"{trunk_calls.EVOFORMER}/{stack}", 0, column,
                                 *args)
        for key in ("msa", "pair"):
            ref = data[f"out64/{key}"]
            if dtype == "float64":
                _, rel = trunk_calls.max_rel_diff(ours[key], ref)
                assert rel <= RTOL64, (fixture, key, rel)
            else:
                diff, _ = trunk_calls.max_rel_diff(ours[key], ref)
                assert diff <= _tolerance32(data[f"out32/{key}"], ref), (fixture, key, diff)
