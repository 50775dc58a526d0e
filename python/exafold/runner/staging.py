"""Node-local staging: alignment files are copied to a scratch directory before the feature
pipeline reads them, and shards are written there and moved to the output directory once
complete. Parallel file systems handle a few large sequential transfers far better than the
many small reads and the chunked HDF5 writes of a run.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from exafold.files import fsync_dir, write_error, write_with


def durable_move(src: Path, dst: Path) -> None:
    """Moves `src` to `dst` so that `dst` appears only complete: a rename when both are on one
    file system, otherwise a copy to `dst`.tmp, fsync, rename, and only then the removal of `src`.
    @raises OSError naming the file and the reason (a failed copy leaves no `dst`.tmp).
    """
    src, dst = Path(src), Path(dst)
    try:
        os.rename(src, dst)
    except OSError as e:
        if e.errno != errno.EXDEV:  # not a move across file systems
            raise write_error(dst, e, "move a file to") from None
        with src.open("rb") as fin:
            write_with(dst, lambda fout: shutil.copyfileobj(fin, fout, 16 << 20), durable=True)
        src.unlink()
        return
    fsync_dir(dst.parent)


class Staging:
    """Where shards are written and alignments are read from. Without a scratch directory both
    are direct: shards go to the output directory and alignments are read where they are.
    """

    def __init__(self, out_dir: Path, scratch: Path | None, rank: int = 0) -> None:
        self.out_dir = Path(out_dir)
        # Named after the output directory too: runs into different outputs may share a node.
        tag = hashlib.sha1(str(self.out_dir.resolve()).encode()).hexdigest()[:10]
        self.scratch = None if scratch is None else Path(scratch) / f"exafold-{tag}-r{rank:05d}"
        if self.scratch is not None:
            try:
                (self.scratch / "inputs").mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise OSError(f"cannot create the scratch directory {self.scratch}: {e.strerror or e}") from None

    @property
    def shard_dir(self) -> Path:
        """Where shard writers create their files."""
        return self.out_dir if self.scratch is None else self.scratch

    def publish(self, name: str) -> None:
        """Moves a completed file from the shard directory to the output directory."""
        if self.scratch is not None:
            durable_move(self.scratch / name, self.out_dir / name)

    def stage_inputs(self, item_id: str, paths: list[Path]) -> tuple[list[Path], Path | None]:
        """Copies an item's alignment files to scratch; returns the paths to read and the
        directory to remove afterwards (None when nothing was copied).
        """
        if self.scratch is None:
            return paths, None
        d = Path(tempfile.mkdtemp(prefix=f"{item_id}-", dir=self.scratch / "inputs"))
        staged = []
        for i, p in enumerate(paths):
            # Prefixed by position: two listed files may share a name in different directories.
            target = d / f"{i:03d}-{Path(p).name}"
            try:
                shutil.copyfile(p, target)
            except FileNotFoundError:
                raise ValueError(f"{p}: alignment file missing") from None
            staged.append(target)
        return staged, d

    def unstage(self, d: Path | None) -> None:
        """Removes an item's staged inputs."""
        if d is not None:
            shutil.rmtree(d, ignore_errors=True)

    def clear(self) -> None:
        """Removes what an interrupted run left in this rank's scratch directory. Shards it had
        finished there but not yet moved are dropped too: they were never journaled, so their
        items are redone, which is always consistent (another session, maybe on another node,
        may have redone them already, or written a shard of the same name).
        """
        if self.scratch is None:
            return
        for p in self.scratch.iterdir():
            if p.is_file():
                p.unlink()
            elif p.name != "inputs":
                shutil.rmtree(p, ignore_errors=True)
        for p in (self.scratch / "inputs").iterdir():
            shutil.rmtree(p, ignore_errors=True)
