"""Steps every MPI rank takes together: one that fails on any rank fails on all of them, with
the same error, so no rank is left waiting in a collective for a rank that gave up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Collective:
    """Runs a step on rank 0 (root) or on every rank (every); without a communicator, just runs it."""

    def __init__(self, comm) -> None:
        self.comm = comm
        self.rank = comm.Get_rank() if comm is not None else 0

    def root(self, fn: Callable[[], Any]) -> Any:
        value, error = None, None
        if self.rank == 0:
            try:
                value = fn()
            except Exception as e:
                error = e
        if self.comm is None:
            if error is not None:
                raise error
            return value
        message = self.comm.bcast(None if error is None else (type(error).__name__, str(error)), root=0)
        if error is not None:
            raise error
        if message is not None:
            raise RuntimeError(f"rank 0 failed: {message[0]}: {message[1]}")
        return value

    def every(self, fn: Callable[[], Any]) -> Any:
        error = None
        try:
            value = fn()
        except Exception as e:
            error, value = e, None
        if self.comm is not None:
            errors = [m for m in self.comm.allgather(None if error is None else str(error)) if m]
            if errors and error is None:
                raise RuntimeError(f"another rank failed: {errors[0]}")
        if error is not None:
            raise error
        return value
