"""Runner outputs: the confidence filter, the shard writer thread (rollover, sidecars, journal,
PDB/mmCIF), staging through scratch, and reconciling an output directory after a crash."""

import errno
import json
import math
import os

import exafold
import gemmi
import numpy as np
import pytest
from exafold.runner import catalog
from exafold.runner import staging as staging_mod
from exafold.runner.outputs import (
    Filter,
    OutputError,
    OutputOptions,
    ShardSink,
    Structure,
)
from exafold.residues import aatype_of
from exafold.runner.staging import Staging
from exafold.runner.worker import check_prediction
from runner_doubles import make_predict, seed_of

HASH = "00000000000000aa"


def structure(i: int, n: int = 6, preset: str = "model_1_ptm") -> Structure:
    sid = f"s{i}"
    seq = "MKVGLA"[:n] if n <= 6 else "A" * n
    seed = seed_of(sid)
    feats = {"aatype": np.frombuffer(seq.encode(), np.uint8), "seed": np.array([seed], np.uint64)}
    result = check_prediction(make_predict(preset)(feats), n, preset)
    return Structure(sid, seq, seed, preset, 0.5, 1e9, result, {preset: result["mean_plddt"]})


def sink_for(tmp_path, **options):
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    st = Staging(out, options.pop("scratch", None))
    journal = exafold.JournalWriter(str(out / catalog.journal_name(0)), HASH)
    return out, st, journal, ShardSink(st, journal, 0, OutputOptions(**options))


def test_filter_verdicts():
    f = Filter(min_mean_plddt=70, min_ptm=0.5, plddt_level=80, min_fraction=0.5)
    plddt = np.array([90, 85, 60, 50], np.float32)
    assert f.apply(plddt, 71.25, 0.6) == (0.5, True, {})
    fraction, passed, reasons = f.apply(plddt, 60.0, 0.4)
    assert not passed and set(reasons) == {"mean_plddt", "ptm"}
    assert reasons["mean_plddt"] == "mean pLDDT 60.0 < 70" and reasons["ptm"] == "pTM 0.400 < 0.5"
    assert f.apply(plddt, 75.0, math.nan)[1]  # no pTM head: the pTM threshold does not apply
    assert f.apply(plddt[2:], 75.0, 0.9)[2] == {
        "fraction": "fraction of residues with pLDDT >= 80 is 0.00 < 0.5"}


def test_aatype_of():
    assert aatype_of("ARNDX").tolist() == [0, 1, 2, 3, 20]


def test_shards_roll_over_and_rows_are_journaled_when_durable(tmp_path):
    out, _, journal, sink = sink_for(tmp_path, shard_size=2, pdb=True, mmcif=True)
    structures = [structure(i) for i in range(5)]
    for s in structures:
        sink.put(s)
    sink.close()
    shards = sorted(p.name for p in out.glob("shard-*.h5"))
    assert shards == ["shard-r00000-00000.h5", "shard-r00000-00001.h5", "shard-r00000-00002.h5"]
    done = exafold.read_journal(str(out / catalog.journal_name(0)))["done"]
    assert [(d["id"], d["shard"], d["offset"]) for d in done] == [
        ("s0", shards[0], 0), ("s1", shards[0], 1), ("s2", shards[1], 0), ("s3", shards[1], 1), ("s4", shards[2], 0)]
    shard = exafold.read_shard(str(out / shards[1]))
    s = structures[2]
    assert shard["id"] == ["s2", "s3"] and shard["model"] == ["model_1_ptm"] * 2
    np.testing.assert_array_equal(shard["atom_positions"][:6], s.result["final_atom_positions"])
    np.testing.assert_array_equal(shard["plddt"][:6], s.result["plddt"])
    assert shard["seed"][0] == s.seed and shard["ptm"][0] == np.float32(s.result["ptm"])
    side = json.loads((out / "shard-r00000-00001.json").read_text())
    row = side["rows"][0]
    assert row["id"] == "s2" and row["row"] == 0 and row["length"] == 6 and row["atoms"] == 6 * 5 - 1
    assert row["mean_plddt"] == pytest.approx(s.result["mean_plddt"]) and sum(row["plddt_histogram"]) == 6
    pdb = gemmi.read_structure(str(out / "structures" / "s2.pdb"))
    b = [res[0].b_iso for res in pdb[0]["A"]]
    np.testing.assert_allclose(b, s.result["plddt"], atol=0.01)
    assert gemmi.cif.read(str(out / "structures" / "s2.cif")).sole_block().find_value("_entry.id") == "s2"
    assert not list(out.glob("*.tmp")) and not list((out / "structures").glob("*.tmp"))


def test_a_write_failure_stops_the_sink_and_keeps_finished_shards(tmp_path):
    out, _, journal, sink = sink_for(tmp_path, shard_size=2)
    sink.put(structure(0))
    sink.put(structure(1))
    # The next shard's temporary name is taken by a directory: creating it fails.
    (out / "shard-r00000-00001.h5.tmp").mkdir()
    first = (out / "shard-r00000-00000.h5")
    for i in range(2, 12):
        try:
            sink.put(structure(i))
        except OutputError:
            break
    with pytest.raises(OutputError, match=r"HDF5 could not create the file in .*shard-r00000-00001.h5.tmp: Is a directory"):
        sink.close()
    assert exafold.read_shard(str(first))["id"] == ["s0", "s1"]
    assert [d["id"] for d in exafold.read_journal(str(out / catalog.journal_name(0)))["done"]] == ["s0", "s1"]


