"""Validate responses against the router's own response schemas (tests/spec/router-schemas.json,
a reduced copy of the router's OpenAPI spec; see tests/spec/README.md).

    problems(operation, status, body)           # [] when the JSON body is valid
    stream_problems(raw_body)                   # every JSON data event against ChatStreamChunk

`operation` is the spec's operationId (sendChatCompletionRequest, getModels, listModelsCount,
listEndpoints, getCurrentKey, getCredits, getGeneration).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SPEC_FILE = Path(__file__).with_name("spec") / "router-schemas.json"


@functools.lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    """The reduced spec document (operations and component schemas)."""
    document: dict[str, Any] = json.loads(SPEC_FILE.read_text())
    return document


@functools.lru_cache(maxsize=64)
def validator(pointer: str) -> Draft202012Validator:
    """A validator for the schema at JSON pointer `pointer` inside the reduced spec."""
    root = {**spec(), "$ref": pointer}
    return Draft202012Validator(root)


def _describe(errors: Any) -> list[str]:
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message[:300]}"
        for e in errors
    ]


def problems(operation: str, status: int, body: Any, media: str = "json") -> list[str]:
    """Schema problems of `body` as the `status` response of `operation` ([] if valid);
    a status the spec does not list for the operation is itself a problem."""
    responses = spec()["operations"][operation]
    if str(status) not in responses or media not in responses[str(status)]:
        return [f"{operation} lists no {media} response for status {status}"]
    pointer = f"#/operations/{operation}/{status}/{media}"
    return _describe(validator(pointer).iter_errors(body))


def chunk_problems(chunk: Any) -> list[str]:
    """Schema problems of one stream chunk (spec schema ChatStreamChunk)."""
    return _describe(validator("#/components/schemas/ChatStreamChunk").iter_errors(chunk))


def data_events(raw: bytes) -> list[str]:
    """The payloads of the `data:` lines of an SSE body (any line ending)."""
    text = raw.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    return [line[len("data:") :].strip() for line in text.split("\n") if line.startswith("data:")]


def stream_problems(raw: bytes) -> list[str]:
    """Problems of every JSON data event of a stream against ChatStreamChunk. A payload that
    is not JSON (a scenario's deliberate `raw` garbage) and `[DONE]` are not chunks."""
    found: list[str] = []
    for i, payload in enumerate(data_events(raw)):
        if payload == "[DONE]":
            continue
        try:
            chunk = json.loads(payload)
        except ValueError:
            continue
        found += [f"event {i}: {p}" for p in chunk_problems(chunk)]
    return found
