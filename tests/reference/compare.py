"""Measurements recorded in meta.json: fp32-vs-fp64 gaps and recycling bin margins."""
import numpy as np
from alphafold.common import residue_constants as rc

# Recycled positions enter through a distogram with these bin edges (Angstrom).
RECYCLE_EDGES = np.linspace(3.25, 20.75, 15)


def mask_table(feats, extra=()):
    """(leading shape, boolean mask) pairs; the first matching prefix masks a tensor.

    Padded residues carry large garbage in the reference, so only real residues,
    unmasked MSA rows and existing atoms are compared. `extra` adds row masks of
    other MSA-like inputs (module fixtures).
    """
    seq = feats["seq_mask"] > 0
    table = [
        (feats["msa_mask"].shape, feats["msa_mask"] > 0),
        (seq.shape * 2, seq[:, None] & seq[None, :]),
        (feats["atom37_atom_exists"].shape, feats["atom37_atom_exists"] > 0),
        (feats["atom14_atom_exists"].shape, feats["atom14_atom_exists"] > 0),
        (seq.shape, seq),
    ]
    return [(m.shape, m > 0) for m in extra] + table


def _mask_for(shape, table):
    # Structure-module intermediates carry a leading layer axis, hence offset 1.
    for offset in (0, 1):
        for prefix, mask in table:
            k = len(prefix)
            if tuple(shape[offset:offset + k]) == tuple(prefix):
                full = mask.reshape((1,) * offset + mask.shape + (1,) * (len(shape) - offset - k))
                return np.broadcast_to(full, shape)
    return np.ones(shape, bool)


def gaps(out32, out64, table):
    """Per tensor: max |fp32 - fp64| and max |fp64| over the masked entries."""
    result = {}
    for key in sorted(out64):
        if not np.issubdtype(out64[key].dtype, np.floating):
            continue
        a64 = out64[key].astype(np.float64)
        mask = _mask_for(a64.shape, table)
        diff = np.abs(np.asarray(out32[key], np.float64) - a64)[mask]
        ref = np.abs(a64)[mask]
        result[key] = {
            "max_abs_diff": float(diff.max()) if diff.size else 0.0,
            "max_abs_fp64": float(ref.max()) if ref.size else 0.0,
        }
    return result


def _pseudo_beta_distances(positions, feats):
    is_gly = feats["aatype"] == rc.restype_order["G"]
    pb = np.where(is_gly[:, None], positions[:, rc.atom_order["CA"]], positions[:, rc.atom_order["CB"]])
    pb = pb[feats["seq_mask"] > 0]
    d = np.sqrt(((pb[:, None] - pb[None]) ** 2).sum(-1))
    return d[np.triu_indices(len(pb), 1)]


def recycle_margins(prev_pos64, prev_pos32, feats):
    """Distance of the recycled pseudo-beta distances to the nearest bin edge, and
    how many real pairs fall in a different bin when the fp32 positions are recycled."""
    d64 = _pseudo_beta_distances(np.asarray(prev_pos64, np.float64), feats)
    d32 = _pseudo_beta_distances(np.asarray(prev_pos32, np.float64), feats)
    bins64 = (d64[:, None] > RECYCLE_EDGES).sum(-1)
    bins32 = (d32[:, None] > RECYCLE_EDGES).sum(-1)
    return {
        "bin_edge_margin_angstrom": float(np.abs(d64[:, None] - RECYCLE_EDGES).min()),
        "fp32_bin_flips": int((bins64 != bins32).sum()),
        "pairs": int(d64.size),
    }
