"""notebooks/03_scheduling_and_scale.ipynb runs, and what it prints is what the engine computes."""

import json

import numpy as np
import pytest
from notebooks import cell, cell_text, errors_or_warnings, execute, has_image, results

import exafold
import exafold.demo
from exafold.commands.fit_time_model import fit_report


@pytest.fixture(scope="module")
def nb(tmp_path_factory):
    return execute("03_scheduling_and_scale.ipynb", tmp_path_factory.mktemp("nb03"))


def test_published_estimate_table(nb):
    text = cell_text(cell(nb, marker="published"))
    c3, c2, c1, _ = exafold.flop_polynomial()
    for coefficient in (c3, c2, c1):
        assert f"{coefficient:,.0f}" in text
    assert "difference +0.000%" in text  # the S^3 term is exact (docs/cost_model.md)


def test_measured_flops_are_the_presets_cost_model(nb):
    m = results(nb)["measurements"]
    config = exafold.Model.load(exafold.demo.demo_params_path(m["preset"]), m["preset"]).config
    # A 65-row alignment fills both of the preset's MSA depths.
    assert (m["msa_clusters"], m["extra_msa_rows"]) == (config["max_msa_clusters"], config["max_extra_msa"])
    poly = exafold.preset_flop_polynomial(m["preset"], msa_clusters=m["msa_clusters"],
                                                extra_msa_rows=m["extra_msa_rows"], passes=1)
    np.testing.assert_allclose(m["flops"], [np.polyval(poly, n) for n in m["lengths"]], rtol=1e-12)
    # Official sizes would count hundreds of times more: the notebook must not use them.
    official = exafold.prediction_flops(m["lengths"][-1], msa_clusters=m["msa_clusters"],
                                        extra_msa_rows=m["extra_msa_rows"], templates=0, passes=1)
    assert m["flops"][-1] < official / 10
    assert len(m["lengths"]) >= 4 and m["lengths"] == sorted(m["lengths"])
    assert all(s > 0 for s in m["seconds"])
    # Eight times the length is far more than eight times the work; no load spike hides that.
    assert m["seconds"][-1] > 4 * m["seconds"][0]


def test_time_model_is_the_least_squares_fit_of_the_measurements(nb):
    found = results(nb)
    m, printed = found["measurements"], found["time_model"]
    fitted = exafold.DeviceTimeModel.fit("this-cpu", m["lengths"], m["flops"], m["seconds"])
    for key in ("flop_seconds", "pair_seconds", "overhead_seconds"):
        assert printed[key] == pytest.approx(getattr(fitted, key), rel=1e-9, abs=1e-15), key
    report = fit_report(fitted, np.array(m["lengths"]), np.array(m["flops"]), np.array(m["seconds"]))
    assert printed["fit"] == pytest.approx(report, rel=1e-9)
    assert f"R^2 {report['r2']:.4f}" in cell_text(cell(nb, tag="fit"))


def test_simulated_efficiencies_match_the_simulator(nb):
    sim = results(nb)["simulation"]
    assert sim["workers"][0] == 1 and sim["workers"][-1] == 43_200
    lengths = exafold.synthetic_lengths(sim["distribution"], sim["count"], sim["max_length"], sim["seed"])
    times = exafold.item_seconds(lengths, exafold.DeviceTimeModel.from_json(json.dumps(sim["time_model"])))
    assert set(sim["efficiency"]) == {"round_robin", "lpt", "dispenser"}
    for policy, printed in sim["efficiency"].items():
        expected = [exafold.simulate(times, w, policy=policy, dispatch_latency_s=sim["latency"])["efficiency"]
                    for w in sim["workers"]]
        np.testing.assert_allclose(printed, expected, rtol=1e-12, err_msg=policy)
    bound = [min(1.0, times.sum() / (w * times.max())) for w in sim["workers"]]
    np.testing.assert_allclose(sim["bound"], bound, rtol=1e-12)
    for policy, eff in sim["efficiency"].items():
        assert all(e <= b * (1 + 1e-9) for e, b in zip(eff, bound)), policy
    # What the notebook's text says about the plot.
    rr, lpt = sim["efficiency"]["round_robin"], sim["efficiency"]["lpt"]
    assert rr == sorted(rr, reverse=True) and rr[-1] < 0.5
    assert min(lpt[:-1]) > 0.999 and lpt[-1] == pytest.approx(bound[-1], rel=1e-6) and bound[-1] < 1


def test_plots_and_a_clean_run(nb):
    assert has_image(cell(nb, tag="fit-plot"))
    assert has_image(cell(nb, tag="efficiency-plot"))
    stderr = "".join(errors_or_warnings(nb))
    assert "Warning" not in stderr and "Traceback" not in stderr, stderr
