"""The CLI: info and the memory demo run and report what they should."""

import json
import subprocess
import sys

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
    for word in ("exafold", "CUDA", "threads", "BLAS", "devices", "memory kinds"):
        assert word in out


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


def test_info_says_where_the_thread_count_comes_from():
    code = "from exafold.commands.info import format_info; import exafold; print(format_info(exafold.info()))"
    env = {k: v for k, v in __import__("os").environ.items() if k != "EXAFOLD_NUM_THREADS"}
    unset = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    line = next(x for x in unset.splitlines() if "threads" in x and "BLAS" in x)
    assert "(the cores this process may use; EXAFOLD_NUM_THREADS sets it)" in line
    set_ = subprocess.run([sys.executable, "-c", code], env={**env, "EXAFOLD_NUM_THREADS": "2"}, capture_output=True,
                          text=True, check=True).stdout
    assert "threads      2 (from EXAFOLD_NUM_THREADS)" in set_
