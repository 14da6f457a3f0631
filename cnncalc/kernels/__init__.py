"""numba reference kernels.

Nothing here is imported eagerly: numba loads only when a kernel module is imported.
"""
