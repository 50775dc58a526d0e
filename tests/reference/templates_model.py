"""Parity fixture of AlphaFold2's template path (real, unmasked templates), from the reference on
the CPU.

Run with the reference environment's python (env.sh prints its path):
    python templates_model.py [--cache-root DIR]

Prints the fixture directory, DIR/templates-<hash>/ (DIR defaults to
${XDG_CACHE_HOME:-~/.cache}/exafold/fixtures), where <hash> covers this script, the harness
modules it imports and the reference's package versions (not the model cases' source_hash in
fixtures.py: this case has a cache of its own). An existing directory is reused; a new one is
written under a temporary name and renamed into place when complete.

The case: model_1_ptm at the reduced widths of cases.REDUCED (template pair stack of one block),
N = 24 real residues and a padded tail of 3, S = 8 clusters (one padded), E = 12 extra rows (two
padded), 3 recycling iterations with a different MSA sample each, and T = 2 templates: chains
of ideal residues (the reference's own rigid-group geometry, torsion_angles_to_frames) on a
random backbone, template 0 missing some side-chain atoms, template 1 also missing backbone
atoms (N, CA, C of three residues) and a CB, and covering all but the last three residues;
residue 7 is covered by neither. Template pseudo-beta distances stay at least MIN_DGRAM_MARGIN
from every template distogram edge (the geometry seed is advanced until they do).

Contents:
  params.npz          reduced model_1_ptm parameters, official keys, float32, randomised
  features.npz        the model's inputs with a leading iteration axis, the reference's
                      template features (template_aatype, template_all_atom_positions,
                      template_all_atom_masks, template_mask, template_pseudo_beta(_mask)) and
                      the torsion features of the template rows exactly as the float64
                      reference computed them inside the model: template_angle_feat [T, N, 57]
                      (float64, the input of template_single_embedding) and
                      template_angle_mask [T, N] (the psi mask)
  iter{r}_prev.npz    the recycled input of iteration r (fp64 run; zeros for r = 0)
  iter{r}_out64.npz   AlphaFold_noE outputs in float64, flattened with '/', plus what the
                      template path computed: templates/query (the pair activations
                      TemplateEmbedding was given), templates/embedding (what it added to the
                      pair), templates/rows (the torsion rows, template_projection's output),
                      templates/angle_feat and the torsions templates/torsion_angles_sin_cos,
                      templates/alt_torsion_angles_sin_cos, templates/torsion_angles_mask
  iter{r}_out32.npz   the same in float32, teacher-forced on the fp64 prev and given the fp64
                      run's template torsions (cast), as exafold is: the torsion function alone
                      in float32 differs from float64 by O(1) at degenerate masked angles
                      (meta.json: template_torsions_fp32_vs_fp64_alone)
  meta.json           layout, seeds, alpha, versions, per iteration and tensor max |fp32 - fp64|
                      and max |fp64| over real entries, the recycling and template distogram
                      edge margins
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

import refcompat  # noqa: E402,F401  (patches the reference before any model is built)
import cases  # noqa: E402
import compare  # noqa: E402
import modulefix  # noqa: E402
import randomize  # noqa: E402
import runner  # noqa: E402
import synth  # noqa: E402
from alphafold.common import residue_constants as rc  # noqa: E402
from alphafold.model import all_atom, modules, r3  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
DEPENDENCIES = ("templates_model.py", "cases.py", "compare.py", "modulefix.py", "randomize.py",
                "refcompat.py", "runner.py", "synth.py")
PACKAGES = ("alphafold-colabfold", "jax", "jaxlib", "dm-haiku", "numpy")
PRESET = "model_1_ptm"
LAYOUT = synth.Layout(n_res=24, n_res_pad=3, n_msa=8, n_msa_pad=1, n_extra=12, n_extra_pad=2,
                      iterations=3, gap_after=11, gap=4, with_unknown=False)
FEATURE_SEED = 505
PARAM_SEED = 506
GEOMETRY_SEED = 507
GAP = 21  # template aatype of a residue no template covers
UNCOVERED = 7  # covered by neither template
# Template 1's missing backbone atoms (residue, atom) and CB, and its uncovered real tail.
MISSING_BACKBONE = ((3, "N"), (15, "C"), (18, "CA"))
MISSING_CB = 10
TAIL_UNCOVERED = 3
# Template pseudo-beta distances are binned with hard edges: keep them this far (Angstrom) from
# every edge, far above the float32 rounding of a distance (~1e-5 A), so that no bin depends on
# the precision.
MIN_DGRAM_MARGIN = 1e-3
DGRAM_EDGES = np.linspace(3.25, 50.75, 39)
TEMPLATE_KEYS = ("template_aatype", "template_all_atom_positions", "template_all_atom_masks",
                 "template_mask", "template_pseudo_beta", "template_pseudo_beta_mask")


def fixture_hash():
    h = hashlib.sha256()
    for name in DEPENDENCIES:
        h.update(name.encode() + b"\0" + (HERE / name).read_bytes())
    for package in PACKAGES:
        h.update(f"{package}=={importlib.metadata.version(package)}".encode())
    return h.hexdigest()[:16]


def random_backbone(rng, n):
    """Backbone frames [n] of a compact random chain: CA atoms 3.8 A apart, each frame's x axis
    along the chain (so that C and the next N point at the neighbours), y from the local bend."""
    ca = np.zeros([n, 3])
    step = rng.standard_normal(3)
    step /= np.linalg.norm(step)
    for i in range(1, n):
        step = step + 1.2 * rng.standard_normal(3)
        step /= np.linalg.norm(step)
        ca[i] = ca[i - 1] + 3.8 * step
    rot = np.zeros([n, 3, 3])
    for i in range(n):
        ahead, behind = ca[min(i + 1, n - 1)], ca[max(i - 1, 0)]
        e0 = ahead - behind
        e0 /= np.linalg.norm(e0)
        bend = (ahead + behind) / 2 - ca[i] if 0 < i < n - 1 else rng.standard_normal(3)
        e1 = bend - (bend @ e0) * e0 + 1e-3 * rng.standard_normal(3)
        e1 /= np.linalg.norm(e1)
        rot[i] = np.stack([e0, e1, np.cross(e0, e1)], axis=-1)  # columns: the frame's axes
    return rot, ca


def ideal_residues(rng, aatype, rot, ca):
    """atom37 positions [n, 37, 3] of ideal residues of aatype on the given backbone frames,
    random torsion angles, built by the reference's own functions (Algorithm 24)."""
    n = len(aatype)
    aa = np.minimum(aatype, rc.unk_restype_index)
    angles = rng.uniform(-np.pi, np.pi, [n, 7])
    sin_cos = np.stack([np.sin(angles), np.cos(angles)], axis=-1)
    backbone = r3.Rigids(r3.rots_from_tensor3x3(jnp.asarray(rot)), r3.vecs_from_tensor(jnp.asarray(ca)))
    frames = all_atom.torsion_angles_to_frames(jnp.asarray(aa), backbone, jnp.asarray(sin_cos))
    atom14 = r3.vecs_to_tensor(all_atom.frames_and_literature_positions_to_atom14_pos(jnp.asarray(aa), frames))
    _, atom37_to_atom14, atom37_mask = synth._atom_tables()
    atom37 = all_atom.atom14_to_atom37(atom14, {"residx_atom37_to_atom14": jnp.asarray(atom37_to_atom14[aa]),
                                                "atom37_atom_exists": jnp.asarray(atom37_mask[aa])})
    return np.asarray(atom37, np.float64), atom37_mask[aa]


