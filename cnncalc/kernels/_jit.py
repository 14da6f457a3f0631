"""The single numba compilation and threading policy shared by every kernel module.

Compilation (:func:`njit`):

* ``cache=True`` — compiled machine code is stored beside these modules (or under
  ``NUMBA_CACHE_DIR``) and reloaded by later processes in a few ms — unless the
  environment variable ``CNNCALC_NUMBA_CACHE`` is ``0`` (or ``false``/``no``/``off``).
  Read once, at import.
* ``fastmath`` off: the kernels are a numerical reference; LLVM must not reassociate
  sums or assume that NaN and inf do not occur.
* ``nogil=True``: a long kernel does not freeze other Python threads (e.g. a UI).
* No ``parallel=True``.  All multi-threading comes from the BLAS products (numpy
  ``matmul``, OpenBLAS threads) that the convolution and linear kernels run from Python.

numba reads its settings from the environment (``NUMBA_OPT``, ``NUMBA_NUM_THREADS``, ...) when it
is imported. A value it cannot read is reported here as one warning naming the variable, and
dropped so that numba uses its default: numba's own warning holds a traceback, and
``NUMBA_NUM_THREADS=0`` stops its import with an exception.

Threading, measured on this project's 2-core machine (ResNet-50 forward, 1x3x224x224,
same kernels with ``prange`` over channels in im2col / padding / BN / ReLU / max-pool
versus the shipped serial loops; torch 2.13 forward of the same net: 31 ms):

==============================================  ==========  ===========================
variant                                          forward     note
==============================================  ==========  ===========================
parallel, numba default ``omp`` layer            632 ms      OpenMP workers spin after each
                                                             region and starve OpenBLAS
parallel, ``NUMBA_THREADING_LAYER=workqueue``    71 ms
parallel, ``OMP_WAIT_POLICY=PASSIVE``            61 ms       process-wide: it also made
                                                             torch's own forward 1.6x slower
serial loops + threaded BLAS (shipped)           58 ms       1.9x torch; compiles ~4x faster
==============================================  ==========  ===========================

So the shipped kernels avoid the problem altogether and leave the process environment
alone.  :func:`njit_parallel` exists only so that a future parallel kernel inherits a
safe choice: it selects numba's ``workqueue`` layer (no spinning, numba-only, unlike
``OMP_WAIT_POLICY``) unless the user chose a layer through ``NUMBA_THREADING_LAYER`` or
numba's thread pool has already started.  ``workqueue`` aborts the process if two Python
threads launch parallel kernels at the same time, so wrappers of such kernels must hold
:data:`PARALLEL_LAUNCH_LOCK` around the call.
"""

from __future__ import annotations

import os
import re
import threading
import warnings


def _import_numba():
    """numba, imported with the environment variables it cannot read reported in one line each
    (a RuntimeWarning) and dropped."""
    threads = os.environ.get("NUMBA_NUM_THREADS")
    if threads is not None and not re.fullmatch(r"\s*0*[1-9][0-9]{0,5}\s*", threads):
        _drop("NUMBA_NUM_THREADS", threads, "expected a number of threads of 1 or more")
    # The warnings are caught where they are shown, the filters left alone (changing them makes
    # Python show again every warning it had shown once).
    show, caught = warnings.showwarning, []
    warnings.showwarning = lambda message, category, *rest, **kw: caught.append((message, category, rest))
    try:
        import numba
    finally:
        warnings.showwarning = show
    for message, category, rest in caught:
        text = str(message)
        m = re.match(r"Environment variable '(\w+)' is defined but its associated value (.*) could not", text)
        if m is None:
            show(message, category, *rest)
            continue
        reason = [line for line in text.splitlines() if line.strip()][-1]
        _drop(m.group(1), os.environ.get(m.group(1), ""), reason.partition(": ")[2] or reason)
    return numba


def _drop(name: str, value: str, reason: str) -> None:
    os.environ.pop(name, None)
    warnings.warn(
        f"{name}={value!r} is ignored ({reason}); numba's default is used", RuntimeWarning, stacklevel=3
    )


numba = _import_numba()

__all__ = ["CACHE", "PARALLEL_LAUNCH_LOCK", "njit", "njit_parallel"]


def _cache_enabled() -> bool:
    value = os.environ.get("CNNCALC_NUMBA_CACHE", "1").strip().lower()
    return value not in {"0", "false", "no", "off"}


CACHE: bool = _cache_enabled()

PARALLEL_LAUNCH_LOCK = threading.Lock()


def _jit(func, options, overrides):
    options.update(overrides)
    if func is None:
        return lambda f: numba.njit(**options)(f)
    return numba.njit(**options)(func)


def njit(func=None, **overrides):
    """``numba.njit`` with the project policy.  Use bare (``@njit``) or with overrides."""
    return _jit(func, {"cache": CACHE, "fastmath": False, "nogil": True}, overrides)


def _select_safe_threading_layer() -> None:
    if os.environ.get("NUMBA_THREADING_LAYER"):
        return  # the user decided
    from numba.np.ufunc import parallel as _parallel

    if getattr(_parallel, "_is_initialized", False):
        return  # too late: the thread pool is running
    numba.config.THREADING_LAYER = "workqueue"


def njit_parallel(func=None, **overrides):
    """``numba.njit(parallel=True)`` with the project policy and a non-spinning thread pool.

    Not used by the shipped kernels (see the module docstring).
    """
    _select_safe_threading_layer()
    options = {"cache": CACHE, "fastmath": False, "nogil": True, "parallel": True}
    return _jit(func, options, overrides)
