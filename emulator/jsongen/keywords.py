"""The JSON Schema vocabulary the generator reads, and the paths and messages it reports.

Draft 2020-12 keywords sorted by what the generator does with them (generate for them, or
ignore them as annotations), the type an untyped schema suggests, JSON-pointer
paths into the schema (RFC 6901 escaping), and two measures of JSON values (their size in
characters, a canonical key for equality).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from emulator.errors import GenerationError

# Keywords that assert nothing about an instance.
ANNOTATIONS = frozenset(
    [
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$comment",
        "$schema",
        "$id",
        "$anchor",
        "$dynamicAnchor",
        "$vocabulary",
        "$defs",
        "definitions",
        "contentMediaType",
        "contentEncoding",
        "contentSchema",
    ]
)
COMPOSED = frozenset(["$ref", "allOf", "anyOf", "oneOf"])
_TYPE_HINTS = (
    (
        "object",
        (
            "properties",
            "required",
            "additionalProperties",
            "minProperties",
            "maxProperties",
            "patternProperties",
            "propertyNames",
            "dependentRequired",
            "dependentSchemas",
            "unevaluatedProperties",
        ),
    ),
    (
        "array",
        (
            "items",
            "prefixItems",
            "minItems",
            "maxItems",
            "uniqueItems",
            "contains",
            "minContains",
            "maxContains",
            "unevaluatedItems",
        ),
    ),
    ("string", ("minLength", "maxLength", "pattern", "format")),
    ("number", ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")),
)


def infer(schema: Mapping[str, Any]) -> str:
    """The type an untyped schema's keywords suggest; each keyword only constrains its type."""
    for name, keywords in _TYPE_HINTS:
        if any(keyword in schema for keyword in keywords):
            return name
    return "string"


def is_null_schema(schema: Any) -> bool:
    """Whether `schema` is exactly `{"type": "null"}` (a nullable branch of anyOf/oneOf)."""
    return isinstance(schema, Mapping) and schema.get("type") in ("null", ["null"])


def asserts(schema: Mapping[str, Any]) -> bool:
    """Whether `schema` has any keyword that constrains an instance."""
    return any(key not in ANNOTATIONS for key in schema)


def fail(path: str, reason: str) -> GenerationError:
    """The error for a schema location no value can be generated for, and why."""
    return GenerationError(f"cannot generate a value for {path}: {reason}")


def escape(name: str) -> str:
    """A property name as a JSON-pointer token (RFC 6901: ~ as ~0, / as ~1)."""
    return name.replace("~", "~0").replace("/", "~1")


def pointer(parts: Sequence[object]) -> str:
    """A schema path (`#/properties/a`) from its parts."""
    return "#" + "".join(f"/{escape(str(part))}" for part in parts)


def size(value: Any) -> int:
    """Roughly the characters of a JSON value: its strings, keys and numbers (4 for the rest)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Mapping):
        return sum(len(str(key)) + size(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return sum(size(item) for item in value)
    if isinstance(value, bool) or value is None:
        return 4
    return len(str(value))


def canonical(value: Any) -> str:
    """A key equal for JSON-equal values (1 == 1.0, but true != 1), as uniqueItems compares."""

    def norm(v: Any) -> Any:
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, list):
            return [norm(x) for x in v]
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items()}
        return v

    return json.dumps(norm(value), sort_keys=True)
