"""Whole runs with the test doubles: every id once, best model kept, longest first, failures that
fail only their items, resume, configuration guard, unwritable outputs, staging, summary."""

import hashlib
import json
from collections import Counter
from pathlib import Path

import exafold
import numpy as np
import pytest
import runner_doubles as d
from exafold.runner.job import run
from exafold.runner.outputs import Filter, OutputError, OutputOptions

PRESETS = ("model_1_ptm", "model_2_ptm")


def shard_ids(out: Path) -> Counter:
    return Counter(i for p in sorted(out.glob("shard-*.h5")) for i in exafold.read_shard(str(p))["id"])


def test_a_run_writes_every_id_once_and_keeps_the_best_model(tmp_path):
    lengths = [12, 40, 7, 33, 25, 9, 18, 50, 3]
    fasta, msas, ids = d.write_inputs(tmp_path, lengths)
    cfg = d.config(tmp_path / "out", fasta, msas, presets=PRESETS, device_peak_flops=1e15, plots=True)
    result = run(cfg, d.prepare, d.models(PRESETS))
    out = cfg.out_dir
    assert shard_ids(out) == Counter(ids)
    assert len(list(out.glob("shard-*.h5"))) == 3 and not list(out.glob("*.tmp"))

    index = json.loads((out / "index.json").read_text())
    assert sorted(index["structures"]) == ids and index["failed"] == {}
    for sid, entry in index["structures"].items():
        shard = exafold.read_shard(str(out / entry["shard"]))
        assert shard["id"][entry["row"]] == sid
        feats = {"aatype": np.frombuffer(shard["sequence"][entry["row"]].encode(), np.uint8),
                 "seed": np.array([d.seed_of(sid)], np.uint64)}
        means = {p: d.make_predict(p)(feats)["mean_plddt"] for p in PRESETS}
        assert entry["model"] == max(means, key=means.get)
        assert entry["passed"] == (entry["mean_plddt"] >= 60) and entry["seed"] == str(d.seed_of(sid))

    s = result.summary
    assert json.loads((out / "summary.json").read_text())["counts"] == s["counts"]
    assert s["counts"]["structures"] == 9 and s["counts"]["failed"] == 0 and s["counts"]["pending"] == 0
    assert s["counts"]["passed_filter"] + s["counts"]["filtered_out"] == 9
    t = s["session"]
    assert t["structures"] == 9 and t["predictions"] == 18 and t["residues_per_s"] > 0
    assert t["mfu"] == pytest.approx(t["flops_per_s"] / 1e15)
    assert t["wait_for_data_seconds"] >= 0 and not t["interrupted"]
    assert sum(s["confidence"]["histograms"]["residue_plddt"]["counts"]) == sum(lengths)
    assert "9 structures on 1 rank(s)" in (out / "summary.txt").read_text()
    assert (out / "histograms.png").read_bytes()[:4] == b"\x89PNG"


def test_items_are_dispatched_longest_first(tmp_path):
    fasta, msas, _ = d.write_inputs(tmp_path, [5, 30, 12, 40, 8, 22])
    order = []

    def prepare(request):
        order.append(len(request.sequence))
        return d.prepare(request)

    run(d.config(tmp_path / "out", fasta, msas, prefetch_threads=1), prepare, d.models())
    assert order == [40, 30, 22, 12, 8, 5]