def mutated(rng, query, rate, keep=()):
    seq = query.copy()
    change = rng.random(len(seq)) < rate
    change[list(keep)] = False
    seq[change] = rng.integers(0, 20, change.sum())
    return seq


def make_templates(rng, query, n):
    """The two templates' raw features (aatype [2, n], atom37 positions and masks), padded to n."""
    n_real = len(query)
    glycines = np.flatnonzero(query == synth.GLY)
    aatypes, positions, masks = [], [], []
    for k, rate in enumerate((0.2, 0.3)):
        seq = mutated(rng, query, rate, keep=glycines if k == 0 else ())
        if k == 1:
            seq[(glycines[0] + 3) % n_real] = synth.GLY
            if seq[MISSING_CB] == synth.GLY:  # its CB goes missing, so it must have one
                seq[MISSING_CB] = rc.restype_order["A"]
        rot, ca = random_backbone(rng, n_real)
        pos, mask = ideal_residues(rng, seq, rot, ca)
        mask = mask.copy()
        side = np.zeros_like(mask, dtype=bool)
        side[:, 5:] = rng.random([n_real, 32]) < 0.1  # atom37 order: N CA C CB O, then side chains
        mask[side] = 0
        seq[UNCOVERED] = GAP
        mask[UNCOVERED] = 0
        if k == 1:
            for residue, atom in MISSING_BACKBONE:
                mask[residue, rc.atom_order[atom]] = 0
            mask[MISSING_CB, rc.atom_order["CB"]] = 0
            seq[n_real - TAIL_UNCOVERED:] = GAP
            mask[n_real - TAIL_UNCOVERED:] = 0
        aa_full = np.zeros(n, np.int32)
        aa_full[:n_real] = seq
        mask_full = np.zeros([n, 37], np.float32)
        mask_full[:n_real] = mask
        pos_full = np.zeros([n, 37, 3], np.float32)
        pos_full[:n_real] = pos * mask[..., None]
        aatypes.append(aa_full)
        positions.append(pos_full)
        masks.append(mask_full)
    aatype, pos, mask = np.stack(aatypes), np.stack(positions), np.stack(masks)
    beta, beta_mask = modules.pseudo_beta_fn(jnp.asarray(aatype), jnp.asarray(pos), jnp.asarray(mask))
    return {"template_aatype": aatype, "template_all_atom_positions": pos,
            "template_all_atom_masks": mask, "template_mask": np.ones(2, np.float32),
            "template_pseudo_beta": np.asarray(beta, np.float32),
            "template_pseudo_beta_mask": np.asarray(beta_mask, np.float32)}


