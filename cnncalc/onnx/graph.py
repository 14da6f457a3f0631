"""An ONNX graph in an order where each node comes after what it reads, with its constants.

:class:`Graph` sorts the nodes (Kahn's algorithm; a cycle, a tensor written twice or one nobody
provides is an error naming the node), reads every ``Constant`` node's value, follows
``Identity`` nodes of constants to what they copy (PyTorch's exporters share initializers that
way), and indexes who reads each tensor.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from .reading import ModelError, external_bytes, safe_repr

#: Largest dimension accepted in a model (a larger one is a corrupt or hostile file).
MAX_DIM = 2**31
#: Largest constant read as a value (shape arithmetic reads a few integers; weights are shapes).
MAX_VALUE_ELEMENTS = 4096

ONNX_DOMAINS = ("", "ai.onnx")


class Unmappable(Exception):
    """The node has no layer kind; the message says why."""


class Graph:
    def __init__(self, model, source: str):
        self.model = model
        self.source = source
        self.graph = model.graph
        self.initializers = {t.name: t for t in self.graph.initializer}
        for t in self.graph.initializer:
            self.check_dims(t.dims, f"initializer {safe_repr(t.name)}")
        self.constants: dict[str, Any] = {}
        self.alias: dict[str, str] = {}  # Identity of a constant -> the constant
        self.outputs = {o.name for o in self.graph.output}
        self.nodes = self._sorted()
        self.index = {id(n): i for i, n in enumerate(self.nodes)}
        self.consumers: dict[str, list] = {}
        self.producer: dict[str, Any] = {}
        for node in self.nodes:
            for x in node.input:
                self.consumers.setdefault(x, []).append(node)
            for y in node.output:
                self.producer[y] = node

    def _sorted(self) -> list:
        provided = {i.name for i in self.graph.input} | set(self.initializers) | {""}
        producer: dict[str, int] = {}
        nodes = list(self.graph.node)
        for i, node in enumerate(nodes):
            if not node.output:
                raise ModelError(f"{self.source}: node {label(node)} ({node.op_type}) has no outputs")
            if node.op_type == "Constant" and node.domain in ONNX_DOMAINS:
                try:
                    self.constants[node.output[0]] = self._constant_value(node)
                except (ValueError, TypeError) as exc:
                    raise ModelError(
                        f"{self.source}: Constant node {label(node)} has a malformed value: {exc}"
                    ) from None
            for out in node.output:
                if out in producer or (out and out in provided):
                    raise ModelError(
                        f"{self.source}: tensor {safe_repr(out)} is written twice (node {label(node)})"
                    )
                if out:
                    producer[out] = i
        waiting = []
        for node in nodes:
            deps = set()
            for x in node.input:
                if x in provided:
                    continue
                if x not in producer:
                    raise ModelError(
                        f"{self.source}: node {label(node)} ({node.op_type}) reads {safe_repr(x)}, which "
                        f"no node, initializer or graph input provides (a missing initializer?)"
                    )
                deps.add(producer[x])
            waiting.append(deps)
        order: list[int] = []
        ready = deque(i for i, d in enumerate(waiting) if not d)
        users: dict[int, list[int]] = {}
        for i, deps in enumerate(waiting):
            for d in deps:
                users.setdefault(d, []).append(i)
        while ready:
            i = ready.popleft()
            order.append(i)
            for u in users.get(i, []):
                waiting[u].discard(i)
                if not waiting[u]:
                    ready.append(u)
        if len(order) != len(nodes):
            done = set(order)
            stuck = [label(nodes[i])[1:-1] for i in range(len(nodes)) if i not in done]
            raise ModelError(
                f"{self.source}: the graph has a cycle through {len(stuck)} nodes "
                f"({', '.join(stuck[:5])}{', ...' if len(stuck) > 5 else ''})"
            )
        ordered = [nodes[i] for i in order]
        for node in ordered:
            if node.op_type == "Identity" and node.domain in ONNX_DOMAINS and node.input:
                source = self.alias.get(node.input[0], node.input[0])
                if source in self.initializers or source in self.constants:
                    self.alias[node.output[0]] = source
        return ordered

    def _constant_value(self, node):
        from onnx import helper, numpy_helper

        for a in node.attribute:
            if a.name == "value":
                value = helper.get_attribute_value(a)
                self.check_dims(value.dims, f"constant {safe_repr(node.output[0])}")
                if value.data_location == value.EXTERNAL:
                    return None
                return numpy_helper.to_array(value)
            if a.name in ("value_float", "value_int", "value_floats", "value_ints"):
                import numpy as np

                return np.array(helper.get_attribute_value(a))
        return None

    def check_dims(self, values, what: str) -> None:
        for d in values:
            if d < 0 or d > MAX_DIM:
                raise ModelError(f"{self.source}: {what} has a dimension {d} (at most {MAX_DIM} is accepted)")

    # -- constants ---------------------------------------------------------------------------

    def resolve(self, name: str) -> str:
        return self.alias.get(name, name)

    def is_constant(self, name: str) -> bool:
        name = self.resolve(name)
        return name in self.initializers or name in self.constants

    def constant_array(self, name: str):
        """The value of a constant tensor (an initializer or a Constant node's), as numpy."""
        from onnx import numpy_helper

        name = self.resolve(name)
        if name in self.constants and self.constants[name] is not None:
            return self.constants[name]
        if name in self.initializers:
            t = self.initializers[name]
            count = 1
            for d in t.dims:
                count *= int(d)
            if count > MAX_VALUE_ELEMENTS:
                raise Unmappable(f"the constant {safe_repr(name)} is a weight ({count:,} values), not a size")
            if t.data_location == t.EXTERNAL:
                import numpy as np

                try:
                    data = external_bytes(t, self.source)
                except ModelError as exc:
                    raise Unmappable(str(exc).removeprefix(f"{self.source}: ")) from None
                dtype = numpy_helper.helper.tensor_dtype_to_np_dtype(t.data_type)
                return np.frombuffer(data, dtype=dtype).reshape(tuple(int(d) for d in t.dims))
            if not t.raw_data and _empty(t):
                if count == 0:
                    import numpy as np

                    return np.zeros(tuple(int(d) for d in t.dims))
                raise Unmappable(f"the constant {safe_repr(name)} has no data in the file")
            try:
                return numpy_helper.to_array(t)
            except (ValueError, TypeError) as exc:
                raise Unmappable(f"the constant {safe_repr(name)} is malformed: {exc}") from None
        raise Unmappable(f"{safe_repr(name)} is computed, not a constant")

    def constant_shape(self, name: str) -> tuple[int, ...]:
        name = self.resolve(name)
        if name in self.initializers:
            return tuple(int(d) for d in self.initializers[name].dims)
        if name in self.constants and self.constants[name] is not None:
            return tuple(int(d) for d in self.constants[name].shape)
        raise Unmappable(f"the weight {safe_repr(name)} is computed by other nodes, not stored")

    def is_used(self, name: str) -> bool:
        return name in self.outputs or bool(self.consumers.get(name))

    def sole_user(self, name: str, op_type: str):
        """The one node reading tensor ``name``, when there is one and it is an ``op_type``."""
        users = self.consumers.get(name, [])
        if len(users) != 1 or users[0].op_type != op_type or name in self.outputs:
            return None
        return users[0]


def label(node) -> str:
    """A node's name for messages, quoted: its name, else its first output."""
    return safe_repr(node.name or (node.output[0] if node.output else f"<{node.op_type}>"))


def _empty(t) -> bool:
    return not any(
        len(getattr(t, f)) for f in ("float_data", "int32_data", "int64_data", "double_data", "uint64_data")
    )
