"""How the commands stop on SIGINT and SIGTERM (docs/scaling.md, "Stopping").

- Before there is work to finish (start-up, argument and input checks, loading weights): the
  first signal stops the process at once, quietly: one line, exit status 128 + signal.
- While there is (``graceful()``: exafold distill's run, exafold predict's items): the first
  signal asks for a graceful stop: no new item is started, a prediction in progress stops at its
  next recycling iteration (``check()`` raises ``Stopped`` there; the item is left for a rerun,
  neither done nor failed), and what is finished is written (distill finishes and journals the
  open shard, and writes the summary). A second signal stops the process at once: the open shard
  is discarded, its items are redone by the rerun; everything journaled is kept.

Signals are not handled in the main thread's Python code, which may be busy in the engine for a
long time and would see two quick signals as one: Python's C-level handler writes each signal's
number to a pipe (``signal.set_wakeup_fd``) and a watcher thread acts on every one as it comes.
Nothing here raises KeyboardInterrupt, so no traceback can reach the terminal. Installed first
thing by the ``exafold`` entry point, before the engine is imported (the package's own imports
are deferred until used for this), and for the runner's duration when it is called from Python.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(BaseException):
    """A graceful stop was asked for (raised by ``check()`` inside a prediction). A BaseException,
    so that code failing an item on any Exception does not record the item as failed."""


class _Watcher:
    def __init__(self) -> None:
        self.command = "exafold"
        self.signum: int | None = None  # the first signal seen
        self._count = 0
        self._on_stop: list[tuple[Callable[[], None], str]] = []
        self._graceful = 0
        self._lock = threading.Lock()
        self._installed = False
        self._previous: dict[int, object] = {}
        self._pipe: tuple[int, int] | None = None
        self._previous_fd = -1

    def install(self, command: str) -> bool:
        """Takes over SIGINT and SIGTERM; False off the main thread (where Python cannot)."""
        if threading.current_thread() is not threading.main_thread():
            return False
        self.command = command
        if self._installed:
            return True
        r, w = os.pipe()
        os.set_blocking(w, False)
        self._pipe = (r, w)
        # The Python-level handler does nothing: the watcher thread reads the pipe instead.
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, lambda signum, frame: None)
        self._previous_fd = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        threading.Thread(target=self._watch, args=(r,), name="exafold-signals", daemon=True).start()
        self._installed = True
        return True

    def uninstall(self) -> None:
        """Gives SIGINT and SIGTERM back (for callers of the runner that are not the CLI)."""
        if not self._installed or threading.current_thread() is not threading.main_thread():
            return
        signal.set_wakeup_fd(self._previous_fd)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        r, w = self._pipe
        os.write(w, b"\0")  # wakes the watcher, which closes both ends
        self._installed, self._pipe, self._previous = False, None, {}
        self._count, self.signum = 0, None

    def _watch(self, r: int) -> None:
        w = self._pipe[1]
        while True:
            data = os.read(r, 64)
            for signum in data:
                if signum == 0:
                    os.close(r)
                    os.close(w)
                    return
                self._handle(signum)

    def _handle(self, signum: int) -> None:
        with self._lock:
            self._count += 1
            first = self._count == 1
            if first:
                self.signum = signum
            sections = list(self._on_stop) if first and self._graceful else None
        name = signal.Signals(signum).name
        if sections is None:
            what = "stopped" if first else "stopping now, unfinished work is left for a rerun"
            self._exit(signum, f"{self.command}: {name}: {what}")
        print(f"{self.command}: {name}: stopping: {sections[-1][1]} (signal again to stop now)",
              file=sys.stderr, flush=True)
        for f, _ in sections:
            try:
                f()
            except Exception as e:  # the watcher must live on: a second signal still stops
                print(f"{self.command}: while stopping: {e}", file=sys.stderr, flush=True)

    @staticmethod
    def _exit(signum: int, message: str) -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        with contextlib.suppress(Exception):
            os.write(2, (message + "\n").encode())
        os._exit(128 + signum)


_watcher = _Watcher()


@contextlib.contextmanager
def installed(command: str) -> Iterator[None]:
    """Entered first by the ``exafold`` entry point: inside, signals stop the process quietly
    (``command`` names it in the one line printed); the previous handling comes back after."""
    mine = not _watcher._installed and _watcher.install(command)
    try:
        yield
    finally:
        if mine:
            _watcher.uninstall()


def requested() -> int | None:
    """The signal that asked for a stop, or None."""
    return _watcher.signum


def check() -> None:
    """Raises Stopped when a stop was asked for; called between a prediction's iterations."""
    if _watcher.signum is not None:
        raise Stopped


@contextlib.contextmanager
def graceful(on_stop: Callable[[], None] = lambda: None, finishing: str = "what is in progress is finished first"
             ) -> Iterator[None]:
    """While inside, the first signal calls ``on_stop()`` (from the watcher thread), sets
    ``requested()`` and prints what is `finishing`, instead of stopping the process; a second
    still stops it at once. Installs
    the handling for the duration when the entry point has not (the runner called from Python,
    on the main thread); off the main thread without it, signals stay the caller's business."""
    installed_here = not _watcher._installed and _watcher.install(_watcher.command)
    with _watcher._lock:
        _watcher._on_stop.append((on_stop, finishing))
        _watcher._graceful += 1
        late = _watcher.signum is not None  # a signal that came before: stop before starting
    if late:
        on_stop()
    try:
        yield
    finally:
        with _watcher._lock:
            _watcher._on_stop.remove((on_stop, finishing))
            _watcher._graceful -= 1
        if installed_here:
            _watcher.uninstall()
