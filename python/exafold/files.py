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


# Characters a file name keeps as they are (colabfold_batch's safe_filename keeps these too);
# every other one becomes '_'.
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_MAX_NAME = 100


def safe_name(item_id: str) -> str:
    """`item_id` as a file name that is safe anywhere: ASCII letters, digits and ``_ . -``, every
    other character '_' (``sp|P02640|VILI_CHICK`` -> ``sp_P02640_VILI_CHICK``), no leading '.',
    at most 100 characters. Different ids can give one name; ``unique_names`` resolves that."""
    name = "".join(c if c in _SAFE else "_" for c in item_id)[:_MAX_NAME]
    if not name or name[0] == ".":
        name = "_" + name[: _MAX_NAME - 1]
    return name


def unique_names(ids: list[str]) -> dict[str, str]:
    """id -> a distinct safe_name for each id: the first id with a name keeps it, later ones
    get ``_2``, ``_3``, ... (in the order given), so no two items share a file, also where file
    names ignore case."""
    taken: set[str] = set()
    out: dict[str, str] = {}
    for item_id in ids:
        base = safe_name(item_id)
        name, k = base, 2
        while name.lower() in taken:
            name, k = f"{base}_{k}", k + 1
        taken.add(name.lower())
        out[item_id] = name
    return out
