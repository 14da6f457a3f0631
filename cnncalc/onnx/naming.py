"""Names for imported layers, from what the exporter recorded.

PyTorch's module paths are the names a reader knows (``layer1.0.conv1``): the legacy exporter
writes them into node names (``/layer1/layer1.0/conv1/Conv``), the dynamo exporter into each
node's metadata (``pkg.torch.onnx.name_scopes``), and both name initializers after parameters
(``layer1.0.conv1.weight``). Other producers' node names are kept, made spec-safe.
"""

from __future__ import annotations

import ast
import re

NAME_OK = re.compile(r"[^A-Za-z0-9_.\-]")
#: Longest layer name written (a longer node name is cut; names stay unique).
MAX_NAME = 200


def base_name(node, kind: str, weight: str, output: str, suffix: str | None) -> str:
    """A layer's name before it is made unique."""
    scoped = scope_name(node)
    if "/" in node.name:  # PyTorch's module scopes (its initializers may be deduplicated)
        base = node_name(node.name, node.op_type)
    elif weight.endswith(".weight") and suffix is None:
        # the parameter's module (a convolution that absorbed its batch norm keeps the norm's
        # scope in the metadata, but its weight's name); a weight several layers share (equal
        # values deduplicated by the exporter) names only the first, so it is not used then
        base = NAME_OK.sub("_", weight[: -len(".weight")])
    elif scoped:  # the dynamo exporter's metadata
        base = scoped
    elif node.name:
        base = node_name(node.name, node.op_type)
    else:
        base = NAME_OK.sub("_", output)
    base = base[:MAX_NAME].strip(".-") or kind
    return f"{base}_{suffix}" if suffix else base


def unique(names: list[str], taken: set[str]) -> list[str]:
    """The names made unique in order (``relu``, ``relu_2``, ...), in time linear in their
    number however many repeat."""
    out = []
    next_k: dict[str, int] = {}
    for name in names:
        candidate = name
        if candidate in taken:
            k = next_k.get(name, 2)
            while f"{name}_{k}" in taken:
                k += 1
            candidate = f"{name}_{k}"
            next_k[name] = k + 1
        taken.add(candidate)
        out.append(candidate)
    return out


def node_name(name: str, op_type: str) -> str:
    """``/layer1/layer1.0/relu/Relu`` (PyTorch's scopes) -> ``layer1.0.relu``; an operator
    called in a module's forward, ``/layer1/layer1.0/Add``, -> ``layer1.0.add``."""
    parts = [p for p in name.split("/") if p]
    if parts and (parts[-1] == op_type or parts[-1].startswith(f"{op_type}_")):
        last = parts.pop()
        functional = not parts or (len(parts) > 1 and parts[-1].startswith(f"{parts[-2]}."))
        if functional:
            parts.append(last.lower())
    kept = [p for i, p in enumerate(parts) if not (i + 1 < len(parts) and parts[i + 1].startswith(f"{p}."))]
    return NAME_OK.sub("_", ".".join(kept))


def scopes(node) -> tuple[list[str], list[str]]:
    """(module scopes, module classes) the dynamo exporter records for a node, or empty lists."""
    props = {p.key: p.value for p in node.metadata_props}
    raw_scopes = props.get("pkg.torch.onnx.name_scopes", "")
    raw_classes = props.get("pkg.torch.onnx.class_hierarchy", "")
    if not raw_scopes or len(raw_scopes) > 100_000 or len(raw_classes) > 100_000:
        return [], []
    try:
        found = ast.literal_eval(raw_scopes)
        classes = ast.literal_eval(raw_classes) if raw_classes else []
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return [], []
    if not (isinstance(found, list) and all(isinstance(s, str) for s in found)):
        return [], []
    if not (isinstance(classes, list) and all(isinstance(s, str) for s in classes)):
        classes = []
    return found, classes


def module_class(node) -> str:
    """The class of the torch module a node was exported from (dynamo's metadata), or ''."""
    _, classes = scopes(node)
    return classes[-2] if len(classes) >= 2 else ""


def scope_name(node) -> str:
    """The module path torch's dynamo exporter records in a node's metadata
    (``['', 'layer1', 'layer1.0', 'add']``): the module's name when the node is a module's own
    operation (a torch.nn ReLU called as ``relu``), else the module's name and the operation's
    (``layer1.0.add``, in a block's forward)."""
    found, classes = scopes(node)
    if len(found) < 2:
        return ""
    module, op_name = found[-2], re.sub(r"_\d+$", "", found[-1])
    leaf = len(classes) >= 2 and classes[-2].startswith("torch.nn.modules.")
    name = module if leaf and module else f"{module}.{op_name}" if module else op_name
    return NAME_OK.sub("_", name)[:MAX_NAME]
