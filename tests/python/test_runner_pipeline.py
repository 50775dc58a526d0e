"""The prefetch pipeline: lowest ready index first, no waiting behind a slow item, the memory
budget, errors as results, the wait-time measurement and stopping."""

import threading
import time

import numpy as np
import pytest
from exafold.runner.pipeline import Prefetcher, features_nbytes


def feats(nbytes: int) -> dict:
    return {"x": np.zeros(nbytes, np.uint8)}


def test_worker_never_waits_behind_a_slow_item():
    release = threading.Event()

    def prepare(i):
        if i == 0:
            assert release.wait(10)
        return feats(8)

    p = Prefetcher(iter(range(6)), prepare, threads=2, budget_bytes=1 << 20, estimate=lambda i: 8)
    order = []
    for r in p:
        order.append(r.item)
        if len(order) == 5:
            release.set()
    assert order == [1, 2, 3, 4, 5, 0]


def test_lowest_ready_index_first():
    gate = threading.Event()
    prepared = []

    def prepare(i):
        prepared.append(i)
        return feats(8)

    p = Prefetcher(iter(range(8)), prepare, threads=3, budget_bytes=1 << 20, estimate=lambda i: 8, depth=8)
    deadline = time.monotonic() + 10
    while len(prepared) < 8 and time.monotonic() < deadline:
        gate.wait(0.01)
    assert len(prepared) == 8
    assert [r.item for r in p] == list(range(8))


def test_memory_budget_bounds_what_is_in_flight():
    lock = threading.Lock()
    started = [0]

    def prepare(i):
        with lock:
            started[0] += 1
        return feats(100)

    p = Prefetcher(iter(range(20)), prepare, threads=4, budget_bytes=250, estimate=lambda i: 100)
    consumed, most = 0, 0
    for r in p:
        time.sleep(0.02)  # a slow worker: the pipeline fills up to the budget
        consumed += 1  # the item in hand is no longer in flight
        with lock:
            most = max(most, started[0] - consumed)
        assert p.inflight_bytes <= 250
    assert consumed == 20 and most == 2


def test_depth_bounds_the_items_in_flight():
    pulled = []

    def source():
        for i in range(50):
            pulled.append(i)
            yield i

    p = Prefetcher(source(), lambda i: feats(8), threads=2, budget_bytes=1 << 20, estimate=lambda i: 8, depth=3)
    time.sleep(0.1)
    # Three admitted, and each thread holds at most one more it pulled while waiting.
    assert len(pulled) <= 3 + 2
    assert [r.item for r in p] == list(range(50))


def test_an_item_larger_than_the_budget_runs_alone():
    active, beside_big = set(), set()

    def prepare(i):
        active.add(i)
        time.sleep(0.02)
        if i == 2:
            beside_big.update(active - {2})
        active.discard(i)
        return feats(1000 if i == 2 else 10)

    p = Prefetcher(iter(range(5)), prepare, threads=3, budget_bytes=100,
                   estimate=lambda i: 1000 if i == 2 else 10)
    assert sorted(r.item for r in p) == list(range(5))
    assert beside_big == set()


def test_errors_come_back_as_results_and_the_rest_goes_on():
    def prepare(i):
        if i == 3:
            raise ValueError("msa.a3m:7: bad row")
        return feats(8)

    results = list(Prefetcher(iter(range(6)), prepare, threads=2, budget_bytes=1 << 20, estimate=lambda i: 8))
    assert [r.item for r in results] == list(range(6))
    bad = results[3]
    assert bad.features is None and isinstance(bad.error, ValueError) and "bad row" in str(bad.error)
    assert all(r.error is None and features_nbytes(r.features) == 8 for r in results if r.item != 3)


def test_waiting_for_data_is_measured():
    p = Prefetcher(iter(range(5)), lambda i: (time.sleep(0.03), feats(8))[1], threads=1,
                   budget_bytes=1 << 20, estimate=lambda i: 8)
    assert len(list(p)) == 5
    assert 0.1 < p.wait_seconds < 2.0
    assert p.prepare_seconds >= 0.15


def test_request_stop_ends_the_iteration_and_stops_pulling():
    pulled = []

    def source():
        for i in range(1000):
            pulled.append(i)
            yield i

    p = Prefetcher(source(), lambda i: feats(8), threads=2, budget_bytes=64, estimate=lambda i: 8)
    got = [next(p).item, next(p).item]
    p.request_stop()
    assert list(p) == [] and got == [0, 1]
    p.close()
    time.sleep(0.05)
    assert len(pulled) < 1000


def test_a_failing_source_fails_the_run():
    def source():
        yield 0
        raise OSError("dispenser connection lost")

    p = Prefetcher(source(), lambda i: feats(8), threads=1, budget_bytes=64, estimate=lambda i: 8)
    with pytest.raises(RuntimeError, match="work source failed: dispenser connection lost"):
        list(p)


def test_the_reservation_is_what_the_features_hold():
    """The prefetch pipeline reserves the engine's count of an item's feature bytes (one set per
    distinct setting); with the sizes the features really have, it is exact."""
    from exafold.features import build_raw_features
    from exafold.inference import Settings, build_features, feature_bytes

    raw = build_raw_features("MKTAYIAKQRQISFVKSHFSRQ")  # single sequence: 1 cluster row, no extra
    settings = [Settings(1, 1, 1), Settings(0, 1, 1)]
    built = build_features(raw, 5, settings)
    real = [Settings(s.recycles, f["msa_feat"].shape[-3], f["extra_msa"].shape[-2]) for s, f in built.items()]
    # The features hold what the count says for their real depths (the maxima bound it above).
    exact = feature_bytes(22, [Settings(1, 1, 0)]) + feature_bytes(22, [Settings(0, 1, 0)])
    assert features_nbytes(built) == exact == sum(feature_bytes(22, [s]) for s in real)
    assert feature_bytes(22, settings) >= features_nbytes(built)
    # Two models with one setting share one set of features.
    assert feature_bytes(22, [settings[0], settings[0]]) == feature_bytes(22, settings[:1])
