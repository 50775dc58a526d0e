"""Writing files so that no reader ever sees a partial one and every failure names its file.

A file is written to a temporary name and renamed over its final name once complete. When a
write fails (a full disk, a quota, a directory gone) the temporary is removed and the OSError
names the final file and the system's reason (``cannot write out/x.pdb: No space left on
device``), keeping its errno. A process killed mid-write leaves the temporary; the commands sweep
their own temporaries at their next start (docs/formats.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import IO


def write_error(path: str | os.PathLike, e: OSError, verb: str = "write") -> OSError:
    """`e` as an OSError naming `path` and the system's reason, with `e`'s errno."""
    err = OSError(f"cannot {verb} {path}: {e.strerror or e}")
    err.errno = e.errno
    return err


def fsync_dir(path: str | os.PathLike) -> None:
    """Makes a rename or creation inside `path` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_with(path: str | os.PathLike, write: Callable[[IO[bytes]], None], *,
               tmp: str | os.PathLike | None = None, durable: bool = False) -> None:
    """Calls `write(f)` on the binary file `tmp` (default: `path` + ``.tmp``), then renames it to
    `path`; with `durable`, fsyncs the data and the directory too.
    @raises OSError naming `path` and the reason; the temporary is gone."""
    path = Path(path)
    tmp = Path(tmp) if tmp is not None else path.with_name(path.name + ".tmp")
    try:
        with tmp.open("wb") as f:
            write(f)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise write_error(path, e) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)


def write_atomic(path: str | os.PathLike, data: str | bytes, *, tmp: str | os.PathLike | None = None,
                 durable: bool = False) -> None:
    """Writes `data` (text is UTF-8) to `path` through a temporary, as write_with does."""
    raw = data.encode() if isinstance(data, str) else data
    write_with(path, lambda f: f.write(raw), tmp=tmp, durable=durable)
