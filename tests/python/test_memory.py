"""Allocator statistics, limits, migrate counters and the MigratableMemory scope."""

import re

import numpy as np
import pytest

import exafold


def test_stats_track_allocation_reuse_and_peak():
    exafold.empty_cache()
    exafold.reset_peak_memory()
    s0 = exafold.memory_stats()
    t = exafold.empty([512, 512], "float32")  # 1 MiB: the small pool
    s1 = exafold.memory_stats()
    assert s1["in_use"] - s0["in_use"] == 2**20
    assert s1["allocations"] == s0["allocations"] + 1
    ptr = t.data_ptr
    del t
    t = exafold.empty([512, 512], "float32")
    assert t.data_ptr == ptr  # served from the cache
    s2 = exafold.memory_stats()
    assert s2["cache_hits"] == s1["cache_hits"] + 1
    assert s2["system_allocs"] == s1["system_allocs"]
    assert s2["peak_in_use"] >= s1["in_use"]
    del t


def test_limit_raises_memory_error_with_the_numbers():
    exafold.empty_cache()
    base = exafold.memory_stats()["reserved"]
    exafold.set_memory_limit(base + 64 * 2**20)
    try:
        keep = exafold.empty([8 * 2**20], "float32")  # 32 MiB
        with pytest.raises(MemoryError) as info:
            exafold.empty([16 * 2**20], "float32")  # 64 MiB more would pass the limit
        msg = str(info.value)
        assert "tried to allocate 64.00 MiB (67108864 bytes)" in msg
        assert re.search(r"limit \d+\.\d\d MiB", msg)
        assert "in use" in msg and "reserved" in msg
        assert exafold.memory_stats()["ooms"] >= 1
        del keep
    finally:
        exafold.set_memory_limit(0)
    assert exafold.empty([16 * 2**20], "float32").nbytes == 64 * 2**20


def test_empty_cache_returns_memory():
    # 16 MiB: a segment of its own (caching_allocator.cpp), wholly free once t is gone.
    t = exafold.empty([4 * 2**20], "float32")
    del t
    s = exafold.memory_stats()
    cached = s["reserved"] - s["in_use"]
    assert cached >= 16 * 2**20
    exafold.empty_cache()
    s = exafold.memory_stats()
    # Every wholly free segment went back; what stays cached shares a segment with memory still
    # in use (models and constant tables other tests keep).
    assert s["reserved"] - s["in_use"] <= cached - 16 * 2**20


def test_migrate_to_the_same_device_is_elided():
    exafold.reset_migrate_stats()
    t = exafold.empty([100], "float32")
    m = exafold.migrate(t, "cpu")
    assert m.data_ptr == t.data_ptr
    assert exafold.migrate_stats() == {"copies": 0, "elided": 1, "bytes_moved": 0, "prefetches": 0, "staged": 0,
                                       "bytes_staged": 0}


def test_migrate_to_another_device_copies():
    exafold._core._enable_test_device()
    exafold.reset_migrate_stats()
    a = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    t = exafold.from_numpy(a).permute([2, 0, 1])
    m = exafold.migrate(t, "test_host:0")
    assert m.device == "test_host:0"
    assert m.data_ptr != t.data_ptr and m.is_contiguous()
    back = exafold.migrate(m, "cpu")
    np.testing.assert_array_equal(back.numpy(), a.transpose(2, 0, 1))
    st = exafold.migrate_stats()
    assert st["copies"] == 2 and st["elided"] == 0 and st["bytes_moved"] == 2 * a.nbytes


def test_migratable_memory_scope():
    assert not exafold.MigratableMemory.active()
    with exafold.MigratableMemory():
        assert exafold.MigratableMemory.active()
        t = exafold.empty([10])
    assert not exafold.MigratableMemory.active()
    assert t.memory_kind == ("unified" if exafold.gpu_count() > 0 else "host")


@pytest.mark.skipif(exafold.gpu_count() > 0, reason="checks the CPU-only answers")
def test_gpu_memory_is_a_clear_error_without_a_gpu():
    with pytest.raises(ValueError, match="no device memory on cuda:0"):
        exafold.empty([4], "float32", "cuda:0")
    with pytest.raises(ValueError, match="no pinned memory on cpu"):
        exafold.empty([4], "float32", "cpu", "pinned")
    assert not exafold.accessible("unified", "cpu", "cuda:0")
    assert exafold.info()["memory_kinds"] == {"cpu": ["host"]}
