"""Repeated structure in an imported model written as blocks with arguments and ``repeat``.

PyTorch names the layers of a stage's blocks ``layer1.0.conv1``, ``layer1.1.conv1``, ...: each
``<stage>.<k>`` prefix is one block instance. Instances with the same layers (kinds, local names,
the graph between them, the arguments that are not numbers) are one block; the numbers that
differ between its instances become the block's arguments. Consecutive instances with the same
arguments are one entry with ``repeat``, named so that the expansion gives back every layer's
name (``name: "layer1.{i + 1}"``).

The folded spec is kept only when it expands to the same layers, shapes, parameters and MACs as
the flat one (:func:`cnncalc.onnx.importer.import_model` checks); otherwise the import is
written flat.
"""

from __future__ import annotations

import re
from typing import Any

from .writing import Expression, flat_lines, layer_line

_INSTANCE = re.compile(
    r"^(?P<stage>[A-Za-z_][A-Za-z0-9_.\-]*?)\.(?P<base>(?:[A-Za-z][A-Za-z0-9_]*_)?)(?P<k>\d+)\."
    r"(?P<local>[A-Za-z0-9_.\-]+)$"
)
#: Fewest layers in an instance worth a block.
MIN_LAYERS = 2


#: An instance one level deeper, inside a numbered stage (Swin's features.<s>.<k>, MaxViT's
#: blocks.<s>.layers.<k>): tried when the stages themselves do not repeat.
_DEEP = re.compile(
    r"^(?P<stage>[A-Za-z_][A-Za-z0-9_.\-]*?\.\d+(?:\.[A-Za-z_][A-Za-z0-9_\-]*)?)\."
    r"(?P<base>(?:[A-Za-z][A-Za-z0-9_]*_)?)(?P<k>\d+)\.(?P<local>[A-Za-z0-9_.\-]+)$"
)


def folded_lines(reader) -> list[str] | None:
    """The ``blocks:`` and ``layers:`` sections, or None when nothing repeats: the shorter of the
    folds at the outer numbered level (ResNet's layer<s>.<k>) and one level deeper (Swin's
    features.<s>.<k>)."""
    folds = [f for f in (_fold(reader, pattern) for pattern in (_INSTANCE, _DEEP)) if f is not None]
    return min(folds, key=len) if folds else None


def _fold(reader, pattern) -> list[str] | None:
    layers = reader.layers
    groups = _instances(reader, layers, pattern)
    if not groups:
        return None
    _normalise(groups)
    skeletons: dict[tuple, dict] = {}
    for g in groups:
        skeletons.setdefault(g["skeleton"], {"instances": [], "classes": set()})["instances"].append(g)
        skeletons[g["skeleton"]]["classes"].add(g["cls"])
    if not any(len(s["instances"]) > 1 for s in skeletons.values()):
        return None
    blocks = _blocks(reader, skeletons)
    lines = ["blocks:"]
    for block in blocks.values():
        lines += block["text"]
    lines.append("layers:")
    by_start = {g["start"]: g for g in groups}
    i, previous = 0, reader.input_name
    while i < len(layers):
        g = by_start.get(i)
        if g is None:
            lines += flat_lines(reader, [layers[i]], previous)
            previous = layers[i].output
            i += 1
            continue
        run = [g]
        while True:
            nxt = by_start.get(run[-1]["end"])
            if (
                nxt is None
                or nxt["stage"] != g["stage"]
                or nxt["base"] != g["base"]
                or nxt["skeleton"] != g["skeleton"]
                or nxt["values"] != g["values"]
                or nxt["k"] != run[-1]["k"] + 1
            ):
                break
            run.append(nxt)
        block = blocks[g["skeleton"]]
        args = {name: g["raw"][pos] for pos, name in block["args"].items()}
        k0, n = g["k"], len(run)
        head = f"{g['stage']}.{g['base']}"  # ViT's encoder.layers.encoder_layer_{i}
        if n > 1:
            args["repeat"] = n
            if k0 == 0 and not g["base"]:
                args["name"] = g["stage"]
            else:
                args["name"] = Expression(f"{head}{{i}}" if k0 == 0 else f"{head}{{i + {k0}}}")
        else:
            args["name"] = f"{head}{k0}"
        lines.append(layer_line(block["name"], args))
        previous = layers[run[-1]["end"] - 1].output
        i = run[-1]["end"]
    return lines


