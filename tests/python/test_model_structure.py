"""The structure module (Alg 20) and its parts (IPA Alg 22, backbone update Alg 23, torsion
ResNet, all-atom Alg 24) against the AlphaFold2 reference. Fixtures and tolerances:
structure_fixtures.py."""
import numpy as np
import pytest

import structure_fixtures as fx
from exafold._core import _modules as m

DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]
FOLD = "alphafold/alphafold_iteration/structure_module/fold_iteration"


def _ipa(params, dtype):
    act, pair, mask, rot, trans = fx.inputs("ipa", dtype, "act", "pair", "seq_mask", "rotation",
                                            "translation")
    return m.invariant_point_attention(fx.PRESET, params, act, pair, mask, rot, trans)


def _structure_module(params, dtype):
    single, pair = fx.inputs("structure_module", dtype, "representations/single",
                             "representations/pair")
    batch = {k.split("/", 1)[1]: v for k, v in fx.load("structure_module")["input"].items()
             if k.startswith("batch/")}
    return m.structure_module(fx.PRESET, params, single, pair, batch), batch


@pytest.mark.reference
@pytest.mark.parametrize("dtype", DTYPES)
def test_invariant_point_attention(dtype):
    real = fx.real_residues("ipa")[:, None]
    fx.check(_ipa(fx.params(dtype), dtype), "ipa", "out", dtype, real)


@pytest.mark.reference
@pytest.mark.parametrize("dtype", DTYPES)
def test_backbone_update(dtype):
    act, q, t = fx.inputs("backbone_update", dtype, "act", "quaternion", "translation")
    quaternion, translation = m.backbone_update(fx.PRESET, fx.params(dtype), act, q, t)
    fx.check(quaternion, "backbone_update", "quaternion", dtype)
    fx.check(translation, "backbone_update", "translation", dtype)


@pytest.mark.reference
@pytest.mark.parametrize("dtype", DTYPES)
def test_torsion_angles(dtype):
    act, initial_act = fx.inputs("sidechain", dtype, "act", "initial_act")
    angles, unnormalized = m.torsion_angles(fx.PRESET, fx.params(dtype), act, initial_act)
    fx.check(angles, "sidechain", "angles_sin_cos", dtype)
    fx.check(unnormalized, "sidechain", "unnormalized_angles_sin_cos", dtype)


def _check_frames_and_atoms(out, fixture, dtype, atom_key):
    ref = fx.load(fixture)["out64"]
    rot = np.stack([np.stack([ref[f"frames/rot/{a}{b}"] for b in "xyz"], -1) for a in "xyz"], -2)
    trans = np.stack([ref[f"frames/trans/{a}"] for a in "xyz"], -1)
    # The float32 bound of a stacked tensor is the largest of its components'.
    for key, actual, expected, parts in (
            ("rot", out["frames_rotation"], rot, [f"frames/rot/{a}{b}" for a in "xyz" for b in "xyz"]),
            ("trans", out["frames_translation"], trans, [f"frames/trans/{a}" for a in "xyz"])):
        worst = max(parts, key=lambda p: fx.meta()["fixtures"][fixture][p]["max_abs_diff"])
        fx.check(actual, fixture, worst, dtype, expected=expected)
    atoms = (np.stack([ref[f"{atom_key}/{a}"] for a in "xyz"], -1) if f"{atom_key}/x" in ref
             else ref[atom_key])
    worst = max((k for k in fx.meta()["fixtures"][fixture] if k.startswith(atom_key)),
                key=lambda p: fx.meta()["fixtures"][fixture][p]["max_abs_diff"])
    fx.check(out["atom14_positions"], fixture, worst, dtype, expected=atoms)


@pytest.mark.reference
@pytest.mark.parametrize("dtype", DTYPES)
def test_all_atom_from_frames_and_torsions(dtype):
    aatype, rot, trans, angles = fx.inputs("all_atom", dtype, "aatype", "rotation", "translation",
                                           "angles_sin_cos")
    out = m.all_atom(aatype, rot, trans, angles)
    _check_frames_and_atoms(out, "all_atom", dtype, "atom14_positions")
    exists, index = fx.inputs("all_atom", dtype, "atom37_atom_exists", "residx_atom37_to_atom14")
    atom37 = m.atom14_to_atom37(out["atom14_positions"], index, exists)
    fx.check(atom37, "all_atom", "atom37_positions", dtype)


@pytest.mark.reference
@pytest.mark.parametrize("dtype", DTYPES)
def test_all_atom_from_the_side_chain_module(dtype):
    """Alg 24 on the torsions the reference's rigid_sidechain predicted (Angstrom frames)."""
    aatype, rot, trans = fx.inputs("sidechain", dtype, "aatype", "rotation", "translation")
    angles = fx.load("sidechain")["out64"]["angles_sin_cos"].astype(dtype)
    out = m.all_atom(aatype, rot, trans, angles)
    _check_frames_and_atoms(out, "sidechain", dtype, "atom_pos")


@pytest.mark.reference
@pytest.mark.parametrize("dtype", DTYPES)
def test_structure_module(dtype):
    out, batch = _structure_module(fx.params(dtype), dtype)
    real = batch["seq_mask"] > 0
    # Padded residues take part in nothing the reference masks, so only real ones are compared.
    fx.check(out["final_atom_positions"], "structure_module", "final_atom_positions", dtype,
             batch["atom37_atom_exists"][..., None] > 0)
    fx.check(out["final_atom14_positions"], "structure_module", "final_atom14_positions", dtype,
             batch["atom14_atom_exists"][..., None] > 0)
    fx.check(out["representations/structure_module"], "structure_module",
             "representations/structure_module", dtype, real[:, None])
    fx.check(out["traj"], "structure_module", "traj", dtype, real[None, :, None])
    for key in ("sidechains/angles_sin_cos", "sidechains/unnormalized_angles_sin_cos"):
        fx.check(out[key], "structure_module", key, dtype, real[None, :, None, None])
    np.testing.assert_array_equal(out["final_atom_mask"], batch["atom37_atom_exists"])
    np.testing.assert_array_equal(out["final_atom14_mask"], batch["atom14_atom_exists"])


