"""MPI scale-out: the dispenser's chunks match the simulator's policy, parameters broadcast
intact, and a 2-rank run under mpiexec produces the same structures as a 1-rank run."""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import exafold
import numpy as np
import pytest
import runner_doubles as d
from exafold.runner.inputs import read_fasta
from exafold.runner.job import _order_longest_first, run
from exafold.demo import demo_arrays
from exafold.runner.mpi import broadcast_params, chunk_bounds

# Root in containers: Open MPI refuses to start without these.
MPI_ENV = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}


def mpiexec(ranks: int, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    exe = shutil.which("mpiexec")
    assert exe, "mpiexec not found: install the Debian packages openmpi-bin and libopenmpi-dev (cpp/tools/setup.sh)"
    return subprocess.run([exe, "--oversubscribe", "-n", str(ranks), sys.executable, *args], env=MPI_ENV,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("workers,divisor,min_chunk", [(1, 2.0, 1), (4, 2.0, 1), (16, 3.0, 2), (7, 1.0, 5)])
def test_chunks_follow_the_simulators_dispenser(workers, divisor, min_chunk):
    costs = np.sort(np.random.default_rng(workers).lognormal(5, 0.65, 500) ** 3)[::-1]
    bounds = chunk_bounds(costs, workers, divisor, min_chunk)
    assert bounds[0] == 0 and bounds[-1] == len(costs) and all(b > a for a, b in zip(bounds, bounds[1:]))
    sim = exafold.simulate(costs, workers, policy="dispenser", min_chunk=min_chunk, chunk_divisor=divisor)
    assert len(bounds) - 1 == sim["requests"]
    for a, b in zip(bounds, bounds[1:]):
        # Each chunk is the shortest run of items holding 1/(k W) of the remaining work.
        target = costs[a:].sum() / (divisor * workers)
        assert b - a == max(min_chunk, 1) or costs[a:b - 1].sum() < target or b - a <= min_chunk
    with pytest.raises(ValueError, match="invalid dispenser settings"):
        chunk_bounds(costs, 0)


def test_parameters_without_mpi_are_read_from_the_file(tmp_path):
    arrays = demo_arrays("reduced_ptm")
    np.savez(tmp_path / "p.npz", **arrays)
    got = broadcast_params(tmp_path / "p.npz", "reduced_ptm")
    assert got.keys() == arrays.keys() and all(np.array_equal(got[k], arrays[k]) for k in arrays)
    with pytest.raises(OSError, match="cannot open .*missing.npz"):
        broadcast_params(tmp_path / "missing.npz", "reduced_ptm")
    with pytest.raises(ValueError, match="(?s)does not match preset 'reduced'.*layout of preset 'reduced_ptm'"):
        broadcast_params(tmp_path / "p.npz", "reduced")


BCAST_SCRIPT = """
import sys, numpy as np
from exafold.demo import demo_arrays
from exafold.runner import mpi
mpi.BCAST_PIECE_BYTES = 1000  # several pieces per array
comm = mpi.world()
rank = comm.Get_rank()
try:
    mpi.broadcast_params(sys.argv[2] if rank == 0 else None, "reduced_ptm", comm)
except ValueError as e:
    print(f"rank {rank} refused: {'CRC-32' in str(e) and sys.argv[2] in str(e)}", flush=True)
got = mpi.broadcast_params(sys.argv[1] if rank == 0 else None, "reduced_ptm", comm)
ref = demo_arrays("reduced_ptm")
ok = got.keys() == ref.keys() and all(got[k].dtype == ref[k].dtype and np.array_equal(got[k], ref[k]) for k in ref)
print(f"rank {rank} ok={ok}", flush=True)
"""


def test_parameter_broadcast_under_mpiexec(tmp_path):
    arrays = demo_arrays("reduced_ptm")
    np.savez(tmp_path / "p.npz", **arrays)
    damaged = bytearray((tmp_path / "p.npz").read_bytes())
    name = max(arrays, key=lambda k: arrays[k].size)
    damaged[damaged.find(arrays[name].tobytes()) + 100] ^= 0xFF  # inside one array's data
    (tmp_path / "damaged.npz").write_bytes(damaged)
    (tmp_path / "bcast.py").write_text(BCAST_SCRIPT)
    r = mpiexec(2, str(tmp_path / "bcast.py"), str(tmp_path / "p.npz"), str(tmp_path / "damaged.npz"))
    assert r.returncode == 0, r.stderr
    # mpiexec forwards each rank's output as it comes: lines may interleave. A file rank 0
    # refuses is refused on every rank, with rank 0's message, and none is left waiting.
    assert sorted(re.findall(r"rank \d refused: \w+", r.stdout)) == ["rank 0 refused: True", "rank 1 refused: True"]
    assert sorted(re.findall(r"rank \d ok=\w+", r.stdout)) == ["rank 0 ok=True", "rank 1 ok=True"]


def structures(out: Path) -> dict[str, tuple]:
    """id -> (model, seed, digest of positions and pLDDT) over every shard of a run."""
    found = {}
    for p in sorted(out.glob("shard-*.h5")):
        s = exafold.read_shard(str(p))
        for i, sid in enumerate(s["id"]):
            a, b = s["residue_offsets"][i:i + 2]
            digest = hashlib.sha256(s["atom_positions"][a:b].tobytes() + s["plddt"][a:b].tobytes()).hexdigest()
            assert sid not in found, f"{sid} twice"
            found[sid] = (s["model"][i], int(s["seed"][i]), digest)
    return found


def test_two_ranks_make_the_same_structures_as_one(tmp_path):
    fasta, msas, ids = d.write_inputs(tmp_path, [5 + (11 * i) % 60 for i in range(24)])
    presets = "model_1_ptm,model_2_ptm"
    r = mpiexec(2, str(Path(d.__file__)), str(tmp_path / "mpi"), "--mpi", "--fasta", str(fasta), "--alignments", str(msas),
                "--presets", presets, "--delay", "0.02", "--shard-size", "4")
    assert r.returncode == 0, r.stdout + r.stderr
    two = structures(tmp_path / "mpi")
    for rank in (0, 1):  # both ranks took work and wrote their own shards and journal
        assert exafold.read_journal(str(tmp_path / "mpi" / f"journal-r{rank:05d}.jsonl"))["done"]
    index = json.loads((tmp_path / "mpi" / "index.json").read_text())["structures"]
    assert sorted(index) == ids and {e["shard"][:12] for e in index.values()} == {"shard-r00000", "shard-r00001"}
    summary = json.loads((tmp_path / "mpi" / "summary.json").read_text())
    assert summary["session"]["ranks"] == 2 and summary["counts"]["structures"] == len(ids)
    items = read_fasta(fasta, max_length=2500).items
    _, costs = _order_longest_first(items, d.config(tmp_path / "x", fasta, msas, presets=tuple(presets.split(","))))
    assert summary["session"]["dispenser_requests"] == len(chunk_bounds(costs, 2)) - 1

    one_cfg = d.config(tmp_path / "one", fasta, msas, presets=tuple(presets.split(",")))
    run(one_cfg, d.prepare, d.models(tuple(presets.split(","))))
    assert structures(tmp_path / "one") == two and sorted(two) == ids

    # A rerun on one rank finds everything finished, whichever rank's journal holds it.
    again = run(d.config(tmp_path / "mpi", fasta, msas, presets=tuple(presets.split(","))), d.prepare,
                d.models(tuple(presets.split(","))))
    assert again.stats.structures == 0 and again.summary["counts"]["pending"] == 0


def test_sigterm_stops_every_rank_gracefully(tmp_path):
    fasta, msas, ids = d.write_inputs(tmp_path, [10] * 40)
    out, pids = tmp_path / "out", tmp_path / "pids"
    pids.mkdir()
    exe = shutil.which("mpiexec")
    assert exe, "mpiexec not found: install the Debian packages openmpi-bin and libopenmpi-dev (cpp/tools/setup.sh)"
    proc = subprocess.Popen([exe, "--oversubscribe", "-n", "2", sys.executable, str(Path(d.__file__)), str(out),
                             "--mpi", "--fasta", str(fasta), "--alignments", str(msas), "--delay", "0.05",
                             "--shard-size", "3", "--pid-dir", str(pids)], env=MPI_ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (out / "journal-r00001.jsonl").exists():
        time.sleep(0.02)
    time.sleep(0.5)  # some shards finished on both ranks
    for rank in (0, 1):
        os.kill(int((pids / f"rank{rank}.pid").read_text()), signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["session"]["interrupted"] and 0 < summary["counts"]["structures"] < len(ids), stdout + stderr
    assert not list(out.glob("*.tmp"))
    finished = structures(out)  # every journaled structure is in a finished shard, once
    assert sorted(json.loads((out / "index.json").read_text())["structures"]) == sorted(finished)
    run(d.config(out, fasta, msas), d.prepare, d.models())
    assert sorted(structures(out)) == ids
