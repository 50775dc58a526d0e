"""exafold: AlphaFold2 inference for distillation datasets at scale.

The compiled engine lives in ``exafold._core``; this package re-exports its public surface.
"""

from exafold._core import (
    MigratableMemory,
    Tensor,
    accessible,
    bfloat16_to_float32,
    empty,
    empty_cache,
    float32_to_bfloat16,
    from_numpy,
    gpu_count,
    has_memory,
    info,
    memory_stats,
    migrate,
    migrate_stats,
    reset_migrate_stats,
    reset_peak_memory,
    set_memory_limit,
)

__version__: str = info()["version"]

__all__ = [
    "MigratableMemory",
    "Tensor",
    "__version__",
    "accessible",
    "bfloat16_to_float32",
    "empty",
    "empty_cache",
    "float32_to_bfloat16",
    "from_numpy",
    "gpu_count",
    "has_memory",
    "info",
    "memory_stats",
    "migrate",
    "migrate_stats",
    "reset_migrate_stats",
    "reset_peak_memory",
    "set_memory_limit",
]
