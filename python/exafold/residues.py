"""Residue types as AlphaFold2 numbers them."""

from __future__ import annotations

import numpy as np

RESTYPES = "ARNDCQEGHILKMFPSTWYVX"
_AATYPE = np.full(256, 20, dtype=np.uint8)
_AATYPE[np.frombuffer(RESTYPES.encode(), np.uint8)] = np.arange(21, dtype=np.uint8)


def aatype_of(sequence: str) -> np.ndarray:
    """AlphaFold2 restype indices (0-20, X = 20) of a one-letter sequence."""
    return _AATYPE[np.frombuffer(sequence.encode("ascii"), np.uint8)]
