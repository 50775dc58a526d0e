"""Processed monomer features, synthesised with numpy from a seed.

The tensors mimic the output of AlphaFold's `np_example_to_features` (one
ensemble member per recycling iteration, padded to fixed sizes). They only need
to be plausible model inputs: both engines are fed the identical stored tensors,
so the TensorFlow feature pipeline is never run.
"""
import dataclasses

import numpy as np
from alphafold.common import residue_constants as rc

GLY = rc.restype_order["G"]
UNK = rc.unk_restype_index
GAP = 21
MASK_TOKEN = 22


@dataclasses.dataclass(frozen=True)
class Layout:
    n_res: int  # real residues
    n_res_pad: int  # padded tail (seq_mask 0)
    n_msa: int  # cluster rows including padded ones
    n_msa_pad: int
    n_extra: int  # extra rows including padded ones
    n_extra_pad: int
    iterations: int
    gap_after: int  # residue_index jumps after this position
    gap: int
    with_unknown: bool  # one residue of type X


def _atom_tables():
    """Per-restype atom tables exactly as the reference's make_atom14_masks builds them."""
    atom14_mask, atom37_to_atom14 = [], []
    atom37_mask = np.zeros([21, 37], np.float32)
    for i, letter in enumerate(rc.restypes):
        names = rc.restype_name_to_atom14_names[rc.restype_1to3[letter]]
        index14 = {name: k for k, name in enumerate(names)}
        atom37_to_atom14.append([index14.get(name, 0) for name in rc.atom_types])
        atom14_mask.append([1.0 if name else 0.0 for name in names])
        for name in rc.residue_atoms[rc.restype_1to3[letter]]:
            atom37_mask[i, rc.atom_order[name]] = 1.0
    atom37_to_atom14.append([0] * 37)  # UNK has no atoms
    atom14_mask.append([0.0] * 14)
    return (np.array(atom14_mask, np.float32), np.array(atom37_to_atom14, np.int32), atom37_mask)


def _homologs(rng, query, count):
    """Mutated copies of the query with gaps and deletion counts."""
    seqs = np.tile(query, (count, 1))
    mutate = rng.random(seqs.shape) < 0.25
    seqs[mutate] = rng.integers(0, 20, mutate.sum())
    seqs[rng.random(seqs.shape) < 0.08] = GAP
    deletions = np.where(rng.random(seqs.shape) < 0.06, rng.integers(1, 9, seqs.shape), 0)
    return seqs, deletions.astype(np.float32)


def _bert_mask(rng, msa):
    """Rough stand-in for make_masked_msa: 15% of positions, mostly the mask token."""
    msa = msa.copy()
    replace = rng.random(msa.shape) < 0.15
    tokens = np.where(rng.random(msa.shape) < 0.7, MASK_TOKEN, rng.integers(0, 20, msa.shape))
    msa[replace] = tokens[replace]
    return msa


def _cluster_summary(msa, deletions, extra, extra_deletions):
    """Profile and mean deletions after assigning each extra row to its nearest cluster."""
    agreement = (msa[:, None, :] == extra[None, :, :]).sum(-1)
    nearest = agreement.argmax(0)
    profile = np.eye(23, dtype=np.float32)[msa]
    deletion_sum = deletions.copy()
    counts = np.ones(len(msa), np.float32)
    for row, cluster in enumerate(nearest):
        profile[cluster] += np.eye(23, dtype=np.float32)[extra[row]]
        deletion_sum[cluster] += extra_deletions[row]
        counts[cluster] += 1
    return profile / counts[:, None, None], deletion_sum / counts[:, None]


def _deletion_value(d):
    return np.arctan(d / 3.0) * (2.0 / np.pi)