def test_bad_inputs_fail_only_their_own_items(tmp_path):
    fasta, msas, ids = d.write_inputs(tmp_path, [10] * 8)
    (msas / ids[0] / "uniref90.a3m").unlink()                                     # no alignments
    (msas / ids[1] / "uniref90.a3m").write_text("")                               # empty
    (msas / ids[2] / "bfd.sto").write_text("# STOCKHOLM 1.0\nq MKV\nh1 M")        # truncated
    query3 = (msas / ids[3] / "uniref90.a3m").read_text().split("\n")[1]
    (msas / ids[3] / "uniref90.a3m").write_text(f">q\n{query3}\n>h\n{query3[:4]}\n")  # parser error
    with fasta.open("a") as f:
        f.write(">bad_residue\nMK1V\n>long\n" + "A" * 30 + "\n>" + ids[5] + "\nMKV\n")
    fail_seed = d.seed_of(ids[4])
    result = run(d.config(tmp_path / "out", fasta, msas, max_length=20), d.prepare,
                 {"model_1_ptm": d.make_predict("model_1_ptm", fail_ids=frozenset([fail_seed]))})
    out = tmp_path / "out"
    assert shard_ids(out) == Counter(ids[5:])
    failed = json.loads((out / "index.json").read_text())["failed"]
    assert failed[ids[0]].startswith(f"features: no alignment files (*.a3m, *.sto) for {ids[0]}")
    # The engine's parsers' messages, from the one parse the pipeline makes.
    assert failed[ids[1]].endswith("uniref90.a3m:1: empty file: no A3M record (the query must come first)")
    assert failed[ids[2]].endswith("bfd.sto:3: truncated file: no '//' line ends the alignment")
    assert "uniref90.a3m:3: " in failed[ids[3]] and "columns" in failed[ids[3]], failed[ids[3]]
    assert failed[ids[4]] == "prediction with model_1_ptm failed: MemoryError: out of device memory (test)"
    assert failed["bad_residue"].endswith("input.fasta:17: line 18: unexpected '1' at column 3 in the sequence of 'bad_residue'")
    assert failed["long"].endswith("length 30 exceeds the maximum 20")
    c = result.summary["counts"]
    assert c["structures"] == 3 and c["failed"] == 8 and c["inputs"] == 11
    assert result.summary["rejected_records"] == [
        {"source": f"{fasta}:21", "reason": f"duplicate id '{ids[5]}' (first at {fasta}:11)"}]
    assert "bad_residue" in (out / "summary.txt").read_text()


def test_residues_unknown_finds_alignments_that_keep_the_original_letters(tmp_path):
    """--residues unknown writes U, O, B, Z as X in the query; the alignments' first rows keep the
    letters, and the engine's query check treats both as the same residue type."""
    fasta, msas, ids = d.write_inputs(tmp_path, [12, 12])
    for sid, odd in zip(ids, ("U", "OBZ")):
        seq = (msas / sid / "uniref90.a3m").read_text().split("\n")[1]
        seq = odd + seq[len(odd):]
        (msas / sid / "uniref90.a3m").write_text(f">{sid}\n{seq}\n>hit\n{seq}\n")
        text = fasta.read_text().split("\n")
        text[text.index(f">{sid} test sequence {ids.index(sid)}") + 1] = seq
        fasta.write_text("\n".join(text))
    result = run(d.config(tmp_path / "out", fasta, msas, residues="unknown"), d.prepare, d.models())
    assert result.summary["counts"]["structures"] == 2, result.summary["failures"]
    assert [s.startswith(("X", "XXX")) for s in exafold.read_shard(str(tmp_path / "out" / "shard-r00000-00000.h5"))["sequence"]] == [True, True]


def test_seeds_above_2_63_survive_any_json_reader(tmp_path):
    """Structure seeds are uniform 64-bit values; every JSON file writes them as decimal strings,
    so a reader holding numbers as doubles (parse_int=float here) still has them exactly."""
    fasta, msas, ids = d.write_inputs(tmp_path, [8] * 12)
    big = [sid for sid in ids if d.seed_of(sid) >= 2**63]
    assert big, "no id with a seed above 2^63 among twelve"
    out = tmp_path / "out"
    run(d.config(out, fasta, msas), d.prepare, d.models())
    index = json.loads((out / "index.json").read_text(), parse_int=float)
    sidecar = json.loads((out / "shard-r00000-00000.json").read_text(), parse_int=float)
    journal = [json.loads(line, parse_int=float) for line in (out / "journal-r00000.jsonl").read_text().splitlines()]
    for sid in big:
        assert int(index["structures"][sid]["seed"]) == d.seed_of(sid)
    assert all(int(r["seed"]) == d.seed_of(r["id"]) for r in sidecar["rows"])
    assert all(int(r["seed"]) == d.seed_of(r["id"]) for r in journal if r["type"] == "done")
    assert {int(r["seed"]) for r in exafold.read_journal(str(out / "journal-r00000.jsonl"))["done"]} == \
        {d.seed_of(sid) for sid in ids}


