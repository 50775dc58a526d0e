"""Executing the notebooks in notebooks/ and reading what they printed.

A notebook test runs the notebook exactly as a reader would (a fresh ``python3`` kernel, every
cell in order) and then checks its outputs, preferably against numbers the test recomputes
itself::

    from notebooks import cell, execute, has_image, results

    def test_something(tmp_path):
        nb = execute("03_scheduling_and_scale.ipynb", tmp_path)
        found = results(nb)                 # every "RESULT key=<json>" line, parsed
        assert found["simulation"]["workers"][-1] == 43_200
        assert has_image(cell(nb, tag="efficiency-plot"))

What there is: ``execute`` (run a notebook, raise ``NotebookError`` with the failing cell's source
and traceback), ``cell`` (find a code cell by tag or by a marker in its output), ``cell_text`` and
``notebook_text`` (stream and text/plain output), ``has_image``, ``results`` and ``parse_result``
(RESULT lines), ``errors_or_warnings`` (stderr output).

Conventions the notebooks follow so their tests can find things:
- a cell that a test looks at carries a tag (cell metadata ``tags``), or prints a marker line;
- numbers a test checks are printed on a line ``RESULT key=<JSON value>``, full precision, so
  the test compares exact values instead of parsing a table meant for the reader.

The kernel runs with the test's environment, ``MPLBACKEND`` set to matplotlib's inline backend
(figures are rendered with Agg, no display needed, and each shown figure becomes an image/png
output a test can find; plain ``Agg`` would draw nothing into the notebook), and ``tmp_path`` as
its working directory, so anything a notebook writes lands there.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
RESULT_PREFIX = "RESULT "
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


class NotebookError(AssertionError):
    """A notebook cell raised, ran past its timeout, or killed the kernel; the message names the
    notebook and holds the cell's source and the traceback."""


def execute(name: str, tmp_path: Path, timeout: int = 120, env: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """Runs ``notebooks/<name>`` top to bottom in a fresh ``python3`` kernel and returns the
    executed notebook.

    ``timeout`` bounds each cell in seconds. ``env`` adds variables to the kernel's environment.
    @raises NotebookError with the failing cell's source and traceback when a cell raises, times
    out or kills the kernel.
    """
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    kernel_env = {**os.environ, "MPLBACKEND": INLINE_BACKEND, **(env or {})}
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3")
    try:
        client.execute(cwd=str(tmp_path), env=kernel_env)  # passed on to the kernel manager
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
        # nbclient's messages already quote the cell's source and the traceback; add the name and
        # drop the traceback's terminal colours, which pytest would print as escape codes.
        raise NotebookError(f"{name}: a cell failed\n{ANSI_COLOUR.sub('', str(e))}") from None
    return nb


def cell(nb: nbformat.NotebookNode, *, tag: str | None = None, marker: str | None = None) -> nbformat.NotebookNode:
    """The one code cell carrying ``tag`` in its metadata, or whose output text contains
    ``marker``. @raises AssertionError when none or several match."""
    if (tag is None) == (marker is None):
        raise TypeError("give exactly one of tag= and marker=")
    code = [c for c in nb.cells if c.cell_type == "code"]
    if tag is not None:
        found = [c for c in code if tag in c.get("metadata", {}).get("tags", [])]
        what = f"tag {tag!r}"
    else:
        found = [c for c in code if marker in cell_text(c)]
        what = f"output marker {marker!r}"
    assert len(found) == 1, f"expected one code cell with {what}, found {len(found)}"
    return found[0]


def cell_text(c: nbformat.NotebookNode) -> str:
    """Everything a code cell showed as text: its stdout/stderr streams and the text/plain of
    its results and displays, in output order."""
    parts = []
    for out in c.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "".join(p if p.endswith("\n") or not p else p + "\n" for p in parts)


def notebook_text(nb: nbformat.NotebookNode) -> str:
    """The text of every code cell's outputs, concatenated in cell order."""
    return "".join(cell_text(c) for c in nb.cells if c.cell_type == "code")


def has_image(c: nbformat.NotebookNode) -> bool:
    """Whether the cell displayed a PNG image (a matplotlib figure it showed)."""
    return any("image/png" in out.get("data", {}) for out in c.get("outputs", []))


def parse_result(line: str) -> tuple[str, Any]:
    """``"RESULT key=<json>"`` -> ``(key, value)``. @raises ValueError for any other line."""
    if not line.startswith(RESULT_PREFIX) or "=" not in line:
        raise ValueError(f"not a RESULT line: {line!r}")
    key, value = line[len(RESULT_PREFIX):].split("=", 1)
    return key.strip(), json.loads(value)


def results(nb_or_cell: nbformat.NotebookNode) -> dict[str, Any]:
    """Every ``RESULT key=<json>`` line printed by a notebook (or one cell), as a dict.
    @raises AssertionError when a key is printed twice, since the test could not tell which
    value it checks."""
    text = notebook_text(nb_or_cell) if "cells" in nb_or_cell else cell_text(nb_or_cell)
    found: dict[str, Any] = {}
    for line in text.splitlines():
        if line.startswith(RESULT_PREFIX):
            key, value = parse_result(line)
            assert key not in found, f"RESULT {key} printed twice"
            found[key] = value
    return found


def errors_or_warnings(nb: nbformat.NotebookNode) -> list[str]:
    """stderr text of every code cell (warnings, tracebacks printed without raising), so a test
    can require a notebook to run cleanly."""
    return [
        out.text
        for c in nb.cells
        if c.cell_type == "code"
        for out in c.get("outputs", [])
        if out.output_type == "stream" and out.name == "stderr"
    ]
