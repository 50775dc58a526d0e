"""Progress on the terminal: a tqdm bar with rate and ETA when stderr is a terminal, plain log
lines at an interval otherwise (batch jobs, pipes), so logs stay readable.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


def hms(seconds: float) -> str:
    """Seconds as H:MM:SS (hours unbounded), or "unknown" when not finite."""
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return "unknown"
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class Progress:
    """Counts finished structures and failures out of `total`. Thread-safe: the writer thread
    reports structures, the worker reports failures. `remote` adds what other ranks reported.
    """

    def __init__(self, total: int, *, tty: bool | None = None, interval: float = 30.0,
                 stream: TextIO | None = None, label: str = "exafold distill") -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.remote = 0
        self._stream = stream or sys.stderr
        self._interval = interval
        self._label = label
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._last_line = self._start
        tty = self._stream.isatty() if tty is None else tty
        self._bar = None
        if tty:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="struct", desc=label, file=self._stream, dynamic_ncols=True,
                             smoothing=0.05)

    def update(self, done: int = 0, failed: int = 0) -> None:
        with self._lock:
            self.done += done
            self.failed += failed
            self._refresh(final=False)

    def set_remote(self, remote: int) -> None:
        with self._lock:
            self.remote = remote
            self._refresh(final=False)

    def _count(self) -> int:
        return self.done + self.failed + self.remote

    def _refresh(self, final: bool) -> None:
        if self._bar is not None:
            self._bar.n = self._count()
            self._bar.set_postfix(failed=self.failed, refresh=False)
            self._bar.refresh()
            return
        now = time.monotonic()
        if not final and now - self._last_line < self._interval:
            return
        self._last_line = now
        elapsed = max(now - self._start, 1e-9)
        count = self._count()
        rate = count / elapsed
        eta = (self.total - count) / rate if rate > 0 else float("inf")
        print(f"{self._label}: {count}/{self.total} finished ({self.failed} failed here), "
              f"{rate:.2f} items/s, elapsed {hms(elapsed)}, ETA {hms(eta)}",
              file=self._stream, flush=True)

    def close(self) -> None:
        with self._lock:
            self._refresh(final=True)
            if self._bar is not None:
                self._bar.close()
