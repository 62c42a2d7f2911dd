"""Tests of emulator.jsongen: schema-valid, deterministic JSON values, or a precise GenerationError."""

from __future__ import annotations

import copy
import json
import random
import re
import subprocess
import sys
from datetime import datetime, time
from typing import Any
from urllib.parse import urlsplit

import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from emulator.errors import GenerationError
from emulator.jsongen import budget, generate_json, generate_object
from emulator.jsongen import check as jsongen_check

# --------------------------------------------------------------------------- helpers


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d\d-\d\dT.+", value):
        return not isinstance(value, str)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.tzinfo is not None


def _is_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return time.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc) and " " not in value


def _is_hostname(value: object) -> bool:
    label = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    return not isinstance(value, str) or re.fullmatch(rf"{label}(\.{label})*", value) is not None


def _checker() -> FormatChecker:
    """jsonschema's checks plus independent ones for the formats it skips without extras."""
    checker = FormatChecker()
    for name, check in [
        ("date-time", _is_date_time),
        ("time", _is_time),
        ("uri", _is_uri),
        ("hostname", _is_hostname),
    ]:
        checker.checks(name, raises=ValueError)(check)
    return checker


CHECKER = _checker()


def gen(schema: Any, seed: int = 0) -> Any:
    fake = Faker()
    fake.seed_instance(seed)
    return generate_json(schema, random.Random(seed), fake)


def assert_valid(schema: Any, value: Any) -> None:
    Draft202012Validator(schema, format_checker=CHECKER).validate(value)


# --------------------------------------------------------------------------- the schema table

OPENAI_STYLE = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "date": {"type": "string"},
        "participants": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name", "date", "participants"],
    "additionalProperties": False,
}

TOOL = {
    "type": "object",
    "properties": {
        "location": {"type": "string", "description": "City, e.g. Paris"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "user_id": {"type": "string"},
        "since": {"type": "string", "format": "date-time"},
    },
    "required": ["location"],
}

TREE = {
    "$defs": {
        "node": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
            },
            "required": ["name"],
        }
    },
    "$ref": "#/$defs/node",
}

