"""Request validation over real HTTP: every row of validation_cases.py sent to a live server,
bad bodies as raw bytes, the 413, unknown parameters (ignored, journaled, or refused in strict
mode), validation before scenario matching, and the served OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator
from validation_cases import BAD_BODY_CASES, INVALID_CASES, VALID_CASES, body
from wire import RawResponse, request

from emulator.openapi import openapi_document
from emulator.testing import EmulatorServer
from emulator.validation import load_schemas

ERROR_SCHEMA = Draft202012Validator(load_schemas(["error.schema.json"])["error.schema.json"])
CATCH_ALL = {"name": "anything", "reply": {"content": "ok"}}


def assert_envelope(response: RawResponse, status: int) -> dict[str, Any]:
    """The router's error envelope with `status` as code, served as JSON; returns `error`."""
    assert response.status == status, response.body[:300]
    assert response.headers["content-type"].startswith("application/json")
    payload = response.json()
    ERROR_SCHEMA.validate(payload)
    assert set(payload) == {"error"}
    error = payload["error"]
    assert error["code"] == status
    assert isinstance(error["message"], str) and error["message"]
    return error


def assert_problems(error: dict[str, Any]) -> list[dict[str, str]]:
    """`metadata.errors` is a non-empty list of {path, message}; the first one is the message."""
    errors = error["metadata"]["errors"]
    assert isinstance(errors, list) and errors
    for item in errors:
        assert set(item) == {"path", "message"}
        assert isinstance(item["path"], str) and isinstance(item["message"], str)
    first = errors[0]
    expected = f"{first['path']}: {first['message']}" if first["path"] else first["message"]
    assert error["message"] == expected
    return errors


@pytest.mark.parametrize(
    ("case_id", "request_body", "path", "message"), INVALID_CASES, ids=[c[0] for c in INVALID_CASES]
)
def test_invalid_request_is_a_400_naming_the_path(
    server: EmulatorServer, case_id: str, request_body: Any, path: str, message: str
) -> None:
    """An invalid request gets exactly 400, the envelope, and a message led by the field's path."""
    error = assert_envelope(request(server.url, body=request_body), 400)
    errors = assert_problems(error)
    assert errors[0]["path"] == path
    assert error["message"].startswith(f"{path}: " if path else "")
    assert message in error["message"]
    (entry,) = server.requests
    assert entry.status == 400 and entry.scenario is None


@pytest.mark.parametrize(("case_id", "request_body"), VALID_CASES, ids=[c[0] for c in VALID_CASES])
def test_valid_request_is_answered(
    server: EmulatorServer, case_id: str, request_body: dict[str, Any]
) -> None:
    """A documented request gets a 200: a completion, or a whole stream ending in [DONE]."""
    server.configure(time_scale=0)
    response = request(server.url, body=request_body)
    assert response.status == 200, response.body[:300]
    if request_body.get("stream") is True:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.data()[-1] == "[DONE]"
    else:
        assert response.json()["object"] == "chat.completion"
    (entry,) = server.requests
    assert entry.validation_errors == []


@pytest.mark.parametrize(
    ("case_id", "raw", "content_type", "message"),
    BAD_BODY_CASES,
    ids=[c[0] for c in BAD_BODY_CASES],
)
def test_bad_body_is_a_400_naming_the_problem(
    server: EmulatorServer, case_id: str, raw: bytes, content_type: str | None, message: str
) -> None:
    """Bytes that are not a JSON object (or not labelled as JSON) get a 400 saying why."""
    response = request(server.url, raw=raw, headers={"Content-Type": content_type})
    error = assert_envelope(response, 400)
    assert message in error["message"]
    assert assert_problems(error) == [{"path": "", "message": error["message"]}]
    (entry,) = server.requests
    assert entry.status == 400


