"""The data types byte counts can assume, and their sizes (no imports: the command line reads
this to list its choices)."""

from __future__ import annotations

#: Bytes per element of each data type a report can count memory at.
DTYPES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "float64": 8}
