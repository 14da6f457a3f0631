"""The JSON Schema of spec files (``cnncalc schema``), built from the layer registry."""

from __future__ import annotations

import inspect
from typing import Any

from ..layers import all_kinds
from .model import FORMAT_VERSION

_EXPR = {
    "anyOf": [{"type": "integer"}, {"type": "number"}, {"type": "string"}],
    "description": "a number or an expression: + - * / // % **, comparisons, and/or/not, "
    "a if c else b, a[i], here.C input.C network.C layer.C (N, H, W), "
    "min max floor ceil round make_divisible len sum",
}
#: A list of numbers or expressions, of pairs, or of rows.
_LIST = {"type": "array", "items": {"anyOf": [_EXPR, {"$ref": "#/$defs/list"}]}, "minItems": 1}
#: A block's name as an entry writes it bare: a name, or a used spec's prefix and block.
_BARE_NAME = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$"
_REF = {
    "type": ["string", "integer"],
    "description": "an earlier layer's name, input, a block argument naming a tensor, or a name "
    "template (dense{k})",
}

_META = {
    "name": {
        "type": ["string", "integer"],
        "description": "the layer's name (default: kind and a counter); {expressions} in it are "
        "evaluated, i the index of a repetition: denselayer{i + 1}",
    },
    "freeze": {"type": "boolean", "description": "parameters are frozen (not trainable)"},
    "from": {**_REF, "description": "take the output of this earlier layer as input (a name or a template)"},
    "for": {
        "type": "string",
        "description": "apply this entry to each row of a table, its fields bound by name: "
        "'t, c, n, s in settings' (row: the row's index, count: the applications before)",
    },
    "repeat": {**_EXPR, "description": "apply this entry several times in a row; i is the index (from 0)"},
    "share": {**_REF, "description": "use the weights of this earlier layer"},
    "when": {**_EXPR, "description": "the entry exists only when this is not 0"},
}


def _layer_schema(cls) -> dict[str, Any]:
    schema = cls.model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
    if cls.__doc__:
        schema["description"] = inspect.cleandoc(cls.__doc__)
    props = dict(schema["properties"])
    props.update(_META)
    if cls.arity != 1:
        props["inputs"] = {
            "anyOf": [
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
                {"type": "string"},
            ],
            "description": "names of the earlier layers to merge (one written name: with the previous "
            "output); an item may be a template or a list over a range ('dense{j} for j in range(k)'); "
            "a block argument naming a tensor",
        }
        props["branches"] = {
            "type": "array",
            "minItems": 2,
            "items": {"$ref": "#/$defs/layers"},
            "description": "layer lists applied to the input, then merged",
        }
    schema["properties"] = props
    schema["additionalProperties"] = False
    return schema


def spec_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) describing spec files, for editors' autocompletion."""
    classes = all_kinds()
    kinds = sorted(classes)
    bare = [
        k
        for k in kinds
        if not any(f.is_required() for f in classes[k].model_fields.values()) and classes[k].arity == 1
    ]
    entry_variants: list[dict[str, Any]] = [
        {"enum": bare, "description": "a layer without arguments"},
        {
            "type": "string",
            "pattern": _BARE_NAME,
            "not": {"enum": [*(k for k in kinds if k not in bare), "residual"]},
            "description": "a block without arguments: one under 'blocks', a block argument holding "
            "a kind, or a used spec's block (prefix.block)",
        },
    ]
    defs: dict[str, Any] = {}
    for k in kinds:
        defs[k] = _layer_schema(classes[k])
        entry_variants.append(
            {
                "type": "object",
                "properties": {k: {"anyOf": [{"$ref": f"#/$defs/{k}"}, {"type": "null"}]}},
                "required": [k],
                "additionalProperties": False,
            }
        )
    entry_variants.append(
        {
            "type": "object",
            "properties": {
                "residual": {
                    "type": "object",
                    "properties": {
                        "body": {"$ref": "#/$defs/layers"},
                        "shortcut": {"$ref": "#/$defs/layers"},
                        **_META,
                    },
                    "required": ["body"],
                    "additionalProperties": False,
                }
            },
            "required": ["residual"],
            "additionalProperties": False,
        }
    )
    entry_variants.append(
        {
            "type": "object",
            "description": "a block defined under 'blocks', with its arguments",
            "minProperties": 1,
            "maxProperties": 1,
            # A block cannot have a layer kind's name: such an entry is that kind's.
            "propertyNames": {"pattern": _BARE_NAME, "not": {"enum": [*kinds, "residual"]}},
            "additionalProperties": {"type": ["object", "null"]},
        }
    )
    defs["entry"] = {"anyOf": entry_variants}
    defs["layers"] = {"type": "array", "items": {"$ref": "#/$defs/entry"}}
    defs["list"] = _LIST
    from .budget import json_schema as budget_schema

    symbol = {
        "anyOf": [
            {
                "type": ["number", "string"],
                "description": "the default value (3/4 is exact), or an expression of the symbols above",
            },
            {"$ref": "#/$defs/list"},
            {"type": "null"},
            {
                "type": "object",
                "properties": {
                    "default": {"anyOf": [{"type": ["number", "string"]}, {"$ref": "#/$defs/list"}]},
                    "min": {"type": ["number", "string"]},
                    "max": {"type": ["number", "string"]},
                    "type": {"enum": ["integer", "rational"]},
                    "doc": {"type": "string"},
                },
                "additionalProperties": False,
            },
        ]
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "cnncalc spec",
        "type": "object",
        "properties": {
            "cnncalc": {
                "type": "integer",
                "minimum": 1,
                "maximum": FORMAT_VERSION,
                "description": f"the version of the spec format ({FORMAT_VERSION})",
            },
            "name": {"type": "string"},
            "description": {"type": "string"},
            "use": {
                "type": "object",
                "description": "other specs whose blocks this one uses, by prefix (prefix.block)",
                "additionalProperties": {
                    "type": "object",
                    "properties": {
                        "spec": {
                            "type": "string",
                            "description": "a bundled name, or a path relative to this file",
                        },
                        "symbols": {
                            "type": "object",
                            "additionalProperties": {"anyOf": [_EXPR, {"$ref": "#/$defs/list"}]},
                            "description": "values of the used spec's symbols and lists",
                        },
                        "doc": {"type": "string"},
                    },
                    "required": ["spec"],
                    "additionalProperties": False,
                },
            },
            "symbols": {"type": "object", "additionalProperties": symbol},
            "input": {"type": "array", "items": _EXPR, "minItems": 1},
            "blocks": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "properties": {
                        "args": {
                            "type": "object",
                            "additionalProperties": {
                                "anyOf": [_EXPR, {"$ref": "#/$defs/list"}, {"type": "null"}],
                                "description": "a default: a number, an expression, a list, a layer "
                                "kind or a tensor's name (null: required)",
                            },
                        },
                        "layers": {"$ref": "#/$defs/layers"},
                        "doc": {"type": "string"},
                    },
                    "required": ["layers"],
                    "additionalProperties": False,
                },
            },
            "layers": {"$ref": "#/$defs/layers"},
            "freeze_until": {"type": "string"},
            "budget": budget_schema(),
        },
        "required": ["input", "layers"],
        "additionalProperties": False,
        "$defs": defs,
    }
