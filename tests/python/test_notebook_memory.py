"""notebooks/04_migratable_memory.ipynb runs, and its numbers agree with the rules they illustrate."""

import pytest
from notebooks import cell, cell_text, errors_or_warnings, execute, results

import exafold

MiB = 2**20


@pytest.fixture(scope="module")
def found(tmp_path_factory):
    nb = execute("04_migratable_memory.ipynb", tmp_path_factory.mktemp("nb04"))
    stderr = "".join(errors_or_warnings(nb))
    assert "Warning" not in stderr and "Traceback" not in stderr, stderr
    return nb, results(nb)


def test_migrating_to_the_features_device(found):
    nb, r = found
    e = r["elided"]
    assert e["gpus"] == exafold.gpu_count()
    assert e["nbytes"] == 512 * 256 * 49 * 4
    assert e["before"] == {"copies": 0, "elided": 0, "bytes_moved": 0, "prefetches": 0, "staged": 0,
                           "bytes_staged": 0}
    if exafold.gpu_count() == 0:
        # Host memory is already where the CPU reads it: nothing may be copied.
        assert e["target"] == "cpu" and e["same_memory"]
        assert e["after"] == {"copies": 0, "elided": 1, "bytes_moved": 0, "prefetches": 0, "staged": 0,
                              "bytes_staged": 0}
        assert "host memory on cpu" in cell_text(cell(nb, tag="scope"))
    else:
        after = e["after"]
        assert after["copies"] + after["elided"] == 1
        assert after["bytes_moved"] == after["copies"] * e["nbytes"]
        assert e["same_memory"] == (after["elided"] == 1)


def test_copy_path_through_the_test_device(found):
    _, r = found
    c = r["copied"]
    nbytes = 4 * 5 * 6 * 4  # the notebook's float32 array
    assert c["nbytes"] == nbytes
    assert c["stats"] == {"copies": 2, "elided": 0, "bytes_moved": 2 * nbytes, "prefetches": 0, "staged": 0,
                          "bytes_staged": 0}
    assert c["device"] == "test_host:0" and c["contiguous"] and c["new_memory"] and c["equal"]


def test_allocator_statistics_follow_the_steps(found):
    _, r = found
    a = r["allocator"]
    assert a["pair_bytes"] == 256 * 256 * 128 * 4
    s = a["steps"]
    start, alloc, freed, again = s["start"], s["allocated"], s["freed"], s["allocated again"]
    assert start["in_use"] == 0 and start["reserved"] == 0  # everything earlier was freed and released
    assert alloc["in_use"] == a["pair_bytes"] and alloc["peak_in_use"] == a["pair_bytes"]
    assert alloc["system_allocs"] == start["system_allocs"] + 1
    assert freed["in_use"] == 0 and freed["reserved"] == alloc["reserved"] >= a["pair_bytes"]
    assert freed["peak_in_use"] == a["pair_bytes"]
    assert a["reused"]
    assert again["cache_hits"] == freed["cache_hits"] + 1 and again["system_allocs"] == freed["system_allocs"]
    assert s["freed again"]["frees"] == start["frees"] + 2
    assert s["reset_peak_memory()"]["peak_in_use"] == 0
    assert s["reset_peak_memory()"]["reserved"] == alloc["reserved"]
    assert s["empty_cache()"]["reserved"] == 0
    for step in s.values():
        assert step["allocations"] - step["cache_hits"] == step["system_allocs"]  # no limit: hit or new segment


def test_repeated_block_pattern_is_served_from_the_cache(found):
    _, r = found
    rounds = r["rounds"]
    assert rounds["allocations"] == 20
    assert rounds["system_allocs"] == 2 and rounds["cache_hits"] == 18  # only the first round misses
    assert rounds["peak_in_use"] == (32 + 8) * MiB
    # The notebook's explanation: a 32 MiB segment of its own plus a shared 20 MiB segment.
    assert rounds["reserved"] == (32 + 20) * MiB


def test_memory_limit_error_names_the_numbers(found):
    nb, r = found
    lim = r["limit"]
    assert "tried to allocate 64.00 MiB (67108864 bytes)" in lim["message"]
    assert "limit 64.00 MiB" in lim["message"]
    assert lim["ooms"] >= 1
    assert "MemoryError: out of memory" in cell_text(cell(nb, tag="limit"))
