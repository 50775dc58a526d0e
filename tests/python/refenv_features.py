"""The AlphaFold2 reference environment of the feature parity tests, and a runner for
tests/reference/features_ref.py inside it.

This is not the model harness's environment (tests/reference/env.sh, alphafold-colabfold 2.3.12):
2.3.12 runs its feature transforms on TensorFlow, which that environment leaves out, while
2.3.27 runs the same transforms on numpy + jax (alphafold/model/tf/np_backend.py). Between the
two, data/pipeline.py, common/residue_constants.py and the config's data section are identical,
and data/parsers.py and model/tf/data_transforms.py differ only by that backend and vectorised
fast paths. Built like env.sh: a venv ${XDG_CACHE_HOME:-~/.cache}/exafold/refenv-features-<first
12 hex of sha256(requirements-features.txt)>, the pinned closure installed with --no-deps from
wheels, on first use (under a minute) and reused after. EXAFOLD_REF_FEATURES_PYTHON points at an
existing one instead.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "tests" / "reference" / "requirements-features.txt"
SCRIPT = ROOT / "tests" / "reference" / "features_ref.py"


def reference_python() -> pathlib.Path:
    if os.environ.get("EXAFOLD_REF_FEATURES_PYTHON"):
        return pathlib.Path(os.environ["EXAFOLD_REF_FEATURES_PYTHON"])
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]
    cache = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache")) / "exafold"
    venv = cache / f"refenv-features-{digest}"
    python = venv / "bin" / "python"
    done = venv / ".complete"
    if done.exists():
        return python
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f"refenv-features-{digest}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder at a time; the others wait and reuse
        if not done.exists():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
            subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                            "--disable-pip-version-check", "--no-deps", "--only-binary=:all:",
                            "-r", str(REQUIREMENTS)], check=True)
            subprocess.run([str(python), "-c", "import alphafold.data.pipeline, "
                            "alphafold.model.features"], check=True,
                           env={**os.environ, "JAX_PLATFORMS": "cpu"})
            done.touch()
    return python


def run(*args: str) -> None:
    """Runs features_ref.py with the given arguments in the reference environment."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run([str(reference_python()), str(SCRIPT), *args], env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"features_ref.py {' '.join(args)} failed:\n{proc.stderr[-4000:]}")
