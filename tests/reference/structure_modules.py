"""Fixtures for the structure module, its parts and the heads, from the reference on the CPU.

Run with the reference environment's python (env.sh prints it):
    python structure_modules.py --out DIR     # generate into DIR
    python structure_modules.py --cache       # generate once into the cache, print its path

The cache folder is ${XDG_CACHE_HOME:-~/.cache}/exafold/fixtures/structure-<hash>, the hash
covering this script, the harness files it imports and the reference's pinned requirements; it
is filled in a temporary folder and
renamed into place, so a reader never sees a partial one.

Parameters: the full reduced model_1_ptm parameter set (the harness's "reduced" case: haiku init,
then randomize.py with ALPHA), so the engine loads it with its own validating loader. The head
logits layers are redrawn at output scale 1 instead: a single Linear is well conditioned, and
with ALPHA their logits would be nearly flat, which would let bin-order mistakes through.

Inputs are seeded normal draws rounded to float32, so the float32 and float64 reference runs see
identical values and their gap is the reference's own float32 rounding. Every fixture holds
input/*, out64/* and out32/*; meta.json records per output the max |fp32 - fp64| and max |fp64|
over real residues (the tolerance basis of the float32 engine tests).

Fixtures (N = 28: the 21 residue types, a second Gly and Trp, 3 padded residues):
  ipa.npz             InvariantPointAttention on random act, layer-normed pair, frames (nm)
  backbone_update.npz affine_update + QuatAffine.pre_compose from random frames
  sidechain.npz       MultiRigidSidechain: torsion ResNet, group frames and atom14 positions
  all_atom.npz        Alg 24 + atom14_to_atom37 from random frames (Angstrom) and unit torsions
  structure_module.npz folding.StructureModule (compute_loss=True) on random representations
  heads.npz           every head of model_1_ptm and get_confidence_metrics, plus compute_tol
"""
import argparse
import hashlib
import importlib.metadata
import json
import os
import pathlib
import shutil
import sys
import tempfile

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import haiku as hk  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from alphafold.common import confidence, residue_constants as rc  # noqa: E402
from alphafold.model import all_atom, common_modules, folding, modules, quat_affine, r3  # noqa: E402

import refcompat  # noqa: E402,F401  (patches the reference before any model is built)
import cases  # noqa: E402
import generate  # noqa: E402
import modulefix  # noqa: E402
import runner  # noqa: E402
import synth  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
# Files whose content decides the fixtures: the cache key.
SOURCES = ("structure_modules.py", "cases.py", "generate.py", "modulefix.py", "randomize.py",
           "refcompat.py", "runner.py", "synth.py", "requirements.txt", "env.sh")
PRESET = "reduced_ptm"  # exafold's preset for the harness's reduced model_1_ptm
CASE = "reduced"
SEED = 515
N_PAD = 3
MSA_ROWS = 6  # cluster rows; one more row stands in for the appended template rows
HEAD_LOGITS = ("distogram_head/half_logits", "masked_msa_head/logits",
               "experimentally_resolved_head/logits", "predicted_lddt_head/logits",
               "predicted_aligned_error_head/logits")
SM = modulefix.ITERATION + "structure_module"
PACKAGES = ("alphafold-colabfold", "jax", "jaxlib", "dm-haiku", "numpy")


def cache_key():
    h = hashlib.sha256()
    for name in SOURCES:
        if (HERE / name).exists():
            h.update(name.encode() + b"\0" + (HERE / name).read_bytes())
    return h.hexdigest()[:16]


def f32(x):
    """float64 values exactly representable in float32."""
    return np.asarray(x, np.float32).astype(np.float64)


