"""Reading an ONNX file safely: the bytes within protobuf's limit, a model that parses, and every
reference to external data checked before anything could follow it.

Only the ``.onnx`` file is read. Weights kept in external data files are never needed (a layer's
parameters are counted from the initializer's shape); a small constant stored outside (a reshape
target) is read by :func:`external_bytes`, from a file in the model's own folder only.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import CnncalcError, UsageError
from . import require

#: Largest ONNX file read: protobuf's limit for one message (2 GiB less a byte).
MAX_MODEL_BYTES = 2**31 - 1
#: Most nodes in a graph (a larger one is hostile: the largest torchvision export has ~5,000).
MAX_NODES = 200_000
#: Largest external-data chunk read for a constant (shape arithmetic reads a few integers).
MAX_EXTERNAL_BYTES = 1 << 20


class ModelError(CnncalcError):
    """An ONNX model cannot be read into a spec (the message names the file and the node)."""


def load(path: str):
    """Read an ONNX file (without external weight data: only shapes are needed).

    Raises:
        UsageError: when the file cannot be read.
        ModelError: when it is not an ONNX model, or a malformed one, or one whose external
            data references reach outside the model's folder.
    """
    from ..lang.source import read_limited

    onnx = require()
    try:
        data = read_limited(path, MAX_MODEL_BYTES)
    except IsADirectoryError:
        raise UsageError(f"cannot read {path}: is a directory, expected an ONNX file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if data is None:
        raise ModelError(
            f"{path}: larger than 2 GiB, the most one ONNX file can hold (a model that large keeps "
            f"its weights in external data files; only the .onnx file is read)"
        )
    if not data:
        raise ModelError(f"{path}: the file is empty, not an ONNX model")
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception as exc:  # protobuf's DecodeError, or upb's errors on garbage
        raise ModelError(
            f"{path}: not an ONNX model (the file does not parse as one: {_first_line(exc)}; a "
            f"truncated download or another format?)"
        ) from None
    check_model(model, path)
    return model


def check_model(model, source: str) -> None:
    """The checks every model passes before it is read (from a file or from memory).

    External-data references are checked where one is read (:func:`external_bytes`): a weight
    kept elsewhere is never read (its shape is in the file), so a reference out of the model's
    folder matters only for the small constants the import reads, and is refused there.

    Raises:
        ModelError: no graph, or too many nodes.
    """
    if model.ir_version <= 0 or not model.HasField("graph") or not model.graph.node:
        raise ModelError(f"{source}: not an ONNX model (no IR version or no graph nodes)")
    if len(model.graph.node) > MAX_NODES:
        raise ModelError(
            f"{source}: the graph has {len(model.graph.node):,} nodes (at most {MAX_NODES:,} are read)"
        )


def external_location(tensor, source: str) -> tuple[str, int, int | None]:
    """(location, offset, length) of an initializer's external data, each checked.

    Raises:
        ModelError: a location that is absolute, climbs out of the folder (``..``), is empty,
            or an offset or length that is not a whole number.
    """
    info = {e.key: e.value for e in tensor.external_data}
    where = f"{source}: initializer {_show(tensor.name)} keeps its data in an external file"
    location = info.get("location", "")
    if not location or "\0" in location:
        raise ModelError(f"{where}, but names no file")
    parts = location.replace("\\", "/").split("/")
    if location.startswith(("/", "\\")) or (len(location) > 1 and location[1] == ":"):
        raise ModelError(
            f"{where} at the absolute path {_show(location)}: external data is read only from the "
            f"model's own folder"
        )
    if ".." in parts:
        raise ModelError(
            f"{where} at {_show(location)}, outside the model's folder: external data is read only "
            f"from the model's own folder"
        )
    try:
        offset = int(info.get("offset", "0"))
        length = int(info["length"]) if "length" in info else None
    except ValueError:
        raise ModelError(f"{where}, at an offset or length that is not a number") from None
    if offset < 0 or (length is not None and length < 0):
        raise ModelError(f"{where}, at a negative offset or length")
    return location, offset, length


def external_bytes(tensor, source: str) -> bytes:
    """The bytes of a small initializer kept in an external file in the model's folder.

    Raises:
        ModelError: the file is missing, unreadable, outside the folder (through a link), not a
            regular file, or the chunk is larger than :data:`MAX_EXTERNAL_BYTES`.
    """
    location, offset, length = external_location(tensor, source)
    folder = Path(source).resolve().parent
    where = f"{source}: initializer {_show(tensor.name)}: its external data {_show(location)}"
    path = (folder / location).resolve()
    if folder not in path.parents:
        raise ModelError(f"{where} leads outside the model's folder (a link?); it is not read")
    import numpy as np

    itemsize = np.dtype(_numpy_dtype(tensor)).itemsize
    want = int(np.prod(tensor.dims, dtype=object)) * itemsize if length is None else length
    if want > MAX_EXTERNAL_BYTES:
        raise ModelError(f"{where}: {want:,} bytes, more than a constant the import reads")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise ModelError(f"{where} cannot be read: {exc.strerror or exc}") from None
    try:
        import stat

        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ModelError(f"{where} is not a regular file")
        data = os.pread(fd, want, offset)
    except OSError as exc:
        raise ModelError(f"{where} cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) != want:
        raise ModelError(f"{where} holds {len(data)} bytes at offset {offset}, not {want}")
    return data


def _numpy_dtype(tensor):
    from onnx import helper

    try:
        return helper.tensor_dtype_to_np_dtype(tensor.data_type)
    except (KeyError, ValueError, TypeError):
        raise ModelError(f"initializer {_show(tensor.name)} has an unknown data type") from None


def _first_line(exc: BaseException) -> str:
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()[:300]
    return type(exc).__name__


def _show(text: str) -> str:
    """A name from the file, quoted and with control and bidirectional characters escaped, so
    that a message never carries them raw to a terminal."""
    return safe_repr(text)


def safe_repr(text: str, limit: int = 200) -> str:
    """``repr`` of a name from a file, with every character outside printable ASCII written as
    an escape (bidirectional overrides included), cut at ``limit`` characters."""
    text = str(text)
    cut = len(text) > limit
    shown = repr(text[:limit]).encode("ascii", "backslashreplace").decode("ascii")
    return shown + ("..." if cut else "")