def dgram_margin(templates, seq_mask):
    """Closest distance (A) of a template pseudo-beta distance to a distogram edge, over the real
    residue pairs whose backbone frames both exist (the others are masked out of the features)."""
    margin = np.inf
    n_atoms = [rc.atom_order[a] for a in ("N", "CA", "C")]
    for k in range(len(templates["template_mask"])):
        backbone = templates["template_all_atom_masks"][k][:, n_atoms].prod(-1) * seq_mask
        keep = np.flatnonzero(backbone > 0)
        beta = templates["template_pseudo_beta"][k][keep].astype(np.float64)
        d = np.sqrt(((beta[:, None] - beta[None]) ** 2).sum(-1))[np.triu_indices(len(keep), 1)]
        margin = min(margin, float(np.abs(d[:, None] - DGRAM_EDGES).min()))
    return margin


class Capture:
    """What the template path computes inside the full model, recorded by debug callbacks; and,
    when a batch carries GIVEN, the template torsions taken from it instead of computed."""

    def __init__(self):
        self.values = {}
        self.given = None

    def _record(self, name):
        def record(x):
            self.values[name] = np.array(x)
        return record

    def interceptor(self, method, args, kwargs, context):
        out = method(*args, **kwargs)
        if context.method_name == "__call__":
            name = context.module.module_name.split("/")[-1]
            if name == "template_embedding":
                jax.debug.callback(self._record("templates/query"), args[0], ordered=True)
                jax.debug.callback(self._record("templates/embedding"), out, ordered=True)
            elif name == "template_single_embedding":
                jax.debug.callback(self._record("templates/angle_feat"), args[0], ordered=True)
            elif name == "template_projection":
                jax.debug.callback(self._record("templates/rows"), out, ordered=True)
        return out

    def torsions(self, fn):
        def wrapped(*args, **kwargs):
            ret = fn(*args, **kwargs) if self.given is None else dict(self.given)
            for key in TORSION_KEYS:
                jax.debug.callback(self._record(f"templates/{key}"), ret[key], ordered=True)
            return ret
        return wrapped