class Inputs:
    def __init__(self, cfg, seed):
        self.rng = np.random.default_rng(seed)
        evo = cfg.model.embeddings_and_evoformer
        self.c_s, self.c_z, self.c_m = evo.seq_channel, evo.pair_channel, evo.msa_channel
        self.c_sm = cfg.model.heads.structure_module.num_channel
        aatype = np.concatenate([np.arange(21), [rc.restype_order["G"], rc.restype_order["W"]],
                                 self.rng.integers(0, 20, 2)]).astype(np.int32)
        n_real = len(aatype)
        self.n = n_real + N_PAD
        atom14_mask, atom37_to_atom14, atom37_mask = synth._atom_tables()
        self.batch = {
            "aatype": np.zeros(self.n, np.int32),
            "seq_mask": np.zeros(self.n, np.float32),
            "atom14_atom_exists": np.zeros([self.n, 14], np.float32),
            "residx_atom37_to_atom14": np.zeros([self.n, 37], np.int32),
            "atom37_atom_exists": np.zeros([self.n, 37], np.float32),
        }
        self.batch["aatype"][:n_real] = aatype
        self.batch["seq_mask"][:n_real] = 1
        self.batch["atom14_atom_exists"][:n_real] = atom14_mask[aatype]
        self.batch["residx_atom37_to_atom14"][:n_real] = atom37_to_atom14[aatype]
        self.batch["atom37_atom_exists"][:n_real] = atom37_mask[aatype]

    def normal(self, *shape, scale=1.0):
        return f32(scale * self.rng.standard_normal(shape))

    def quaternions(self):
        q = self.rng.standard_normal([self.n, 4])
        return f32(q / np.linalg.norm(q, axis=-1, keepdims=True))

    def unit_pairs(self, *shape):
        x = self.rng.standard_normal(shape + (2,))
        return f32(x / np.linalg.norm(x, axis=-1, keepdims=True))


def affine(quaternion, translation):
    """As QuatAffine.from_tensor builds it inside the structure module: the quaternion is taken
    as given (not re-normalised), so the rotation is exactly rotation_of(quaternion)."""
    return quat_affine.QuatAffine(quaternion, [translation[:, k] for k in range(3)],
                                  normalize=False)


def rotation_of(q):
    """The reference's rotation matrix of unit quaternions [N, 4] -> [N, 3, 3] (float64)."""
    rot = quat_affine.quat_to_rot(jnp.asarray(q))
    return np.stack([np.stack([np.asarray(x) for x in row], -1) for row in rot], -2)


def run(fn, params, inputs, mask_table):
    """(out64, out32, gaps) of hk.transform(fn) on dict inputs."""
    f = hk.transform(lambda args: fn(**args))
    jitted = jax.jit(f.apply)
    out64 = runner.flatten(runner.apply(jitted, params, inputs, dtype=np.float64))
    out32 = runner.flatten(runner.apply(jitted, params, inputs, dtype=np.float32))
    return out64, out32, gaps(out64, out32, mask_table)


def gaps(out64, out32, mask_table):
    result = {}
    for key, a64 in out64.items():
        if not np.issubdtype(a64.dtype, np.floating):
            continue
        mask = mask_table.get(key)
        mask = np.ones(a64.shape, bool) if mask is None else np.broadcast_to(mask, a64.shape)
        diff = np.abs(out32[key].astype(np.float64) - a64)[mask]
        result[key] = {"max_abs_diff": float(diff.max()) if diff.size else 0.0,
                       "max_abs_fp64": float(np.abs(a64)[mask].max()) if diff.size else 0.0}
    return result


def save(path, inputs, out64, out32):
    np.savez(path, **{f"input/{k}": v for k, v in runner.flatten(inputs).items()},
             **{f"out64/{k}": v for k, v in out64.items()},
             **{f"out32/{k}": v for k, v in out32.items()})


def sub_params(params, root, *modules_):
    out = {}
    for m in modules_:
        out.update(modulefix._sub_params(params, root, m))
    return out


def make_params(cfg, case):
    features = synth.make_features(case.layout, case.seed, templates=True)
    batch = {k: v[0] for k, v in features.items()}
    n = batch["aatype"].shape[0]
    f = modulefix.full_model(cfg)
    params = generate.init_params(f, {**batch, "prev": generate.zero_prev(cfg, n)},
                                  case.seed + 1, cases.ALPHA)
    # Head logits at output scale 1 (see the module docstring).
    rng = np.random.default_rng(SEED + 1)
    for name in HEAD_LOGITS:
        w = params[modulefix.ITERATION + name]["weights"]
        w[...] = (rng.standard_normal(w.shape) / np.sqrt(w.shape[0])).astype(np.float32)
    return params


