"""schemathesis against a live server, loading the document the server itself publishes at
/openapi.json: generated requests (valid and invalid) never get a 5xx, and every response has a
documented status, a documented content type and a body that conforms to its schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from emulator.config import Config
from emulator.testing import EmulatorServer

API_KEY = "sk-test"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,  # for SSE: every event, each data line against the chunk schema
    negative_data_rejection,  # invalid requests get a 4xx
    positive_data_acceptance,  # valid requests get a 2xx
    ignored_auth,  # the same request without a key, or with a wrong one, gets a 401
]
# Left out, as they cannot apply here: use_after_free, ensure_resource_availability and
# object_level_authorization need resources that are created and deleted (this API has none);
# unsupported_method and allow_header_conformance only judge the requests of schemathesis'
# coverage phase (undeclared methods, OPTIONS), which an in-suite hypothesis run does not
# generate (tests/test_validation_http.py checks the 405 envelope); response_headers_conformance
# and missing_required_header have no declared headers to check; max_response_time would make
# a busy CI machine fail.


@pytest.fixture(scope="module")
def live_server() -> Iterator[EmulatorServer]:
    """One server for the whole run: time_scale 0 so generated streams play without waits, and
    one accepted key so that ignored_auth can see a wrong key refused."""
    with EmulatorServer(Config(time_scale=0, api_keys=(API_KEY,))) as server:
        yield server


@pytest.fixture(scope="module")
def published_schema(live_server: EmulatorServer) -> Any:
    """The document as served; its `servers` entry gives schemathesis the base URL."""
    return schemathesis.openapi.from_url(live_server.url + "/openapi.json")


def _states_every_rule(case: Any) -> bool:
    """False for the one valid-looking body the document cannot rule out: a tool_choice naming
    a function that `tools` does not offer (a cross-field rule no JSON Schema can state; the
    server answers it with a 400, tested in test_validation_tool_choice.py)."""
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("tool_choice"), dict):
        return True
    named = body["tool_choice"].get("function", {}).get("name")
    offered = [t.get("function", {}).get("name") for t in body.get("tools") or []]
    return named in offered


def _credentials(case: Any) -> dict[str, str] | None:
    """The valid key, unless the case's invalid part is its Authorization header (left out or
    malformed): then the case is sent as generated, so that part reaches the server."""
    meta = case.meta
    if meta is not None and meta.is_negative_at(ParameterLocation.HEADER):
        return None
    return AUTH


def _streamed(case: Any) -> Any:
    """The same valid case with stream: true, so the SSE reply is checked event by event."""
    if isinstance(case.body, dict):
        case.body["stream"] = True
    return case


CHAT = ("/v1/chat/completions", "POST")
MODELS = ("/v1/models", "GET")
POSITIVE, NEGATIVE = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
# (operation, generation mode, stream forced, examples): bounded so the file runs in ~20 s;
# generating a request from the large request schema, not the server, takes most of it.
RUNS = [
    pytest.param(CHAT, POSITIVE, False, 50, id="chat-valid"),
    pytest.param(CHAT, POSITIVE, True, 25, id="chat-valid-streamed"),
    pytest.param(CHAT, NEGATIVE, False, 60, id="chat-invalid"),
    pytest.param(MODELS, POSITIVE, False, 10, id="models-valid"),
    pytest.param(MODELS, NEGATIVE, False, 10, id="models-invalid"),
]


# schemathesis.pytest.from_fixture() would be the idiom, but its lazy loader sets
# `request.node._nodeid`, which pytest 9 no longer has; so each operation's strategy is drawn
# from inside an ordinary test instead.
@pytest.mark.parametrize(("operation", "mode", "stream", "examples"), RUNS)
def test_api_conforms_to_its_published_schema(
    published_schema: Any,
    operation: tuple[str, str],
    mode: GenerationMode,
    stream: bool,
    examples: int,
) -> None:
    """No 5xx; documented status, content type and body, for valid and invalid requests."""
    path, method = operation
    strategy = published_schema[path][method].as_strategy(generation_mode=mode)
    if mode == POSITIVE:
        strategy = strategy.filter(_states_every_rule)

    # derandomize: CI runs the same examples every time (a failure is the code's, never the
    # seed's); vary them locally with --hypothesis-seed after removing it.
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True)
    @given(case=strategy.map(_streamed) if stream else strategy)
    def check(case: Any) -> None:
        case.call_and_validate(headers=_credentials(case), checks=CHECKS)

    check()