def test_rerun_resumes_and_guards_the_configuration(tmp_path):
    fasta, msas, ids = d.write_inputs(tmp_path, [10, 20, 30, 15])
    cfg = d.config(tmp_path / "out", fasta, msas)
    run(cfg, d.prepare, d.models())
    before = {p.name: p.read_bytes() for p in cfg.out_dir.glob("shard-*.h5")}
    calls = []

    def counting(request):
        calls.append(request.id)
        return d.prepare(request)

    again = run(cfg, counting, d.models())
    assert calls == [] and again.stats.structures == 0 and again.summary["counts"]["structures"] == 4
    with fasta.open("a") as f:
        f.write(">late1\nMKVLA\n")
    (msas / "late1").mkdir()
    (msas / "late1" / "x.a3m").write_text(">late1\nMKVLA\n")
    run(cfg, counting, d.models())
    assert calls == ["late1"] and shard_ids(cfg.out_dir) == Counter(ids + ["late1"])
    assert all((cfg.out_dir / n).read_bytes() == b for n, b in before.items())
    with pytest.raises(ValueError, match="was written by a run with configuration .* this run's is"):
        run(d.config(tmp_path / "out", fasta, msas, seed=7), d.prepare, d.models())


def test_failed_items_are_retried_on_request(tmp_path):
    fasta, msas, ids = d.write_inputs(tmp_path, [10, 12])
    good = (msas / ids[0] / "uniref90.a3m").read_text()
    (msas / ids[0] / "uniref90.a3m").write_text(">q\nCORRUPT\n")
    cfg = d.config(tmp_path / "out", fasta, msas)
    assert run(cfg, d.prepare, d.models()).summary["counts"]["failed"] == 1
    (msas / ids[0] / "uniref90.a3m").write_text(good)
    assert run(cfg, d.prepare, d.models()).summary["counts"]["failed"] == 1  # failures are final by default
    retry = d.config(tmp_path / "out", fasta, msas, retry_failed=True)
    s = run(retry, d.prepare, d.models()).summary
    assert s["counts"]["failed"] == 0 and shard_ids(cfg.out_dir) == Counter(ids)


def test_an_unwritable_output_directory_is_a_clear_error(tmp_path):
    fasta, msas, ids = d.write_inputs(tmp_path, [10, 11, 12, 13, 14])
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match=r"output directory .*file/out is not writable"):
        run(d.config(tmp_path / "file" / "out", fasta, msas), d.prepare, d.models())

    cfg = d.config(tmp_path / "out", fasta, msas, shard_size=2)
    out = cfg.out_dir
    out.mkdir()
    (out / "shard-r00000-00001.h5.tmp").mkdir()  # the second shard cannot be created
    with pytest.raises(OutputError, match=r"HDF5 could not create the file in .*shard-r00000-00001.h5.tmp: Is a directory"):
        run(cfg, d.prepare, d.models())
    first = out / "shard-r00000-00000.h5"
    digest = hashlib.sha256(first.read_bytes()).hexdigest()
    assert len(exafold.read_shard(str(first))["id"]) == 2
    (out / "shard-r00000-00001.h5.tmp").rmdir()
    run(cfg, d.prepare, d.models())
    assert hashlib.sha256(first.read_bytes()).hexdigest() == digest
    assert shard_ids(out) == Counter(ids)


