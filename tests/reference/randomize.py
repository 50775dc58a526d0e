"""Seeded replacement of haiku's initial parameters.

After haiku init about half of the arrays are exactly zero (zero-initialised
final layers, biases, offsets), so a parity test on them would miss most bugs.
Every array is redrawn here with numpy from one seed, in sorted key order.
"""
import numpy as np

WEIGHT_NAMES = {"weights", "query_w", "key_w", "value_w", "gating_w", "output_w", "feat_2d_weights"}
BIAS_NAMES = {"bias", "output_b"}
# Scopes under a layer stack carry a leading block dimension.
STACKED_SCOPES = {"evoformer_iteration", "extra_msa_stack", "__layer_stack_no_state"}


def fan_in(scope, name, shape):
    base = shape[1:] if STACKED_SCOPES & set(scope.split("/")) else shape
    if name == "output_w":  # [H, d, c_out] or the outer-product [c, c, c_z]
        return base[-3] * base[-2]
    if len(base) == 3:  # per-head projections [c_in, H, d]
        return base[-3]
    return base[-2]  # Linear [in, out], global key/value [c_in, d], feat_2d [c_z, H]


def randomize(params, seed, alpha):
    """params: {scope: {name: array}} from haiku init; returns the same layout, float32."""
    rng = np.random.default_rng(seed)
    out = {}
    for scope in sorted(params):
        out[scope] = {}
        for name in sorted(params[scope]):
            value = np.asarray(params[scope][name], np.float64)
            noise = rng.standard_normal(value.shape)
            if name in WEIGHT_NAMES:
                if not value.any():  # zero-initialised final layers
                    value = alpha * noise / np.sqrt(fan_in(scope, name, value.shape))
            elif name in BIAS_NAMES:
                value = value + 0.02 * noise
            elif name == "gating_b":
                value = value + 0.1 * noise
            elif name == "scale":
                value = 1.0 + 0.05 * noise
            elif name == "offset":
                value = 0.05 * noise
            elif name == "trainable_point_weights":
                value = value + 0.1 * noise
            else:
                raise ValueError(f"no randomisation rule for {scope}//{name}")
            out[scope][name] = value.astype(np.float32)
    return out


def to_flat(params):
    """Official npz layout: 'scope//name'."""
    return {f"{scope}//{name}": v for scope in params for name, v in params[scope].items()}


def from_flat(flat):
    params = {}
    for key, v in flat.items():
        scope, name = key.split("//")
        params.setdefault(scope, {})[name] = v
    return params
