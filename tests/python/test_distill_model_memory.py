"""``exafold distill --model-memory``: each prediction is chunked as the memory model says fits
the budget, and a prediction that cannot fit fails alone, with the reason, while the rest finish."""

import argparse
import json

import numpy as np
import pytest
from exafold.cli import build_parser, main
from exafold.commands import distill
from exafold.demo import demo_params_path, examples_dir
from exafold.memory_model import choose_chunk, predict_peak_bytes

DEMO_SIZES = ["--recycles", "0", "--max-msa-clusters", "32", "--max-extra-msa", "64"]


def features(residues: int, clusters: int, extra: int, iterations: int = 1) -> dict:
    """Arrays of the shapes chunk_size_for reads (their values do not matter to it)."""
    return {"aatype": np.zeros((iterations, residues), np.int32),
            "msa_feat": np.zeros((iterations, clusters, residues, 49), np.float32),
            "extra_msa": np.zeros((iterations, extra, residues), np.int32)}


def test_setting_parses():
    parse = lambda v: build_parser().parse_args(["distill", "--fasta", "f", "--model", "m=p", "--out", "o",
                                                 "--model-memory", v]).model_memory
    assert parse("auto") == "auto" and parse("none") is None and parse("1.5") == 1.5
    for bad in ("0", "-1", "lots"):
        with pytest.raises(SystemExit):
            parse(bad)
    assert distill.model_memory_bytes(1.5) == int(1.5 * 2**30)
    assert distill.model_memory_bytes(None) is None
    assert 0 < distill.model_memory_bytes("auto") <= distill.available_memory_bytes()


def test_chunk_size_is_the_memory_models_choice():
    f = features(150, 8, 8)
    budget = 100 * 2**20
    chunk = distill.chunk_size_for("model_1_ptm", f, budget)
    # Unchunked, model_1_ptm at 150 residues needs about 211 MiB: the budget forces chunking.
    assert chunk == choose_chunk("model_1_ptm", 150, 8, 8, budget, iterations=1) > 0
    assert predict_peak_bytes("model_1_ptm", 150, 8, 8, chunk, iterations=1) <= budget
    assert distill.chunk_size_for("model_1_ptm", f, None) == 0
    with pytest.raises(ValueError, match="cannot predict 150 residues within --model-memory"):
        distill.chunk_size_for("model_1_ptm", f, 2**20)


def test_a_prediction_that_cannot_fit_fails_alone(tmp_path):
    # A budget between the two bundled proteins' predicted peaks: short73 (73 residues) fits,
    # 6KWC (191) does not, even chunked.
    small, large = (predict_peak_bytes("reduced_ptm", n, 32, 64, 1, iterations=1) for n in (73, 191))
    assert small < large
    gib = (small + large) / 2 / 2**30
    ex = examples_dir()
    out = tmp_path / "run"
    assert main(["distill", "--fasta", str(ex / "sequences.fasta"), "--alignments", str(ex / "alignments"),
                 "--model", f"reduced_ptm={demo_params_path('reduced_ptm')}", "--out", str(out),
                 "--filter-min-plddt", "0", "--model-memory", f"{gib:.6f}", *DEMO_SIZES]) == 0
    index = json.loads((out / "index.json").read_text())
    assert list(index["structures"]) == ["short73"]
    assert list(index["failed"]) == ["6KWC_1"]
    assert "cannot predict 191 residues within --model-memory" in index["failed"]["6KWC_1"]
