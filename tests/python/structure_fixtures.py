"""Shared by test_model_structure*.py and test_model_heads*.py: the reference fixtures of
tests/reference/structure_modules.py and the comparisons the tests make against them.

Tolerances. float64 engine vs float64 reference: |engine - ref| <= 1e-6 * max(1, max|ref|), the
exact contract (both compute the same formulas in double; measured differences are ~1e-13).
float32 engine vs the float64 reference: |engine - ref| <= 3 * gap + 8 * eps32 * max|ref|, where
gap is the reference's own max |JAX fp32 - JAX fp64| for that tensor on the same inputs, recorded
in meta.json (AF2-REFERENCE 7b: a float32 engine cannot be held closer to the truth than float32
arithmetic itself gets; 3x allows for a different but equally valid summation order, and the
eps32 term covers tensors the reference happens to round exactly, where the gap is 0).
"""
import functools
import json
import os
import pathlib
import subprocess

import numpy as np
import pytest

REFERENCE = pathlib.Path(__file__).resolve().parents[1] / "reference"
PRESET = "reduced_ptm"
EPS32 = float(np.finfo(np.float32).eps)


@functools.lru_cache(maxsize=None)
def fixture_dir():
    """The structure fixture folder: EXAFOLD_STRUCTURE_FIXTURES if set, else generated once
    with the reference environment (tests/reference/env.sh) and cached."""
    override = os.environ.get("EXAFOLD_STRUCTURE_FIXTURES")
    if override:
        return pathlib.Path(override)
    env_sh = REFERENCE / "env.sh"
    if not env_sh.exists():
        pytest.skip("tests/reference/env.sh (the reference environment) is not in this checkout")
    python = subprocess.run(["bash", str(env_sh)], check=True, stdout=subprocess.PIPE,
                            text=True).stdout.strip()
    out = subprocess.run([python, str(REFERENCE / "structure_modules.py"), "--cache"], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return pathlib.Path(out.strip().splitlines()[-1])


@functools.lru_cache(maxsize=None)
def meta():
    return json.loads((fixture_dir() / "meta.json").read_text())


@functools.lru_cache(maxsize=None)
def load(name):
    """{"input": {...}, "out64": {...}, "out32": {...}} of one fixture."""
    parts = {"input": {}, "out64": {}, "out32": {}}
    with np.load(fixture_dir() / f"{name}.npz") as data:
        for key in data.files:
            kind, rest = key.split("/", 1)
            parts[kind][rest] = data[key]
    return parts


@functools.lru_cache(maxsize=None)
def _params32():
    with np.load(fixture_dir() / "params.npz") as data:
        return {k: data[k] for k in data.files}


def params(dtype):
    """The fixture's full parameter set (official names) in dtype; the reference's float64 run
    upcasts the same float32 values."""
    return {k: v.astype(dtype) for k, v in _params32().items()}


def inputs(name, dtype, *keys):
    """Float inputs of a fixture cast to dtype (integers stay), in the order of keys."""
    data = load(name)["input"]
    out = []
    for key in keys:
        v = data[key]
        out.append(v.astype(dtype) if np.issubdtype(v.dtype, np.floating) else v)
    return out


def max_abs_diff(actual, expected, mask=None):
    diff = np.abs(np.asarray(actual, np.float64) - np.asarray(expected, np.float64))
    if mask is not None:
        diff = diff[np.broadcast_to(mask, diff.shape)]
    return float(diff.max()) if diff.size else 0.0


def _masked_abs_max(expected, mask):
    ref = np.abs(np.asarray(expected, np.float64))
    if mask is not None:
        ref = ref[np.broadcast_to(mask, ref.shape)]
    return float(ref.max()) if ref.size else 0.0


def assert_close(actual, expected, dtype, gap, mask=None, what=""):
    """The module docstring's tolerance for dtype; gap = the reference's |fp32 - fp64| for this
    tensor (used for float32 only). Returns the max abs difference."""
    assert np.shape(actual) == np.shape(expected), (what, np.shape(actual), np.shape(expected))
    diff = max_abs_diff(actual, expected, mask)
    scale = _masked_abs_max(expected, mask)
    tol = (1e-6 * max(1.0, scale) if dtype == np.float64 else 3.0 * gap + 8.0 * EPS32 * scale)
    assert diff <= tol, f"{what} ({np.dtype(dtype).name}): max |diff| {diff:.3g} > {tol:.3g}"
    return diff


def check(actual, fixture, key, dtype, mask=None, expected=None):
    """Asserts the engine's output matches the reference's float64 output `key` of `fixture`
    (or `expected`, with the gap recorded for `key`)."""
    if expected is None:
        expected = load(fixture)["out64"][key]
    gap = meta()["fixtures"][fixture][key]["max_abs_diff"]
    return assert_close(actual, expected, dtype, gap, mask, f"{fixture}/{key}")


def real_residues(fixture):
    return load(fixture)["input"].get("seq_mask", load(fixture)["input"].get("batch/seq_mask")) > 0
