"""Locates the reference parity fixtures, generating them on first use.

Runs with the project's python (standard library only); generation happens in
the reference environment that env.sh creates. Fixtures are cached at
    ${XDG_CACHE_HOME:-~/.cache}/exafold/fixtures/<case>-<hash>/
where <hash> covers requirements.txt, env.sh and the generator sources, so any
change to them yields a fresh folder. A folder appears only complete: it is
generated beside its final name and renamed when done.

    import fixtures; path = fixtures.fixture_dir("reduced")
    python3 tests/reference/fixtures.py reduced fullwidth2   # prints the folders
"""
import fcntl
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
CASES = ("reduced", "fullwidth2", "model_1_ptm_full", "model_3")


def cache_root():
    base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base) / "exafold"


GENERATOR_MODULES = sorted(
    ["cases", "compare", "generate", "modulefix", "randomize", "refcompat", "runner", "synth"]
)


def source_hash():
    # The model-case generator only: other generators beside it (features, module tests) key
    # their own caches, so adding one does not regenerate these fixtures.
    sources = [HERE / "requirements.txt", HERE / "env.sh"]
    sources += [HERE / f"{name}.py" for name in GENERATOR_MODULES]
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def reference_python():
    """Path of the reference environment's python (created on first use)."""
    result = subprocess.run(["bash", str(HERE / "env.sh")], check=True, stdout=subprocess.PIPE, text=True)
    return result.stdout.strip()


def fixture_dir(case):
    if case not in CASES:
        raise ValueError(f"unknown case {case!r}; known: {', '.join(CASES)}")
    final = cache_root() / "fixtures" / f"{case}-{source_hash()}"
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    with open(final.parent / f".{final.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one generator per case; others wait and reuse
        if final.is_dir():
            return final
        for stale in final.parent.glob(f".{final.name}.tmp*"):  # left by a killed run
            shutil.rmtree(stale, ignore_errors=True)
        tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp", dir=final.parent))
        try:
            subprocess.run([reference_python(), str(HERE / "generate.py"), "--case", case, "--out", str(tmp)],
                           check=True)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return final


if __name__ == "__main__":
    for name in sys.argv[1:] or CASES:
        print(fixture_dir(name))
