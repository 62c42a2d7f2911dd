"""Generation for rich JSON Schemas: what real clients' helpers emit (zod v4, pydantic), the
keywords met by trying and checking, seeded branches, and the 400 for a schema no value
satisfies. Every generated value is checked here with jsonschema (Unicode patterns with the
`regex` package), independently of the emulator's own check."""

from __future__ import annotations

import enum
import json
import random
import re
import string
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from uuid import UUID

import openai
import pytest
import regex
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError
from pydantic import BaseModel, Field

from emulator.errors import GenerationError
from emulator.jsongen import generate_json
from emulator.testing import EmulatorServer

ZOD = json.loads((Path(__file__).parent / "schemas_zod" / "zod-v4-schemas.json").read_text())
SEEDS = range(16)


def _unicode_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if validator.is_type(instance, "string") and not regex.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _unicode_pattern_properties(validator: Any, patterns: Any, instance: Any, schema: Any) -> Any:
    if validator.is_type(instance, "object"):
        for pattern, sub in patterns.items():
            for name, value in instance.items():
                if regex.search(pattern, name):
                    yield from validator.descend(value, sub, path=name, schema_path=pattern)


# Draft 2020-12 with ECMA-style Unicode patterns read by the `regex` package.
Checker = validators.extend(
    Draft202012Validator,
    {"pattern": _unicode_pattern, "patternProperties": _unicode_pattern_properties},
)


def gen(schema: Any, seed: int = 0) -> Any:
    """Generate for `schema` with a seeded generator and Faker, as the server does."""
    faker = Faker()
    faker.seed_instance(seed)
    return generate_json(schema, random.Random(seed), faker)


def assert_valid(schema: Any, value: Any) -> None:
    """`value` satisfies `schema` (with format checks)."""
    Checker(schema, format_checker=FormatChecker()).validate(value)


def values(schema: Any) -> list[Any]:
    """One value per seed, each checked against `schema`."""
    out = [gen(schema, seed) for seed in SEEDS]
    for value in out:
        assert_valid(schema, value)
    return out


# --------------------------------------------------------------------------- zod v4


@pytest.mark.parametrize("name", sorted(ZOD))
def test_zod_v4_schemas_generate_valid_values(name: str) -> None:
    """Every schema zod v4's toJSONSchema emitted (tests/schemas_zod) yields valid values."""
    values(ZOD[name])


def test_zod_discriminated_union_exercises_every_branch() -> None:
    """Seeded branch choice: across requests, every pet kind appears (not only the first)."""
    kinds = {pet["kind"] for value in values(ZOD["discriminated_union"]) for pet in value["pets"]}
    assert kinds == {"cat", "dog", "fish"}


def test_nullable_and_union_members_are_all_drawn() -> None:
    """A nullable field is sometimes null, sometimes a string; a union takes both forms."""
    drawn = values(ZOD["union_nullable"])
    assert {type(v["note"]) for v in drawn} == {str, type(None)}
    assert {type(v["when"]) for v in drawn} == {str, int}


def test_zod_records_get_entries_with_valid_keys() -> None:
    """z.record with string, enum, partial-enum and regex keys: entries whose keys fit."""
    assert all(v["scores"] for v in values(ZOD["record_string_keys"]))
    assert all(
        set(v["stock"]) == {"apples", "pears", "plums"} for v in values(ZOD["record_enum_keys"])
    )
    partial = values(ZOD["record_partial_enum_keys"])
    assert all(v["prices"] and set(v["prices"]) <= {"eur", "usd"} for v in partial)
    headers = [key for v in values(ZOD["record_regex_keys"]) for key in v["headers"]]
    assert headers and all(re.fullmatch(r"x-[a-z]+", key) for key in headers)


def test_unicode_property_patterns_are_written() -> None:
    """\\p{L} and \\p{Lu}\\p{Ll}* patterns (zod's .regex(/.../u)) give matching strings."""
    for value in values(ZOD["unicode_pattern"]):
        assert regex.fullmatch(r"\p{L}+", value["word"])
        assert regex.fullmatch(r"\p{Lu}\p{Ll}*", value["tag"])


