"""The order work goes out in: longest processing time first, by the engine's cost model (FLOPs
of each preset with its settings), or by a fitted device time model's seconds, which also charge
the S^2 memory-bound work and the per-call overhead that FLOPs miss (they matter most for short
sequences). The simulator orders the same way (exafold.item_seconds)."""

from __future__ import annotations

import numpy as np

import exafold

from . import inputs
from .config import RunConfig


def item_costs(lengths: np.ndarray, config: RunConfig) -> np.ndarray:
    """Each item's predicted cost summed over the run's models: FLOPs, or seconds under the
    run's time model."""
    lengths = np.asarray(lengths, dtype=np.int32)
    time_model = None if config.time_model is None else exafold.DeviceTimeModel.from_json(config.time_model)
    costs = np.zeros(lengths.shape, dtype=np.float64)
    for preset, s in config.settings().items():
        # With templates on, a template preset is charged the 4 templates an item may bring.
        sizes = dict(preset=preset, msa_clusters=s.max_msa_clusters, extra_msa_rows=s.max_extra_msa,
                     templates=0 if config.templates == "off" else 4, passes=s.recycles + 1)
        costs += (exafold.item_flops(lengths, **sizes) if time_model is None
                  else exafold.item_seconds(lengths, time_model, **sizes))
    return costs


def longest_first(items: list[inputs.Item], config: RunConfig) -> tuple[list[inputs.Item], np.ndarray]:
    """Items by descending predicted cost (ties in input order) and their costs."""
    costs = item_costs(np.array([len(i.sequence) for i in items], dtype=np.int32), config)
    order = np.argsort(-costs, kind="stable")
    return [items[i] for i in order], costs[order]