def test_shards_go_through_scratch(tmp_path, monkeypatch):
    real_rename = os.rename
    moves = []

    def rename(src, dst):  # scratch is on "another file system": renames out of it fail
        if os.path.dirname(src) == str(scratch) and os.path.dirname(dst) == str(out):
            moves.append(os.path.basename(dst))
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_rename(src, dst)

    monkeypatch.setattr(staging_mod.os, "rename", rename)
    out = tmp_path / "out"
    scratch = Staging(out, tmp_path / "node").scratch
    out, st, journal, sink = sink_for(tmp_path, shard_size=2, scratch=tmp_path / "node")
    for i in range(3):
        sink.put(structure(i))
    sink.close()
    assert st.scratch == scratch and scratch.parent == tmp_path / "node"
    assert sorted(moves) == ["shard-r00000-00000.h5", "shard-r00000-00000.json",
                             "shard-r00000-00001.h5", "shard-r00000-00001.json"]
    assert not [p for p in st.scratch.iterdir() if p.is_file()]
    assert exafold.read_shard(str(out / "shard-r00000-00001.h5"))["id"] == ["s2"]


def test_staged_inputs_are_copied_and_removed(tmp_path):
    a = tmp_path / "a" / "x.a3m"
    b = tmp_path / "b" / "x.a3m"
    for p in (a, b):
        p.parent.mkdir()
        p.write_text(f">{p.parent.name}\nMKV\n")
    st = Staging(tmp_path / "out", tmp_path / "node")
    staged, d = st.stage_inputs("P1", [a, b])
    assert [p.read_text() for p in staged] == [">a\nMKV\n", ">b\nMKV\n"] and staged[0].parent == d
    st.unstage(d)
    assert not d.exists()
    assert Staging(tmp_path / "out", None).stage_inputs("P1", [a]) == ([a], None)


def test_reconcile_after_a_crash(tmp_path):
    out, _, journal, sink = sink_for(tmp_path, shard_size=2)
    for i in range(4):
        sink.put(structure(i))
    sink.close()
    del journal
    jpath = out / catalog.journal_name(0)
    lines = jpath.read_text().splitlines(keepends=True)
    # A kill after the second shard was renamed, before its rows were journaled, mid-record:
    jpath.write_text("".join(lines[:3]) + lines[3][:20])
    (out / "shard-r00000-00002.h5.tmp").write_bytes(b"partial")
    (out / "shard-r00000-00002.json").write_text("{}")  # sidecar of a shard that never finished
    counts = catalog.reconcile(out, HASH)
    assert counts == {"tmp_removed": 1, "orphan_sidecars": 1, "rows_recovered": 2}
    assert [d["id"] for d in exafold.read_journal(str(jpath))["done"]] == ["s0", "s1", "s2", "s3"]
    assert catalog.reconcile(out, HASH)["rows_recovered"] == 0
    assert catalog.next_shard_number(out, 0) == 2
    with pytest.raises(ValueError, match=f"configuration {HASH}, this run's is 00000000000000bb"):
        catalog.reconcile(out, "00000000000000bb")


def test_check_prediction_names_the_fault():
    good = make_predict("model_1")({"aatype": np.frombuffer(b"MKV", np.uint8), "seed": np.array([1], np.uint64)})
    r = check_prediction({k: v for k, v in good.items() if k != "mean_plddt"}, 3, "model_1")
    assert r["mean_plddt"] == pytest.approx(float(np.mean(good["plddt"])))
    with pytest.raises(ValueError, match=r"model_1 returned final_atom_positions of shape \(3, 37, 3\), expected \(4, 37, 3\)"):
        check_prediction(good, 4, "model_1")
    with pytest.raises(ValueError, match="model_1 returned no final_atom_mask"):
        check_prediction({"final_atom_positions": good["final_atom_positions"]}, 3, "model_1")
    bad = dict(good, final_atom_positions=np.full((3, 37, 3), np.nan, np.float32))
    with pytest.raises(ValueError, match="non-finite"):
        check_prediction(bad, 3, "model_1")


def test_only_each_ranks_last_shard_or_an_unjournaled_one_is_checked(tmp_path):
    for name in ("shard-r00000-00000.h5", "shard-r00000-00001.h5", "shard-r00000-00002.h5",
                 "shard-r00001-00000.h5", "shard-r00001-00001.h5", "journal-r00000.jsonl"):
        (tmp_path / name).write_bytes(b"")
    journaled = {"shard-r00000-00000.h5", "shard-r00000-00001.h5", "shard-r00001-00000.h5"}
    assert [p.name for p in catalog._maybe_unjournaled(tmp_path, journaled)] == [
        "shard-r00000-00002.h5", "shard-r00001-00001.h5"]
    assert [p.name for p in catalog._maybe_unjournaled(tmp_path, journaled - {"shard-r00000-00000.h5"})] == [
        "shard-r00000-00000.h5", "shard-r00000-00002.h5", "shard-r00001-00001.h5"]


def test_a_rerun_clears_what_a_crash_left_in_scratch(tmp_path):
    st = Staging(tmp_path / "out", tmp_path / "node")
    (st.scratch / "shard-r00000-00003.h5").write_bytes(b"finished but never moved")
    (st.scratch / "shard-r00000-00003.json").write_text("{}")
    staged, d = st.stage_inputs("P1", [])
    (d / "000-x.a3m").write_text(">q\nMKV\n")
    st.clear()
    assert [p for p in st.scratch.rglob("*") if p.is_file()] == [] and (st.scratch / "inputs").is_dir()
