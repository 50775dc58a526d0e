"""The CLI: info and the memory demo run and report what they should."""

import json
import os
import pathlib
import subprocess
import sys

import pytest
import scipy_openblas32

import exafold
from exafold.cli import main


def test_info_json_matches_the_api(capsys):
    assert main(["info", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == exafold.info()
    assert out["version"] == exafold.__version__
    assert out["blas_vendor"] == "OpenBLAS" and out["blas_threads"] == 1
    assert out["num_threads"] >= 1


def test_info_text_names_the_sections(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for word in ("exafold", "CUDA", "threads", "CPU", "BLAS", "devices", "memory kinds"):
        assert word in out
    i = exafold.info()
    assert f"kernel {i['blas_core']}" in out and i["blas_version"] in out and i["cpu"] in out


def info_in_a_fresh_process(**env) -> dict:
    out = subprocess.run([sys.executable, "-m", "exafold", "info", "--json"], env={**os.environ, **env},
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_info_reports_the_packaged_openblas_and_a_kernel_for_this_cpu():
    """The module runs scipy-openblas32's library (the one the C++ tests and benchmarks link,
    found through the same .venv), and on a CPU with AVX2 or AVX-512 OpenBLAS chose kernels of
    that level: the core the C++ test Blas.KernelMatchesThisCpu checks, as `exafold info` shows it."""
    i = info_in_a_fresh_process()
    packaged = pathlib.Path(scipy_openblas32.get_lib_dir()) / scipy_openblas32.get_library(fullname=True)
    assert pathlib.Path(i["blas_library"]).resolve() == packaged.resolve()
    assert i["blas_version"] == scipy_openblas32.__version__
    assert i["blas_core"] and i["blas_core"] in i["blas_config"].split()
    assert i["blas_core"] == exafold.info()["blas_core"]
    if i["cpu_isa"] not in ("AVX2", "AVX-512"):
        pytest.skip(f"{i['cpu']}: no AVX2, nothing to judge")
    assert i["blas_warning"] == "", i["blas_warning"]


def test_info_warns_when_openblas_runs_a_fallback_kernel():
    """OPENBLAS_CORETYPE=Prescott forces the SSE3 kernels the distribution's OpenBLAS 0.3.21 fell
    back to on CPUs newer than itself; `exafold info` must say so."""
    if exafold.info()["cpu_isa"] not in ("AVX2", "AVX-512"):
        pytest.skip("no AVX2: Prescott's kernels are not a fallback here")
    i = info_in_a_fresh_process(OPENBLAS_CORETYPE="Prescott")
    assert "written for SSE CPUs" in i["blas_warning"] and "OPENBLAS_CORETYPE=Prescott" in i["blas_warning"]
    text = subprocess.run([sys.executable, "-m", "exafold", "info"], capture_output=True, text=True, check=True,
                          env={**os.environ, "OPENBLAS_CORETYPE": "Prescott"}).stdout
    assert f"warning      {i['blas_warning']}" in text


def test_thread_count_from_the_environment():
    code = "import exafold; print(exafold.info()['num_threads'])"
    env = {"EXAFOLD_NUM_THREADS": "3", "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "3"
    bad = subprocess.run([sys.executable, "-c", code], env={"EXAFOLD_NUM_THREADS": "x"}, capture_output=True, text=True)
    assert bad.returncode != 0 and "EXAFOLD_NUM_THREADS must be a positive integer" in bad.stderr


def test_memory_demo(capsys):
    assert main(["memory-demo", "--residues", "64"]) == 0
    out = capsys.readouterr().out
    assert "1 elided" in out
    assert "MemoryError" in out
