"""Import-time adjustments of the installed reference; no installed file is edited.

Import this module before building any model.
"""
import inspect
import textwrap
import warnings

import jax.numpy as jnp
from alphafold.model import modules

# The pinned JAX still accepts the fork's `jnp.clip(a_min=, a_max=)` in the
# relative-position encoding, but warns on every trace.
warnings.filterwarnings("ignore", message=r".*a_min.*", category=DeprecationWarning)

# EmbeddingsAndEvoformer hard-codes float32 as its compute dtype, which breaks a
# float64 run (SingleTemplateEmbedding asserts matching dtypes). Taking the dtype
# of the features instead changes nothing for float32 inputs.
_OLD = "dtype = jnp.bfloat16 if gc.bfloat16 else jnp.float32"
_NEW = "dtype = jnp.bfloat16 if gc.bfloat16 else batch['msa_feat'].dtype"


def _dtype_following_call():
    src = textwrap.dedent(inspect.getsource(modules.EmbeddingsAndEvoformer.__call__))
    if src.count(_OLD) != 1:
        raise RuntimeError("reference changed: EmbeddingsAndEvoformer dtype line not found")
    namespace = {}
    exec(compile(src.replace(_OLD, _NEW), modules.__file__, "exec"), modules.__dict__, namespace)
    return namespace["__call__"]


# A subclass (rather than assigning to the original class) lets haiku's module
# metaclass wrap the new method, so parameter scopes stay exactly the same.
class EmbeddingsAndEvoformer(modules.EmbeddingsAndEvoformer):
    __call__ = _dtype_following_call()


modules.EmbeddingsAndEvoformer = EmbeddingsAndEvoformer

if jnp.clip(jnp.arange(3), a_min=1, a_max=1).tolist() != [1, 1, 1]:
    raise RuntimeError("pinned JAX no longer accepts jnp.clip(a_min=, a_max=)")
