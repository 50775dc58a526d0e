"""``exafold fit-time-model``: recovers known coefficients from synthetic runs, fits a real demo
run, and ``exafold distill --time-model`` orders the work by the model's seconds."""

import json

import exafold
import numpy as np
import pytest
from exafold.cli import main
from exafold.commands.fit_time_model import load_time_model
from exafold.demo import demo_params_path, examples_dir
from exafold.runner.inputs import Item
from exafold.runner.job import RunConfig, _order_longest_first

# A 100 TFLOP/s device whose S^2 and per-call terms are comparable to the FLOP term.
TRUE = {"flop_seconds": 1e-14, "pair_seconds": 1e-5, "overhead_seconds": 0.25}


def synthetic_run(d, lengths, rng):
    """A distill output directory as fit-time-model reads it: a finished shard and its sidecar."""
    d.mkdir()
    (d / "shard-r00000-00000.h5").write_bytes(b"")
    rows = []
    for i, n in enumerate(lengths):
        flops = exafold.prediction_flops(int(n), msa_clusters=512, extra_msa_rows=1024, templates=0, passes=4,
                                         ptm=True)
        seconds = TRUE["flop_seconds"] * flops + TRUE["pair_seconds"] * n * n + TRUE["overhead_seconds"]
        rows.append({"id": f"s{i}", "length": int(n), "flops": flops, "seconds": seconds * rng.uniform(0.999, 1.001)})
    (d / "shard-r00000-00000.json").write_text(json.dumps({"shard": "shard-r00000-00000.h5", "rows": rows}))
    # A sidecar whose shard never got its final name (a kill) must not count.
    (d / "shard-r00000-00001.json").write_text(json.dumps({"shard": "x", "rows": [
        {"id": "bad", "length": 50, "flops": 1.0, "seconds": 1e6}]}))


def test_recovers_known_coefficients(tmp_path, capsys):
    rng = np.random.default_rng(0)
    synthetic_run(tmp_path / "r1", rng.integers(30, 800, 40), rng)
    synthetic_run(tmp_path / "r2", rng.integers(30, 1500, 40), rng)
    out = tmp_path / "model.json"
    assert main(["fit-time-model", "--runs", str(tmp_path / "r1"), str(tmp_path / "r2"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "fitted on 80 structures" in printed and "R^2" in printed
    saved = json.loads(out.read_text())
    for key, value in TRUE.items():
        assert saved[key] == pytest.approx(value, rel=0.1), key
    assert saved["fit"]["r2"] > 0.99 and saved["fit"]["median_relative_error"] < 0.002
    assert load_time_model(out).overhead_seconds == pytest.approx(0.25, rel=0.1)


def test_errors_name_the_directory(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["fit-time-model", "--runs", str(tmp_path / "empty"), "--out", str(tmp_path / "m.json")]) == 2
    assert f"{tmp_path / 'empty'}: no finished structures" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match="bad.json: not a time model"):
        load_time_model(tmp_path / "bad.json")


def test_order_by_predicted_seconds():
    items = [Item(f"i{n}", "A" * n, "f:1") for n in (40, 300, 120)]
    model = exafold.DeviceTimeModel("cpu", **TRUE)
    config = RunConfig(out_dir=None, models=(("reduced_ptm", "x"),), time_model=model.to_json())
    ordered, costs = _order_longest_first(items, config)
    assert [len(i.sequence) for i in ordered] == [300, 120, 40]
    flops_config = RunConfig(out_dir=None, models=(("reduced_ptm", "x"),))
    _, flops = _order_longest_first(items, flops_config)
    np.testing.assert_allclose(costs, [model.seconds(n, f) for n, f in zip((300, 120, 40), flops)], rtol=1e-9)


def test_fits_a_real_demo_run(tmp_path, capsys):
    """Prefixes of short73 at five lengths, each with a single-sequence alignment, through distill
    with demo weights; the fitted model then orders a second run."""
    seq = (examples_dir() / "sequences.fasta").read_text().split(">short73")[1].split("\n", 1)[1].replace("\n", "")
    fasta = tmp_path / "q.fasta"
    fasta.write_text("".join(f">p{n}\n{seq[:n]}\n" for n in (16, 24, 32, 48, 64)))
    for n in (16, 24, 32, 48, 64):
        (tmp_path / "msas" / f"p{n}").mkdir(parents=True)
        (tmp_path / "msas" / f"p{n}" / "query.a3m").write_text(f">query\n{seq[:n]}\n")
    distill = ["distill", "--fasta", str(fasta), "--alignments", str(tmp_path / "msas"), "--model",
               f"reduced_ptm={demo_params_path('reduced_ptm')}", "--recycles", "0", "--max-msa-clusters", "8",
               "--max-extra-msa", "16", "--filter-min-plddt", "0", "--progress", "log"]
    assert main([*distill, "--out", str(tmp_path / "run")]) == 0
    model = tmp_path / "model.json"
    assert main(["fit-time-model", "--runs", str(tmp_path / "run"), "--out", str(model)]) == 0
    assert "fitted on 5 structures, lengths 16-64" in capsys.readouterr().out
    assert np.isfinite(json.loads(model.read_text())["fit"]["r2"])
    # The recorded FLOPs are the reduced preset's own, not the official sizes' (hundreds of times more).
    rows = json.loads((tmp_path / "run" / "shard-r00000-00000.json").read_text())["rows"]
    official = exafold.prediction_flops(64, msa_clusters=8, extra_msa_rows=16, templates=0, passes=1, ptm=True)
    assert 0 < next(r["flops"] for r in rows if r["length"] == 64) < official / 10
    assert main([*distill, "--out", str(tmp_path / "run2"), "--time-model", str(model)]) == 0
    assert len(json.loads((tmp_path / "run2" / "index.json").read_text())["structures"]) == 5