def test_a_run_through_scratch_leaves_it_empty(tmp_path):
    fasta, msas, ids = d.write_inputs(tmp_path, [10, 20, 30])
    cfg = d.config(tmp_path / "out", fasta, msas, scratch=tmp_path / "node", shard_size=2)
    run(cfg, d.prepare, d.models())
    assert shard_ids(cfg.out_dir) == Counter(ids)
    (scratch,) = (tmp_path / "node").iterdir()
    assert [p for p in scratch.rglob("*") if p.is_file()] == []


def test_filter_thresholds_are_recorded_per_structure(tmp_path):
    fasta, msas, ids = d.write_inputs(tmp_path, [10, 20, 30, 40, 15, 25])
    flt = Filter(min_mean_plddt=50, min_ptm=0.5, plddt_level=60, min_fraction=0.3)
    cfg = d.config(tmp_path / "out", fasta, msas, outputs=OutputOptions(shard_size=4, filter=flt))
    s = run(cfg, d.prepare, d.models()).summary
    index = json.loads((cfg.out_dir / "index.json").read_text())["structures"]
    for entry in index.values():
        expect = {k for k, bad in (("mean_plddt", entry["mean_plddt"] < 50), ("ptm", entry["ptm"] < 0.5),
                                   ("fraction", entry["fraction_plddt_above"] < 0.3)) if bad}
        assert set(entry["filter_reasons"]) == expect and entry["passed"] == (not expect)
    assert s["counts"]["filtered_out"] == sum(1 for e in index.values() if not e["passed"])
    assert sum(s["counts"]["filter_reasons"].values()) == sum(len(e["filter_reasons"]) for e in index.values())


def test_prefetch_threads_stage_each_items_features_for_the_device(tmp_path, monkeypatch):
    """Note [Staging]: the worker stages an item's features for RunConfig.device on the
    prefetch thread that prepared them, and the models get the staged arrays; an item whose
    features find no room on the device keeps them on the host and is still predicted."""
    import threading

    from exafold.runner import worker as worker_module

    fasta, msas, ids = d.write_inputs(tmp_path, [12, 30, 7, 21])
    threads, staged_ids, moved = [], set(), []
    refuse = {30}  # the 30-residue item finds no room

    def stage(features, device):
        assert device == "cuda:3"
        threads.append(threading.current_thread().name)
        if features["aatype"].size in refuse:
            raise MemoryError("out of memory on cuda:3 (test)")
        out = {k: v.copy() for k, v in features.items()}
        staged_ids.update(id(v) for v in out.values())
        moved.append(sum(v.nbytes for v in out.values()))
        return out

    given = []

    def predict(features):
        given.append((features["aatype"].size, all(id(v) in staged_ids for v in features.values())))
        return d.make_predict("model_1_ptm")(features)

    monkeypatch.setattr(worker_module, "stage_features", stage)
    cfg = d.config(tmp_path / "out", fasta, msas, device="cuda:3", prefetch_threads=2)
    result = run(cfg, d.prepare, {"model_1_ptm": predict})
    assert shard_ids(cfg.out_dir) == Counter(ids)
    assert len(threads) == 4 and all(t.startswith("prefetch-") for t in threads)
    assert sorted(given) == [(7, True), (12, True), (21, True), (30, False)]
    session = result.summary["session"]
    assert session["unstaged"] == 1
    assert session["staged_bytes"] == sum(moved) > 0
    assert "1 item(s) uploaded by their prediction" in (cfg.out_dir / "summary.txt").read_text()


def test_staging_for_the_cpu_hands_back_the_same_arrays():
    """On the cpu (and on the test devices, which copy at their migrate) staging copies nothing."""
    from exafold.model import stage_features

    f = {"aatype": np.arange(5, dtype=np.int32), "msa_feat": np.zeros((2, 5, 49), np.float32),
         "not_a_feature": np.ones(3)}
    for device in ("cpu", "strict"):
        staged = stage_features(f, device)
        assert staged.keys() == f.keys() and all(staged[k] is f[k] for k in f)