def test_body_over_the_size_limit_is_a_413(make_server: Any) -> None:
    """A body over max_body_bytes gets 413 in the same envelope; one under it is answered."""
    small = make_server(max_body_bytes=1000)
    big = body(messages=[{"role": "user", "content": "x" * 2000}])
    error = assert_envelope(request(small.url, body=big), 413)
    assert error["message"] == "request body is larger than the limit of 1000 bytes"
    assert request(small.url, body=body()).status == 200
    assert [e.status for e in small.requests] == [413, 200]


def test_size_limit_comes_before_parsing(make_server: Any) -> None:
    """An oversized body is a 413 even when it is not JSON at all."""
    small = make_server(max_body_bytes=100)
    response = request(small.url, raw=b"\xff" * 500, headers={"Content-Type": "text/plain"})
    assert_envelope(response, 413)


def test_unknown_parameters_are_ignored_and_journaled(server: EmulatorServer) -> None:
    """Unknown top-level keys do not fail the request; the journal lists them, sorted."""
    response = request(server.url, body=body(max_token=5, zzz={"a": 1}, foo=None))
    assert response.status == 200
    (entry,) = server.requests
    assert entry.ignored_params == ["foo", "max_token", "zzz"]
    assert entry.validation_errors == []


def test_known_parameters_are_not_reported_as_ignored(server: EmulatorServer) -> None:
    """A request using only documented keys has nothing in ignored_params."""
    assert request(server.url, body=body(max_tokens=5, temperature=0.5)).status == 200
    assert server.requests[0].ignored_params == []


def test_strict_server_rejects_unknown_parameters(server: EmulatorServer) -> None:
    """In strict mode each unknown key is a problem at its path; a typo gets a suggestion."""
    server.configure(strict=True)
    server.add(CATCH_ALL)
    error = assert_envelope(request(server.url, body=body(max_token=5, zzz=1)), 400)
    assert (
        error["message"] == "max_token: unknown parameter (strict mode); did you mean 'max_tokens'?"
    )
    assert [e["path"] for e in assert_problems(error)] == ["max_token", "zzz"]
    assert request(server.url, body=body(max_tokens=5)).status == 200
    rejected, answered = server.requests
    assert rejected.scenario is None and rejected.ignored_params == []
    assert [p["path"] for p in rejected.validation_errors] == ["max_token", "zzz"]
    assert answered.scenario == "anything"


def test_strict_server_lists_unknown_keys_after_schema_problems_in_body_order(
    server: EmulatorServer,
) -> None:
    """Schema problems and unknown keys are reported together, in the body's key order."""
    server.configure(strict=True)
    request_body = {"max_token": 5, **body(temperature=9)}
    error = assert_envelope(request(server.url, body=request_body), 400)
    assert [e["path"] for e in assert_problems(error)] == ["max_token", "temperature"]


def test_strict_scenario_rejects_unknown_parameters(server: EmulatorServer) -> None:
    """A scenario with `strict: true` refuses unknown keys with a 400 that names them."""
    server.add("name: picky\nstrict: true\nreply: {content: ok}\n")
    error = assert_envelope(request(server.url, body=body(max_token=5, zzz=1)), 400)
    assert [p["path"] for p in assert_problems(error)] == ["max_token", "zzz"]
    assert server.requests[-1].scenario == "picky"
    assert request(server.url, body=body(max_tokens=5)).status == 200


def test_strict_scenario_error_has_the_shape_of_strict_mode(server: EmulatorServer) -> None:
    """A strict scenario's 400 lists each unknown key in metadata.errors, with suggestions."""
    server.add("name: picky\nstrict: true\nreply: {content: ok}\n")
    error = assert_envelope(request(server.url, body=body(max_token=5)), 400)
    assert assert_problems(error)[0]["path"] == "max_token"
    assert "did you mean 'max_tokens'?" in error["message"]
    assert server.requests[-1].scenario == "picky"


