"""Scale-out with mpi4py: parameter broadcast and the dynamic work dispenser.

Rank 0 reads the inputs and each parameter file once and broadcasts them, so a thousand ranks
do not each read the same 400 MB from the parallel file system. Work goes out through a
dispenser on rank 0 (the simulator's `dispenser` policy, docs/scheduling.md): items largest
first, in chunks holding `remaining work / (k * ranks)` and at least `min_chunk` items. Because a
chunk's size depends only on how much work is left, not on who asks, the chunk boundaries are
fixed up front and a request just takes the next chunk.

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


def chunk_bounds(costs: Sequence[float], ranks: int, divisor: float = 2.0, min_chunk: int = 1) -> list[int]:
    """Boundaries [0, b1, ..., n] of the dispenser's chunks over items sorted largest first:
    each chunk holds `remaining work / (divisor * ranks)` (at least `min_chunk` items), exactly
    the simulator's policy (cpp/src/sched/simulator.cpp, dispenser()).
    """
    if ranks < 1 or divisor <= 0 or min_chunk < 1:
        raise ValueError(f"invalid dispenser settings: ranks={ranks} divisor={divisor} min_chunk={min_chunk}")
    prefix = np.concatenate([[0.0], np.cumsum(np.asarray(costs, dtype=np.float64))])
    n = len(costs)
    bounds, start = [0], 0
    k = divisor * ranks
    while start < n:
        target = prefix[start] + (prefix[n] - prefix[start]) / k
        end = int(np.searchsorted(prefix[start + 1:], target, side="left")) + start + 1
        start = min(n, max(start + min_chunk, end))
        bounds.append(start)
    return bounds


class Dispenser:
    """Rank 0's dispenser. Other ranks' requests are served by a thread that polls (so it does
    not spin a core that feature preparation needs); rank 0's own worker calls take() directly.
    """

    def __init__(self, comm, items: list[Any], costs: Sequence[float], *, divisor: float, min_chunk: int) -> None:
        self._comm = comm
        self._items = items
        self._bounds = chunk_bounds(costs, comm.Get_size(), divisor, min_chunk) if items else [0]
        self._next = 0
        self._lock = threading.Lock()
        self._stopped = False
        self.remote_done = 0  # items other ranks reported finished, for rank 0's progress line
        self.requests = 0
        self._thread = threading.Thread(target=self._serve, name="dispenser", daemon=True)
        self._thread.start()

    def take(self) -> list[Any]:
        """The next chunk, or [] when the work is out or the run is stopping."""
        with self._lock:
            if self._stopped or self._next + 1 >= len(self._bounds):
                return []
            a, b = self._bounds[self._next], self._bounds[self._next + 1]
            self._next += 1
            self.requests += 1
            return self._items[a:b]

    def stop(self) -> None:
        """Hands out no more work (a graceful stop); ranks finish what they hold."""
        with self._lock:
            self._stopped = True

    def _serve(self) -> None:
        from mpi4py import MPI

        clients = self._comm.Get_size() - 1
        status = MPI.Status()
        while clients > 0:
            while not self._comm.Iprobe(source=MPI.ANY_SOURCE, tag=TAG_REQUEST, status=status):
                time.sleep(POLL_SECONDS)
            source = status.Get_source()
            request = self._comm.recv(source=source, tag=TAG_REQUEST)
            self.remote_done += int(request.get("done", 0))
            chunk = [] if request.get("leaving") else self.take()
            self._comm.send(chunk, dest=source, tag=TAG_CHUNK)
            if not chunk:
                clients -= 1

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


def broadcast_params(path: str | Path | None, preset: str, comm=None) -> dict[str, np.ndarray]:
    """Rank 0 reads the parameter file at `path` for `preset` with the engine's weights reader
    (exafold.read_weights: every array's CRC-32 and size verified, the layout checked against the
    preset) and every rank returns the same dict name -> array: names, dtypes and shapes go out
    pickled, the data with buffer-based Bcast in pieces below MPI's 2 GiB count limit. Without
    `comm` (or with one rank) it just reads the file. The other ranks may pass None for `path`.
    @raises ValueError / OSError on every rank when rank 0 cannot use the file, with its message.
    """
    from exafold.model import read_weights

    if comm is None or comm.Get_size() == 1:
        return read_weights(path, preset)
    rank = comm.Get_rank()
    arrays, error = None, None
    if rank == 0:
        try:
            arrays = read_weights(path, preset)
        except (ValueError, OSError) as e:
            error = (type(e) is OSError, str(e))
    # The outcome goes first, so no rank waits in a broadcast rank 0 will never make.
    error = comm.bcast(error, root=0)
    if error is not None:
        is_os, message = error
        raise (OSError if is_os else ValueError)(message)
    layout = comm.bcast([(k, v.dtype.str, v.shape) for k, v in arrays.items()] if rank == 0 else None, root=0)
    out = {}
    for name, dtype, shape in layout:
        a = arrays[name] if rank == 0 else np.empty(shape, dtype=np.dtype(dtype))
        flat = a.reshape(-1).view(np.uint8)
        for start in range(0, flat.size, BCAST_PIECE_BYTES):
            comm.Bcast(flat[start:start + BCAST_PIECE_BYTES], root=0)
        out[name] = a
    return out
