"""exafold: AlphaFold2 inference for distillation datasets at scale.

The compiled engine lives in ``exafold._core``; this package re-exports its public surface. The
names are resolved when first used (PEP 562), so ``import exafold`` is cheap and the ``exafold``
command can take over SIGINT and SIGTERM (exafold.stopping) before the engine loads.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Public name -> the module it comes from.
_CORE_NAMES = (
    "DeviceTimeModel",
    "JournalWriter",
    "MigratableMemory",
    "ShardWriter",
    "Tensor",
    "accessible",
    "bfloat16_to_float32",
    "config_hash",
    "empty",
    "empty_cache",
    "float32_to_bfloat16",
    "flop_breakdown",
    "flop_polynomial",
    "from_numpy",
    "gpu_count",
    "has_memory",
    "info",
    "item_seconds",
    "lddt_ca",
    "make_mmcif_string",
    "make_pdb_string",
    "memory_stats",
    "migrate",
    "migrate_stats",
    "prediction_flops",
    "preset_flop_polynomial",
    "read_journal",
    "read_shard",
    "reset_migrate_stats",
    "reset_peak_memory",
    "set_memory_limit",
    "simulate",
    "synthetic_lengths",
)
_SOURCES = {**dict.fromkeys(_CORE_NAMES, "exafold._core"), "Model": "exafold.model", "presets": "exafold.model",
            "read_weights": "exafold.model", "Prediction": "exafold.prediction"}

__all__ = ["Model", "Prediction", "presets", "read_weights", "__version__", *_CORE_NAMES]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value = __getattr__("info")()["version"]
    elif name in _SOURCES:
        value = getattr(importlib.import_module(_SOURCES[name]), name)
    else:
        raise AttributeError(f"module 'exafold' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from exafold._core import (
        DeviceTimeModel,
        JournalWriter,
        MigratableMemory,
        ShardWriter,
        Tensor,
        accessible,
        bfloat16_to_float32,
        config_hash,
        empty,
        empty_cache,
        float32_to_bfloat16,
        flop_breakdown,
        flop_polynomial,
        from_numpy,
        gpu_count,
        has_memory,
        info,
        item_seconds,
        lddt_ca,
        make_mmcif_string,
        make_pdb_string,
        memory_stats,
        migrate,
        migrate_stats,
        prediction_flops,
        preset_flop_polynomial,
        read_journal,
        read_shard,
        reset_migrate_stats,
        reset_peak_memory,
        set_memory_limit,
        simulate,
        synthetic_lengths,
    )
    from exafold.model import Model, presets, read_weights
    from exafold.prediction import Prediction

    __version__: str
