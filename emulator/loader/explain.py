"""The scenario file schema, and its validation problems turned into messages a person can act on.

Every file is validated against `emulator.schemas/scenario.schema.json` (draft 2020-12); each
problem becomes `file:line: message` naming the key, what was expected and the valid values.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from ..errors import ScenarioError
from .positions import JsonPath, Where, describe, short, shown

if TYPE_CHECKING:
    import jsonschema  # type: ignore[import-untyped]  # no types-jsonschema stubs installed

RESPONSE_KINDS = ("reply", "error", "fault", "sequence")


@functools.lru_cache(maxsize=1)
def _schema_text() -> str:
    return files("emulator.schemas").joinpath("scenario.schema.json").read_text(encoding="utf-8")


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario file (a fresh copy)."""
    schema: dict[str, Any] = json.loads(_schema_text())
    return schema


@functools.lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    import jsonschema  # on first use: a server started without scenario files never needs it

    return jsonschema.Draft202012Validator(scenario_schema())


@functools.lru_cache(maxsize=1)
def _fast_check() -> Callable[[Any], bool]:
    """The scenario schema compiled by `emulator.fastschema` (valid or not, nothing more); if
    the schema uses a keyword fastschema lacks, a check that sends every file to jsonschema
    (tests/test_startup.py fails then, so it is noticed)."""
    try:
        return _compile_fast_check()
    except ValueError:  # a keyword fastschema does not implement
        return lambda data: False


def _compile_fast_check() -> Callable[[Any], bool]:
    from ..fastschema import FastCompiler

    schema = scenario_schema()
    return FastCompiler({schema["$id"]: schema}).compile_uri(schema["$id"])


_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true or false)",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


def _type_names(schema: Mapping[str, Any]) -> str:
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    return " or ".join(_TYPE_NAMES.get(t, t) for t in types) or "a valid value"


def _resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    defs = _validator().schema["$defs"]
    while "$ref" in schema:
        schema = defs[str(schema["$ref"]).rsplit("/", 1)[-1]]
    return schema


def _fits(schema: Mapping[str, Any], value: Any) -> bool:
    types = schema.get("type")
    if types is None:
        return True
    types = [types] if isinstance(types, str) else types
    return any(_validator().is_type(value, t) for t in types)


@dataclass(frozen=True)
class _Problem:
    path: JsonPath
    rank: int  # orders problems on one line: unknown keys first
    message: str


def _explain(err: jsonschema.ValidationError, where: Where) -> list[_Problem]:
    path: JsonPath = tuple(err.absolute_path)
    name = where.name(path)
    kind, value, schema = err.validator, err.instance, err.schema
    if kind in ("oneOf", "anyOf"):
        return _explain_alternatives(err, where)
    if kind == "additionalProperties":
        valid = ", ".join(sorted(schema.get("properties", {})))
        return [
            _Problem(path + (key,), 0, f"unknown key {key!r} in {name}; valid keys: {valid}")
            for key in value
            if key not in schema.get("properties", {})
        ]
    if kind == "required":
        # The `then` of "if no preset then required" in errorReply and errorBody.
        unless = (
            " (required unless 'preset' is given)" if "then" in err.relative_schema_path else ""
        )
        return [
            _Problem(path, 6, f"missing required key {key!r} in {name}{unless}")
            for key in err.validator_value
            if key not in value
        ]
    return [_Problem(path, 1 if kind == "type" else 3, f"{name}: {_reason(err)}")]


def _reason(err: jsonschema.ValidationError) -> str:
    kind, value, limit, schema = err.validator, err.instance, err.validator_value, err.schema
    if kind == "type":
        return f"expected {_type_names(schema)}, got {describe(value)}"
    if kind == "enum":
        valid = ", ".join(shown(v) for v in limit)
        if "title" in schema:
            return f"unknown {schema['title']} {short(value)}; valid: {valid}"
        return f"{short(value)} is not valid; valid: {valid}"
    if kind == "const":
        return f"must be {json.dumps(limit)}, got {json.dumps(value)}"
    if kind in ("minimum", "maximum"):
        return f"must be {'>=' if kind == 'minimum' else '<='} {limit}, got {value}"
    if kind == "minLength" and limit == 1:
        return "must not be empty"
    if kind == "minItems":
        return f"must have at least {limit} item(s)"
    if kind in ("minProperties", "maxProperties"):
        options = ", ".join(sorted(schema.get("properties", {})))
        got = ", ".join(sorted(value)) or "none"
        if "maxProperties" not in schema:
            return f"give at least {schema['minProperties']} of: {options} (got: {got})"
        return f"give exactly one of: {options} (got: {got})"
    return str(err.message)


def _explain_alternatives(err: jsonschema.ValidationError, where: Where) -> list[_Problem]:
    path: JsonPath = tuple(err.absolute_path)
    branches = [_resolve(b) for b in err.validator_value]
    if all(set(b) == {"required"} for b in branches):
        return [_response_kind_problem(path, err.instance, where)]
    fitting = [i for i, b in enumerate(branches) if _fits(b, err.instance)]
    if len(fitting) == 1:
        inner = [e for e in err.context or [] if e.relative_schema_path[0] == fitting[0]]
        return [p for e in inner for p in _explain(e, where)]
    expected = " or ".join(_type_names(b) for b in branches)
    return [
        _Problem(path, 1, f"{where.name(path)}: expected {expected}, got {describe(err.instance)}")
    ]


def _response_kind_problem(path: JsonPath, scenario: Mapping[str, Any], where: Where) -> _Problem:
    kinds = ", ".join(RESPONSE_KINDS)
    label = (
        f"scenario {scenario['name']!r}" if isinstance(scenario.get("name"), str) else "scenario"
    )
    present = [k for k in RESPONSE_KINDS if k in scenario]
    if not present:
        return _Problem(path, 5, f"{label} has no response; give exactly one of: {kinds}")
    both = " and ".join(repr(k) for k in present)
    return _Problem(
        path + (present[1],), 5, f"{label} has both {both}; give exactly one of: {kinds}"
    )


def schema_problems(data: Any, where: Where) -> list[ScenarioError]:
    if not isinstance(data, dict):
        return [
            where.error(
                (),
                "expected a mapping (a scenario with 'name', or 'scenarios: [...]'), "
                f"got {describe(data)}",
            )
        ]
    if _fast_check()(data):
        return []  # valid: jsonschema (slow to import and to run) only describes problems
    found = [p for err in _validator().iter_errors(data) for p in _explain(err, where)]
    found.sort(key=lambda p: (where.line(p.path) or 0, p.rank, p.message))
    unique = dict.fromkeys((p.path, p.message) for p in found)
    return [where.error(path, message) for path, message in unique]
