"""Request validation: every rule of PROTOCOL §2 over the tables in validation_cases.py, strict
mode, the 400 envelope, the schema files themselves, and agreement of the two engines."""

from __future__ import annotations

import ast
import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from validation_cases import INVALID_CASES, VALID_CASES, body

from emulator.errors import RequestError
from emulator.validation import (
    API_SCHEMA_FILES,
    Problem,
    RequestValidator,
    ValidationResult,
    error_for,
    format_path,
    load_schemas,
)

ROOT = Path(__file__).parents[1]
FAST = RequestValidator()
SLOW = RequestValidator(fast=False)


@pytest.mark.parametrize(
    ("case_id", "request_body", "path", "message"), INVALID_CASES, ids=[c[0] for c in INVALID_CASES]
)
def test_invalid_request_names_the_field(
    case_id: str, request_body: Any, path: str, message: str
) -> None:
    """Each broken rule is reported first, at the field's own path, in plain words."""
    result = FAST.validate(request_body)
    assert not result.ok
    first = result.problems[0]
    assert (first.path, message in first.message) == (path, True), result.problems


@pytest.mark.parametrize(
    ("case_id", "request_body", "path", "message"), INVALID_CASES, ids=[c[0] for c in INVALID_CASES]
)
def test_invalid_request_has_one_problem_per_fault(
    case_id: str, request_body: Any, path: str, message: str
) -> None:
    """A request with one fault gets one problem, not a dump of every alternative tried."""
    assert len(FAST.validate(request_body).problems) == 1


@pytest.mark.parametrize(("case_id", "request_body"), VALID_CASES, ids=[c[0] for c in VALID_CASES])
def test_valid_request_passes(case_id: str, request_body: dict[str, Any]) -> None:
    """Every documented request form passes, through both engines."""
    assert FAST.validate(request_body).problems == ()
    assert SLOW.validate(request_body).problems == ()


def test_tables_are_big_enough_and_ids_unique() -> None:
    """The tables cover the rules: 60+ invalid and 20+ valid rows, no id used twice."""
    ids = [c[0] for c in INVALID_CASES] + [c[0] for c in VALID_CASES]
    assert len(INVALID_CASES) >= 60 and len(VALID_CASES) >= 20
    assert len(ids) == len(set(ids))


def test_several_problems_come_in_document_order() -> None:
    """Problems follow the body's own key order, a missing key first within its parent."""
    request = {
        "temperature": 9,
        "messages": [{"role": "user", "content": []}, {"role": "tool", "content": "x"}],
        "stop": 1,
    }
    paths = [p.path for p in FAST.validate(request).problems]
    assert paths == [
        "model",
        "temperature",
        "messages[0].content",
        "messages[1].tool_call_id",
        "stop",
    ]


def test_the_two_engines_report_the_same_problems() -> None:
    """With or without the fast path, an invalid request yields identical problems."""
    for _, request_body, _, _ in INVALID_CASES:
        assert FAST.validate(request_body) == SLOW.validate(request_body)


# --- strict mode and ignored keys ------------------------------------------------------------


def test_unknown_keys_are_ignored_and_recorded_sorted() -> None:
    """By default unknown top-level keys pass and are listed, sorted, as ignored."""
    result = FAST.validate(body(zeta=1, alpha=2, temperature=1))
    assert result == ValidationResult(problems=(), ignored=("alpha", "zeta"))


def test_strict_mode_rejects_a_typo_and_suggests_the_parameter() -> None:
    """Strict mode turns `max_token` into a problem that suggests max_tokens."""
    result = FAST.validate(body(max_token=5), strict=True)
    assert result.problems == (
        Problem("max_token", "unknown parameter (strict mode); did you mean 'max_tokens'?"),
    )
    assert result.ignored == ()


def test_strict_mode_without_a_close_match_gives_no_suggestion() -> None:
    """An unknown key that resembles no parameter gets the bare strict-mode message."""
    result = FAST.validate(body(xyzzy=1), strict=True)
    assert result.problems == (Problem("xyzzy", "unknown parameter (strict mode)"),)


def test_strict_mode_accepts_every_known_parameter() -> None:
    """Strict mode only rejects keys the request schema does not list."""
    for case_id, request_body in VALID_CASES:
        if case_id != "unknown_top_level_keys_are_ignored":
            assert FAST.validate(request_body, strict=True).ok, case_id


def test_strict_mode_lists_unknown_keys_with_schema_problems_in_order() -> None:
    """Unknown keys and schema problems share one document-ordered list."""
    request = {"model": "m", "tempreature": 1, "messages": [], "foo": 1}
    paths = [p.path for p in FAST.validate(request, strict=True).problems]
    assert paths == ["tempreature", "messages", "foo"]


def test_known_keys_are_the_request_schema_properties() -> None:
    """The known top-level keys come from request.schema.json, nowhere else."""
    schema = json.loads((ROOT / "schemas" / "request.schema.json").read_text())
    assert FAST.known_keys == frozenset(schema["properties"])