# The batch key of torsions to use instead of computing them (not 'template_*': the reference
# maps every such key over the templates).
GIVEN = "given_template_torsions"
TORSION_KEYS = ("torsion_angles_sin_cos", "alt_torsion_angles_sin_cos", "torsion_angles_mask")


def torsion_gap(templates):
    """max |float32 - float64| of the reference's template torsion features (the 57 inputs of
    template_single_embedding) computed alone from the same atoms."""
    fn = jax.jit(lambda aa, pos, mask: all_atom.atom37_to_torsion_angles(
        aatype=aa, all_atom_pos=pos, all_atom_mask=mask, placeholder_for_undefined=False))
    args = [templates[k] for k in ("template_aatype", "template_all_atom_positions",
                                   "template_all_atom_masks")]
    out = {}
    for dtype in (np.float64, np.float32):
        with runner.precision(dtype):
            ret = fn(*[runner.cast(a, dtype) for a in args])
            out[dtype] = {k: np.asarray(v, np.float64) for k, v in ret.items()}
    return {k: float(np.abs(out[np.float32][k] - out[np.float64][k]).max()) for k in TORSION_KEYS}


def generate(out):
    case = cases.Case(PRESET, cases.REDUCED, LAYOUT, FEATURE_SEED)
    cfg, overrides = cases.build_config(case)
    assert cfg.model.embeddings_and_evoformer.template.enabled
    assert cfg.model.embeddings_and_evoformer.template.embed_torsion_angles
    assert not cfg.model.embeddings_and_evoformer.template.use_template_unit_vector
    features = synth.make_features(LAYOUT, FEATURE_SEED, templates=False)
    n = features["aatype"].shape[1]
    query = features["aatype"][0][:LAYOUT.n_res]
    seq_mask = features["seq_mask"][0]
    for geometry_seed in range(GEOMETRY_SEED, GEOMETRY_SEED + 100):
        templates = make_templates(np.random.default_rng(geometry_seed), query, n)
        margin = dgram_margin(templates, seq_mask)
        if margin >= MIN_DGRAM_MARGIN:
            break
    else:
        raise RuntimeError("no template geometry kept its distances clear of the distogram edges")
    per_iter = [{**{k: v[r] for k, v in features.items()}, **templates}
                for r in range(LAYOUT.iterations)]

    torsions_alone = torsion_gap(templates)  # before the reference's function is wrapped
    capture = Capture()
    all_atom.atom37_to_torsion_angles = capture.torsions(all_atom.atom37_to_torsion_angles)

    def forward(batch):
        batch = dict(batch)
        capture.given = batch.pop(GIVEN, None)
        try:
            with hk.intercept_methods(capture.interceptor):
                return modules.AlphaFold_noE(cfg.model)(batch, is_training=False,
                                                        return_representations=True)
        finally:
            capture.given = None

    f = hk.transform(forward)
    evo = cfg.model.embeddings_and_evoformer
    prev = {"prev_msa_first_row": np.zeros([n, evo.msa_channel]),
            "prev_pair": np.zeros([n, n, evo.pair_channel]), "prev_pos": np.zeros([n, 37, 3])}
    with runner.precision(np.float32):
        p0 = jax.jit(f.init)(runner.KEY, runner.cast({**per_iter[0], "prev": prev}, np.float32))
    params = randomize.randomize(jax.tree_util.tree_map(np.asarray, p0), PARAM_SEED, cases.ALPHA)
    np.savez(out / "params.npz", **randomize.to_flat(params))

    # The float32 run is given the float64 run's template torsions (cast), as exafold is: the
    # torsion function alone in float32 differs from float64 by O(1) at degenerate masked angles
    # (pre-omega of the first residue and of the one after a gap: the direction of a vector of
    # rounding noise), which would swamp the network's own float32 noise (meta.json records it).
    apply = jax.jit(f.apply)
    expected = {"templates/query", "templates/embedding", "templates/angle_feat", "templates/rows",
                *(f"templates/{k}" for k in TORSION_KEYS)}
    gaps, recycle, angles = {}, {}, []
    for r, feats in enumerate(per_iter):
        np.savez(out / f"iter{r}_prev.npz", **prev)
        batch = {**feats, "prev": prev}
        capture.values = {}
        ret64 = runner.apply(apply, params, batch, dtype=np.float64)
        jax.effects_barrier()
        cap64 = dict(capture.values)
        torsions64 = {k: cap64[f"templates/{k}"] for k in TORSION_KEYS if f"templates/{k}" in cap64}
        capture.values = {}
        ret32 = runner.apply(apply, params, {**batch, GIVEN: torsions64}, dtype=np.float32)
        jax.effects_barrier()
        cap32 = dict(capture.values)
        for cap in (cap64, cap32):
            if set(cap) != expected:
                raise RuntimeError(f"captured {sorted(cap)}")
        next_prev, prev32 = ret64.pop("prev"), ret32.pop("prev")
        out64 = {**runner.flatten(ret64), **cap64}
        out32 = {**runner.flatten(ret32), **cap32}
        np.savez(out / f"iter{r}_out64.npz", **out64)
        np.savez(out / f"iter{r}_out32.npz", **out32)
        gaps[f"iter{r}"] = compare.gaps(out32, out64, compare.mask_table(feats))
        if r + 1 < len(per_iter):
            recycle[f"iter{r + 1}"] = compare.recycle_margins(
                next_prev["prev_pos"], prev32["prev_pos"], per_iter[r + 1])
        angles.append((cap64["templates/angle_feat"], cap64["templates/torsion_angles_mask"]))
        prev = next_prev

    # The template features are the same in every iteration, and so are their torsions.
    for feat, mask in angles[1:]:
        if not (np.array_equal(feat, angles[0][0]) and np.array_equal(mask, angles[0][1])):
            raise RuntimeError("the template torsion features changed between iterations")
    angle_feat, torsion_mask = angles[0]
    features.update({k: np.stack([v] * LAYOUT.iterations) for k, v in templates.items()})
    features["template_angle_feat"] = np.stack([angle_feat] * LAYOUT.iterations)
    features["template_angle_mask"] = np.stack([torsion_mask[..., 2]] * LAYOUT.iterations)
    np.savez(out / "features.npz", **features)

    meta = {
        "preset": "reduced_ptm",
        "reference_preset": PRESET,
        "cfg_overrides": overrides,
        "layout": {k: getattr(LAYOUT, k) for k in LAYOUT.__dataclass_fields__},
        "templates": {"count": 2, "uncovered_residue": UNCOVERED,
                      "missing_backbone": [list(x) for x in MISSING_BACKBONE],
                      "missing_cb": MISSING_CB, "tail_uncovered": TAIL_UNCOVERED},
        "seeds": {"features": FEATURE_SEED, "params": PARAM_SEED, "geometry": geometry_seed},
        "alpha": cases.ALPHA,
        "template_dgram_edge_margin_angstrom": margin,
        "template_torsions_fp32_vs_fp64_alone": torsions_alone,
        "versions": {p: importlib.metadata.version(p) for p in PACKAGES},
        "fp32_vs_fp64": gaps,
        "recycling": recycle,
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    cache = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache"))
    parser.add_argument("--cache-root", type=pathlib.Path, default=cache / "exafold" / "fixtures")
    args = parser.parse_args(argv)
    final = args.cache_root / f"templates-{fixture_hash()}"
    if not (final / "meta.json").exists():
        args.cache_root.mkdir(parents=True, exist_ok=True)
        tmp = pathlib.Path(tempfile.mkdtemp(prefix=".templates-", dir=args.cache_root))
        try:
            generate(tmp)
            try:
                tmp.rename(final)
            except OSError:  # a concurrent run finished first; its result is identical
                if not (final / "meta.json").exists():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print(final)


if __name__ == "__main__":
    sys.exit(main())
