"""Scale-out with mpi4py: parameter broadcast and the dynamic work dispenser.

Rank 0 reads the inputs and each parameter file once and broadcasts them, so a thousand ranks
do not each read the same 400 MB from the parallel file system. Work goes out through a
dispenser on rank 0 in the chunks of the engine's dispenser policy (exafold.dispenser_chunks,
Note [Dispenser chunks], the policy the simulator replays): items largest first, each chunk
holding `remaining work / (k * ranks)` and at least `min_chunk` items, fixed up front, so a
request just takes the next chunk. No rank gets a second chunk before every rank has asked for
its first: a rank that prefetches could otherwise take a small job's every chunk before the
others start.

Every rank writes its own shards and journal; rank 0 merges the index at the end. mpi4py is
imported only here and only when a run has more than one rank.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

TAG_REQUEST = 71
TAG_CHUNK = 72
POLL_SECONDS = 0.002
# MPI counts are C ints: broadcast big arrays in pieces well below 2^31 bytes.
BCAST_PIECE_BYTES = 1 << 28


def world():
    """MPI.COMM_WORLD, initialising MPI with thread support for the dispenser thread.
    @raises RuntimeError naming the package to install when mpi4py or MPI is missing."""
    try:
        import mpi4py

        mpi4py.rc.thread_level = "multiple"
        from mpi4py import MPI
    except ImportError as e:
        raise RuntimeError(f"MPI runs need mpi4py (pip install -r cpp/tools/requirements.txt) and an MPI "
                           f"library (Debian: libopenmpi-dev openmpi-bin): {e}") from None
    if MPI.Query_thread() < MPI.THREAD_MULTIPLE:
        raise RuntimeError("the MPI library does not provide MPI_THREAD_MULTIPLE, which the dispenser thread needs")
    return MPI.COMM_WORLD


class Dispenser:
    """Rank 0's dispenser. Other ranks' requests are served by a thread that polls (so it does
    not spin a core that feature preparation needs); rank 0's own worker calls take() directly.
    """

    def __init__(self, comm, items: list[Any], costs: Sequence[float], *, divisor: float, min_chunk: int) -> None:
        import exafold

        self._comm = comm
        self._items = items
        self._bounds = (exafold.dispenser_chunks(np.asarray(costs, dtype=np.float64), comm.Get_size(), divisor,
                                                 min_chunk).tolist() if items else [0])
        self._next = 0
        self._cond = threading.Condition()
        self._stopped = False
        self._asked: set[int] = set()  # ranks that have asked at least once
        self._ranks = comm.Get_size()
        self.remote_done = 0  # items other ranks reported finished, for rank 0's progress line
        self.requests = 0
        self._thread = threading.Thread(target=self._serve, name="dispenser", daemon=True)
        self._thread.start()

    def _out(self) -> bool:
        return self._stopped or self._next + 1 >= len(self._bounds)

    def _next_chunk(self) -> list[Any]:
        if self._out():
            return []
        a, b = self._bounds[self._next], self._bounds[self._next + 1]
        self._next += 1
        self.requests += 1
        return self._items[a:b]

    def _may_serve(self, rank: int) -> bool:
        """A rank's first request is served at once; a later one once every rank has asked (or
        the work is out)."""
        return rank not in self._asked or len(self._asked) == self._ranks or self._out()

    def take(self, rank: int = 0) -> list[Any]:
        """The next chunk for `rank`, or [] when the work is out or the run is stopping; waits
        while another rank has not had its first chunk yet."""
        with self._cond:
            while not self._may_serve(rank):
                self._cond.wait(0.5)
            self._asked.add(rank)
            self._cond.notify_all()
            return self._next_chunk()

    def stop(self) -> None:
        """Hands out no more work (a graceful stop); ranks finish what they hold."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def _serve(self) -> None:
        from mpi4py import MPI

        clients = self._comm.Get_size() - 1
        status = MPI.Status()
        deferred: list[int] = []  # ranks whose second request waits for another rank's first
        while clients > 0:
            while not self._comm.Iprobe(source=MPI.ANY_SOURCE, tag=TAG_REQUEST, status=status):
                time.sleep(POLL_SECONDS)
                if deferred:
                    clients -= self._answer_deferred(deferred)
                    if clients == 0:
                        return
            source = status.Get_source()
            request = self._comm.recv(source=source, tag=TAG_REQUEST)
            with self._cond:
                self.remote_done += int(request.get("done", 0))
                if request.get("leaving"):
                    self._asked.add(source)
                    self._cond.notify_all()
                    chunk = []
                elif self._may_serve(source):
                    self._asked.add(source)
                    self._cond.notify_all()
                    chunk = self._next_chunk()
                else:
                    deferred.append(source)
                    continue
            self._comm.send(chunk, dest=source, tag=TAG_CHUNK)
            if not chunk:
                clients -= 1
            clients -= self._answer_deferred(deferred)

    def _answer_deferred(self, deferred: list[int]) -> int:
        """Serves the deferred requests that may now be served; returns how many got no work."""
        done = 0
        with self._cond:
            ready = [r for r in deferred if self._may_serve(r)]
            chunks = [(r, self._next_chunk()) for r in ready]
        for r, chunk in chunks:
            deferred.remove(r)
            self._comm.send(chunk, dest=r, tag=TAG_CHUNK)
            done += not chunk
        return done

    def join(self) -> None:
        """Waits until every other rank has been told there is no more work."""
        self._thread.join()