def _instances(reader, layers, pattern=_INSTANCE) -> list[dict]:
    """Runs of consecutive layers named ``<stage>.<k>.<local>``, each read as a block instance
    when every tensor it reads comes from inside it or from the layer just before it."""
    out = []
    i = 0
    while i < len(layers):
        m = pattern.match(layers[i].name)
        if not m:
            i += 1
            continue
        prefix = f"{m['stage']}.{m['base']}{m['k']}."
        j = i
        while j < len(layers) and layers[j].name.startswith(prefix) and pattern.match(layers[j].name):
            j += 1
        g = _instance(reader, layers, i, j, m["stage"], int(m["k"]), prefix)
        if g is not None:
            g["base"] = m["base"]
        if g is not None:
            out.append(g)
        i = j
    return out


def _instance(reader, layers, start: int, end: int, stage: str, k: int, prefix: str) -> dict | None:
    if end - start < MIN_LAYERS:
        return None
    before = layers[start - 1].output if start > 0 else reader.input_name
    local = {layers[t].output: layers[t].name[len(prefix) :] for t in range(start, end)}
    shape, values = [], []
    previous = before
    for t in range(start, end):
        entry = layers[t]
        if entry.comment:
            return None
        refs = []
        for x in entry.inputs:
            if x in local:
                refs.append(local[x])
            elif x == before:
                refs.append("input")
            else:
                return None  # reads a tensor from outside the block
        implicit = len(entry.inputs) == 1 and entry.inputs[0] == previous
        others = tuple((key, repr(v)) for key, v in entry.args.items() if not _numeric(v))
        shape.append((entry.kind, local[entry.output], others, None if implicit else tuple(refs)))
        values.append({key: v for key, v in entry.args.items() if _numeric(v)})
        previous = entry.output
    # The block's output is its last layer; nothing after the instance may read inside it.
    inner = set(local) - {layers[end - 1].output}
    for later in layers[end:]:
        if inner & set(later.inputs):
            return None
    cls = next((c for t in range(start, end) if (c := _class(layers[t], prefix[:-1]))), "")
    return {
        "start": start,
        "end": end,
        "stage": stage,
        "k": k,
        "loose": tuple(shape),
        "numbers": values,
        "cls": cls,
    }


def _normalise(groups: list[dict]) -> None:
    """Give every instance of one structure the same numeric arguments: a key one instance
    writes and another leaves at the kind's default (``stride: 2`` and no stride) is the same
    argument, with the default filled in. Sets each instance's ``skeleton`` (its structure and
    argument keys), ``raw`` (the values, in order) and ``values`` (comparable keys)."""
    from .. import layers as registry

    keys: dict[tuple, list[list[str]]] = {}
    for g in groups:
        union = keys.setdefault(g["loose"], [[] for _ in g["loose"]])
        for at, numbers in enumerate(g["numbers"]):
            for key in numbers:
                if key not in union[at]:
                    union[at].append(key)
    for g in groups:
        union = keys[g["loose"]]
        raw, written = [], []
        for at, (numbers, (kind, *_)) in enumerate(zip(g["numbers"], g["loose"], strict=True)):
            for key in union[at]:
                if key in numbers:
                    raw.append(numbers[key])
                    written.append(key)
                    continue
                default = _default(registry.REGISTRY[kind], key)
                if not isinstance(default, int) or isinstance(default, bool):
                    raw.append(("absent", key))  # no default to fill in: a structure of its own
                else:
                    raw.append(default)
        g["skeleton"] = (
            g["loose"],
            tuple(tuple(u) for u in union),
            tuple(x for x in raw if isinstance(x, tuple) and x[:1] == ("absent",)),
        )
        g["raw"] = raw
        g["values"] = tuple(_key(v) for v in raw)
        g["written"] = written


def _default(cls, key: str) -> int | None:
    """A layer kind's default for an argument, as the integer a spec writes, or None."""
    fields = getattr(cls, "model_fields", None)
    if fields is None:
        fields = cls.fields()
    info = fields.get(key)
    if info is None:
        return None
    value = getattr(info, "written", info.default)
    if isinstance(value, (tuple, list)) and len(value) == 2 and _as_int(value[0]) == _as_int(value[1]):
        value = value[0]
    return _as_int(value)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = getattr(value, "text", None)
    if isinstance(text, str) and text.lstrip("-").isdigit():
        return int(text)
    return None


