"""The trunk without the reference: chunking, input checks, the recycled distogram.

Parameters are random arrays in the official layout of the reduced preset (from
param_spec); parity with AlphaFold2 is in test_model_trunk_parity.py.
"""
import numpy as np
import pytest

import trunk_calls
from trunk_calls import FEATURES, PREV, M

PRESET = "reduced_ptm"
S, N, E = 6, 9, 7  # cluster rows, residues (the last one padded), extra rows


def _random_params(rng):
    params = {}
    for name, shape in M.param_spec(PRESET):
        leaf = name.split("//")[1]
        if leaf == "scale":
            value = 1.0 + 0.05 * rng.standard_normal(shape)
        elif leaf in ("offset", "bias", "output_b", "gating_b"):
            value = 0.05 * rng.standard_normal(shape)
        else:  # weights: O(1) outputs for O(1) inputs at these widths
            value = 0.2 * rng.standard_normal(shape)
        params[name] = value.astype(np.float32)
    return params


@pytest.fixture(scope="module")
def params_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("trunk") / "params.npz"
    np.savez(path, **_random_params(np.random.default_rng(0)))
    return path


@pytest.fixture(scope="module")
def params64(params_path):
    return M.load_params(str(params_path), PRESET, "float64")


def _features(rng):
    seq_mask = np.ones(N)
    seq_mask[-1] = 0
    msa_mask = np.ones([S, N]) * seq_mask
    msa_mask[-1] = 0  # a padded cluster row
    extra_mask = np.ones([E, N]) * seq_mask
    extra_mask[-2:] = 0
    aatype = rng.integers(0, 21, N)
    aatype[2] = 7  # glycine: the pseudo-beta is CA
    return {
        "aatype": aatype.astype(np.int32),
        "residue_index": np.concatenate([np.arange(5), np.arange(N - 5) + 40]).astype(np.int32),
        "seq_mask": seq_mask,
        "target_feat": rng.random([N, 22]),
        "msa_feat": rng.random([S, N, 49]),
        "msa_mask": msa_mask,
        "extra_msa": rng.integers(0, 23, [E, N]).astype(np.int32),
        "extra_msa_mask": extra_mask,
        "extra_has_deletion": (rng.random([E, N]) < 0.2).astype(np.float64),
        "extra_deletion_value": rng.random([E, N]),
    }


def _prev(rng):
    return {"prev_msa_first_row": rng.standard_normal([N, 32]),
            "prev_pair": rng.standard_normal([N, N, 16]),
            "prev_pos": rng.uniform(0, 16, [N, 37, 3])}


def _module_inputs(rng, name):
    c = 16 if name.startswith("extra") else 32
    rows = E if name.startswith("extra") else S
    msa_mask = np.ones([rows, N])
    msa_mask[:, -1] = 0
    msa_mask[-1] = 0
    pair_mask = np.outer(msa_mask[0], msa_mask[0])
    return {"msa": rng.standard_normal([rows, N, c]), "msa_mask": msa_mask,
            "pair": rng.standard_normal([N, N, 16]), "pair_mask": pair_mask}


@pytest.mark.parametrize("name", trunk_calls.fixture_names())
def test_chunking_changes_nothing_but_rounding(params64, name):
    # Chunks cut the batch axis only: every sum runs over the same terms in the same order;
    # what may change is the BLAS kernel chosen for a shorter block, a rounding-level effect.
    inputs = _module_inputs(np.random.default_rng(1), name)
    whole = trunk_calls.call(params64, name, inputs)
    for chunk in (1, 2, 4):
        chunked = trunk_calls.call(params64, name, inputs, chunk_size=chunk)
        for key, value in whole.items():
            assert chunked[key].shape == value.shape
            _, rel = trunk_calls.max_rel_diff(chunked[key], value)
            assert rel <= 1e-12, (name, chunk, key, rel)


def test_trunk_chunking_changes_nothing_but_rounding(params64):
    rng = np.random.default_rng(2)
    features, prev = _features(rng), _prev(rng)
    whole = M.run_trunk(params64, features, prev)
    assert whole["msa"].shape == (S, N, 32) and whole["pair"].shape == (N, N, 16)
    assert whole["single"].shape == (N, 32)
    np.testing.assert_array_equal(whole["msa_first_row"], whole["msa"][0])
    for chunk in (1, 3):
        chunked = M.run_trunk(params64, features, prev, chunk_size=chunk)
        for key, value in whole.items():
            _, rel = trunk_calls.max_rel_diff(chunked[key], value)
            assert rel <= 1e-12, (chunk, key, rel)


