"""Runs the reference model on features made elsewhere (exafold's feature pipeline).

Run with the reference environment's python (env.sh prints its path):
    python pipeline_ref.py CASE FEATURES.npz PARAMS.npz OUT.npz

The model is the fixture case's configuration (cases.py) in float64, with its own recycling loop
over the iterations stacked in FEATURES.npz; zero templates are added where the preset has a
template stack (one fully masked template, as synth.py does). OUT.npz gets the last iteration's
outputs under the names generate.py uses.
"""
import os
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import numpy as np  # noqa: E402

import refcompat  # noqa: E402,F401  (patches the reference before any model is built)
import cases  # noqa: E402
import modulefix  # noqa: E402
import randomize  # noqa: E402
import runner  # noqa: E402

MODEL_INPUTS = ("aatype", "residue_index", "seq_mask", "target_feat", "msa_feat", "msa_mask", "extra_msa",
                "extra_msa_mask", "extra_has_deletion", "extra_deletion_value", "atom14_atom_exists",
                "residx_atom37_to_atom14", "atom37_atom_exists")


def zero_templates(n):
    return {
        "template_aatype": np.zeros([1, n], np.int32),
        "template_all_atom_positions": np.zeros([1, n, 37, 3], np.float32),
        "template_all_atom_masks": np.zeros([1, n, 37], np.float32),
        "template_pseudo_beta": np.zeros([1, n, 3], np.float32),
        "template_pseudo_beta_mask": np.zeros([1, n], np.float32),
        "template_mask": np.zeros([1], np.float32),
    }


def main(case_name, features_path, params_path, out_path):
    cfg, _ = cases.build_config(cases.CASES[case_name])
    evo = cfg.model.embeddings_and_evoformer
    feats = dict(np.load(features_path))
    params = randomize.from_flat(dict(np.load(params_path)))
    iterations, n = feats["aatype"].shape
    apply = jax.jit(modulefix.full_model(cfg).apply)
    prev = {"prev_msa_first_row": np.zeros([n, evo.msa_channel]), "prev_pair": np.zeros([n, n, evo.pair_channel]),
            "prev_pos": np.zeros([n, 37, 3])}
    for r in range(iterations):
        batch = {k: feats[k][r] for k in MODEL_INPUTS}
        if evo.template.enabled:
            batch.update(zero_templates(n))
        ret = runner.apply(apply, params, {**batch, "prev": prev}, dtype=np.float64)
        prev = ret.pop("prev")
    np.savez(out_path, **runner.flatten(ret))


if __name__ == "__main__":
    main(*sys.argv[1:5])
