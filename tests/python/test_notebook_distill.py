"""notebooks/02_distillation_job.ipynb runs a job, and what it prints agrees with the job's own
files: the journal after the rerun, the shards' rows, both confidence filters, the plots."""

import json

import numpy as np
import pytest
from notebooks import cell, cell_text, errors_or_warnings, execute, has_image

import exafold


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("nb02")
    nb = execute("02_distillation_job.ipynb", d, timeout=300)
    stderr = "".join(errors_or_warnings(nb))
    assert "Warning" not in stderr and "Traceback" not in stderr, stderr
    return nb, d / "job"


@pytest.fixture(scope="module")
def shards(run):
    _, job = run
    return {p.name: exafold.read_shard(str(p)) for p in sorted(job.glob("shard-*.h5"))}


def test_rerun_predicts_nothing_twice(run):
    nb, job = run
    records = [json.loads(x) for x in (job / "journal-r00000.jsonl").read_text().splitlines()]
    done = [r["id"] for r in records if r["type"] == "done"]
    assert len(done) == len(set(done)) == 7
    assert "journal: 7 done records for 7 ids" in cell_text(cell(nb, tag="rerun"))


def test_bad_record_fails_with_its_reason_and_the_rest_finish(run):
    nb, job = run
    index = json.loads((job / "index.json").read_text())
    assert list(index["failed"]) == ["BAD_1"] and "manifest.tsv:9" in index["failed"]["BAD_1"]
    assert f"failed BAD_1: {index['failed']['BAD_1']}" in cell_text(cell(nb, tag="table"))


def test_table_rows_are_the_shards_rows(run, shards):
    nb, job = run
    index = json.loads((job / "index.json").read_text())
    text = cell_text(cell(nb, tag="table"))
    assert f"{len(index['structures'])} structures in {len(shards)} shards" in text
    for sid, entry in index["structures"].items():
        s = shards[entry["shard"]]
        i = s["index"][sid]
        n = s["residue_offsets"][i + 1] - s["residue_offsets"][i]
        assert len(s["sequence"][i]) == n
        row = (f"{sid:<20}{n:>7}{s['mean_plddt'][i]:>11.2f}{s['ptm'][i]:>7.3f}"
               f"{s['runtime_seconds'][i]:>9.2f}  {entry['shard']}")
        assert row in text


def test_filters_agree_with_the_columns(run, shards):
    nb, job = run
    index = json.loads((job / "index.json").read_text())
    plddt = {i: float(s["mean_plddt"][r]) for s in shards.values() for i, r in s["index"].items()}
    ptm = {i: float(s["ptm"][r]) for s in shards.values() for i, r in s["index"].items()}
    # The job's own filter: --filter-min-plddt 40 --filter-min-ptm 0.2.
    job_passed = sorted(i for i in plddt if plddt[i] >= 40 and ptm[i] >= 0.2)
    assert job_passed == sorted(i for i, e in index["structures"].items() if e["passed"])
    stricter = sorted(i for i in plddt if plddt[i] >= 45 and ptm[i] >= 0.25)
    text = cell_text(cell(nb, tag="filter"))
    assert f"job filter passed: {job_passed}" in text
    assert f"stricter filter keeps: {stricter}" in text


def test_plots(run, shards):
    nb, _ = run
    assert has_image(cell(nb, tag="best")) and has_image(cell(nb, tag="throughput"))
    best = max(((float(s["mean_plddt"][r]), i) for s in shards.values() for i, r in s["index"].items()))[1]
    assert f"Prediction({best!r}" in cell_text(cell(nb, tag="best"))
    lengths = np.concatenate([np.diff(s["residue_offsets"]) for s in shards.values()])
    assert sorted(lengths.tolist()) == [40, 60, 73, 90, 120, 130, 191]
