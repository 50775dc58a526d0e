"""Running haiku functions of the reference on the CPU in float64 and float32."""
import contextlib

import jax
import numpy as np
from jax.experimental import disable_x64

# x64 is on process-wide because debug callbacks (used to capture module
# inputs) convert their arguments outside any context manager; float32 runs
# switch it off, since under x64 literals such as the identity quaternion would
# silently be float64.
jax.config.update("jax_enable_x64", True)

KEY = jax.random.PRNGKey(0)  # consumed only by dropout, which deterministic=True disables


def precision(dtype):
    return contextlib.nullcontext() if dtype == np.float64 else disable_x64()


def cast(tree, dtype):
    """Casts floating leaves of a nested dict of numpy arrays; integers stay."""
    if isinstance(tree, dict):
        return {k: cast(v, dtype) for k, v in tree.items()}
    tree = np.asarray(tree)
    return tree.astype(dtype) if np.issubdtype(tree.dtype, np.floating) else tree


def flatten(tree, prefix=""):
    """Nested dicts / namedtuples (r3.Vecs, r3.Rigids) -> {'a/b/c': np.ndarray}."""
    if isinstance(tree, dict):
        items = tree.items()
    elif hasattr(tree, "_fields"):
        items = zip(tree._fields, tree)
    else:
        return {prefix[:-1]: np.asarray(tree)}
    out = {}
    for key, value in items:
        out.update(flatten(value, f"{prefix}{key}/"))
    return out


def apply(jitted_apply, params, *args, dtype):
    """One call with parameters and float inputs cast to `dtype`."""
    params, args = cast(params, dtype), [cast(a, dtype) for a in args]
    with precision(dtype):
        out = jitted_apply(params, KEY, *args)
    out = jax.tree_util.tree_map(np.asarray, out)
    _check_dtype(out, dtype)
    return out


def _check_dtype(out, dtype):
    for key, value in flatten(out).items():
        if np.issubdtype(value.dtype, np.floating) and value.dtype != dtype:
            raise RuntimeError(f"{key} came back as {value.dtype}, expected {np.dtype(dtype)}")