def test_generation_is_deterministic_per_seed() -> None:
    """The same seed gives the same value, branches and map keys included."""
    for name in ("discriminated_union", "record_partial_enum_keys", "union_nullable"):
        assert gen(ZOD[name], 7) == gen(ZOD[name], 7)


# --------------------------------------------------------------------------- keywords met by trying

RICH: list[tuple[str, Any]] = [
    ("property_names", {"type": "object", "propertyNames": {"maxLength": 3}, "additionalProperties": {"type": "integer"}}),
    ("property_names_drop_optional", {"type": "object", "properties": {"long_name": {"type": "string"}, "ok": {"type": "string"}}, "propertyNames": {"maxLength": 3}}),
    ("pattern_properties", {"type": "object", "patternProperties": {"^n_": {"type": "number"}, "^s_": {"type": "string"}}, "additionalProperties": False}),
    ("pattern_properties_on_listed", {"type": "object", "properties": {"n_count": {}}, "patternProperties": {"^n_": {"type": "integer", "minimum": 5}}, "required": ["n_count"]}),
    ("pattern_properties_required_name", {"type": "object", "patternProperties": {"^id_": {"type": "string", "format": "uuid"}}, "additionalProperties": False, "required": ["id_main"]}),
    ("min_properties_with_names", {"type": "object", "propertyNames": {"enum": ["a", "b", "c"]}, "minProperties": 2}),
    ("not_type", {"not": {"type": "string"}}),
    ("not_const", {"type": "string", "enum": ["x", "y"], "not": {"const": "x"}}),
    ("not_in_object", {"type": "object", "properties": {"n": {"type": "integer", "not": {"multipleOf": 2}}}, "required": ["n"]}),
    ("if_then_else", {"type": "object", "properties": {"kind": {"enum": ["a", "b"]}, "v": {}}, "required": ["kind", "v"], "if": {"properties": {"kind": {"const": "a"}}}, "then": {"properties": {"v": {"type": "integer"}}}, "else": {"properties": {"v": {"type": "string"}}}}),
    ("if_without_else", {"type": "integer", "if": {"minimum": 10}, "then": {"multipleOf": 5}}),
    ("dependent_required", {"type": "object", "properties": {"card": {"type": "string"}, "cvc": {"type": "string"}}, "required": ["card"], "dependentRequired": {"card": ["cvc"]}, "maxProperties": 2}),
    ("dependent_schemas", {"type": "object", "properties": {"a": {"type": "integer"}, "b": {}}, "dependentSchemas": {"a": {"properties": {"b": {"type": "boolean"}}, "required": ["b"]}}}),
    ("contains", {"type": "array", "items": {"type": "integer"}, "contains": {"minimum": 100}}),
    ("min_max_contains", {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 20}, "contains": {"const": 7}, "minContains": 2, "maxContains": 2}),
    ("unevaluated_properties", {"type": "object", "allOf": [{"properties": {"a": {"type": "string"}}}], "properties": {"b": {"type": "integer"}}, "unevaluatedProperties": False}),
    ("dynamic_ref", {"$defs": {"node": {"$dynamicAnchor": "node", "type": "object", "properties": {"kids": {"type": "array", "items": {"$dynamicRef": "#node"}, "maxItems": 2}}}}, "$ref": "#/$defs/node"}),
    ("anchor_ref", {"$defs": {"id": {"$anchor": "ident", "type": "string", "pattern": "^[a-z]{4}$"}}, "type": "array", "items": {"$ref": "#ident"}}),
    ("unicode_in_class", {"type": "string", "pattern": "^[\\p{Lu}\\d]{3,5}-\\P{L}$"}),
    ("named_group", {"type": "string", "pattern": "^(?<year>\\d{4})-(?<month>0[1-9])$"}),
    ("all_of_two_nots", {"allOf": [{"type": "integer", "minimum": 0, "maximum": 9, "not": {"const": 3}}, {"not": {"const": 4}}]}),
    ("nullable_recursion", {"$defs": {"n": {"type": "object", "properties": {"next": {"anyOf": [{"$ref": "#/$defs/n"}, {"type": "null"}]}}, "required": ["next"]}}, "$ref": "#/$defs/n"}),
]  # fmt: skip