def test_float32_trunk_stays_near_float64(params_path, params64):
    rng = np.random.default_rng(3)
    features, prev = _features(rng), _prev(rng)
    out64 = M.run_trunk(params64, features, prev)
    out32 = M.run_trunk(M.load_params(str(params_path), PRESET, "float32"), features, prev)
    real = features["msa_mask"] > 0
    for key, mask in (("msa", real), ("pair", None), ("single", features["seq_mask"] > 0)):
        assert out32[key].dtype == np.float32
        # A smoke bound only (random weights, 3 blocks): the real float32 tolerances come from
        # the reference's measured noise in test_model_trunk_parity.py.
        _, rel = trunk_calls.max_rel_diff(out32[key], out64[key], mask)
        assert rel < 1e-4, (key, rel)


def test_bad_feature_shapes_raise_value_error_naming_the_feature(params64):
    rng = np.random.default_rng(4)
    prev = _prev(rng)
    bad = _features(rng)
    bad["msa_feat"] = bad["msa_feat"][..., :48]
    with pytest.raises(ValueError, match=r"msa_feat has shape \[6, 9, 48\], expected \[6, 9, 49\]"):
        M.run_trunk(params64, bad, prev)
    bad = _features(rng)
    bad["extra_msa_mask"] = bad["extra_msa_mask"][:, :-1]
    with pytest.raises(ValueError, match=r"extra_msa_mask has shape \[7, 8\], expected \[7, 9\]"):
        M.run_trunk(params64, bad, prev)
    bad = _features(rng)
    bad["extra_msa"][0, 0] = 23
    with pytest.raises(ValueError, match="extra_msa holds 23"):
        M.run_trunk(params64, bad, prev)
    bad = _features(rng)
    del bad["seq_mask"]
    with pytest.raises(ValueError, match="features lacks 'seq_mask'"):
        M.run_trunk(params64, bad, prev)
    with pytest.raises(ValueError, match=r"prev_pair has shape \[9, 9, 15\], expected \[9, 9, 16\]"):
        M.run_trunk(params64, _features(rng), {**prev, "prev_pair": prev["prev_pair"][..., 1:]})


def test_bad_module_shapes_raise_value_error(params64):
    inputs = _module_inputs(np.random.default_rng(5), "evo_row_attention")
    with pytest.raises(ValueError, match=r"pair has shape \[8, 8, 16\], expected \[9, 9, 16\]"):
        trunk_calls.call(params64, "evo_row_attention",
                         {**inputs, "pair": inputs["pair"][1:, 1:]})
    with pytest.raises(ValueError, match=r"msa has shape \[6, 9, 16\], expected \[6, 9, 32\]"):
        trunk_calls.call(params64, "evo_column_attention",
                         {**inputs, "msa": inputs["msa"][..., :16]})
    with pytest.raises(ValueError, match=r"pair_mask has shape \[9, 8\], expected \[9, 9\]"):
        trunk_calls.call(params64, "evo_trimul_incoming",
                         {**inputs, "pair_mask": inputs["pair_mask"][:, 1:]})
    with pytest.raises(ValueError, match="edges must be 'outgoing' or 'incoming'"):
        M.triangle_multiplication(params64, trunk_calls.scope_of("evo_trimul_incoming"), 0,
                                  "sideways", inputs["pair"], inputs["pair_mask"])


def test_params_of_another_preset_are_rejected(params_path):
    with pytest.raises(ValueError, match="does not match preset 'model_1_ptm'"):
        M.load_params(str(params_path), "model_1_ptm", "float64")


def test_recycled_distogram_bins_pseudo_beta_distances_strictly():
    edges = np.linspace(3.25, 20.75, 15)
    # Residue 0 is a glycine (pseudo-beta = CA, atom 1), residue 1 an alanine (CB, atom 3).
    distances = [edges[4], edges[4] + 1e-6, edges[14] - 1e-6, 25.0, 1e3, 0.5]
    expected = [None, 4, 13, 14, 14, None]  # exactly on an edge and below 3.25: no bin
    for d, bin_ in zip(distances, expected):
        # Integer coordinates keep every difference, and so an edge distance, exact.
        pos = np.random.default_rng(6).integers(-50, 50, [2, 37, 3]).astype(np.float64)
        pos[1, 3] = pos[0, 1] + np.array([d, 0.0, 0.0])
        dgram = M.recycled_distogram(np.array([7, 0]), pos)
        assert dgram.shape == (2, 2, 15)
        assert dgram[0, 0].sum() == 0  # zero distance to itself
        want = np.zeros(15)
        if bin_ is not None:
            want[bin_] = 1
        np.testing.assert_array_equal(dgram[0, 1], want, err_msg=f"d = {d}")
        np.testing.assert_array_equal(dgram[1, 0], want)
    # Without the glycine the pair uses residue 0's CB instead, which sits elsewhere.
    pos[0, 3] = pos[1, 3]
    assert M.recycled_distogram(np.array([0, 0]), pos)[0, 1].sum() == 0
