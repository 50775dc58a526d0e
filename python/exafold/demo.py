"""Demo parameters: deterministic random weights in the official AlphaFold2 layout.

They exist so the whole pipeline can run on a machine without the real parameter files. They
are random: the structures they produce carry no meaning, and every output made with them says
so: the file carries DEMO_LABEL as its weights label (the ``exafold_weights_label`` member, C++
io/weights.h), which the model reads with the weights, and every PDB REMARK, mmCIF, shard
attribute, run summary and plot title made from them repeats it; the commands warn. Real runs
pass the paths of official ``params_model_*.npz`` files instead.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from exafold.model import param_spec

DEMO_LABEL = "DEMO WEIGHTS: random parameters, the structures carry no meaning"
# Scale of the randomised weights: small enough that activations stay O(1) through the trunk.
_ALPHA = 0.1
# The confidence heads' weights are scaled up so pLDDT and PAE vary along the chain as real ones
# do (at _ALPHA they are nearly uniform: pLDDT 50 everywhere), which makes plots and confidence
# filters in the examples show something. The values remain meaningless.
_CONFIDENCE_GAIN = 20.0


def demo_arrays(preset: str, seed: int = 0) -> dict[str, np.ndarray]:
    """Random float32 parameters for ``preset``: weights ~ alpha * N(0, 1) / sqrt(fan_in) (the
    confidence heads' larger), LayerNorm scales 1 and offsets 0, biases and gates 0
    (gates 1), so every path is active."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in param_spec(preset):
        leaf = name.split("//")[1]
        lead = 1 if "evoformer_iteration" in name or "extra_msa_stack" in name or "__layer_stack" in name else 0
        core = shape[lead:]
        if leaf == "scale":
            a = np.ones(shape)
        elif leaf in ("offset", "bias", "output_b"):
            a = np.ones(shape) if "gate" in name else np.zeros(shape)
        elif leaf == "gating_b":
            a = np.ones(shape)
        elif leaf == "trainable_point_weights":
            a = np.full(shape, 0.541324854612918)  # softplus^-1(1), as haiku initialises it
        else:
            fan_in = core[0] if leaf in ("weights", "feat_2d_weights", "query_w", "gating_w", "key_w", "value_w") else int(np.prod(core[:-1]))
            a = _ALPHA * rng.standard_normal(shape) / np.sqrt(fan_in)
            if "predicted_lddt_head" in name or "predicted_aligned_error_head" in name:
                a *= _CONFIDENCE_GAIN
        out[name] = a.astype(np.float32)
    return out


def demo_params_path(preset: str, seed: int = 0) -> Path:
    """The demo parameter file for ``preset``, written once to the cache (keyed by this file's
    source, preset and seed) and reused."""
    key = hashlib.sha256(Path(__file__).read_bytes() + f"{preset}:{seed}".encode()).hexdigest()[:12]
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "exafold" / "demo"
    path = base / f"demo_{preset}_{key}.npz"
    if not path.exists():
        base.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}.npz")
        label = np.frombuffer(DEMO_LABEL.encode(), dtype=np.uint8)
        np.savez(tmp, exafold_weights_label=label, **demo_arrays(preset, seed))
        tmp.replace(path)
    return path


def examples_dir() -> Path:
    """The bundled example inputs: sequences.fasta and alignments/<id>/ (see its README)."""
    return Path(__file__).parent / "examples"