@pytest.mark.parametrize(("case", "schema"), RICH, ids=[c[0] for c in RICH])
def test_rich_schema_yields_valid_values(case: str, schema: Any) -> None:
    """Keywords no value is built from directly still get values that satisfy the schema."""
    values(schema)


def test_maps_keyed_by_property_names_get_entries() -> None:
    """A map (additionalProperties schema and propertyNames) gets entries, not only {}."""
    schema = RICH[0][1]
    assert any(value for value in values(schema))


def test_optional_names_property_names_refuses_are_left_out() -> None:
    """An optional property whose name propertyNames refuses is not generated."""
    assert all("long_name" not in value for value in values(RICH[1][1]))


# --------------------------------------------------------------------------- unsatisfiable: 400

UNSATISFIABLE: list[tuple[Any, str]] = [
    ({"not": {}}, "no value found that satisfies 'not'"),
    ({"type": "string", "not": {"type": "string"}}, "no value found that satisfies 'not'"),
    ({"type": "object", "required": ["a"], "propertyNames": {"maxLength": 0}}, "required property 'a' does not satisfy propertyNames"),
    ({"type": "object", "propertyNames": {"enum": ["a"]}, "minProperties": 2}, "minProperties 2 needs more keys than propertyNames"),
    ({"type": "object", "required": ["x"], "patternProperties": {"^y": {}}, "additionalProperties": False}, "required property 'x' is forbidden"),
    ({"type": "array", "minContains": 3, "maxContains": 1, "contains": {}}, "minContains 3 is greater than maxContains 1"),
    ({"type": "array", "maxItems": 1, "contains": {}, "minContains": 2}, "minContains 2 needs more items than maxItems allows"),
    ({"type": "integer", "minimum": 5, "maximum": 1}, "minimum 5 is greater than maximum 1"),
]  # fmt: skip


@pytest.mark.parametrize(("schema", "reason"), UNSATISFIABLE, ids=[r for _, r in UNSATISFIABLE])
def test_unsatisfiable_schema_names_why(schema: Any, reason: str) -> None:
    """A schema no value satisfies is a GenerationError saying why."""
    with pytest.raises(GenerationError, match=re.escape(reason)):
        gen(schema)


def test_unsatisfiable_response_format_is_a_400_naming_why(server: EmulatorServer) -> None:
    """Over HTTP, a response_format schema no value satisfies is a 400 with the reason."""
    client = openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
    fmt = {
        "type": "json_schema",
        "json_schema": {
            "name": "never",
            "schema": {"type": "object", "required": ["a"], "propertyNames": {"maxLength": 0}},
        },
    }
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}], response_format=fmt
        )  # type: ignore[arg-type]
    assert "does not satisfy propertyNames" in str(caught.value)


# --------------------------------------------------------------------------- pydantic + openai SDK


class Color(str, enum.Enum):
    """A str Enum used as dict keys."""

    red = "red"
    green = "green"
    blue = "blue"


class Cat(BaseModel):
    """One branch of the discriminated union."""

    kind: Literal["cat"]
    lives: int = Field(ge=1, le=9)


class Dog(BaseModel):
    """Another branch."""

    kind: Literal["dog"]
    good: bool


class Node(BaseModel):
    """A recursive model."""

    name: str
    children: list[Node]