SCHEMAS: dict[str, Any] = {
    "empty": {},
    "true": True,
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "null": {"type": "null"},
    "type-list-nullable": {"type": ["string", "null"]},
    "type-list-mixed": {"type": ["integer", "string"], "minimum": 3, "minLength": 2},
    "untyped-number-keywords": {"minimum": 5, "maximum": 9},
    "enum": {"enum": ["red", "green", 3, None]},
    "enum-filtered-by-type": {"type": "integer", "enum": ["a", 1, 2.5, 7]},
    "const": {"const": {"a": [1, 2]}},
    "int-bounds": {"type": "integer", "minimum": -3, "maximum": 3},
    "int-exclusive": {"type": "integer", "exclusiveMinimum": 4, "exclusiveMaximum": 6},
    "int-float-bounds": {"type": "integer", "minimum": 1.5, "maximum": 2.5},
    "int-only-max": {"type": "integer", "maximum": -50},
    "int-multiple": {"type": "integer", "multipleOf": 7, "minimum": 100},
    "int-multiple-float": {"type": "integer", "multipleOf": 2.5},
    "number-bounds": {"type": "number", "minimum": 0.5, "maximum": 0.75},
    "number-exclusive": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.01},
    "number-multiple": {"type": "number", "multipleOf": 0.1, "minimum": 0, "maximum": 1},
    "number-huge": {"type": "number", "minimum": 1e300},
    "string-length": {"type": "string", "minLength": 30, "maxLength": 35},
    "string-empty": {"type": "string", "maxLength": 0},
    "pattern-simple": {"type": "string", "pattern": "^[A-Z]{3}-\\d{4}$"},
    "pattern-groups": {"type": "string", "pattern": "^(foo|bar)+_[^x]?\\w{2,}(\\.[a-z]+)*$"},
    "pattern-unanchored": {"type": "string", "pattern": "[0-9a-f]{8}"},
    "pattern-length": {"type": "string", "pattern": "^[a-z]+$", "minLength": 12, "maxLength": 14},
    "pattern-backref": {"type": "string", "pattern": "^(ab|cd)-\\1$"},
    "pattern-format": {"type": "string", "pattern": "^2", "format": "date"},
    "format-date-time": {"type": "string", "format": "date-time"},
    "format-date": {"type": "string", "format": "date"},
    "format-time": {"type": "string", "format": "time"},
    "format-email": {"type": "string", "format": "email"},
    "format-uri": {"type": "string", "format": "uri"},
    "format-url": {"type": "string", "format": "url"},
    "format-uuid": {"type": "string", "format": "uuid"},
    "format-ipv4": {"type": "string", "format": "ipv4"},
    "format-ipv6": {"type": "string", "format": "ipv6"},
    "format-hostname": {"type": "string", "format": "hostname"},
    "format-unknown": {"type": "string", "format": "int64"},
    "array-items": {"type": "array", "items": {"type": "integer"}},
    "array-bounds": {"type": "array", "items": {"type": "string"}, "minItems": 4, "maxItems": 4},
    "array-max-zero": {"type": "array", "maxItems": 0},
    "prefix-items": {
        "type": "array",
        "prefixItems": [{"type": "integer"}, {"type": "string", "format": "email"}],
        "items": False,
    },
    "prefix-then-items": {
        "type": "array",
        "prefixItems": [{"const": "head"}],
        "items": {"type": "boolean"},
        "minItems": 3,
    },
    "unique-items": {
        "type": "array",
        "items": {"enum": [1, 2, 3]},
        "uniqueItems": True,
        "minItems": 3,
    },
    "object-props": TOOL,
    "openai-style": OPENAI_STYLE,
    "additional-false": {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "additionalProperties": False,
    },
    "additional-schema": {
        "type": "object",
        "properties": {"a": {"type": "integer"}},
        "required": ["a", "b"],
        "additionalProperties": {"type": "boolean"},
    },
    "min-max-properties": {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}, "c": {}},
        "required": ["c"],
        "minProperties": 1,
        "maxProperties": 2,
    },
    "min-properties-extra": {"type": "object", "minProperties": 2},
    "false-optional-property": {"type": "object", "properties": {"gone": False, "here": {}}},
    "any-of": {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "integer"}]},
    "any-of-with-siblings": {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
        "anyOf": [{"required": ["a"]}, {"required": ["b"]}],
    },
    "any-of-nullable": {"anyOf": [{"type": "null"}, {"type": "string", "format": "uuid"}]},
    "one-of": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
    "one-of-overlap": {"oneOf": [{"type": "integer"}, {"type": "number", "maximum": 10}]},
    "all-of": {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
            {"properties": {"a": {"minimum": 50}, "b": {"format": "ipv4"}}, "required": ["b"]},
        ]
    },
    "all-of-numbers": {
        "allOf": [{"type": "number", "minimum": 3}, {"type": "integer", "maximum": 9}],
    },
    "all-of-ref": {
        "$defs": {"base": {"type": "object", "properties": {"id": {"type": "string"}}}},
        "allOf": [{"$ref": "#/$defs/base"}, {"properties": {"n": {"type": "integer"}}}],
    },
    "all-of-additional-false": {
        "allOf": [
            {"properties": {"a": {"type": "string"}}, "additionalProperties": False},
            {"properties": {"b": {"type": "string"}}},
        ]
    },
    "ref-defs": {
        "$defs": {"Age": {"type": "integer", "minimum": 0, "maximum": 120}},
        "type": "object",
        "properties": {"age": {"$ref": "#/$defs/Age"}},
    },
    "ref-definitions": {
        "definitions": {"Tag": {"type": "string", "pattern": "^#[a-z]+$"}},
        "type": "array",
        "items": {"$ref": "#/definitions/Tag"},
    },
    "ref-with-siblings": {
        "$defs": {"Num": {"type": "integer"}},
        "$ref": "#/$defs/Num",
        "minimum": 1000,
        "description": "annotations beside $ref are ignored",
    },
    "ref-recursive-tree": TREE,
    "ref-root-linked-list": {
        "type": "object",
        "properties": {
            "value": {"type": "integer"},
            "next": {"anyOf": [{"$ref": "#"}, {"type": "null"}]},
        },
        "required": ["value", "next"],
    },
    "ref-escaped-pointer": {
        "$defs": {"a/b": {"const": 1}, "c~d": {"const": 2}},
        "prefixItems": [{"$ref": "#/$defs/a~1b"}, {"$ref": "#/$defs/c~0d"}],
        "minItems": 2,
        "maxItems": 2,
    },
    "annotations": {
        "title": "T",
        "description": "D",
        "examples": ["x"],
        "default": 3,
        "type": "string",
    },
}

