"""End to end from a FASTA sequence and its real alignments: exafold's feature pipeline feeds
both exafold's model and the AlphaFold2 reference model (same parameters, float64, two
iterations free-running), and the structures and confidences must agree to the model's parity
tolerance (1e-6 of each tensor's scale, see test_model_parity.py). The short73 alignments are real
(OpenFold test data), so this exercises the features a distillation run actually produces."""

import pathlib
import subprocess
import sys

import numpy as np
import pytest

import exafold
from exafold.demo import examples_dir
from exafold.features import build_raw_features
from exafold.model import model_features

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "reference"))
import fixtures  # noqa: E402

pytestmark = pytest.mark.reference
REFERENCE = pathlib.Path(fixtures.__file__).parent

COMPARED = {
    "final_atom_positions": "structure_module/final_atom_positions",
    "plddt": "plddt",
    "ptm": "ptm",
    "predicted_aligned_error": "predicted_aligned_error",
    "distogram_logits": "distogram/logits",
    "single": "representations/single",
    "pair": "representations/pair",
}


def test_fasta_and_alignments_through_both_models(tmp_path):
    ali = examples_dir() / "alignments" / "short73"
    sequence = (examples_dir() / "sequences.fasta").read_text().split(">short73")[1].splitlines()[1].strip()
    raw = build_raw_features(sequence, [str(ali / "uniref90_hits.sto"), str(ali / "bfd_uniclust_hits.a3m"),
                                        str(ali / "mgnify_hits.sto")])
    feats = model_features(raw, exafold.features.structure_seed("short73", 0), num_recycle=1,
                           max_clusters=16, max_extra=32)
    assert feats["msa_feat"].shape == (2, 16, 73, 49)
    np.savez(tmp_path / "features.npz", **feats)

    params = pathlib.Path(fixtures.fixture_dir("reduced")) / "params.npz"
    subprocess.run([fixtures.reference_python(), str(REFERENCE / "pipeline_ref.py"), "reduced",
                    str(tmp_path / "features.npz"), str(params), str(tmp_path / "ref.npz")],
                   check=True, cwd=REFERENCE)
    ref = dict(np.load(tmp_path / "ref.npz"))

    ours = exafold.Model.load(params, "reduced_ptm", "float64")(feats, num_recycle=1)
    for mine, theirs in COMPARED.items():
        a, b = np.asarray(ours[mine], np.float64), np.asarray(ref[theirs], np.float64)
        scale = max(float(np.max(np.abs(b))), 1.0)
        assert np.max(np.abs(a - b)) <= 1e-6 * scale, f"{mine}: {np.max(np.abs(a - b)):.3g} (scale {scale:.3g})"