def generate_all(out):
    case = cases.CASES[CASE]
    cfg, overrides = cases.build_config(case)
    gc, sm_cfg = cfg.model.global_config, cfg.model.heads.structure_module
    params = make_params(cfg, case)
    flat = {f"{s}//{n}": v for s in params for n, v in params[s].items()}
    np.savez(out / "params.npz", **flat)
    x = Inputs(cfg, SEED)
    n, batch = x.n, x.batch
    real = batch["seq_mask"] > 0
    res = real[:, None]
    fold = sub_params(params, SM + "/", "fold_iteration")
    meta = {"preset": PRESET, "case": CASE, "cfg_overrides": overrides, "seed": SEED,
            "alpha": cases.ALPHA, "head_logits_output_scale": 1.0, "n_res": n,
            "n_padded": N_PAD, "msa_rows": MSA_ROWS,
            "versions": {p: importlib.metadata.version(p) for p in PACKAGES},
            "fixtures": {}}

    def record(name, inputs, out64, out32, g):
        save(out / f"{name}.npz", inputs, out64, out32)
        meta["fixtures"][name] = g

    # Invariant point attention (Alg 22) alone.
    inputs = {"act": x.normal(n, x.c_sm), "pair": x.normal(n, n, x.c_z),
              "seq_mask": batch["seq_mask"].astype(np.float64), "quaternion": x.quaternions(),
              "translation": x.normal(n, 3, scale=1.5)}

    def ipa(act, pair, seq_mask, quaternion, translation):
        attention = folding.InvariantPointAttention(sm_cfg, gc)
        return {"out": attention(act, pair, seq_mask[:, None], affine(quaternion, translation))}

    out64, out32, g = run(ipa, sub_params(params, SM + "/fold_iteration/",
                                          "invariant_point_attention"), inputs, {"out": res})
    inputs["rotation"] = rotation_of(inputs["quaternion"])
    record("ipa", inputs, out64, out32, g)

    # Backbone update (Alg 23) alone.
    inputs = {"act": x.normal(n, x.c_sm), "quaternion": x.quaternions(),
              "translation": x.normal(n, 3, scale=1.5)}

    def backbone_update(act, quaternion, translation):
        update = common_modules.Linear(6, name="affine_update")(act)
        new = affine(quaternion, translation).pre_compose(update)
        return {"quaternion": new.quaternion, "translation": jnp.stack(new.translation, -1)}

    out64, out32, g = run(backbone_update, sub_params(params, SM + "/fold_iteration/",
                                                      "affine_update"), inputs, {})
    record("backbone_update", inputs, out64, out32, g)

    # Torsion-angle ResNet, group frames and atom14 positions (translations in Angstrom).
    inputs = {"act": x.normal(n, x.c_sm), "initial_act": x.normal(n, x.c_s),
              "quaternion": x.quaternions(), "translation": x.normal(n, 3, scale=15.0),
              "aatype": batch["aatype"]}

    def sidechain(act, initial_act, quaternion, translation, aatype):
        return folding.MultiRigidSidechain(sm_cfg.sidechain, gc)(
            affine(quaternion, translation), [act, initial_act], aatype)

    out64, out32, g = run(sidechain, sub_params(params, SM + "/fold_iteration/",
                                                "rigid_sidechain"), inputs,
                          {"atom_pos/x": res, "atom_pos/y": res, "atom_pos/z": res})
    inputs["rotation"] = rotation_of(inputs["quaternion"])
    record("sidechain", inputs, out64, out32, g)

    # All-atom coordinates (Alg 24) and atom37 from given frames and unit torsions.
    inputs = {"quaternion": x.quaternions(), "translation": x.normal(n, 3, scale=15.0),
              "angles_sin_cos": x.unit_pairs(n, 7), **{k: v for k, v in batch.items()}}
    inputs["rotation"] = rotation_of(inputs["quaternion"])

    def all_atom_fn(quaternion, translation, angles_sin_cos, rotation, **feats):
        del rotation  # the engine's input; the reference derives it from the quaternion
        backbone = r3.rigids_from_quataffine(affine(quaternion, translation))
        frames = all_atom.torsion_angles_to_frames(feats["aatype"], backbone, angles_sin_cos)
        atom14 = all_atom.frames_and_literature_positions_to_atom14_pos(feats["aatype"], frames)
        atom14 = r3.vecs_to_tensor(atom14)
        return {"frames": frames, "atom14_positions": atom14,
                "atom37_positions": all_atom.atom14_to_atom37(atom14, feats)}

    out64, out32, g = run(all_atom_fn, {}, inputs, {})
    record("all_atom", inputs, out64, out32, g)

    # The structure module (Alg 20) on random representations.
    inputs = {"representations": {"single": x.normal(n, x.c_s), "pair": x.normal(n, n, x.c_z)},
              "batch": batch}

    def structure_module(representations, batch):
        # compute_loss=True only makes the module return its intermediates.
        return folding.StructureModule(sm_cfg, gc, compute_loss=True)(
            representations, batch, is_training=False)

    table = {"final_atom_positions": batch["atom37_atom_exists"][..., None] > 0,
             "final_atom14_positions": batch["atom14_atom_exists"][..., None] > 0,
             "representations/structure_module": res, "traj": res[None],
             "final_affines": res,
             **{f"sidechains/{k}": real[None, :, None, None]
                for k in ("angles_sin_cos", "unnormalized_angles_sin_cos")}}
    out64, out32, g = run(structure_module, sub_params(params, modulefix.ITERATION,
                                                       "structure_module"), inputs, table)
    record("structure_module", inputs, out64, out32, g)

    # Heads and confidence metrics.
    heads_cfg = cfg.model.heads
    inputs = {"representations": {"single": x.normal(n, x.c_s, scale=2.0),
                                  "pair": x.normal(n, n, x.c_z, scale=2.0),
                                  "msa": x.normal(MSA_ROWS + 1, n, x.c_m, scale=2.0),
                                  "structure_module": x.normal(n, x.c_sm)},
              "seq_mask": batch["seq_mask"].astype(np.float64),
              "prev_pos": x.normal(n, 37, 3, scale=10.0), "pos": x.normal(n, 37, 3, scale=10.0)}

    def heads(representations, seq_mask, prev_pos, pos):
        reps = {**representations, "msa": representations["msa"][:MSA_ROWS]}
        ret = {name: head(heads_cfg[name], gc)(reps, None, False) for name, head in (
            ("distogram", modules.DistogramHead), ("masked_msa", modules.MaskedMsaHead),
            ("experimentally_resolved", modules.ExperimentallyResolvedHead),
            ("predicted_lddt", modules.PredictedLDDTHead),
            ("predicted_aligned_error", modules.PredictedAlignedErrorHead))}
        ret.update(confidence.get_confidence_metrics(ret, mask=seq_mask, rank_by="plddt",
                                                     use_jnp=True, keep_pae=True))
        ret["tol"] = confidence.compute_tol(prev_pos, pos, seq_mask, use_jnp=True)
        return ret

    pair_real = real[:, None] & real[None, :]
    table = {"plddt": real, "predicted_lddt/logits": res,
             "experimentally_resolved/logits": res,
             "distogram/logits": pair_real[..., None],
             "pae_matrix_with_logits/logits": pair_real[..., None],
             "aligned_confidence_probs": pair_real[..., None],
             "predicted_aligned_error": pair_real}
    out64, out32, g = run(heads, sub_params(params, modulefix.ITERATION, *(
        h.split("/")[0] for h in HEAD_LOGITS)), inputs, table)
    record("heads", inputs, out64, out32, g)

    (out / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True))


def cached():
    root = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache"))
    target = root / "exafold" / "fixtures" / f"structure-{cache_key()}"
    if not (target / "meta.json").exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = pathlib.Path(tempfile.mkdtemp(prefix=target.name + ".tmp", dir=target.parent))
        try:
            generate_all(tmp)
            try:
                tmp.rename(target)
            except OSError:  # a concurrent run finished first; its fixtures are identical
                if not (target / "meta.json").exists():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=pathlib.Path)
    where.add_argument("--cache", action="store_true")
    args = parser.parse_args(argv)
    if args.cache:
        print(cached())
    else:
        args.out.mkdir(parents=True, exist_ok=True)
        generate_all(args.out)
        print(args.out)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
