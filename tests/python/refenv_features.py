"""The AlphaFold2 reference environment for the feature parity tests, and a runner for
tests/reference/features_ref.py inside it.

The environment is a venv under ~/.cache/exafold (EXAFOLD_CACHE overrides) named by a hash of
tests/reference/requirements-features.txt and this Python's version, created on first use (about
a minute) and reused after; EXAFOLD_REF_PYTHON points at an existing reference python instead.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "tests" / "reference" / "requirements-features.txt"
SCRIPT = ROOT / "tests" / "reference" / "features_ref.py"


def reference_python() -> pathlib.Path:
    if os.environ.get("EXAFOLD_REF_PYTHON"):
        return pathlib.Path(os.environ["EXAFOLD_REF_PYTHON"])
    key = hashlib.sha256(REQUIREMENTS.read_bytes() + sys.version.encode()).hexdigest()[:16]
    cache = pathlib.Path(os.environ.get("EXAFOLD_CACHE", pathlib.Path.home() / ".cache" / "exafold"))
    venv = cache / f"ref-features-{key}"
    python = venv / "bin" / "python"
    done = venv / ".complete"
    if done.exists():
        return python
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f"ref-features-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder at a time; the others wait and reuse
        if not done.exists():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
            subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                            "-r", str(REQUIREMENTS)], check=True)
            done.touch()
    return python


def run(*args: str) -> None:
    """Runs features_ref.py with the given arguments in the reference environment."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run([str(reference_python()), str(SCRIPT), *args], env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"features_ref.py {' '.join(args)} failed:\n{proc.stderr[-4000:]}")
