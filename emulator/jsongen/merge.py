"""allOf and $ref folded into one schema, for the simple cases that cover real schemas.

`merge` combines the parts keyword by keyword (the largest minimum, the smallest maximum, the
union of properties and required, the intersection of types and enums, the least common multiple
of multipleOf, anyOf x anyOf crossed out); what it cannot combine raises GenerationError, and the
final validation of the value catches what it folds too loosely.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from emulator.jsongen.budget import MAX_REF_STACK, Resolve
from emulator.jsongen.conditions import ALSO
from emulator.jsongen.keywords import ANNOTATIONS, canonical, fail


def merge(schema: Mapping[str, Any], path: str, resolve: Resolve) -> dict[str, Any]:
    """One schema equivalent to `schema` with its $ref and allOf folded in (simple cases)."""
    parts = flatten(schema, path, 0, resolve)
    merged: dict[str, Any] = {}
    for part, _part_path in parts:
        if "if" in part and "if" in merged:  # one schema holds one if group: keep the others
            group = {k: part[k] for k in _IF_GROUP if k in part}  # checked apart, too
            merged.setdefault(ALSO, []).append(group)
            part = {k: v for k, v in part.items() if k not in _IF_GROUP}
        for key, val in part.items():
            if key in ANNOTATIONS:
                continue
            if key not in merged:
                merged[key] = val
            elif key in _CHECKED_APART and canonical(merged[key]) != canonical(val):
                kept, other = sorted([merged[key], val], key=lambda p: -len(str(p)))
                merged[key] = kept  # the longer pattern is usually the narrower one
                merged.setdefault(ALSO, []).append({key: other})
            else:
                merged[key] = _merge_keyword(key, merged[key], val, path)
    _drop_forbidden(merged, parts, path)
    return merged


def flatten(
    schema: Any, path: str, depth: int, resolve: Resolve
) -> list[tuple[Mapping[str, Any], str]]:
    """The parts of `schema`'s allOf/$ref tree, each with its path, depth first."""
    if depth > MAX_REF_STACK:
        raise fail(path, "allOf/$ref nesting never ends")
    if schema is True:
        return []
    if not isinstance(schema, Mapping):
        raise fail(path, "allOf contains a schema that admits no value")
    own = {key: val for key, val in schema.items() if key not in ("allOf", "$ref")}
    parts: list[tuple[Mapping[str, Any], str]] = [(own, path)] if own else []
    if "$ref" in schema:
        target_path, target = resolve(schema["$ref"], path)
        parts += flatten(target, target_path, depth + 1, resolve)
    for i, sub in enumerate(schema.get("allOf", [])):
        parts += flatten(sub, f"{path}/allOf/{i}", depth + 1, resolve)
    return parts


_LARGEST = frozenset(
    {"minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains"}
)
_SMALLEST = frozenset(
    {"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains"}
)
# One subschema meaning both: false if either is, else an allOf (for contains: a stronger one).
_SUBSCHEMAS = frozenset(
    {
        "items",
        "additionalProperties",
        "propertyNames",
        "contains",
        "unevaluatedProperties",
        "unevaluatedItems",
    }
)
_IF_GROUP = ("if", "then", "else")
_CHECKED_APART = frozenset({"pattern", "format", "prefixItems"})
_BY_NAME = frozenset({"properties", "patternProperties", "dependentSchemas"})
_MAX_CROSS = 64  # anyOf x anyOf combinations tolerated when merging


def _merge_keyword(key: str, a: Any, b: Any, path: str) -> Any:
    """The single value of `key` meaning both `a` and `b`, or GenerationError."""
    if key in _LARGEST:
        return max(a, b)
    if key in _SMALLEST:
        return min(a, b)
    if key in _SUBSCHEMAS:
        if a is False or b is False:
            return False
        return b if a is True else a if b is True else {"allOf": [a, b]}
    if key in _BY_NAME:
        names = list(a) + [n for n in b if n not in a]
        both = {n: {"allOf": [a[n], b[n]]} for n in names if n in a and n in b}
        return {n: both.get(n, a.get(n, b.get(n))) for n in names}
    if key == "required":
        return list(a) + [n for n in b if n not in a]
    if key == "dependentRequired":
        keys = list(a) + [k for k in b if k not in a]
        return {
            k: list(a.get(k, [])) + [n for n in b.get(k, []) if n not in a.get(k, [])] for k in keys
        }
    if key == "not":
        return {"anyOf": [a, b]}
    if key == "uniqueItems":
        return a or b
    if key == "type":
        return _merge_types(a, b, path)
    if key == "enum":
        common = [x for x in a if any(canonical(x) == canonical(y) for y in b)]
        if not common:
            raise fail(path, "allOf: the 'enum' lists have no value in common")
        return common
    if key == "multipleOf":
        fa, fb = Fraction(str(a)), Fraction(str(b))
        lcm = Fraction(
            math.lcm(fa.numerator, fb.numerator), math.gcd(fa.denominator, fb.denominator)
        )
        return int(lcm) if lcm.denominator == 1 else float(lcm)
    if key == "anyOf":
        return _cross_any_of(a, b, path)
    if key == ALSO:
        return list(a) + list(b)
    if canonical(a) == canonical(b):
        return a
    raise fail(path, f"allOf: cannot combine two different '{key}' values")


def _merge_types(a: Any, b: Any, path: str) -> list[str]:
    left = [a] if isinstance(a, str) else list(a)
    right = [b] if isinstance(b, str) else list(b)
    common = [t for t in left if t in right]
    if "integer" in left and "number" in right and "integer" not in common:
        common.append("integer")
    if "number" in left and "integer" in right and "integer" not in common:
        common.append("integer")
    if not common:
        raise fail(path, f"allOf: 'type' {a} and 'type' {b} have nothing in common")
    return common


def _cross_any_of(a: Sequence[Any], b: Sequence[Any], path: str) -> list[Any]:
    # (A1 or A2) and (B1 or B2) = A1&B1 or A1&B2 or ...: exact for anyOf.
    if len(a) * len(b) > _MAX_CROSS:
        raise fail(path, "allOf: too many 'anyOf' combinations to merge")
    return [{"allOf": [x, y]} for x in a for y in b]


def _drop_forbidden(
    merged: dict[str, Any], parts: list[tuple[Mapping[str, Any], str]], path: str
) -> None:
    """Honour each part's additionalProperties false: it forbids the other parts' properties.

    (A schema-valued additionalProperties is left to the final validation.)
    """
    for part, _part_path in parts:
        if part.get("additionalProperties", True) is not False:
            continue
        allowed = part.get("properties", {})
        for name in list(merged.get("properties", {})):
            if name in allowed:
                continue
            if name in merged.get("required", []):
                raise fail(path, f"allOf: additionalProperties forbids required {name!r}")
            merged["properties"] = {k: v for k, v in merged["properties"].items() if k != name}
