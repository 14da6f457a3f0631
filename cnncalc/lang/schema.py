"""The JSON Schema of spec files (``cnncalc schema``), built from the layer registry."""

from __future__ import annotations

import inspect
from typing import Any

from ..layers import REGISTRY

_EXPR = {
    "anyOf": [{"type": "integer"}, {"type": "number"}, {"type": "string"}],
    "description": "a number or an expression: + - * / // % **, comparisons, and/or/not, "
    "a if c else b, input.C (N, H, W), min max floor ceil round make_divisible",
}

_META = {
    "name": {
        "type": ["string", "integer"],
        "description": "the layer's name (default: kind and a counter); {expressions} in it are "
        "evaluated, i the index of a repetition: denselayer{i + 1}",
    },
    "freeze": {"type": "boolean", "description": "parameters are frozen (not trainable)"},
    "from": {"type": "string", "description": "take the output of this earlier layer as input"},
    "repeat": {**_EXPR, "description": "apply this entry several times in a row; i is the index (from 0)"},
    "share": {"type": "string", "description": "use the weights of this earlier layer"},
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
            "type": "array",
            "items": {"type": "string"},
            "minItems": 1,
            "description": "names of the earlier layers to merge (one name: with the previous output)",
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
    kinds = sorted(REGISTRY)
    bare = [
        k
        for k in kinds
        if not any(f.is_required() for f in REGISTRY[k].model_fields.values()) and REGISTRY[k].arity == 1
    ]
    entry_variants: list[dict[str, Any]] = [
        {"enum": bare, "description": "a layer without arguments"},
    ]
    defs: dict[str, Any] = {}
    for k in kinds:
        defs[k] = _layer_schema(REGISTRY[k])
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
            "additionalProperties": {"type": ["object", "null"]},
        }
    )
    defs["entry"] = {"anyOf": entry_variants}
    defs["layers"] = {"type": "array", "items": {"$ref": "#/$defs/entry"}}
    from .budget import json_schema as budget_schema

    symbol = {
        "anyOf": [
            {"type": ["number", "string"], "description": "the default value (3/4 is exact)"},
            {"type": "null"},
            {
                "type": "object",
                "properties": {
                    "default": {"type": ["number", "string"]},
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
            "name": {"type": "string"},
            "description": {"type": "string"},
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
                                "anyOf": [
                                    _EXPR,
                                    {"type": "array", "items": _EXPR, "minItems": 2, "maxItems": 2},
                                    {"type": "null"},
                                ]
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