class Inventory(BaseModel):
    """A model with what real clients use: Literal/Enum-keyed dicts, a discriminated union,
    recursion, formats, patterns, bounds and optionals."""

    by_size: dict[Literal["s", "m", "l"], int]
    by_color: dict[Color, float]
    pet: Annotated[Cat | Dog, Field(discriminator="kind")]
    tree: Node
    sku: str = Field(pattern=r"^[A-Z]{3}-\d{4}$")
    id: UUID
    day: date
    at: datetime
    qty: int = Field(ge=1, le=10)
    ratio: float = Field(gt=0, lt=1)
    note: str | None


def test_pydantic_parse_through_the_openai_sdk(server: EmulatorServer) -> None:
    """client.chat.completions.parse(response_format=Model) gets a parsed Model every time, and
    different requests take different union branches."""
    client = openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
    kinds, notes = set(), set()
    for i in range(12):
        completion = client.chat.completions.parse(
            model="openai/gpt-4o",
            messages=[{"role": "user", "content": f"inventory {i}"}],
            response_format=Inventory,
        )
        parsed = completion.choices[0].message.parsed
        assert isinstance(parsed, Inventory)
        assert set(parsed.by_size) <= {"s", "m", "l"} and set(parsed.by_color) <= set(Color)
        kinds.add(parsed.pet.kind)
        notes.add(parsed.note is None)
    assert kinds == {"cat", "dog"} and notes == {True, False}


# --------------------------------------------------------------------------- property test

_TEXT = st.text(alphabet=string.ascii_letters + string.digits + " -_", max_size=8)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)
_OTHER_TYPE = {
    bool: "integer",
    int: "string",
    str: "array",
    list: "object",
    dict: "null",
    type(None): "boolean",
}


@st.composite
def _schema_for(draw: Any, value: Any) -> Any:
    """A schema that `value` satisfies, so that a value always exists."""
    if value is None:
        base: dict[str, Any] = {"type": "null"}
    elif isinstance(value, bool):
        base = {"type": "boolean"}
    elif isinstance(value, int):
        base = {
            "type": "integer",
            "minimum": value - draw(st.integers(0, 5)),
            "maximum": value + draw(st.integers(0, 5)),
        }
    elif isinstance(value, str):
        base = {
            "type": "string",
            "minLength": draw(st.integers(0, len(value))),
            "maxLength": len(value) + draw(st.integers(0, 4)),
        }
        if value and draw(st.booleans()):
            base["pattern"] = "^" + re.escape(value[: draw(st.integers(1, len(value)))])
    elif isinstance(value, list):
        base = {
            "type": "array",
            "minItems": draw(st.integers(0, len(value))),
            "maxItems": len(value) + 2,
        }
        if value:
            base["items"] = {"anyOf": [draw(_schema_for(item)) for item in value]}
            if draw(st.booleans()):
                base["contains"] = draw(_schema_for(value[0]))
    else:
        props = {key: draw(_schema_for(item)) for key, item in value.items()}
        base = {
            "type": "object",
            "properties": props,
            "required": [k for k in value if draw(st.booleans())],
        }
        if draw(st.booleans()):
            base["additionalProperties"] = False
        if value and draw(st.booleans()):
            base["propertyNames"] = {"enum": [*value, "zz"]}
    wrap = draw(st.sampled_from(["none", "anyOf", "nullable", "not", "if"]))
    other = {"type": _OTHER_TYPE[type(value)]}
    if wrap == "anyOf":
        return {"anyOf": draw(st.permutations([base, other]))}
    if wrap == "nullable" and value is not None:
        return {"anyOf": [base, {"type": "null"}]}
    if wrap == "not":
        return {**base, "not": other}
    if wrap == "if":
        return {"if": {"type": base["type"]}, "then": base, "else": other}
    return base


@settings(max_examples=60, deadline=None)
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_generated_values_validate_for_satisfiable_schemas(data: Any, seed: int) -> None:
    """For schemas built around a witness value (so satisfiable), generation succeeds and the
    value validates."""
    witness = data.draw(_VALUES)
    schema = data.draw(_schema_for(witness))
    assert_valid(schema, witness)  # the construction is sound
    assert_valid(schema, gen(schema, seed))
