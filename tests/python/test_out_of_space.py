"""A disk that fills up during a run: whichever write fails (a PDB or mmCIF file, an HDF5 shard, a
sidecar, the journal, the index, the summary), the run stops with one line naming the file and
the system's reason, exit status 2, no traceback and no HDF5 error stack; it leaves no temporary
file behind; and a rerun once there is space again finishes every item exactly once.

The disk is a small tmpfs in a private mount namespace where the machine allows it, else a
file-size limit (small_disk.py says how each works)."""

from __future__ import annotations

import errno
import os
import re
import resource
import signal
from pathlib import Path

import pytest

import runner_doubles as d
import small_disk
from exafold.files import write_atomic, write_with
from exafold.runner.catalog import write_json_atomic
from exafold.runner.staging import durable_move

# Bytes left on the tmpfs when the run starts, chosen so that the first write to fail is, in
# turn: the output directory's probe, the journal, a PDB file, an mmCIF file, a shard's creation,
# a shard's flush, and a summary file written at the end. The file-size limits hit a PDB file
# and a shard's flush. The assertions check the kinds of file named, not this order.
TMPFS_LEFT = [0, 4 << 10, 8 << 10, 24 << 10, 40 << 10, 80 << 10, 400 << 10]
FSIZE_LIMITS = [4 << 10, 20 << 10]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    _, _, ids = d.write_inputs(root, [30, 24, 36, 18, 28, 22])
    (root / "params.npz").write_bytes(b"not read: the doubles stand in for the model")
    return root, ids


def check(results: list[dict], ids: list[str], reason: str) -> set[str]:
    """The assertions common to both ways of filling the disk; returns the kinds of file named."""
    named = set()
    for r in results:
        full, again = r["full"], r["again"]
        label = f"limit {r['limit']}"
        assert "Traceback" not in full["stderr"] and "HDF5-DIAG" not in full["stderr"], (label, full["stderr"])
        assert "infinite loop" not in full["stderr"], (label, full["stderr"])
        errors = [line for line in full["stderr"].splitlines() if line.startswith("exafold distill: error: ")]
        if full["status"] != 0:
            assert full["status"] == 2 and len(errors) == 1, (label, full)
            m = re.search(r"(/\S+?)(?::|\s|$)", errors[0][len("exafold distill: error: "):])
            assert m and reason in errors[0], (label, errors[0])
            named.add(Path(m.group(1)).suffix or Path(m.group(1)).name)
        assert not [f for f in full["files"] if f.endswith(".tmp")], (label, full["files"])
        # Space again: the rerun finishes every item, each exactly once, and leaves nothing over.
        assert again["status"] == 0, (label, again)
        assert r["ids"] == {i: 1 for i in ids}, (label, r["ids"])
        assert sorted(f for f in again["files"] if f.startswith("structures/")) == sorted(
            [f"structures/{i}.cif" for i in ids] + [f"structures/{i}.pdb" for i in ids]), label
        assert not [f for f in again["files"] if f.endswith(".tmp")], (label, again["files"])
    return named


def test_a_full_disk_names_the_file_and_loses_nothing(tmp_path, inputs):
    root, ids = inputs
    if not small_disk.tmpfs_available(tmp_path / "probe"):
        pytest.skip("cannot mount a tmpfs here (no unshare, or user namespaces are off); "
                    "test_a_file_size_limit_is_handled_the_same_way covers the write paths")
    results = small_disk.run("tmpfs", tmp_path / "small", root, TMPFS_LEFT)
    named = check(results, ids, "No space left on device")
    assert {".pdb", ".cif"} & named and ".tmp" in named and len(named) >= 5, named


def test_a_file_size_limit_is_handled_the_same_way(tmp_path, inputs):
    root, ids = inputs
    results = small_disk.run("fsize", tmp_path / "limited", root, FSIZE_LIMITS)
    named = check(results, ids, "File too large")
    assert {".pdb", ".cif"} & named and ".tmp" in named, named


def test_every_writer_names_its_file_and_removes_its_temporary(tmp_path, monkeypatch):
    """The writers behind sidecars, index.json, summary.json/.txt/.png, PDB/mmCIF files and the
    scratch move, each failing on its first write (a file-size limit, in this process)."""
    src = tmp_path / "src.h5"
    src.write_bytes(b"x" * 10000)

    def move_across_file_systems(dst):
        def refuse(*args):
            raise OSError(errno.EXDEV, "Invalid cross-device link")

        with monkeypatch.context() as m:
            m.setattr(os, "rename", refuse)  # so durable_move takes its copy path
            durable_move(src, dst)

    writers = {
        "index.json": lambda p: write_json_atomic(p, {"structures": {str(i): i for i in range(2000)}}),
        "summary.txt": lambda p: write_atomic(p, "a line of the summary\n" * 1000),
        "histograms.png": lambda p: write_with(p, lambda f: f.write(b"\x89PNG" * 5000)),
        "moved.h5": move_across_file_systems,
    }

    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    try:
        for name, write in writers.items():
            path = tmp_path / name
            resource.setrlimit(resource.RLIMIT_FSIZE, (1000, hard))
            try:
                with pytest.raises(OSError) as e:
                    write(path)
            finally:
                resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
            assert str(e.value) == f"cannot write {path}: File too large", name
            assert e.value.errno == errno.EFBIG and not path.exists(), name
            assert sorted(p.name for p in tmp_path.iterdir()) == ["src.h5"], name
    finally:
        signal.signal(signal.SIGXFSZ, old_handler)
    assert src.exists()  # a failed move keeps its source