# --- the 400 envelope ------------------------------------------------------------------------


def test_error_for_builds_the_router_envelope() -> None:
    """error_for gives a 400 whose message is the first problem and metadata lists all."""
    result = FAST.validate(body(temperature=3, n=0))
    error = error_for(result)
    assert isinstance(error, RequestError)
    assert error.envelope() == {
        "error": {
            "code": 400,
            "message": "temperature: must be at most 2",
            "metadata": {
                "error_type": "invalid_request",
                "errors": [
                    {"path": "temperature", "message": "must be at most 2"},
                    {"path": "n", "message": "must be at least 1"},
                ],
            },
        }
    }


def test_error_for_a_root_problem_has_no_path_prefix() -> None:
    """A problem of the body itself is reported by its message alone."""
    assert error_for(FAST.validate([])).message == "the request body must be a JSON object"


def test_error_for_refuses_a_valid_result() -> None:
    """There is no error to build for a request without problems."""
    with pytest.raises(ValueError, match="at least one problem"):
        error_for(FAST.validate(body()))


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ((), ""),
        (("model",), "model"),
        (("messages", 2, "content", 0, "image_url", "url"), "messages[2].content[0].image_url.url"),
        (("logit_bias", "50256"), "logit_bias.50256"),
        (("metadata", "a b"), 'metadata["a b"]'),
        ((0,), "[0]"),
    ],
)
def test_format_path(path: tuple[str | int, ...], text: str) -> None:
    """JSON paths read like code: dots for keys, brackets for indexes and odd keys."""
    assert format_path(path) == text


# --- the schema files ------------------------------------------------------------------------


def test_every_api_schema_file_is_loaded() -> None:
    """API_SCHEMA_FILES lists every schema file but the scenario one, which is not HTTP API."""
    on_disk = {p.name for p in (ROOT / "schemas").glob("*.schema.json")} - {"scenario.schema.json"}
    assert set(API_SCHEMA_FILES) == on_disk


@pytest.mark.parametrize("name", API_SCHEMA_FILES)
def test_schema_file_is_valid_draft_2020_12(name: str) -> None:
    """Each file is a valid 2020-12 schema with the project's $id."""
    schema = load_schemas([name])[name]
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"https://chat-emulator.dev/schemas/{name}"


def _without_conditions(node: Any) -> Any:
    """The schema minus if/then/else/allOf/not: those only narrow properties declared (and
    described) in the schema proper, or dispatch to other described schemas."""
    if isinstance(node, list):
        return [_without_conditions(item) for item in node]
    if not isinstance(node, dict):
        return node
    dropped = ("if", "then", "else", "allOf", "not")
    return {key: _without_conditions(value) for key, value in node.items() if key not in dropped}


def _undescribed(node: Any, where: str) -> list[str]:
    missing: list[str] = []
    if isinstance(node, dict):
        for key, sub in node.get("properties", {}).items():
            if "description" not in sub:
                missing.append(f"{where}/properties/{key}")
        for key, sub in node.items():
            missing += _undescribed(sub, f"{where}/{key}")
    elif isinstance(node, list):
        for index, sub in enumerate(node):
            missing += _undescribed(sub, f"{where}/{index}")
    return missing


def test_every_property_is_described() -> None:
    """Every declared property of every schema file carries a description."""
    missing = []
    for name, schema in load_schemas().items():
        missing += _undescribed(_without_conditions(schema), name)
    assert missing == []


@pytest.mark.parametrize("module", ["validation", "bodyparse", "openapi"])
def test_pure_modules_import_neither_aiohttp_nor_pytest(module: str) -> None:
    """The pure modules stay free of the HTTP and test stacks, directly or indirectly."""
    tree = ast.parse((ROOT / "emulator" / f"{module}.py").read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    }
    assert not imported & {"aiohttp", "pytest"}
    code = (
        f"import sys, emulator.{module}; print(sorted({{'aiohttp', 'pytest'}} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- the fast path agrees with jsonschema ----------------------------------------------------

ODD_VALUES = [
    None, True, False, 0, 1, -1, 2.5, 129, 1.0, "", "x", "auto", "text", "user", "tool",
    "function", "https://a.test/x", "data:,", [], [None], ["a"], ["a"] * 5, {}, {"type": "text"},
    {"name": "n"}, {"role": "user", "content": "x"}, {"type": "function", "function": {"name": "f"}},
]  # fmt: skip


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, prefix + (index,))
    return found


def _mutate(request: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    if not path:
        return value
    parent = request
    for part in path[:-1]:
        parent = parent[part]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return request


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_path_agrees_with_jsonschema(data: st.DataObject) -> None:
    """For valid requests with one value replaced or removed, both engines say the same."""
    _, original = data.draw(st.sampled_from(VALID_CASES))
    request = copy.deepcopy(original)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(request)))
        value = copy.deepcopy(data.draw(st.sampled_from(ODD_VALUES)))
        request = _mutate(request, path, value, data.draw(st.booleans()))
    assert FAST.validate(request).ok == SLOW.validate(request).ok
