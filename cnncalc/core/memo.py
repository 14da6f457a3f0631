"""What the engine remembers between analyses of nearly the same spec (an editor's keystrokes).

An edit changes one line; the other layers of the network read the same arguments, the same
symbol values and the same input shapes as before, and so have the same results. A
:class:`Memo` keeps, per layer application, what :func:`cnncalc.core.engine.analyze` computed
from exactly these: the bound layer, its checks, output shape, weights, costs and lints. It is
keyed by the layer's kind and arguments as written, the values of the names they read (symbols,
block arguments, ``input.C``, the repetition's index), the input shapes and the symbols'
declarations (their bounds decide checks), so a hit is the same computation. Only results that
passed every check are kept; the checks are still put to the analysis's decider, which records
the constraints of a symbolic analysis afresh.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

#: Most layer applications remembered (a 1,000-block ResNet has about 7,000).
MAX_ENTRIES = 50_000


class Memo:
    """Results of layer applications, least recently used dropped first past ``limit``."""

    def __init__(self, limit: int = MAX_ENTRIES) -> None:
        self.limit = limit
        self._entries: OrderedDict[Any, tuple] = OrderedDict()
        self._layer_keys: dict[int, tuple[Any, Any, tuple[str, ...]]] = {}  # id -> (layer, key, names)
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()  # an editor analyses its two readings in two threads

    def __len__(self) -> int:
        return len(self._entries)

    def key(self, layer: Any, scope: dict[str, Any], xs: tuple, context: Any) -> Any:
        """The key of ``layer`` applied to inputs of shapes ``xs`` with names read from ``scope``;
        None when some value cannot be a key (then nothing is remembered)."""
        found = self._layer_keys.get(id(layer))  # (a race only computes it twice)
        if found is None or found[0] is not layer:
            names: set[str] = set()
            values = []
            for name in type(layer).model_fields:
                value = getattr(layer, name)
                values.append(value)
                _names(value, names)
            found = (layer, (type(layer), tuple(values)), tuple(sorted(names)))
            if len(self._layer_keys) > self.limit:
                self._layer_keys.clear()
            self._layer_keys[id(layer)] = found
        _, written, names = found
        key = (written, tuple(scope.get(n, _ABSENT) for n in names), xs, context)
        try:
            hash(key)
        except TypeError:
            return None
        return key

    def get(self, key: Any) -> tuple | None:
        if key is None:
            return None
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: Any, value: tuple) -> None:
        if key is None:
            return
        with self._lock:
            self._entries[key] = value
            if len(self._entries) > self.limit:
                self._entries.popitem(last=False)


_ABSENT = object()


def _names(value: Any, out: set[str]) -> None:
    """The names an argument's expressions read (and a lone name standing for a pair)."""
    names = getattr(value, "names", None)
    if names is not None:
        out.update(names)
        tree = getattr(value, "tree", None)
        if isinstance(tree, tuple) and len(tree) == 2 and isinstance(tree[1], str):
            out.add(tree[1])
    elif isinstance(value, tuple):
        for v in value:
            _names(v, out)


class Stopped(Exception):
    """An analysis was stopped by its :class:`Watched` memo: its result is no longer wanted."""


class Watched:
    """A view of a :class:`Memo` for one analysis, which stops it (raising :class:`Stopped`)
    at the next layer once ``stop()`` says so: an editor drops the analysis of text typed over
    already, however large the spec."""

    def __init__(self, memo: Memo, stop: Any) -> None:
        self.memo = memo
        self.stop = stop

    def key(self, layer: Any, scope: dict[str, Any], xs: tuple, context: Any) -> Any:
        if self.stop():
            raise Stopped
        return self.memo.key(layer, scope, xs, context)

    def get(self, key: Any) -> tuple | None:
        return self.memo.get(key)

    def put(self, key: Any, value: tuple) -> None:
        self.memo.put(key, value)
