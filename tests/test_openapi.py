"""The OpenAPI 3.1 document: built from the schema files, loadable by schemathesis, and in
agreement with the request validator and the documented response shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator

from emulator.catalogfile import builtin_catalog
from emulator.modelquery import MAX_LIMIT, MAX_OFFSET, SORTS, parse_query
from emulator.openapi import openapi_document
from emulator.validation import RequestValidator, load_schemas, schema_registry

DOC = openapi_document()
CHAT = DOC["paths"]["/v1/chat/completions"]["post"]
MODELS = DOC["paths"]["/v1/models"]["get"]

# PROTOCOL §3 and §5.4 examples (protocol-examples/), copied so the tests stand alone.
COMPLETION = {
    "id": "gen-1735689600-Xq3mZ8pLr2Vt7Kc9Nw4B", "provider": "Anthropic",
    "model": "anthropic/claude-3.5-sonnet", "object": "chat.completion", "created": 1735689600,
    "choices": [{
        "logprobs": None, "finish_reason": "stop", "native_finish_reason": "end_turn", "index": 0,
        "message": {"role": "assistant", "content": "The meaning of life is...", "refusal": None},
    }],
    "usage": {"prompt_tokens": 14, "completion_tokens": 11, "total_tokens": 25},
}  # fmt: skip
TOOL_CALL_COMPLETION = {
    **COMPLETION,
    "system_fingerprint": "fp_0123456789",
    "choices": [{
        "logprobs": None, "finish_reason": "tool_calls", "native_finish_reason": "tool_calls",
        "index": 0,
        "message": {"role": "assistant", "content": None, "refusal": None, "tool_calls": [{
            "id": "call_9pw1qnYScqvGrCH58HWCvFH6", "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
        }]},
    }],
}  # fmt: skip
PROMPT_COMPLETION = {
    **COMPLETION,
    "choices": [{"index": 0, "text": "Once upon", "finish_reason": "length", "native_finish_reason": None}],
}  # fmt: skip
ERROR_CHOICE_COMPLETION = {
    **COMPLETION,
    "choices": [{
        "index": 0, "finish_reason": "error", "native_finish_reason": None,
        "message": {"role": "assistant", "content": "partial output..."},
        "error": {"code": 502, "message": "Provider disconnected mid-stream",
                  "metadata": {"error_type": "provider_unavailable"}},
    }],
}  # fmt: skip
ERRORS = [
    {"error": {"code": 400, "message": "temperature: must be at most 2",
               "metadata": {"errors": [{"path": "temperature", "message": "must be at most 2"}]}}},
    {"error": {"code": 401, "message": "No auth credentials found"}},
    {"error": {"code": 402, "message": "This request requires more credits",
               "metadata": {"provider_name": None}}, "user_id": "user_2abcDEF"},
]  # fmt: skip
MODELS_LIST = {
    "data": [builtin_catalog().get("openai/gpt-4o").wire()],  # type: ignore[union-attr]
    "total_count": 1,
    "links": {"next": None},
}


def _validator(file_name: str) -> Draft202012Validator:
    schemas = load_schemas()
    return Draft202012Validator(schemas[file_name], registry=schema_registry(schemas))


def _refs(node: Any) -> list[str]:
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    if not isinstance(node, dict):
        return []
    own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
    return own + [ref for value in node.values() for ref in _refs(value)]


def test_schemathesis_loads_the_document() -> None:
    """schemathesis 4 loads the document and sees both operations."""
    schema = schemathesis.openapi.from_dict(DOC)
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert labels == {"POST /v1/chat/completions", "GET /v1/models"}


def test_document_is_openapi_3_1_with_bearer_auth() -> None:
    """OpenAPI 3.1, bearer auth required everywhere, and plain JSON throughout."""
    assert DOC["openapi"] == "3.1.0"
    assert DOC["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert DOC["security"] == [{"bearerAuth": []}]
    assert json.loads(json.dumps(DOC)) == DOC


def test_every_ref_points_at_a_component() -> None:
    """No $ref is left pointing at a file: each names an existing component."""
    components = DOC["components"]["schemas"]
    refs = _refs(DOC)
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in components, ref


def test_no_component_keeps_file_identity() -> None:
    """Embedded schemas lose $id/$schema (they would re-base refs) and their $defs (hoisted)."""
    for name, component in DOC["components"]["schemas"].items():
        assert not {"$id", "$schema", "$defs"} & set(component), name


def test_components_are_the_schema_files() -> None:
    """Each schema file appears under its title, with the same properties."""
    components = DOC["components"]["schemas"]
    for file_name, schema in load_schemas().items():
        component = components[schema["title"]]
        assert set(component.get("properties", {})) == set(schema.get("properties", {})), file_name


def test_chat_operation_declares_bodies_and_statuses() -> None:
    """POST takes the request schema and answers JSON or SSE, or the error envelope."""
    request = CHAT["requestBody"]["content"]["application/json"]["schema"]
    assert request == {"$ref": "#/components/schemas/ChatCompletionRequest"}
    ok = CHAT["responses"]["200"]["content"]
    assert ok["application/json"]["schema"] == {"$ref": "#/components/schemas/ChatCompletion"}
    event = ok["text/event-stream"]["schema"]
    assert event["properties"]["data"]["else"]["contentSchema"] == {
        "$ref": "#/components/schemas/ChatCompletionChunk"
    }
    for status in ("400", "401", "404", "413", "default"):
        content = CHAT["responses"][status]["content"]["application/json"]
        assert content["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}, status


def test_models_operation_declares_list_400_and_401() -> None:
    """GET /v1/models answers the model list, or a 400/401 in the error envelope."""
    ok = MODELS["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/ModelsList"}
    assert set(MODELS["responses"]) == {"200", "400", "401"}


def test_models_parameters_publish_what_the_server_accepts() -> None:
    """The sort values, offset and limit bounds published are the ones the server checks."""
    params = {p["name"]: p["schema"] for p in DOC["paths"]["/v1/models"]["get"]["parameters"]}
    assert params["sort"]["enum"] == list(SORTS)
    assert len(SORTS) == 12  # the router's spec lists 12 sorts (operation getModels)
    assert params["offset"]["maximum"] == MAX_OFFSET
    assert params["limit"]["maximum"] == MAX_LIMIT
    for value in SORTS:
        assert parse_query({"sort": value}).sort == value


def test_server_url_is_optional() -> None:
    """servers is listed only when a URL is given."""
    assert "servers" not in DOC
    assert openapi_document("http://127.0.0.1:8080")["servers"] == [
        {"url": "http://127.0.0.1:8080"}
    ]


@pytest.mark.parametrize(
    "response",
    [COMPLETION, TOOL_CALL_COMPLETION, PROMPT_COMPLETION, ERROR_CHOICE_COMPLETION],
    ids=["text", "tool_calls", "prompt", "choice_error"],
)
def test_documented_completions_match_the_response_schema(response: dict[str, Any]) -> None:
    """The PROTOCOL §3 reply shapes are valid ChatCompletion bodies."""
    _validator("chat-completion.schema.json").validate(response)


def test_response_schema_rejects_a_choice_without_message_or_text() -> None:
    """A choice must carry a message (chat) or a text (prompt)."""
    broken = {**COMPLETION, "choices": [{"index": 0, "finish_reason": "stop"}]}
    assert not _validator("chat-completion.schema.json").is_valid(broken)


EXAMPLES = Path(__file__).parent / "examples"


def _documented_chunks() -> list[Any]:
    chunks = [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("chunk_*.json"))]
    for stream in sorted(EXAMPLES.glob("stream_*.sse")):
        for line in stream.read_text().splitlines():
            if line.startswith("data: {"):
                chunks.append(json.loads(line.removeprefix("data: ")))
    return chunks


@pytest.mark.parametrize("chunk", _documented_chunks())
def test_documented_chunks_match_the_chunk_schema(chunk: dict[str, Any]) -> None:
    """Every chunk of the PROTOCOL §4 examples (text, tool calls, usage, errors) is valid."""
    _validator("chat-completion-chunk.schema.json").validate(chunk)


def test_chunk_schema_rejects_a_completion_object() -> None:
    """A non-streaming reply is not a chunk: its object is chat.completion."""
    assert not _validator("chat-completion-chunk.schema.json").is_valid(COMPLETION)


def test_sse_event_schema_accepts_chunks_and_done() -> None:
    """Read as schemathesis reads OpenAPI 3.1, the event schema takes a chunk or [DONE]."""
    event = CHAT["responses"]["200"]["content"]["text/event-stream"]["schema"]
    validator = Draft202012Validator(event)
    assert validator.is_valid({"data": "[DONE]", "event": "message"})
    assert validator.is_valid({"data": json.dumps(_documented_chunks()[0])})
    assert not validator.is_valid({"event": "message"})


@pytest.mark.parametrize("body", ERRORS, ids=["400", "401", "402"])
def test_documented_errors_match_the_error_schema(body: dict[str, Any]) -> None:
    """The router's error bodies (PROTOCOL §5.4) are valid ErrorResponse bodies."""
    _validator("error.schema.json").validate(body)


def test_error_schema_rejects_openai_style_string_codes() -> None:
    """error.code is the integer HTTP status, never an OpenAI-style string."""
    body = {"error": {"code": "invalid_request_error", "message": "x"}}
    assert not _validator("error.schema.json").is_valid(body)


def test_models_list_matches_its_schema() -> None:
    """A model list is valid against models-list.schema.json."""
    _validator("models-list.schema.json").validate(MODELS_LIST)


VALIDATOR = RequestValidator()
CHAT_STRATEGY = schemathesis.openapi.from_dict(DOC)["/v1/chat/completions"]["POST"].as_strategy()


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=CHAT_STRATEGY)
def test_bodies_schemathesis_generates_pass_the_validator(case: Any) -> None:
    """What the published document calls valid, the validator accepts (but for the two rules
    no schema can state: a named tool_choice must be among the offered tools, and
    reasoning_effort must equal reasoning.effort)."""
    problems = VALIDATOR.validate(case.body).problems
    cross_field = ("tool_choice.function.name", "reasoning_effort")
    assert [p for p in problems if p.path not in cross_field] == []