def _recv_polling(comm, source: int, tag: int) -> Any:
    from mpi4py import MPI

    status = MPI.Status()
    while not comm.Iprobe(source=source, tag=tag, status=status):
        time.sleep(POLL_SECONDS)
    return comm.recv(source=source, tag=tag)


class ChunkSource:
    """A rank's stream of items, fetched chunk by chunk as the prefetcher pulls. `done_count()`
    reports this rank's finished items with each request, for rank 0's progress line.
    """

    def __init__(self, comm, dispenser: Dispenser | None, done_count: Callable[[], int]) -> None:
        self._comm = comm
        self._dispenser = dispenser  # set on rank 0 only
        self._done_count = done_count
        self._reported = 0
        self._buffer: list[Any] = []
        self._finished = False
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[Any]:
        return self

    def _exchange(self, leaving: bool) -> list[Any]:
        done = self._done_count()
        request = {"done": done - self._reported, "leaving": leaving}
        self._reported = done
        self._comm.send(request, dest=0, tag=TAG_REQUEST)
        return _recv_polling(self._comm, 0, TAG_CHUNK)

    def __next__(self) -> Any:
        with self._lock:
            if not self._buffer and not self._finished:
                chunk = self._dispenser.take() if self._dispenser is not None else self._exchange(False)
                self._finished = not chunk
                self._buffer = list(reversed(chunk))
            if not self._buffer:
                raise StopIteration
            return self._buffer.pop()

    def close(self) -> None:
        """Tells the dispenser this rank wants no more work (a stop before the work ran out)."""
        with self._lock:
            if not self._finished and self._dispenser is None:
                self._exchange(True)
            self._finished = True


def broadcast_params(path: str | Path | None, preset: str, comm=None) -> tuple[dict[str, np.ndarray], str]:
    """Rank 0 reads the parameter file at `path` for `preset` with the engine's weights reader
    (exafold.read_weights: every array's CRC-32 and size verified, the layout checked against the
    preset) and every rank returns the same dict name -> array and the file's weights label
    (demo weights say so): names, dtypes, shapes and the label go out pickled, the data with
    buffer-based Bcast in pieces below MPI's 2 GiB count limit. Without `comm` (or with one rank)
    it just reads the file. The other ranks may pass None for `path`.
    @raises ValueError / OSError on every rank when rank 0 cannot use the file, with its message.
    """
    from exafold import _core
    from exafold.model import read_weights

    if comm is None or comm.Get_size() == 1:
        return read_weights(path, preset), _core.weights_label(str(path))
    rank = comm.Get_rank()
    arrays, label, error = None, "", None
    if rank == 0:
        try:
            arrays = read_weights(path, preset)
            label = _core.weights_label(str(path))
        except (ValueError, OSError) as e:
            error = (type(e) is OSError, str(e))
    # The outcome goes first, so no rank waits in a broadcast rank 0 will never make.
    error = comm.bcast(error, root=0)
    if error is not None:
        is_os, message = error
        raise (OSError if is_os else ValueError)(message)
    layout, label = comm.bcast(([(k, v.dtype.str, v.shape) for k, v in arrays.items()], label) if rank == 0 else None,
                               root=0)
    out = {}
    for name, dtype, shape in layout:
        a = arrays[name] if rank == 0 else np.empty(shape, dtype=np.dtype(dtype))
        flat = a.reshape(-1).view(np.uint8)
        for start in range(0, flat.size, BCAST_PIECE_BYTES):
            comm.Bcast(flat[start:start + BCAST_PIECE_BYTES], root=0)
        out[name] = a
    return out, label