def _numeric(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, Expression)):
        return True
    # a pair (a kernel [1, 7]) may be an argument; a longer list (a reshape's sizes) is part of
    # the block's skeleton, as its layer kinds read only a list written out
    return (
        isinstance(v, list)
        and len(v) == 2
        and all(isinstance(x, (int, Expression)) and not isinstance(x, bool) for x in v)
    )


def _key(v: Any) -> Any:
    if isinstance(v, Expression):
        return ("expr", v.text)
    if isinstance(v, list):
        return tuple(_key(x) for x in v)
    return v


def _class(entry, path: str) -> str:
    """The torch class of the module at ``path`` (a block instance), from the scopes the
    dynamo exporter records, or ''."""
    for scope, cls in zip(entry.scope, entry.classes, strict=False):
        if scope == path:
            return cls
    return ""


def _blocks(reader, skeletons: dict) -> dict:
    out: dict[tuple, dict] = {}
    taken = set(reader.symbols) | {"input", "i"}
    used_names: set[str] = set()
    for skeleton, info in skeletons.items():
        instances = info["instances"]
        first = instances[0]
        varying = [p for p in range(len(first["values"])) if len({g["values"][p] for g in instances}) > 1]
        # name each varying position after its argument (``out``), or its layer and argument
        loose, union, _ = skeleton
        positions = [(at, entry[1], key) for at, entry in enumerate(loose) for key in union[at]]
        # positions that take the same value in every instance are one argument
        groups: dict[tuple, list[int]] = {}
        for p in varying:
            groups.setdefault(tuple(g["values"][p] for g in instances), []).append(p)
        counts: dict[str, int] = {}
        for members in groups.values():
            key = positions[members[0]][2]
            counts[key] = counts.get(key, 0) + 1
        names: dict[int, str] = {}
        chosen: set[str] = set()
        for members in groups.values():
            _, local, key = positions[members[0]]
            name = key if counts[key] == 1 else f"{local}_{key}"
            name = re.sub(r"[^A-Za-z0-9_]", "_", name)
            if not name[:1].isalpha():
                name = f"b{name}"  # a block's layer named by its index (Swin's 0.attn.view)
            while name in taken or name in chosen:
                name += "_"
            chosen.add(name)
            for p in members:
                names[p] = name
        cls = sorted(info["classes"])[0] if len(info["classes"]) == 1 else ""
        base = re.sub(r"[^a-z0-9_]", "_", cls.rsplit(".", 1)[-1].lower()) if cls else "block"
        block_name = base
        k = 2
        while block_name in used_names or block_name in taken:
            block_name, k = f"{base}_{k}", k + 1
        used_names.add(block_name)
        out[skeleton] = {"name": block_name, "args": names}
        out[skeleton]["text"] = _block_text(reader, first, skeleton, names, block_name)
    return out


def _block_text(reader, first: dict, skeleton, names: dict[int, str], block_name: str) -> list[str]:
    layers = reader.layers[first["start"] : first["end"]]
    loose, union, _ = skeleton
    declared = ", ".join(f"{n}: null" for n in dict.fromkeys(names.values()))
    lines = [f"  {block_name}:", "    args: {" + declared + "}", "    layers:"]
    p = 0
    for at, (entry, (kind, local, _others, refs)) in enumerate(zip(layers, loose, strict=True)):
        numeric: dict[str, Any] = {}
        for key in union[at]:
            if p in names:
                numeric[key] = Expression(names[p])
            elif key in first["numbers"][at]:
                numeric[key] = first["numbers"][at][key]  # the same in every instance
            p += 1
        args: dict[str, Any] = {}
        for key, v in entry.args.items():
            if key in numeric:
                args[key] = numeric.pop(key)
            elif not _numeric(v):
                args[key] = v
        args.update(numeric)  # arguments this instance leaves at their defaults
        if refs is not None:
            if len(refs) > 1:
                args["inputs"] = list(refs)
            else:
                args["from"] = refs[0]
        args["name"] = local
        lines.append(layer_line(kind, args, indent="      "))
    return lines


__all__ = ["folded_lines"]
