"""How much memory a prediction takes, from its sizes, and the chunk size that fits a budget."""

from __future__ import annotations

from typing import Mapping

from exafold import _core


def predict_peak_bytes(
    preset: str,
    residues: int,
    clusters: int,
    extra_rows: int,
    chunk_size: int = 0,
    dtype: str = "float32",
    *,
    overrides: Mapping[str, int] | None = None,
    iterations: int = 2,
    threads: int = 0,
    templates: int = 0,
) -> int:
    """Peak bytes the caching allocator holds during ``Model(...)(features, num_recycle=
    iterations - 1, chunk_size=chunk_size)`` above what was live before the call (parameters and
    features are not counted), with ``templates`` templates (presets without templates ignore
    them). ``threads`` = 0 means the shared pool's size."""
    return _core.predict_peak_bytes(preset, sorted((overrides or {}).items()), residues, clusters,
                                    extra_rows, chunk_size, dtype, iterations, threads, templates)


def choose_chunk(
    preset: str,
    residues: int,
    clusters: int,
    extra_rows: int,
    budget_bytes: int,
    dtype: str = "float32",
    *,
    overrides: Mapping[str, int] | None = None,
    iterations: int = 2,
    threads: int = 0,
    templates: int = 0,
) -> int:
    """The largest chunk size whose predicted peak fits ``budget_bytes`` (0: unchunked fits),
    with ``templates`` templates. Raises MemoryError when not even chunk size 1 fits."""
    return _core.choose_chunk(preset, sorted((overrides or {}).items()), residues, clusters,
                              extra_rows, budget_bytes, dtype, iterations, threads, templates)


def choose_gpu_chunk(
    preset: str,
    residues: int,
    clusters: int,
    extra_rows: int,
    device: str,
    dtype: str = "float32",
    *,
    overrides: Mapping[str, int] | None = None,
    iterations: int = 2,
    templates: int = 0,
) -> int:
    """The chunk size a prediction on the GPU ``device`` (``cuda:N``) starts with: the largest
    whose peak, as the device's allocator reserves it, fits the memory free there now (C++
    model/memory_fit.h). Raises MemoryError when not even chunk size 1 fits."""
    return _core.choose_gpu_chunk(preset, sorted((overrides or {}).items()), residues, clusters,
                                  extra_rows, dtype, iterations, templates, device)