@pytest.mark.reference
@pytest.mark.parametrize("name, index", [
    (f"{FOLD}/invariant_point_attention//trainable_point_weights", (3,)),
    (f"{FOLD}/rigid_sidechain/resblock2_1//weights", (5, 7)),
    (f"{FOLD}/affine_update//bias", (4,)),
])
def test_a_perturbed_parameter_breaks_parity(name, index):
    """The float64 comparison sees one parameter moved by 1e-3 (the measured effect on the atoms
    is ten times the tolerance or more)."""
    params = fx.params(np.float64)
    params[name] = params[name].copy()
    params[name][index] += 1e-3
    out, batch = _structure_module(params, np.float64)
    with pytest.raises(AssertionError):
        fx.check(out["final_atom_positions"], "structure_module", "final_atom_positions",
                 np.float64, batch["atom37_atom_exists"][..., None] > 0)


@pytest.mark.reference
def test_a_perturbed_ipa_weight_breaks_ipa_parity():
    params = fx.params(np.float64)
    name = f"{FOLD}/invariant_point_attention/kv_point_local//weights"
    params[name] = params[name].copy()
    params[name][0, 0] += 1e-4
    with pytest.raises(AssertionError):
        fx.check(_ipa(params, np.float64), "ipa", "out", np.float64,
                 fx.real_residues("ipa")[:, None])


@pytest.mark.reference
def test_structure_module_rejects_bad_shapes():
    params = fx.params(np.float64)
    single, pair = fx.inputs("structure_module", np.float64, "representations/single",
                             "representations/pair")
    batch = {k.split("/", 1)[1]: v for k, v in fx.load("structure_module")["input"].items()
             if k.startswith("batch/")}
    with pytest.raises(ValueError, match="single representation"):
        m.structure_module(fx.PRESET, params, single[:, :-1], pair, batch)
    with pytest.raises(ValueError, match="pair representation"):
        m.structure_module(fx.PRESET, params, single, pair[1:], batch)
    with pytest.raises(ValueError, match="aatype"):
        m.structure_module(fx.PRESET, params, single, pair, {**batch, "aatype": batch["aatype"][1:]})
    with pytest.raises(ValueError, match="outside"):
        m.structure_module(fx.PRESET, params, single, pair,
                           {**batch, "aatype": np.full_like(batch["aatype"], 21)})
    with pytest.raises(ValueError, match="does not match preset"):
        m.structure_module("reduced", params, single, pair, batch)  # the PAE head is extra
    act, pair_ln, mask, rot, trans = fx.inputs("ipa", np.float64, "act", "pair", "seq_mask",
                                               "rotation", "translation")
    with pytest.raises(ValueError, match="seq_mask"):
        m.invariant_point_attention(fx.PRESET, params, act, pair_ln, mask[1:], rot, trans)
    with pytest.raises(ValueError, match="frames"):
        m.invariant_point_attention(fx.PRESET, params, act, pair_ln, mask, rot[1:], trans[1:])


def test_all_atom_rejects_bad_shapes():
    n = 4
    aatype = np.zeros(n, np.int32)
    rot, trans = np.tile(np.eye(3), (n, 1, 1)), np.zeros((n, 3))
    angles = np.tile([0.0, 1.0], (n, 7, 1))
    with pytest.raises(ValueError, match="torsion angles"):
        m.all_atom(aatype, rot, trans, angles[:, :6])
    with pytest.raises(ValueError, match="aatype"):
        m.all_atom(aatype.astype(np.float32), rot, trans, angles)
    with pytest.raises(ValueError, match="translation"):
        m.all_atom(aatype, rot, trans[:, :2], angles)
    atom14 = m.all_atom(aatype, rot, trans, angles)["atom14_positions"]
    with pytest.raises(ValueError, match="residx_atom37_to_atom14"):
        m.atom14_to_atom37(atom14, np.zeros((n, 36), np.int32), np.ones((n, 37)))
    with pytest.raises(ValueError, match="outside 0..13"):
        m.atom14_to_atom37(atom14, np.full((n, 37), 14, np.int32), np.ones((n, 37)))


def test_alanine_backbone_at_identity_is_the_literature_geometry():
    """Identity backbone frame, zero torsions: N, CA, C, CB sit at their residue_constants
    positions (group 0), and O is placed by the psi group."""
    aatype = np.zeros(1, np.int32)  # ALA
    out = m.all_atom(aatype, np.eye(3)[None], np.zeros((1, 3)), np.tile([0.0, 1.0], (1, 7, 1)))
    atoms = out["atom14_positions"][0]
    # atom14 order for ALA: N, CA, C, O, CB.
    np.testing.assert_allclose(atoms[0], [-0.525, 1.363, 0.0], atol=1e-6)
    np.testing.assert_allclose(atoms[1], [0.0, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(atoms[2], [1.526, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(atoms[4], [-0.529, -0.774, -1.205], atol=1e-6)
    # O: (0.627, 1.062, 0) in the psi frame, which sits at C with x along CA->C.
    assert np.linalg.norm(atoms[3] - atoms[2]) == pytest.approx(np.hypot(0.627, 1.062), abs=1e-6)
    np.testing.assert_array_equal(atoms[5:], 0.0)
