"""Streaming: an alignment file is never held whole, and kept rows are held once.

Each check runs in a fresh interpreter and compares its peak resident memory (ru_maxrss) with a
baseline interpreter that imports exafold and does nothing else.
"""
import pathlib
import subprocess
import sys

import pytest

LENGTH = 400  # query columns


def peak_rss_mb(code: str) -> float:
    script = ("import resource\nfrom exafold import features as F\n" + code +
              "\nprint(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def baseline_mb():
    return peak_rss_mb("")


@pytest.fixture(scope="module")
def big_stockholm(tmp_path_factory):
    """~80 MB: 4 blocks of 160,000 rows, with insert columns (lower-case) in every row."""
    path = tmp_path_factory.mktemp("sto") / "uniref90_hits.sto"
    piece = ("A" * 90 + "cc-" + "D" * 7)  # 100 alignment columns, 97 of them query columns
    rows = 160000
    with open(path, "w") as f:
        f.write("# STOCKHOLM 1.0\n")
        for block in range(4):
            f.write("\n")
            f.write(f"{'query':<24}{'A' * 90}---{'D' * 7}\n")
            f.writelines(f"hit{i:<21}{piece}\n" for i in range(1, rows))
        f.write("//\n")
    return path


@pytest.fixture(scope="module")
def big_a3m(tmp_path_factory):
    """~60 MB: 150,000 rows of 400 columns."""
    path = tmp_path_factory.mktemp("a3m") / "bfd_uniref_hits.a3m"
    row = "M" * 200 + "kk" + "-" * 200
    with open(path, "w") as f:
        f.write(">query\n" + "M" * LENGTH + "\n")
        f.writelines(f">hit{i}\n{row}\n" for i in range(150000))
    return path


def test_hit_limit_keeps_memory_to_the_rows_kept(big_stockholm, baseline_mb):
    size_mb = big_stockholm.stat().st_size / 2**20
    peak = peak_rss_mb(f"m = F.read_stockholm({str(big_stockholm)!r}, max_rows=1000)\n"
                       "assert len(m) == 1000 and m.width == 388")
    assert size_mb > 70
    assert peak - baseline_mb < 25, (peak, baseline_mb, size_mb)


def test_kept_rows_are_held_once(big_a3m, baseline_mb):
    size_mb = big_a3m.stat().st_size / 2**20
    peak = peak_rss_mb(f"m = F.read_a3m({str(big_a3m)!r})\nassert len(m) == 150001")
    # One byte per column and row plus per-row bookkeeping; text + parsed rows would be twice
    # the file.
    assert peak - baseline_mb < 1.5 * size_mb, (peak, baseline_mb, size_mb)
