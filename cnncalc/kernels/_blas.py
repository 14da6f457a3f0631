"""The one place where kernels hand work to BLAS, and count it.

numba cannot call BLAS from compiled code without SciPy (not a dependency), so the
matrix products run in Python through ``numpy.matmul`` (OpenBLAS, multi-threaded).
The number of multiply-accumulates returned is read from the shapes of the operands
that were actually multiplied, never from a layer formula.
"""

from __future__ import annotations

import numpy as np


def matmul_into(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> int:
    """``out[...] = a @ b`` for 2-D or stacked 3-D operands; return the MACs executed.

    a: (M, K) or (G, M, K); b: (K, P) or (G, K, P); out: (M, P) or (G, M, P).
    Each of the G products performs M*K*P multiply-accumulates.
    """
    if a.ndim != b.ndim or a.ndim not in (2, 3) or a.shape[-1] != b.shape[-2]:
        raise ValueError(f"matmul operands do not chain: {a.shape} @ {b.shape}")
    np.matmul(a, b, out=out)
    batch = a.shape[0] if a.ndim == 3 else 1
    m, k = a.shape[-2], a.shape[-1]
    p = b.shape[-1]
    return batch * m * k * p
