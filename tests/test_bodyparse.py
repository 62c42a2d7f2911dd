"""parse_json_body: request bytes to a JSON object, or a 400 saying what is wrong with them."""

from __future__ import annotations

from typing import Any

import pytest
from validation_cases import BAD_BODY_CASES, GOOD_BODY_CASES

from emulator.bodyparse import is_json_content_type, parse_json_body
from emulator.errors import RequestError


@pytest.mark.parametrize(
    ("case_id", "raw", "content_type", "message"),
    BAD_BODY_CASES,
    ids=[c[0] for c in BAD_BODY_CASES],
)
def test_bad_body_is_a_400_with_a_clear_message(
    case_id: str, raw: bytes, content_type: str | None, message: str
) -> None:
    """Each malformed body is rejected with status 400 and a message naming the fault."""
    with pytest.raises(RequestError) as caught:
        parse_json_body(raw, content_type)
    assert caught.value.status == 400
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("case_id", "raw", "content_type", "expected"),
    GOOD_BODY_CASES,
    ids=[c[0] for c in GOOD_BODY_CASES],
)
def test_good_body_parses(
    case_id: str, raw: bytes, content_type: str | None, expected: dict[str, Any]
) -> None:
    """Well-formed JSON objects parse, whatever JSON media type and charset they come with."""
    assert parse_json_body(raw, content_type) == expected


def test_max_depth_is_configurable() -> None:
    """The nesting limit is a parameter: 3 levels pass with max_depth=3, 4 do not."""
    assert parse_json_body(b'{"a": [{}]}', "application/json", max_depth=3) == {"a": [{}]}
    with pytest.raises(RequestError, match="more than 3 levels"):
        parse_json_body(b'{"a": [{"b": []}]}', "application/json", max_depth=3)


def test_invalid_json_message_has_line_and_column() -> None:
    """The JSON error names the position, so the client can find the fault."""
    with pytest.raises(RequestError) as caught:
        parse_json_body(b'{"model": "m",\n "stream": tru}', "application/json")
    assert caught.value.message == (
        "request body is not valid JSON: Expecting value at line 2, column 12"
    )


def test_content_type_message_says_what_was_sent() -> None:
    """The Content-Type error repeats the type received, or says none was."""
    with pytest.raises(
        RequestError, match=r"^Content-Type must be application/json \(got 'text/plain'\)$"
    ):
        parse_json_body(b"{}", "text/plain")
    with pytest.raises(RequestError, match=r"\(got none\)$"):
        parse_json_body(b"{}", None)


@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("APPLICATION/JSON;charset=UTF-8", True),
        ("application/problem+json", True),
        (" application/json ", True),
        ("application/jsonl", False),
        ("text/json", False),
        ("application/x-json-stream", False),
        ("", False),
        (None, False),
    ],
)
def test_is_json_content_type(content_type: str | None, accepted: bool) -> None:
    """application/json and application/*+json are JSON, parameters aside; nothing else is."""
    assert is_json_content_type(content_type) is accepted


def test_bad_body_error_lists_one_problem_at_the_body() -> None:
    """A malformed body's 400 has the shape of a schema problem: metadata.errors, path ""."""
    with pytest.raises(RequestError) as caught:
        parse_json_body(b"[]", "application/json")
    message = "request body must be a JSON object, got array"
    assert caught.value.metadata == {"errors": [{"path": "", "message": message}]}
