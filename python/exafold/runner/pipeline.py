"""The non-blocking prefetch pipeline (ScaleFold): features are prepared on a thread pool while
the worker predicts, and the worker takes whichever prepared item is ready, the lowest index among
the ready ones, so one slow item never stalls the device.

Items start preparing in index order (the dispatch order, longest first), each only when its
estimated bytes fit in the memory budget next to what is in flight and fewer than `depth` items
are in flight; an item larger than the whole budget still starts when nothing else is in flight,
so no item can wedge the run. In flight means from admission until the worker takes the item.
The depth bound keeps a rank from hoarding work that an idle rank could take (MPI). The heavy work inside `prepare` is C++ that
releases the GIL, so Python threads overlap it with prediction.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Prepared:
    """An item leaving the pipeline: its features, or the exception its preparation raised."""

    index: int
    item: Any
    features: Mapping[str, np.ndarray] | None
    error: BaseException | None
    seconds: float  # time spent preparing


def features_nbytes(features: Mapping[str, Any]) -> int:
    """Bytes held by the numpy arrays of a feature dict."""
    return sum(int(getattr(v, "nbytes", 0)) for v in features.values())


def estimate_feature_bytes(length: int, msa_clusters: int, extra_msa: int, passes: int) -> int:
    """Bytes of AlphaFold2's processed features for one structure, all passes stacked: per pass,
    msa_feat (clusters x S x 49 float32) plus the cluster-sized masks and targets (4 more per
    position), the extra MSA and its three per-position companions, and the per-residue target
    features. Used before preparation, to admit items under the memory budget.
    """
    per_pass = length * (msa_clusters * (49 + 4) + extra_msa * 4 + 64)
    return 4 * passes * per_pass


class Prefetcher:
    """Prepares items from `source` on `threads` threads under a byte budget; iterate to get
    `Prepared` results (lowest ready index first) until the source is exhausted or close().

    `source` is any iterator of items and may block (an MPI dispenser); `estimate(item)` gives
    the bytes to reserve before preparation, replaced by the real size once prepared.
    """

    def __init__(self, source: Iterator[Any], prepare: Callable[[Any], Mapping[str, np.ndarray]],
                 *, threads: int, budget_bytes: int, estimate: Callable[[Any], int], depth: int = 4) -> None:
        if threads < 1 or depth < 1:
            raise ValueError(f"prefetch needs at least one thread and a depth of one, got {threads} and {depth}")
        self._depth = depth
        self._source = source
        self._prepare = prepare
        self._budget = budget_bytes
        self._estimate = estimate
        self._cond = threading.Condition()
        self._source_lock = threading.Lock()
        self._next_index = 0      # next index handed to a pulling thread
        self._admit_index = 0     # the index whose turn it is to be admitted under the budget
        self._exhausted_at: int | None = None  # index at which the source ran out
        self._inflight = 0        # admitted items not yet taken by the worker
        self._inflight_bytes = 0
        self._ready: list[tuple[int, Prepared, int]] = []  # heap of (index, result, bytes)
        self._closed = False
        self._stop_requested = False
        self._source_error: BaseException | None = None
        self.wait_seconds = 0.0   # time the worker spent blocked waiting for data
        self.prepare_seconds = 0.0
        # Daemon threads: a prepare call cannot be interrupted, and a stopping run must not hang
        # on it; its result is simply dropped.
        self._threads = [threading.Thread(target=self._produce, name=f"prefetch-{i}", daemon=True)
                         for i in range(threads)]
        for t in self._threads:
            t.start()

    def _pull(self) -> tuple[int, Any] | None:
        with self._source_lock:
            if self._exhausted_at is not None or self._closed or self._stop_requested:
                return None
            try:
                item = next(self._source)
            except StopIteration:
                item = None
            except BaseException as e:  # a failing source (I/O, MPI) ends the run, loudly
                self._source_error = e
                item = None
            with self._cond:
                if item is None:
                    self._exhausted_at = self._next_index
                    self._cond.notify_all()
                    return None
                index = self._next_index
                self._next_index += 1
                return index, item

    def _produce(self) -> None:
        while True:
            pulled = self._pull()
            if pulled is None:
                return
            index, item = pulled
            try:
                est = max(0, int(self._estimate(item)))
            except Exception:  # a broken estimate must not lose the item; charge nothing
                est = 0
            with self._cond:
                # Admission in index order keeps a large early item from being starved by the
                # small ones behind it.
                while not self._closed and not (
                    self._admit_index == index
                    and (self._inflight == 0
                         or (self._inflight < self._depth and self._inflight_bytes + est <= self._budget))
                ):
                    self._cond.wait()
                if self._closed:
                    return
                self._admit_index += 1
                self._inflight += 1
                self._inflight_bytes += est
                self._cond.notify_all()
            t0 = time.perf_counter()
            try:
                features, error = self._prepare(item), None
            except Exception as e:
                features, error = None, e
            seconds = time.perf_counter() - t0
            size = features_nbytes(features) if features is not None else 0
            with self._cond:
                self._inflight_bytes += size - est
                self.prepare_seconds += seconds
                heapq.heappush(self._ready, (index, Prepared(index, item, features, error, seconds), size))
                self._cond.notify_all()

    def _finished(self) -> bool:
        return self._exhausted_at is not None and self._admit_index >= self._exhausted_at and self._inflight == 0

    def __iter__(self) -> Iterator[Prepared]:
        return self

    def __next__(self) -> Prepared:
        with self._cond:
            t0 = time.perf_counter()
            # request_stop() and the producers notify; the timeout only bounds a stall.
            while not self._ready and not self._closed and not self._stop_requested and not self._finished():
                self._cond.wait(0.2)
            self.wait_seconds += time.perf_counter() - t0
            if self._source_error is not None:
                raise RuntimeError(f"the work source failed: {self._source_error}") from self._source_error
            if self._closed or self._stop_requested or not self._ready:
                raise StopIteration
            _, result, size = heapq.heappop(self._ready)
            self._inflight -= 1
            self._inflight_bytes -= size
            self._cond.notify_all()
            return result

    @property
    def inflight_bytes(self) -> int:
        with self._cond:
            return self._inflight_bytes

    def request_stop(self) -> None:
        """Ends the iteration at the next item (from any thread: the signal watcher calls it)."""
        with self._cond:
            self._stop_requested = True
            self._cond.notify_all()

    def close(self) -> None:
        """Stops pulling and admitting items; prepared results not yet taken are dropped."""
        with self._cond:
            self._closed = True
            self._ready.clear()
            self._cond.notify_all()
