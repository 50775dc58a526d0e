"""Weights files: one reader (the engine's) behind Model.load, exafold predict and exafold distill,
and every kind of bad file refused by each of them with one clear message naming the file (and
the array or parameter at fault), never a traceback, and before anything is written."""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

import exafold
from exafold.cli import main
from exafold.demo import demo_arrays

PRESET = "reduced_ptm"
BIG = "alphafold/alphafold_iteration/evoformer/evoformer_iteration/msa_transition/transition1//weights"


@pytest.fixture(scope="module")
def arrays():
    return demo_arrays(PRESET)


@pytest.fixture(scope="module")
def good(tmp_path_factory, arrays):
    path = tmp_path_factory.mktemp("weights") / "good.npz"
    np.savez(path, **arrays)
    return path


def damage_inside(data: bytes, array: np.ndarray, count: int = 8) -> bytes:
    """`count` bytes flipped in the middle of `array`'s data; the zip directory stays intact."""
    at = data.find(array.tobytes())
    assert at > 0
    out = bytearray(data)
    for i in range(count):
        out[at + array.nbytes // 2 + i] ^= 0x5A
    return bytes(out)


def tar_of(path: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        t.add(path, arcname="params_model_1.npz")
    return buf.getvalue()


def bad_files(root: Path, good: Path, arrays: dict) -> dict[str, tuple[Path, str]]:
    """Every class of bad weights input: name -> (path, what its error must say)."""
    data = good.read_bytes()
    compressed = root / "compressed.npz"
    np.savez_compressed(compressed, **arrays)
    cases = {
        "8 damaged bytes in one array": (damage_inside(data, arrays[BIG]), "CRC-32"),
        "a damaged byte in a compressed npz": (None, "damaged"),
        "cut in half": (data[: len(data) // 2], "truncated"),
        "one byte short": (data[:-1], "truncated"),
        "a text file": (b"model weights go here\n", "it is a text file"),
        "an HTML page": (b"<!DOCTYPE html><html><body>403 Forbidden</body></html>\n", "HTML page"),
        "a Git LFS pointer": (b"version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 1\n",
                              "Git LFS pointer"),
        "a single .npy": (None, "a single .npy array"),
        "gzip-compressed": (gzip.compress(data[:4096]), "gzip"),
        "the tar archive": (tar_of(good), "tar archive"),
        "an empty file": (b"", "empty file"),
        "another preset's file": (None, "layout of preset 'reduced_ptm'"),
        "a missing parameter": (None, "missing " + BIG),
        "a misshapen parameter": (None, "wrong shape " + BIG),
        "integer parameters": (None, "dtype int32 of " + BIG),
        "an object array (pickle)": (None, "unsupported array dtype '|O'"),
        "an npz of something else": (None, "is not an AlphaFold2 parameter file"),
        "a directory": (None, "is a directory"),
    }
    paths = {}
    for i, (name, (content, why)) in enumerate(cases.items()):
        path = root / f"case{i:02d}.npz"
        if content is not None:
            path.write_bytes(content)
        paths[name] = (path, why)
    comp = bytearray(compressed.read_bytes())
    comp[len(comp) // 2] ^= 0x01
    paths["a damaged byte in a compressed npz"][0].write_bytes(bytes(comp))
    with paths["a single .npy"][0].open("wb") as f:
        np.save(f, arrays[BIG])
    np.savez(paths["another preset's file"][0], **arrays)  # loaded below as "reduced"
    np.savez(paths["a missing parameter"][0], **{k: v for k, v in arrays.items() if k != BIG})
    np.savez(paths["a misshapen parameter"][0], **{**arrays, BIG: arrays[BIG].reshape(-1)})
    np.savez(paths["integer parameters"][0], **{**arrays, BIG: arrays[BIG].astype(np.int32)})
    np.savez(paths["an object array (pickle)"][0], **{**arrays, BIG: np.array([{"a": 1}], dtype=object)})
    np.savez(paths["an npz of something else"][0], aatype=np.zeros(5, np.int32), msa=np.zeros((3, 5)))
    paths["a directory"][0].mkdir()
    return paths


@pytest.fixture(scope="module")
def cases(tmp_path_factory, good, arrays):
    return bad_files(tmp_path_factory.mktemp("bad"), good, arrays)


def preset_for(name: str) -> str:
    return "reduced" if name == "another preset's file" else PRESET


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    (root / "q.fasta").write_text(">q\nMKVLATGHEW\n")
    (root / "msas" / "q").mkdir(parents=True)
    (root / "msas" / "q" / "uniref90.a3m").write_text(">q\nMKVLATGHEW\n")
    return root


def test_the_good_file_loads_on_every_path(good, arrays):
    m = exafold.Model.load(good, PRESET)
    assert m.num_parameters == sum(a.size for a in arrays.values())
    got = exafold.read_weights(good, PRESET)
    assert got.keys() == arrays.keys() and all(np.array_equal(got[k], arrays[k]) for k in arrays)
    as64 = exafold.read_weights(good, PRESET, "float64")
    assert as64[BIG].dtype == np.float64 and np.array_equal(as64[BIG], arrays[BIG])


def test_a_compressed_npz_reads_the_same(tmp_path, arrays):
    np.savez_compressed(tmp_path / "c.npz", **arrays)
    got = exafold.read_weights(tmp_path / "c.npz", PRESET)
    assert all(np.array_equal(got[k], arrays[k]) for k in arrays)


def test_model_load_refuses_every_bad_file_naming_it(cases):
    for name, (path, why) in cases.items():
        with pytest.raises((ValueError, OSError)) as e:
            exafold.Model.load(path, preset_for(name))
        assert str(path) in str(e.value) and why in str(e.value), (name, str(e.value))


def test_a_damaged_array_is_named_by_file_and_member(cases):
    path, _ = cases["8 damaged bytes in one array"]
    with pytest.raises(ValueError) as e:
        exafold.read_weights(path, PRESET)
    assert str(e.value).startswith(f"{path}: member '{BIG}.npy': damaged: its bytes have CRC-32 ")


@pytest.mark.parametrize("command", ["predict", "distill"])
def test_the_commands_refuse_every_bad_file_in_one_line_and_write_nothing(command, cases, inputs, capsys):
    for name, (path, why) in cases.items():
        out = inputs / f"out-{command}"
        args = [command, "--fasta", str(inputs / "q.fasta"), "--alignments", str(inputs / "msas"),
                "--model", f"{preset_for(name)}={path}", "--out", str(out)]
        assert main(args) == 2, name
        err = capsys.readouterr().err
        assert err.startswith(f"exafold {command}: error: {path}") and why in err, (name, err)
        assert not out.exists(), name


def test_no_traceback_reaches_the_terminal(cases, inputs):
    """The same refusal from a real process: one line on stderr, exit status 2."""
    path, _ = cases["8 damaged bytes in one array"]
    for command in ("predict", "distill"):
        r = subprocess.run([sys.executable, "-m", "exafold", command, "--fasta", str(inputs / "q.fasta"),
                            "--alignments", str(inputs / "msas"), "--model", f"{PRESET}={path}",
                            "--out", str(inputs / "o")], capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert r.stderr.count("\n") == 1 and "CRC-32" in r.stderr, r.stderr