# Schemas with exactly one valid value; every other table schema has freedom.
FIXED_VALUE = {"null", "const", "int-exclusive", "int-float-bounds", "string-empty"}
FIXED_VALUE |= {"array-max-zero", "ref-escaped-pointer"}


# --------------------------------------------------------------------------- validity and determinism


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("schema", SCHEMAS.values(), ids=SCHEMAS.keys())
def test_value_validates(schema: Any, seed: int) -> None:
    """Every table schema yields a value jsonschema (with format checks) accepts."""
    assert_valid(schema, gen(schema, seed))


@pytest.mark.parametrize("schema", SCHEMAS.values(), ids=SCHEMAS.keys())
def test_same_seed_same_output(schema: Any) -> None:
    """The same schema and seeds give byte-identical JSON, whatever the global random state."""
    random.seed(1)
    first = json.dumps(gen(schema, 7))
    random.seed(2)
    assert json.dumps(gen(copy.deepcopy(schema), 7)) == first


@pytest.mark.parametrize("name", [n for n in SCHEMAS if n not in FIXED_VALUE], ids=str)
def test_different_seeds_usually_differ(name: str) -> None:
    """A schema with freedom gives several distinct values over ten seeds."""
    outputs = {json.dumps(gen(SCHEMAS[name], seed)) for seed in range(10)}
    assert len(outputs) >= 2


def test_golden_value_is_stable_across_machines() -> None:
    """A schema drawn from `rng` alone gives this exact value (random.Random is portable)."""
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "minimum": 0, "maximum": 1000},
            "x": {"type": "number"},
            "ok": {"type": "boolean"},
            "when": {"type": "string", "format": "date-time"},
            "code": {"type": "string", "pattern": "^[A-Z]{3}-\\d{3}$"},
            "pick": {"enum": ["a", "b", "c"]},
        },
    }
    assert gen(schema, 42) == {
        "n": 654,
        "x": 12.02,
        "ok": False,
        "when": "2008-05-01T09:50:28Z",
        "code": "EVS-038",
        "pick": "c",
    }


def test_schema_is_not_mutated() -> None:
    """Generation leaves the caller's schema untouched."""
    for schema in SCHEMAS.values():
        before = copy.deepcopy(schema)
        gen(schema)
        assert schema == before