def test_strict_scenario_refusal_uses_no_sequence_step(server: EmulatorServer) -> None:
    """A request a strict scenario refuses is not one of its calls: the next gets step 1."""
    server.add(
        "name: picky\nstrict: true\nsequence:\n  - reply: {content: first}\n"
        "  - reply: {content: second}\n"
    )
    assert request(server.url, body=body(max_token=5)).status == 400
    first = request(server.url, body=body())
    assert first.json()["choices"][0]["message"]["content"] == "first"
    assert server.emulator.state.call_counts()["picky"] == 1


def test_non_strict_scenario_ignores_unknown_parameters(server: EmulatorServer) -> None:
    """Without strict mode anywhere, a scenario answers a request with unknown keys."""
    server.add(CATCH_ALL)
    response = request(server.url, body=body(max_token=5))
    assert response.status == 200
    assert response.json()["choices"][0]["message"]["content"] == "ok"
    assert server.requests[0].ignored_params == ["max_token"]


def test_validation_runs_before_scenario_matching(server: EmulatorServer) -> None:
    """An invalid request never reaches a scenario: no call is counted, no step consumed."""
    server.add(
        "name: steps\nsequence:\n  - reply: {content: first}\n  - reply: {content: second}\n"
    )
    assert_envelope(request(server.url, body=body(temperature=3)), 400)
    assert_envelope(request(server.url, raw=b"{", headers={}), 400)
    assert server.scenario_calls() == {"steps": 0}
    response = request(server.url, body=body())
    assert response.json()["choices"][0]["message"]["content"] == "first"
    assert server.scenario_calls() == {"steps": 1}
    assert [e.scenario for e in server.requests] == [None, None, "steps"]


def test_an_invalid_request_is_a_400_even_in_strict_mode_without_scenarios(
    server: EmulatorServer,
) -> None:
    """Strict mode's no-match 404 comes after validation: a bad request is still a 400."""
    server.configure(strict=True)
    assert_envelope(request(server.url, body=body(n=0)), 400)
    assert_envelope(request(server.url, body=body()), 404)


def test_authentication_comes_before_validation(server: EmulatorServer) -> None:
    """Without an API key, even a malformed body gets the 401 first."""
    response = request(server.url, raw=b"not json", headers={"Authorization": None})
    assert_envelope(response, 401)


def test_the_api_v1_prefix_validates_too(server: EmulatorServer) -> None:
    """/api/v1/chat/completions runs the same validation as /v1/chat/completions."""
    response = request(server.url, path="/api/v1/chat/completions", body=body(top_k=-1))
    assert assert_envelope(response, 400)["message"] == "top_k: must be at least 0"


def test_problem_messages_do_not_echo_huge_values(server: EmulatorServer) -> None:
    """A wrong 1 MB value is reported by path and rule, not copied into the error."""
    response = request(server.url, body=body(temperature="x" * 1_000_000))
    assert len(response.body) < 1000
    assert assert_envelope(response, 400)["message"].startswith("temperature: must be a number")


@pytest.mark.parametrize("path", ["/openapi.json", "/v1/openapi.json"])
def test_openapi_document_is_served_without_auth(server: EmulatorServer, path: str) -> None:
    """GET /openapi.json needs no key and is the document, its server the URL used to reach it."""
    response = request(server.url, method="GET", path=path, headers={"Authorization": None})
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == openapi_document(server.url)


def test_openapi_server_url_follows_the_host_header(server: EmulatorServer) -> None:
    """The document's server is the host the client asked for (e.g. through a proxy name)."""
    response = request(
        server.url, method="GET", path="/openapi.json", headers={"Host": "emulator.test:9000"}
    )
    assert response.json()["servers"] == [{"url": "http://emulator.test:9000"}]


def test_openapi_document_only_answers_get(server: EmulatorServer) -> None:
    """POST /openapi.json is a 405 in the router's envelope with an Allow header, not HTML."""
    response = request(server.url, path="/openapi.json", body={})
    assert_envelope(response, 405)
    assert "GET" in response.headers["allow"]
