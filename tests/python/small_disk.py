"""A nearly full disk for out-of-space tests, two ways:

- ``tmpfs``: a small tmpfs mounted in a private mount namespace (``unshare -rm``: root, or a kernel
  that lets users make user namespaces). Writes fail as on a full disk, with ENOSPC ("No space
  left on device"); the space left is set by a filler file.
- ``fsize``: where mounting is not allowed, RLIMIT_FSIZE (``ulimit -f``) on the process: a write
  past the limit fails with EFBIG ("File too large"), SIGXFSZ ignored. The same write paths fail
  the same way; only the reason differs.

As a script (run inside the namespace, or directly for ``fsize``)::

    python small_disk.py MODE DIR INPUTS LIMIT...

runs, for each LIMIT (bytes left on the tmpfs, or the file-size limit), ``exafold distill`` with
the test doubles (runner_doubles.py --cli) into DIR/run-LIMIT until the disk fills, then again with
the space back, and prints one JSON line per LIMIT: both runs' exit status and stderr, and the
files each left.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
TMPFS_BYTES = 2 << 20


def tmpfs_available(probe_dir: Path) -> bool:
    """Whether this process may mount a tmpfs in a private namespace."""
    if shutil.which("unshare") is None:
        return False
    probe_dir.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=64k exafold-test {probe_dir}"],
                       capture_output=True, timeout=30)
    return r.returncode == 0


def run(mode: str, mount: Path, inputs: Path, limits: list[int], timeout: float = 600) -> list[dict]:
    """Runs this file as the script above (inside a namespace with a tmpfs on `mount` for tmpfs)."""
    script = [sys.executable, str(Path(__file__)), mode, str(mount), str(inputs), *map(str, limits)]
    mount.mkdir(parents=True, exist_ok=True)
    if mode == "tmpfs":
        cmd = ["unshare", "-rm", "sh", "-c", f'mount -t tmpfs -o size={TMPFS_BYTES} exafold-test "$0" && exec "$@"',
               str(mount), *script]
    else:
        cmd = script
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stdout + r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


def _distill(out: Path, inputs: Path, limit: int | None, mode: str) -> dict:
    args = [sys.executable, str(HERE / "runner_doubles.py"), "--cli", "distill", "--fasta",
            str(inputs / "input.fasta"), "--alignments", str(inputs / "msas"), "--model",
            f"model_1_ptm={inputs / 'params.npz'}", "--out", str(out), "--shard-size", "2", "--pdb", "--mmcif",
            "--progress", "log", "--mpi", "off"]

    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # stays ignored across exec
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    r = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300,
                       preexec_fn=limit_file_size if mode == "fsize" and limit is not None else None)
    left = sorted(str(p.relative_to(out)) for p in out.rglob("*")) if out.exists() else []
    return {"status": r.returncode, "stderr": r.stderr, "files": left}


def _shard_ids(out: Path) -> dict[str, int]:
    import exafold

    return dict(Counter(i for p in sorted(out.glob("shard-*.h5")) for i in exafold.read_shard(str(p))["id"]))


def _fill(mount: Path, leave: int) -> Path:
    filler = mount / "filler"
    filler.unlink(missing_ok=True)
    st = os.statvfs(mount)
    size = max(0, st.f_bavail * st.f_frsize - leave)
    with filler.open("wb") as f:
        f.write(b"\0" * size)
    return filler


def main(argv: list[str]) -> int:
    mode, mount, inputs = argv[0], Path(argv[1]), Path(argv[2])
    for limit in map(int, argv[3:]):
        out = mount / f"run-{limit}"
        filler = _fill(mount, limit) if mode == "tmpfs" else None
        full = _distill(out, inputs, limit, mode)
        if filler is not None:
            filler.unlink()
        again = _distill(out, inputs, None, mode)
        print(json.dumps({"limit": limit, "full": full, "again": again, "ids": _shard_ids(out)}), flush=True)
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