def make_features(layout: Layout, seed: int, templates: bool):
    """Returns a dict of arrays with a leading iteration axis (one MSA sample each).

    With `templates`, one fully masked template (T=1) is added.
    """
    rng = np.random.default_rng(seed)
    L = layout
    n, n_real = L.n_res + L.n_res_pad, L.n_res
    s_real, e_real = L.n_msa - L.n_msa_pad, L.n_extra - L.n_extra_pad

    query = rng.integers(0, 20, n_real)
    query[[2, n_real // 2]] = GLY  # pseudo-beta falls back to CA
    if L.with_unknown:
        query[n_real - 3] = UNK  # no atoms, zero pseudo-beta position
    positions = np.arange(n_real)
    residue_index = positions + L.gap * (positions > L.gap_after)

    atom14_mask, atom37_to_atom14, atom37_mask = _atom_tables()
    static = {
        "aatype": np.zeros(n, np.int32),
        "residue_index": np.zeros(n, np.int32),
        "seq_mask": np.zeros(n, np.float32),
        "target_feat": np.zeros([n, 22], np.float32),
        "atom14_atom_exists": np.zeros([n, 14], np.float32),
        "residx_atom37_to_atom14": np.zeros([n, 37], np.int32),
        "atom37_atom_exists": np.zeros([n, 37], np.float32),
    }
    static["aatype"][:n_real] = query
    static["residue_index"][:n_real] = residue_index
    static["seq_mask"][:n_real] = 1.0
    static["target_feat"][:n_real, 1:] = np.eye(21, dtype=np.float32)[query]  # has_break = 0
    static["atom14_atom_exists"][:n_real] = atom14_mask[query]
    static["residx_atom37_to_atom14"][:n_real] = atom37_to_atom14[query]
    static["atom37_atom_exists"][:n_real] = atom37_mask[query]
    if templates:
        static.update({
            "template_aatype": np.zeros([1, n], np.int32),
            "template_all_atom_positions": np.zeros([1, n, 37, 3], np.float32),
            "template_all_atom_masks": np.zeros([1, n, 37], np.float32),
            "template_pseudo_beta": np.zeros([1, n, 3], np.float32),
            "template_pseudo_beta_mask": np.zeros([1, n], np.float32),
            "template_mask": np.zeros([1], np.float32),
        })

    # A pool larger than one sample, so every iteration draws a different MSA.
    pool, pool_deletions = _homologs(rng, query, (s_real - 1) + e_real + 8)
    iterations = []
    for _ in range(L.iterations):
        order = rng.permutation(len(pool))
        cluster_rows, extra_rows = order[: s_real - 1], order[s_real - 1 : s_real - 1 + e_real]
        msa = np.concatenate([query[None], pool[cluster_rows]])
        deletions = np.concatenate([np.zeros([1, n_real], np.float32), pool_deletions[cluster_rows]])
        extra, extra_deletions = pool[extra_rows], pool_deletions[extra_rows]
        msa = _bert_mask(rng, msa)
        profile, deletion_mean = _cluster_summary(msa, deletions, extra, extra_deletions)

        msa_feat = np.zeros([L.n_msa, n, 49], np.float32)
        msa_feat[:s_real, :n_real] = np.concatenate([
            np.eye(23, dtype=np.float32)[msa],
            np.clip(deletions, 0.0, 1.0)[..., None],
            _deletion_value(deletions)[..., None],
            profile,
            _deletion_value(deletion_mean)[..., None],
        ], axis=-1)
        feats = dict(static)
        feats["msa_feat"] = msa_feat
        feats["msa_mask"] = np.zeros([L.n_msa, n], np.float32)
        feats["msa_mask"][:s_real, :n_real] = 1.0
        feats["extra_msa"] = np.zeros([L.n_extra, n], np.int32)
        feats["extra_msa"][:e_real, :n_real] = extra
        feats["extra_msa_mask"] = np.zeros([L.n_extra, n], np.float32)
        feats["extra_msa_mask"][:e_real, :n_real] = 1.0
        feats["extra_has_deletion"] = np.zeros([L.n_extra, n], np.float32)
        feats["extra_has_deletion"][:e_real, :n_real] = np.clip(extra_deletions, 0.0, 1.0)
        feats["extra_deletion_value"] = np.zeros([L.n_extra, n], np.float32)
        feats["extra_deletion_value"][:e_real, :n_real] = _deletion_value(extra_deletions)
        iterations.append(feats)
    return {k: np.stack([f[k] for f in iterations]) for k in iterations[0]}
