"""Cost model, simulator, journal and the simulate CLI through the Python API."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import exafold
from exafold.cli import main
from exafold.inference import Settings

PUBLISHED = (347_904, 764_022_844, 300_965_502_304)  # OpenFold 2, 4 passes/512/5120/4 templates


def test_flop_polynomial_matches_published_estimate():
    # Independent of the polynomial's bookkeeping: float64 least-squares cubic through evaluations.
    s = np.array([50, 100, 200, 400, 800, 1600, 2500], dtype=np.float64)
    flops = np.array([exafold.prediction_flops(int(x)) for x in s])
    c3, c2, c1, c0 = np.polyfit(s, flops, 3)
    assert c3 == pytest.approx(PUBLISHED[0], rel=1e-6)  # exact under the documented convention
    assert c2 == pytest.approx(PUBLISHED[1], rel=1e-3)  # -0.051% (see docs/cost_model.md)
    assert c1 == pytest.approx(PUBLISHED[2], rel=1e-3)  # -0.016%
    assert abs(c0) < 1e-3 * c1  # no constant term beyond the fit's rounding
    breakdown = exafold.flop_breakdown()
    assert sum(v[0] for v in breakdown.values()) == exafold.flop_polynomial()[0]


def test_time_model_fit_and_json():
    truth = exafold.DeviceTimeModel("dev", 2e-14, 3e-7, 0.5)
    res = [64, 128, 256, 512, 1024]
    flops = [exafold.prediction_flops(r) for r in res]
    secs = [truth.seconds(r, f) for r, f in zip(res, flops)]
    m = exafold.DeviceTimeModel.fit("dev", res, flops, secs)
    assert m.flop_seconds == pytest.approx(2e-14, rel=1e-8)
    assert m.pair_seconds == pytest.approx(3e-7, rel=1e-6)
    assert m.overhead_seconds == pytest.approx(0.5, abs=1e-6)
    back = exafold.DeviceTimeModel.from_json(m.to_json())
    assert json.loads(back.to_json()) == json.loads(m.to_json())
    with pytest.raises(ValueError, match="three or more distinct lengths"):
        exafold.DeviceTimeModel.fit("dev", [64, 64, 128], flops[:3], secs[:3])


def brute_lpt(t, workers):
    load = np.zeros(workers)
    for x in sorted(t, reverse=True):
        load[np.argmin(load)] += x
    return load


def test_simulate_against_python_reference():
    rng = np.random.default_rng(0)
    t = rng.lognormal(0.0, 1.0, 400)
    r = exafold.simulate(t, 9, policy="lpt")
    ref = brute_lpt(t, 9)
    np.testing.assert_allclose(r["busy_s"], ref, rtol=1e-12)
    assert r["makespan_s"] == pytest.approx(ref.max(), rel=1e-12)
    assert r["efficiency"] == pytest.approx(t.sum() / (9 * ref.max()), rel=1e-12)
    rr = exafold.simulate(t, 9, policy="round_robin")
    np.testing.assert_allclose(rr["busy_s"], [t[i::9].sum() for i in range(9)], rtol=1e-12)
    with pytest.raises(ValueError, match="unknown scheduling policy"):
        exafold.simulate(t, 9, policy="fifo")


def test_synthetic_lengths_and_item_seconds():
    lengths = exafold.synthetic_lengths("uniprot", 200_000, 2500, 1)
    assert lengths.dtype == np.int32 and lengths.min() >= 16 and lengths.max() <= 2500
    assert lengths.mean() == pytest.approx(349, rel=0.02)
    tm = exafold.DeviceTimeModel("d", 1e-14, 0.0, 1.0)
    secs = exafold.item_seconds(lengths[:100], tm)
    ref = [1e-14 * exafold.prediction_flops(int(x)) + 1.0 for x in lengths[:100]]
    np.testing.assert_allclose(secs, ref, rtol=1e-12)


def test_simulate_cli_table_and_json(capsys, tmp_path):
    assert main(["simulate", "--distribution", "uniprot", "--count", "20000", "--workers", "100"]) == 0
    out = capsys.readouterr().out
    for word in ("round_robin", "lpt", "dispenser", "efficiency"):
        assert word in out
    lengths = tmp_path / "lengths.txt"
    lengths.write_text("# lengths\n100\n200\n300\n400\n")
    assert main(["simulate", "--lengths", str(lengths), "--workers", "2", "--policy", "lpt", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["items"] == 4 and doc["results"][0]["policy"] == "lpt"
    fasta = tmp_path / "seqs.fasta"
    fasta.write_text(">a\nACDE\nFG\n>b\nMKV\n")
    assert main(["simulate", "--lengths", str(fasta), "--workers", "1", "--policy", "lpt", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["items"] == 2
    lengths.write_text("100\nabc\n")
    assert main(["simulate", "--lengths", str(lengths), "--workers", "2"]) == 2
    assert "expected a sequence length" in capsys.readouterr().err
    # --count goes with --distribution: next to --lengths it is an error, not silently ignored.
    lengths.write_text("100\n200\n")
    assert main(["simulate", "--lengths", str(lengths), "--count", "5", "--workers", "2"]) == 2
    assert "--count applies to --distribution" in capsys.readouterr().err


def test_simulate_charges_the_preset_and_settings_the_items_run_with(capsys, tmp_path):
    lengths = tmp_path / "lengths.txt"
    lengths.write_text("100\n200\n300\n")
    tm = tmp_path / "tm.json"
    tm.write_text(exafold.DeviceTimeModel("d", 1e-12, 0.0, 0.0).to_json())
    makespan = {}
    for preset in ("model_1_ptm", "reduced_ptm"):
        assert main(["simulate", "--lengths", str(lengths), "--workers", "1", "--policy", "lpt", "--json",
                     "--time-model", str(tm), "--preset", preset]) == 0
        doc = json.loads(capsys.readouterr().out)
        s = doc["settings"]
        assert s == Settings.for_preset(preset).as_dict()  # the preset's own defaults
        flops = sum(exafold.prediction_flops(n, preset=preset, msa_clusters=s["max_msa_clusters"],
                                             extra_msa_rows=s["max_extra_msa"], passes=s["recycles"] + 1)
                    for n in (100, 200, 300))
        makespan[preset] = doc["results"][0]["makespan_s"]
        assert makespan[preset] == pytest.approx(1e-12 * flops, rel=1e-12)
    assert makespan["reduced_ptm"] < makespan["model_1_ptm"] / 100
    assert main(["simulate", "--lengths", str(lengths), "--workers", "1", "--json", "--recycles", "0"]) == 0
    assert json.loads(capsys.readouterr().out)["settings"]["recycles"] == 0


def test_simulate_json_into_a_closed_pipe_is_quiet():
    """`exafold simulate --json | head`: a reader that goes away is not an error."""
    proc = subprocess.Popen([sys.executable, "-m", "exafold", "simulate", "--distribution", "uniform", "--count",
                             "50", "--workers", "4", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the command writes
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and b"Broken pipe" not in err and b"Traceback" not in err, err


def test_journal_resume_after_sigkill(tmp_path):
    path = tmp_path / "journal.jsonl"
    h = exafold.config_hash("model=model_1_ptm passes=4")
    child = (
        "import exafold, sys\n"
        f"w = exafold.JournalWriter({str(path)!r}, {h!r})\n"
        "i = 0\n"
        "while True:\n"
        "    w.done(f'seq-{i}', 'shard-0.h5', i, 'model_1_ptm', i, 1.0); i += 1\n"
        "    if i == 50: print('ready', flush=True)\n"
    )
    with subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True) as p:
        assert p.stdout.readline().strip() == "ready"
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
    j = exafold.read_journal(str(path))
    n = len(j["done"])
    assert n >= 50
    assert [d["id"] for d in j["done"]] == [f"seq-{i}" for i in range(n)]
    w = exafold.JournalWriter(str(path), h)
    assert w.finished_ids() == {f"seq-{i}" for i in range(n)}
    w.failed("seq-x", "feature pipeline: empty MSA")
    del w
    assert "seq-x" in exafold.read_journal(str(path))["finished_ids"]
    with pytest.raises(ValueError, match="refusing to resume"):
        exafold.JournalWriter(str(path), exafold.config_hash("model=model_2_ptm passes=4"))
