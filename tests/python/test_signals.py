"""SIGINT and SIGTERM at each stage of a command (exafold.stopping): start-up, loading weights,
running, writing. Every stop is quiet (one line, no traceback) with exit status 128 + signal;
the first signal during a run finishes the open shard, a second stops at once; a rerun then
finishes every item exactly once.

Stages are found from outside, without hooks in the commands: the entry point has installed its
handling once the process catches SIGTERM (/proc/PID/status, SigCgt); weights are loading while
the process holds the weights file open (/proc/PID/fd); a run is running once its journal has
records; a shard is being written while its .h5.tmp exists."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import exafold
import runner_doubles as d
from exafold.demo import demo_params_path

DOUBLES = Path(d.__file__)


def catches(pid: int, sig: int) -> bool:
    with open(f"/proc/{pid}/status") as f:
        mask = next(int(line.split()[1], 16) for line in f if line.startswith("SigCgt:"))
    return bool(mask >> (sig - 1) & 1)


def holds_open(pid: int, path: Path) -> bool:
    fds = Path(f"/proc/{pid}/fd")
    try:
        return any(os.readlink(fd) == str(path) for fd in fds.iterdir())
    except (FileNotFoundError, ProcessLookupError):
        return False  # it exited, or closed the descriptor while we looked


def wait_until(proc: subprocess.Popen, condition, what: str, timeout: float = 60.0, step: float = 0.002) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, (what, proc.communicate())
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(step)


def journaled(out: Path) -> list[str]:
    path = out / "journal-r00000.jsonl"
    return [r["id"] for r in exafold.read_journal(str(path))["done"]] if path.exists() else []


def shard_ids(out: Path) -> Counter:
    return Counter(i for p in sorted(out.glob("shard-*.h5")) for i in exafold.read_shard(str(p))["id"])


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    fasta, msas, ids = d.write_inputs(root, [20 + i % 7 for i in range(12)])
    return fasta, msas, ids


def distill_with_doubles(out: Path, fasta: Path, msas: Path, delay: float) -> subprocess.Popen:
    params = fasta.parent / "params.npz"
    params.write_bytes(b"not read by the doubles")
    return subprocess.Popen(
        [sys.executable, str(DOUBLES), "--cli", "distill", "--fasta", str(fasta), "--alignments", str(msas),
         "--model", f"model_1_ptm={params}", "--out", str(out), "--shard-size", "3", "--pdb",
         "--progress", "log", "--mpi", "off"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "EXAFOLD_TEST_DELAY": str(delay)})


def rerun_finishes_every_item_once(out: Path, fasta: Path, msas: Path, ids: list[str]) -> None:
    proc = distill_with_doubles(out, fasta, msas, 0.0)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert shard_ids(out) == Counter(ids)
    assert sorted(json.loads((out / "index.json").read_text())["structures"]) == sorted(ids)
    assert not list(out.glob("*.tmp")) and not list((out / "structures").glob("*.tmp"))


def quiet(stderr: str) -> list[str]:
    """stderr without the progress log lines; asserts there is no traceback."""
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    return [line for line in stderr.splitlines() if "finished (" not in line]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_start_up(sig, inputs, tmp_path):
    fasta, msas, _ = inputs
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "exafold", "distill", "--fasta", str(fasta), "--alignments",
                             str(msas), "--model", f"model_1_ptm={fasta}", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(proc, lambda: catches(proc.pid, signal.SIGTERM), "the entry point's handling installed")
    proc.send_signal(sig)  # the commands' modules and the engine are still being imported
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig and quiet(err) == [f"exafold distill: {sig.name}: stopped"], err
    assert not out.exists()


def test_loading_weights(inputs, tmp_path):
    fasta, msas, _ = inputs
    params = demo_params_path("model_1_ptm")  # 93M parameters: loading takes a while
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "exafold", "distill", "--fasta", str(fasta), "--alignments",
                             str(msas), "--model", f"model_1_ptm={params}", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(proc, lambda: holds_open(proc.pid, params), "the weights file open", step=0.001)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGINT and quiet(err) == ["exafold distill: SIGINT: stopped"], err
    assert not out.exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_running_the_first_signal_finishes_the_open_shard(sig, inputs, tmp_path):
    fasta, msas, ids = inputs
    out = tmp_path / "out"
    proc = distill_with_doubles(out, fasta, msas, 0.05)
    wait_until(proc, lambda: len(journaled(out)) >= 3, "three items journaled")
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err
    assert quiet(err) == [f"exafold distill: {sig.name}: stopping: the open shard and the summary are finished "
                          "first (signal again to stop now)"], err
    # What was predicted is in finished shards and journaled; the summary says the run stopped.
    done = journaled(out)
    assert 3 <= len(done) < len(ids) and shard_ids(out) == Counter(done)
    assert not list(out.glob("*.tmp"))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["session"]["interrupted"] and summary["counts"]["pending"] == len(ids) - len(done)
    rerun_finishes_every_item_once(out, fasta, msas, ids)


def test_writing_a_second_signal_stops_at_once(inputs, tmp_path):
    """Two SIGTERMs 50 ms apart while a shard is open and a prediction is under way: the second
    is not merged with the first, it stops the process then and there, and the open shard is
    discarded (a rerun sweeps its temporary and redoes its items)."""
    fasta, msas, ids = inputs
    out = tmp_path / "out"
    proc = distill_with_doubles(out, fasta, msas, 1.0)
    wait_until(proc, lambda: any(out.glob("shard-*.h5.tmp")), "a shard being written")
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert quiet(err) == ["exafold distill: SIGTERM: stopping: the open shard and the summary are finished first "
                          "(signal again to stop now)",
                          "exafold distill: SIGTERM: stopping now, unfinished work is left for a rerun"], err
    assert not (out / "summary.json").exists()
    done = journaled(out)
    assert len(set(done)) == len(done) and set(done) <= set(shard_ids(out))
    rerun_finishes_every_item_once(out, fasta, msas, ids)


def test_predict_abandons_the_prediction_in_progress(tmp_path):
    """exafold predict with real (demo) weights: a signal during a long prediction (3,001
    iterations, some 30 s) stops it at its next recycling iteration, and nothing is written."""
    (tmp_path / "q.fasta").write_text(">first\nMKVLATGHEW\n")
    (tmp_path / "msas" / "first").mkdir(parents=True)
    (tmp_path / "msas" / "first" / "a.a3m").write_text(">first\nMKVLATGHEW\n")
    out = tmp_path / "out"
    params = demo_params_path("reduced_ptm")
    proc = subprocess.Popen([sys.executable, "-m", "exafold", "predict", "--fasta", str(tmp_path / "q.fasta"),
                             "--alignments", str(tmp_path / "msas"), "--model", f"reduced_ptm={params}",
                             "--out", str(out), "--recycles", "3000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout.readline().split()[:2] == ["id", "length"]  # the loop over items has begun
    time.sleep(1.0)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGINT, err
    assert quiet(err) == ["exafold predict: SIGINT: stopping: the structure files being written are finished "
                          "first (signal again to stop now)"], err
    assert time.monotonic() - t0 < 15, "the prediction ran to its end"
    assert list(out.iterdir()) == []
