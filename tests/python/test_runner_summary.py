"""Run summary arithmetic and text, and the progress display (tqdm bar or log lines)."""

import io
import math

import pytest
from exafold.runner.progress import Progress, hms
from exafold.runner.summary import SessionStats, build_summary, format_summary


def row(i: int, mean: float, ptm: float | None, passed: bool) -> dict:
    return {"id": f"s{i}", "length": 10 * (i + 1), "mean_plddt": mean, "ptm": ptm, "passed": passed,
            "filter_reasons": {} if passed else {"mean_plddt": "low"}, "plddt_histogram": [0] * 9 + [10 * (i + 1)]}


def test_summary_counts_throughput_and_mfu():
    rows = {r["id"]: r for r in [row(0, 90.0, 0.9, True), row(1, 50.0, math.nan, False), row(2, 80.0, None, True)]}
    sessions = [SessionStats(rank=0, wall_seconds=10.0, structures=2, residues=30, atoms=200, predictions=4,
                             flops=4e13, wait_seconds=1.0),
                SessionStats(rank=1, wall_seconds=8.0, structures=1, residues=30, atoms=100, predictions=2,
                             flops=2e13, wait_seconds=0.8, interrupted=True)]
    s = build_summary(config={"filter": {"min_mean_plddt": 70}}, config_hash="ab", inputs=5,
                      rejected=[{"source": "q.fa:9", "reason": "duplicate id"}], rows=rows,
                      failed={"x": "features: bad"}, pending=0, sessions=sessions, device_peak_flops=1e12)
    c, t = s["counts"], s["session"]
    assert c == {"inputs": 5, "structures": 3, "failed": 2, "pending": 0, "passed_filter": 2, "filtered_out": 1,
                 "filter_reasons": {"mean_plddt": 1}}
    assert t["wall_seconds"] == 10.0 and t["structures_per_s"] == pytest.approx(0.3)
    assert t["residues_per_s"] == pytest.approx(6.0) and t["atoms_per_s"] == pytest.approx(30.0)
    assert t["flops_per_s"] == pytest.approx(6e12) and t["mfu"] == pytest.approx(3.0)  # 6e12 / (2 x 1e12)
    assert t["wait_for_data_fraction"] == pytest.approx(1.8 / 18) and t["interrupted"]
    assert s["confidence"]["ptm"]["mean"] == pytest.approx(0.9)  # NaN and None are models without pTM
    assert s["confidence"]["histograms"]["residue_plddt"]["counts"][-1] == 60
    text = format_summary(s)
    for part in ("structures       3  (passed the filter 2, filtered out 1)", "MFU 300.00%", "x: features: bad",
                 "q.fa:9: duplicate id", "interrupted"):
        assert part in text


def test_summary_of_an_empty_run():
    s = build_summary(config={}, config_hash="ab", inputs=0, rejected=[], rows={}, failed={}, pending=0,
                      sessions=[SessionStats()], device_peak_flops=None)
    assert s["session"]["mfu"] is None and s["session"]["structures_per_s"] == 0.0
    assert "MFU n/a" in format_summary(s) and "mean n/a" in format_summary(s)


def test_hms():
    assert hms(0) == "0:00:00" and hms(3725.4) == "1:02:05" and hms(90000) == "25:00:00"
    assert hms(float("inf")) == "unknown" and hms(float("nan")) == "unknown"


def test_log_lines_when_not_a_terminal():
    out = io.StringIO()
    p = Progress(10, tty=False, interval=0.0, stream=out, label="run")
    p.update(done=3)
    p.update(failed=1)
    p.set_remote(2)
    p.close()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("run: 3/10 finished (0 failed here)")
    assert lines[-1].startswith("run: 6/10 finished (1 failed here)") and "ETA" in lines[-1]


def test_progress_bar_on_a_terminal():
    out = io.StringIO()
    p = Progress(4, tty=True, stream=out, label="run")
    p.update(done=2)
    p.update(failed=1)
    p.close()
    text = out.getvalue()
    assert "run:" in text and "3/4" in text and "failed=1" in text and "struct/s" in text


def test_labelled_weights_head_the_summary_and_its_plot(tmp_path):
    """Demo weights are named in summary.json, summary.txt and the histograms' title; the
    histograms' counts are whole structures (integer ticks, not 0.5 structures)."""
    from matplotlib.image import imread

    from exafold.runner.summary import histogram_figure, write_summary

    rows = {r["id"]: r for r in [row(0, 90.0, 0.9, True), row(1, 60.0, 0.5, False)]}
    label = "DEMO WEIGHTS: random parameters, the structures carry no meaning"
    s = build_summary(config={"filter": {"min_mean_plddt": 70}}, config_hash="ab", inputs=2, rejected=[],
                      rows=rows, failed={}, pending=0, sessions=[SessionStats(wall_seconds=1.0)],
                      device_peak_flops=None, weights_labels={"reduced_ptm": label, "model_1": ""})
    assert s["weights_labels"] == {"reduced_ptm": label}
    text = format_summary(s)
    assert text.splitlines()[0] == f"*** reduced_ptm: {label} ***" and text.splitlines()[-1] == text.splitlines()[0]
    write_summary(tmp_path, s)
    assert imread(tmp_path / "histograms.png").shape[2] in (3, 4)
    fig = histogram_figure(s)
    fig.canvas.draw()
    assert label in fig.get_suptitle()
    ticks = [t for ax in fig.axes for t in ax.get_yticks()]
    assert ticks and all(float(t).is_integer() for t in ticks)