def test_openai_structured_output_schema() -> None:
    """The OpenAI structured-output example gives all three fields, plausible and valid."""
    value = gen(OPENAI_STYLE, 3)
    assert list(value) == ["name", "date", "participants"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", value["date"])
    assert value["participants"] and all(" " in p for p in value["participants"])  # names
    assert_valid(OPENAI_STYLE, value)


def test_keys_follow_properties_order_and_include_optionals() -> None:
    """Objects list every property, optional ones too, in the schema's order."""
    value = gen(TOOL, 1)
    assert list(value) == ["location", "unit", "days", "user_id", "since"]


def test_property_names_pick_plausible_faker_values() -> None:
    """Unconstrained strings follow their property name (email, url, id, date...)."""
    names = ["email", "website", "user_id", "created_at", "firstName", "city", "country"]
    schema = {"type": "object", "properties": {n: {"type": "string"} for n in names}}
    value = gen(schema, 5)
    assert "@" in value["email"]
    assert value["website"].startswith("http")
    assert re.fullmatch(r"[0-9a-f-]{36}", value["user_id"])
    assert _is_date_time(value["created_at"])
    assert " " not in value["firstName"]


def test_recursion_falls_back_to_minimal_values() -> None:
    """A recursive $ref stops after a bounded depth: deepest nodes hold only required keys."""
    value = gen(TREE, 0)

    def depth(node: dict[str, Any]) -> int:
        return 1 + max((depth(c) for c in node.get("children", [])), default=0)

    assert 1 < depth(value) <= 4
    assert_valid(TREE, value)


def test_nullable_values_are_drawn_per_seed() -> None:
    """A nullable type or a null anyOf branch is sometimes null, mostly the value (seeded)."""
    for schema, kind in (({"type": ["null", "integer"]}, int), (SCHEMAS["any-of-nullable"], str)):
        drawn = [gen(schema, seed) for seed in range(40)]
        nulls = sum(value is None for value in drawn)
        assert nulls > 0
        assert nulls < 20
        assert all(isinstance(v, kind) for v in drawn if v is not None)


def test_validators_are_cached_by_content() -> None:
    """Equal schemas (even different dict objects) share one compiled validator."""
    jsongen_check.compiled.cache_clear()
    gen(copy.deepcopy(TOOL))
    gen(copy.deepcopy(TOOL), 1)
    info = jsongen_check.compiled.cache_info()
    assert (info.misses, info.hits) == (1, 1)


# --------------------------------------------------------------------------- errors

ERRORS: list[tuple[Any, str]] = [
    (
        {"type": "object", "properties": {"age": {"minimum": 10, "maximum": 5}}},
        "cannot generate a value for #/properties/age: minimum 10 is greater than maximum 5",
    ),
    ({"type": "integer", "exclusiveMinimum": 5, "exclusiveMaximum": 6}, "#: no integer lies"),
    ({"exclusiveMinimum": 5, "maximum": 5}, "exclusiveMinimum 5 and maximum 5 leave no value"),
    ({"type": "integer", "minimum": 1.2, "maximum": 1.8}, "no integer lies between minimum 1.2"),
    ({"multipleOf": 10, "minimum": 1, "maximum": 9}, "no multiple of multipleOf 10 lies"),
    ({"type": "string", "minLength": 5, "maxLength": 2}, "minLength 5 is greater than maxLength 2"),
    ({"type": "array", "minItems": 3, "maxItems": 1}, "minItems 3 is greater than maxItems 1"),
    (
        {"prefixItems": [{}], "items": False, "minItems": 3},
        "minItems 3 needs more than the 1 prefixItems allowed",
    ),
    ({"items": {"type": "boolean"}, "uniqueItems": True, "minItems": 3}, "#: uniqueItems"),
    ({"type": "integer", "enum": ["a", "b"]}, "#: no 'enum' value satisfies"),
    ({"type": "string", "const": 3}, "#: no 'const' value satisfies"),
    ({"type": "string", "pattern": "(?<=a)b"}, "'pattern' '(?<=a)b' (unsupported regex"),
    (
        {"type": "string", "pattern": "^[a-z]{5}$", "maxLength": 3},
        "#: no string found for 'pattern'",
    ),
    ({"type": "string", "format": "uuid", "maxLength": 10}, "#: format 'uuid' values do not fit"),
    ({"allOf": [{"type": "string"}, {"type": "integer"}]}, "#: allOf: 'type' string and 'type'"),
    (
        {"allOf": [{"pattern": "^a"}, {"pattern": "^b"}]},
        "#: no value found that satisfies every allOf part",
    ),
    (
        {"allOf": [{"additionalProperties": False}, {"required": ["b"], "properties": {"b": {}}}]},
        "additionalProperties forbids required 'b'",
    ),
    (
        {"oneOf": [{"type": "integer"}, {"type": "integer", "minimum": 0}]},
        "#: no 'oneOf' branch yields",
    ),
    ({"anyOf": [{"type": "integer", "minimum": 3, "maximum": 2}, False]}, "no 'anyOf' branch"),
    ({"properties": {"a": {"$ref": "#/$defs/Missing"}}}, "#/properties/a: $ref '#/$defs/Missing'"),
    ({"$ref": "https://example.com/s.json"}, "only references inside the schema"),
    ({"$ref": "#anchor"}, "$ref '#anchor' names no $anchor"),
    (
        {"properties": {"next": {"$ref": "#"}}, "required": ["next"]},
        "#/properties/next: $ref '#' recursion never reaches a finite value",
    ),
    ({"properties": {"no": False}, "required": ["no"]}, "#/properties/no: the schema false"),
    (False, "cannot generate a value for #: the schema false"),
    (
        {"required": ["x"], "additionalProperties": False},
        "required property 'x' is forbidden by additionalProperties",
    ),
    ({"required": ["a", "b"], "maxProperties": 1}, "required lists 2 names but maxProperties is 1"),
    ({"additionalProperties": False, "minProperties": 1}, "minProperties 1 needs more keys"),
    ({"type": "string", "not": {"type": "string"}}, "#: no value found that satisfies 'not'"),
    ({"if": {"type": "integer"}, "then": False, "else": False}, "satisfies 'if', 'then', 'else'"),
    ({"items": {"contains": False}}, "#/items: 'contains' is false: no item satisfies it"),
    ({"type": "integer", "minimum": "ten"}, "invalid schema at #/minimum"),
    ({"type": "strin"}, "invalid schema at #/type"),
    ({"pattern": "("}, "invalid schema at #/pattern"),
    ({"enum": [{1, 2}]}, "the schema is not JSON"),
]


@pytest.mark.parametrize(("schema", "message"), ERRORS, ids=[m for _, m in ERRORS])
def test_unsatisfiable_schema_raises_named_error(schema: Any, message: str) -> None:
    """An unsatisfiable schema raises GenerationError naming path and keyword."""
    with pytest.raises(GenerationError) as raised:
        gen(schema)
    assert message in str(raised.value)


# --------------------------------------------------------------------------- the budget

HUGE: list[tuple[str, Any, str]] = [
    (
        "reviewer: 200 patterned strings of 100,000",
        {
            "type": "array",
            "minItems": 200,
            "items": {"type": "string", "pattern": "^[a-z]{100000}$"},
        },
        "cannot generate a value for #: the schema asks for more than 1,000,000 characters in total (minItems 200 \u00d7 at least 100,000 for each item of #/items)",
    ),
    (
        "reviewer: 100 strings of minLength 100,000",
        {"type": "array", "minItems": 100, "items": {"type": "string", "minLength": 100000}},
        "cannot generate a value for #: the schema asks for more than 1,000,000 characters in total (minItems 100 \u00d7 at least 100,000 for each item of #/items)",
    ),
    (
        "arrays of objects of long strings",
        {
            "type": "array",
            "minItems": 50,
            "items": {
                "type": "object",
                "properties": {
                    "title": {"type": "string", "minLength": 30000},
                    "body": {"type": "string", "minLength": 50000},
                },
            },
        },
        "cannot generate a value for #: the schema asks for more than 1,000,000 characters in total (minItems 50 \u00d7 at least 80,009 for each item of #/items)",
    ),
    (
        "arrays of arrays under a property",
        {
            "type": "object",
            "properties": {
                "rows": {
                    "type": "array",
                    "minItems": 30,
                    "items": {
                        "type": "object",
                        "properties": {
                            "cells": {
                                "type": "array",
                                "minItems": 10,
                                "items": {"type": "string", "minLength": 5000},
                            }
                        },
                    },
                }
            },
        },
        "cannot generate a value for #: the schema asks for more than 1,000,000 characters in total (its 1 property needs at least 1,500,154, 1,500,150 of them for #/properties/rows)",
    ),
    (
        "many long optional properties",
        {"properties": {f"p{i}": {"minLength": 60000} for i in range(20)}},
        "cannot generate a value for #: the schema asks for more than 1,000,000 characters in total (its 20 properties need at least 1,200,050, 60,000 of them for #/properties/p0)",
    ),
    (
        "a pattern longer than the budget",
        {"type": "string", "pattern": "^(x{1000}){2000}$"},
        "cannot generate a value for #: the schema asks for more than 1,000,000 characters in total ('pattern' needs at least 2,000,000)",
    ),
    (
        "backreferences past the budget",
        {"type": "string", "pattern": "(a{50000})" + "\\1" * 30},
        "cannot generate a value for #: the value would exceed 1,000,000 characters in total",
    ),
    (
        "too many small values",
        {
            "type": "array",
            "minItems": 10000,
            "items": {"type": "array", "minItems": 20, "items": {"type": "integer"}},
        },
        "cannot generate a value for #: the schema is too complex: it needs more than the 200,000 generation steps allowed (minItems 10000 \u00d7 at least 21 for each item of #/items)",
    ),
    (
        "long enums checked many times",
        {"type": "array", "minItems": 10000, "items": {"enum": list(range(2000))}},
        "cannot generate a value for #: the schema is too complex: it needs more than the 200,000 generation steps allowed (minItems 10000 \u00d7 at least 2,001 for each item of #/items)",
    ),
    (
        "a recursion that only grows",
        {
            "$defs": {"n": {"type": "array", "minItems": 3, "items": {"$ref": "#/$defs/n"}}},
            "$ref": "#/$defs/n",
        },
        "cannot generate a value for #/$defs/n: the schema is too complex: it needs more than the 200,000 generation steps",
    ),
    (
        "a million extra properties",
        {"minProperties": 1_000_000},
        "cannot generate a value for #: minProperties 1000000 is too large to generate",
    ),
]


@pytest.mark.parametrize(("schema", "message"), [h[1:] for h in HUGE], ids=[h[0] for h in HUGE])
def test_oversized_schema_fails_fast_naming_the_path(schema: Any, message: str) -> None:
    """Schemas asking for more than the budget raise at once, naming the path and the sizes.

    (These took 20-90 s and produced up to 20 MB before the budget; now they take
    milliseconds, as the lower bounds are compared with the budget before any work.)
    """
    with pytest.raises(GenerationError) as raised:
        gen(schema)
    assert message in str(raised.value)
    with pytest.raises(GenerationError) as again:
        gen(schema)
    assert str(again.value) == str(raised.value)


def test_value_just_under_the_budget_is_generated() -> None:
    """Up to 1,000,000 characters are generated; optional items stop where the budget ends."""
    exact = {"type": "array", "minItems": 10, "maxItems": 10, "items": {"const": "x" * 100_000}}
    assert gen(exact) == ["x" * 100_000] * 10
    over = {**exact, "items": {"const": "x" * 100_001}}
    with pytest.raises(GenerationError, match="minItems 10 \u00d7 at least 100,001 for each item"):
        gen(over)
    # Seed 5 draws 11 items for minItems 9: the budget leaves room for 10 of them.
    schema = {
        "type": "array",
        "minItems": 9,
        "items": {"type": "string", "pattern": "^[a-z]{100000}$"},
    }
    value = gen(schema, 5)
    assert len(value) == 10
    assert_valid(schema, value)


def test_budget_checks_before_work_leave_other_branches_open() -> None:
    """An anyOf branch too large for the budget is skipped (nothing spent); the next one wins."""
    huge = {"type": "array", "minItems": 200, "items": {"type": "string", "minLength": 100000}}
    assert isinstance(gen({"anyOf": [huge, {"type": "integer"}]}), int)


def test_budget_runs_out_while_generating(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the lower bounds cannot see (properties past a $ref) is still charged as written."""
    monkeypatch.setattr(budget, "MAX_CHARS", 10_000)
    monkeypatch.setattr(budget, "MAX_STEPS", 1_000)
    item = {"properties": {"a": {"type": "string", "minLength": 3000}}}
    schema = {
        "$defs": {"item": item},
        "type": "array",
        "minItems": 5,
        "items": {"$ref": "#/$defs/item"},
    }
    with pytest.raises(GenerationError) as raised:
        gen(schema)
    message = str(raised.value)
    assert message.startswith(
        "cannot generate a value for #/$defs/item: the schema asks for more than 10,000 "
        "characters in total (its 1 property needs at least 3,001, 3,000 of them for "
        "#/$defs/item/properties/a; "
    )
    assert message.endswith(" already generated)")
    with pytest.raises(GenerationError) as raised:
        gen({"type": "string", "pattern": "^(?:a|){5000}$"})  # repeats that may write nothing
    assert str(raised.value) == (
        "cannot generate a value for #: the schema is too complex (more than 1,000 generation steps)"
    )
    assert gen({"type": "string", "pattern": "^(?:a|){500}$"}) is not None


def test_long_literal_pattern_is_written_in_linear_time() -> None:
    """A 30,000-character literal pattern (quadratic before: about 30 s) is written at once."""
    pattern = "ab" * 15_000
    assert gen({"type": "string", "pattern": f"^{pattern}$"}) == pattern


# --------------------------------------------------------------------------- random schemas

NUMBERS = st.one_of(
    st.integers(-1000, 1000),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
)
PATTERNS = ["^[a-z]+$", "^\\d{3}-\\d{2}$", "ab|cd", "^(x|yz)*q$", "[A-F0-9]{4}", "^.{3,5}$"]
FORMATS = ["date-time", "date", "time", "email", "uri", "uuid", "ipv4", "hostname", "int32"]


def _numeric(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    keywords = dict.fromkeys(
        ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"), NUMBERS
    )
    multiples = st.sampled_from([1, 2, 3, 7, 0.5, 0.1, 0.25, 2.5])
    return st.fixed_dictionaries(
        {"type": st.just(kind)}, optional={**keywords, "multipleOf": multiples}
    )


def _strings() -> st.SearchStrategy[dict[str, Any]]:
    optional = {
        "minLength": st.integers(0, 40),
        "maxLength": st.integers(0, 40),
        "pattern": st.sampled_from(PATTERNS),
        "format": st.sampled_from(FORMATS),
    }
    return st.fixed_dictionaries({"type": st.just("string")}, optional=optional)


SCALARS = st.one_of(
    _numeric("integer"),
    _numeric("number"),
    _strings(),
    st.sampled_from([{"type": "boolean"}, {"type": "null"}, {}, {"type": ["string", "null"]}]),
    st.lists(
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5)), min_size=1
    ).map(lambda values: {"enum": values}),
)


def _objects(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    props = st.dictionaries(st.sampled_from(["a", "b", "name", "email", "n"]), children, max_size=4)
    return props.flatmap(
        lambda p: st.fixed_dictionaries(
            {
                "type": st.just("object"),
                "properties": st.just(p),
                "required": st.lists(st.sampled_from(sorted(p) or ["a"]), unique=True, max_size=3),
            },
            optional={"additionalProperties": st.booleans()},
        )
    )


def _arrays(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    optional = {
        "minItems": st.integers(0, 4),
        "maxItems": st.integers(0, 4),
        "uniqueItems": st.booleans(),
    }
    return st.fixed_dictionaries({"type": st.just("array"), "items": children}, optional=optional)


SCHEMA_STRATEGY = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        _objects(children),
        _arrays(children),
        st.lists(children, min_size=1, max_size=3).map(lambda xs: {"anyOf": xs}),
        st.lists(children, min_size=1, max_size=3).map(lambda xs: {"oneOf": xs}),
        st.lists(children, min_size=1, max_size=2).map(lambda xs: {"allOf": xs}),
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(schema=SCHEMA_STRATEGY, seed=st.integers(0, 2**32))
def test_random_schemas_validate_or_raise(schema: dict[str, Any], seed: int) -> None:
    """Random simple schemas give a valid value or GenerationError, never anything else."""
    try:
        value = gen(schema, seed)
    except GenerationError:
        return
    assert_valid(schema, value)


# --------------------------------------------------------------------------- json_object and purity


def test_generate_object_is_small_plausible_and_deterministic() -> None:
    """generate_object gives 2-4 JSON-able keys, the same for the same seeds."""
    objects = []
    for seed in range(20):
        fake = Faker()
        fake.seed_instance(seed)
        obj = generate_object(random.Random(seed), fake)
        assert 2 <= len(obj) <= 4
        assert json.loads(json.dumps(obj)) == obj
        objects.append(json.dumps(obj))
    fake = Faker()
    fake.seed_instance(0)
    assert json.dumps(generate_object(random.Random(0), fake)) == objects[0]
    assert len(set(objects)) > 10


def test_module_is_pure() -> None:
    """Importing jsongen pulls in neither aiohttp nor pytest."""
    code = "import sys, emulator.jsongen; print(sorted({'aiohttp', 'pytest'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
