"""Crash safety: runs killed with SIGKILL at random points resume to every id exactly once, and
SIGTERM/SIGINT stop a run gracefully with everything finished written."""

import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import exafold
import runner_doubles as d
from exafold.runner.job import run
from exafold.runner.outputs import Filter, OutputOptions

SCRIPT = Path(d.__file__)


def shard_ids(out: Path) -> Counter:
    return Counter(i for p in sorted(out.glob("shard-*.h5")) for i in exafold.read_shard(str(p))["id"])


def start(out: Path, fasta: Path, msas: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(SCRIPT), str(out), "--fasta", str(fasta), "--alignments", str(msas),
                             "--shard-size", "3", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.005)


def journaled(out: Path) -> int:
    path = out / "journal-r00000.jsonl"
    return len(exafold.read_journal(str(path))["done"]) if path.exists() else 0


def test_sigkill_at_random_points_then_resume_loses_and_duplicates_nothing(tmp_path):
    fasta, msas, ids = d.write_inputs(tmp_path, [8 + (7 * i) % 40 for i in range(30)])
    rng = random.Random(20261124)
    mid_run = kills = 0
    for trial in range(10):
        out = tmp_path / f"trial{trial}"
        # Odd trials stage through a scratch directory, which a kill also leaves half-used;
        # trials 0, 1, 4, 5, 8, 9 also write PDB and mmCIF files, which a kill can cut.
        scratch = ["--scratch", str(tmp_path / "node")] if trial % 2 else []
        structures = ["--structures"] if trial % 4 < 2 else []
        proc = start(out, fasta, msas, "--delay", "0.01", *scratch, *structures)
        wait_for(out / "journal-r00000.jsonl", proc)
        time.sleep(rng.uniform(0.0, 0.5))
        proc.kill()
        proc.communicate()
        kills += 1
        before = journaled(out)
        mid_run += 0 < before < len(ids) or (before == 0 and proc.returncode == -signal.SIGKILL)
        if trial % 3 == 0 and before < len(ids):  # a resumed run is killed too, now and then
            proc = start(out, fasta, msas, "--delay", "0.01", *scratch, *structures)
            wait_for(out / "journal-r00000.jsonl", proc)
            time.sleep(rng.uniform(0.0, 0.3))
            proc.kill()
            proc.communicate()
            kills += 1
        outputs = OutputOptions(shard_size=3, pdb=bool(structures), mmcif=bool(structures),
                                filter=Filter(min_mean_plddt=60))
        result = run(d.config(out, fasta, msas, outputs=outputs, scratch=tmp_path / "node" if scratch else None),
                     d.prepare, d.models())
        # Nothing lost, nothing duplicated, every structure file whole.
        assert shard_ids(out) == Counter(ids), f"trial {trial}: killed after {before} journaled"
        assert sorted(json.loads((out / "index.json").read_text())["structures"]) == ids
        assert result.summary["counts"]["structures"] == len(ids) and result.summary["counts"]["pending"] == 0
        assert not list(out.glob("*.tmp"))
        if structures:
            files = sorted(p.name for p in (out / "structures").iterdir())
            assert files == sorted([f"{i}.pdb" for i in ids] + [f"{i}.cif" for i in ids]), trial
            assert all((out / "structures" / f"{i}.pdb").read_text().rstrip().endswith("END") for i in ids)
    assert mid_run >= 4, f"only {mid_run} of 10 kills landed inside a run"
    print(f"{kills} kills in 10 trials, {mid_run} inside a run: none lost or duplicated an item")


def test_sigterm_and_sigint_stop_gracefully(tmp_path):
    fasta, msas, ids = d.write_inputs(tmp_path, [10] * 30)
    for sig in (signal.SIGTERM, signal.SIGINT):
        out = tmp_path / sig.name
        proc = start(out, fasta, msas, "--delay", "0.05")
        wait_for(out / "journal-r00000.jsonl", proc)
        deadline = time.monotonic() + 30
        while journaled(out) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 128 + sig, stderr
        # Everything predicted before the stop is in finished shards and journaled.
        done = exafold.read_journal(str(out / "journal-r00000.jsonl"))["done"]
        assert 3 <= len(done) < len(ids) and shard_ids(out) == Counter(x["id"] for x in done)
        assert not list(out.glob("*.tmp"))
        summary = json.loads((out / "summary.json").read_text())
        assert summary["session"]["interrupted"] and summary["counts"]["pending"] == len(ids) - len(done)
        run(d.config(out, fasta, msas), d.prepare, d.models())
        assert shard_ids(out) == Counter(ids)
