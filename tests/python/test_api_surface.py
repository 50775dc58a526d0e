"""The public API's surface: every public name documented, the shipped type stubs current, and
the C++ engine working without the GIL so other Python threads (a notebook's event loop, a
progress bar, a writer thread) keep running."""

import filecmp
import inspect
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import exafold
import exafold.features
from exafold.demo import demo_params_path
from exafold.model import model_features

PACKAGE = Path(exafold.__file__).parent
SIGNATURE = re.compile(r"^(\d+\. )?\w+\(.*\) -> ")


def doc_text(obj) -> str:
    """The docstring without pybind11's generated signature lines."""
    lines = (obj.__doc__ or "").strip().splitlines()
    return "\n".join(x for x in lines if x.strip() and not SIGNATURE.match(x.strip())
                     and x.strip() != "Overloaded function.").strip()


def public_members(cls):
    for name, value in vars(cls).items():
        if name.startswith("_") and name != "__call__":
            continue
        yield name, value.__func__ if isinstance(value, (staticmethod, classmethod)) else value


def undocumented(module) -> list[str]:
    missing = []
    for name in module.__all__:
        obj = getattr(module, name)
        if not (inspect.isclass(obj) or callable(obj)):
            continue
        if not doc_text(obj):
            missing.append(f"{module.__name__}.{name}")
        if inspect.isclass(obj):
            missing += [f"{module.__name__}.{name}.{m}" for m, v in public_members(obj)
                        if (isinstance(v, property) or callable(v)) and not doc_text(v)]
    return missing


@pytest.mark.parametrize("module", [exafold, exafold.features], ids=lambda m: m.__name__)
def test_every_public_name_has_a_docstring(module):
    assert undocumented(module) == []


def test_the_audit_sees_a_missing_docstring():
    class Bare:
        def method(self):
            pass

    fake = type(sys)("fake")
    fake.__all__ = ["Bare"]
    fake.Bare = Bare
    assert undocumented(fake) == ["fake.Bare", "fake.Bare.method"]


def test_type_stubs_are_current(tmp_path):
    """python/exafold/_core/*.pyi are what pybind11-stubgen makes of the built module now.
    Regenerate with: .venv/bin/python -m pybind11_stubgen exafold._core -o python"""
    subprocess.run([sys.executable, "-m", "pybind11_stubgen", "exafold._core", "-o", str(tmp_path)],
                   check=True, capture_output=True)
    fresh = tmp_path / "exafold" / "_core"
    shipped = PACKAGE / "_core"
    names = sorted(p.name for p in fresh.glob("*.pyi"))
    assert names == sorted(p.name for p in shipped.glob("*.pyi"))
    _, mismatch, errors = filecmp.cmpfiles(fresh, shipped, names, shallow=False)
    assert mismatch == [] and errors == [], f"stale stubs {mismatch}: regenerate (see this test's docstring)"
    assert (PACKAGE / "py.typed").exists()


def longest_gap_while(fn) -> tuple[float, float]:
    """Runs fn on a thread while this thread counts; returns (fn's seconds, the longest stretch
    this thread could not run). A call that holds the GIL stalls this thread for its duration."""
    done = threading.Event()
    thread = threading.Thread(target=lambda: (fn(), done.set()))
    old = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    try:
        t0 = last = time.perf_counter()
        gap = 0.0
        thread.start()
        while not done.is_set():
            now = time.perf_counter()
            gap, last = max(gap, now - last), now
        thread.join()
        return time.perf_counter() - t0, gap
    finally:
        sys.setswitchinterval(old)


def big_a3m(path: Path, rows: int, length: int) -> str:
    rng = np.random.default_rng(0)
    letters = np.frombuffer(b"ACDEFGHIKLMNPQRSTVWY-", np.uint8)
    body = letters[rng.integers(0, 21, size=(rows, length))]
    query = letters[rng.integers(0, 20, size=length)].tobytes().decode()
    lines = [f">query\n{query}"] + [f">r{i}\n{row.tobytes().decode()}" for i, row in enumerate(body)]
    path.write_text("\n".join(lines) + "\n")
    return query


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp("gil")
    query = big_a3m(d / "big.a3m", rows=60_000, length=150)
    model = exafold.Model.load(demo_params_path("reduced_ptm"), "reduced_ptm")
    raw = exafold.features.build_raw_features(query, [(str(d / "big.a3m"), 0)])
    feats = model_features(raw, 1, num_recycle=1, max_clusters=64, max_extra=256)
    seconds = np.random.default_rng(1).uniform(1, 100, size=2_000_000)
    return {
        # Parsing is fast: several calls make the stretch long enough to judge.
        "build_raw_features": lambda: [exafold.features.build_raw_features(query, [(str(d / "big.a3m"), 0)])
                                       for _ in range(6)],
        "process_features": lambda: exafold.features.process_features(raw, 3, num_recycle=3, max_extra=5000),
        "Model.__call__": lambda: model(feats, num_recycle=1),
        "simulate": lambda: exafold.simulate(seconds, 4096, policy="lpt"),
    }


@pytest.mark.parametrize("name", ["build_raw_features", "process_features", "Model.__call__", "simulate"])
def test_engine_calls_release_the_gil(work, name):
    duration, gap = longest_gap_while(work[name])
    # Below ~0.15 s a stall could not be told apart from scheduling noise: the call must be long
    # enough for the check to mean something. Holding the GIL would stall this thread for
    # nearly the whole call; released, the stalls are the OS's (milliseconds).
    assert duration > 0.15, f"{name} took {duration:.3f} s: too short to judge"
    assert gap < 0.5 * duration, f"{name}: this thread stalled {gap:.3f} s of {duration:.3f} s"


def test_the_check_sees_a_call_that_holds_the_gil():
    values = np.random.default_rng(2).random(3_000_000).tolist()
    duration, gap = longest_gap_while(lambda: sorted(values))  # list.sort keeps the GIL
    assert gap > 0.5 * duration
