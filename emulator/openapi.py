"""The emulator's OpenAPI 3.1 document, assembled from the same schema files that validate
requests, so the published contract and the enforced one cannot drift apart."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urljoin

from .modelquery import MAX_LIMIT, MAX_OFFSET, SORTS
from .validation import load_schemas

# The part of each schema file that names it as an OpenAPI component.
_STRIPPED_KEYWORDS = ("$id", "$schema", "$defs")

_ERROR_STATUSES = {
    "400": "The request is invalid: malformed JSON, a wrong type or range, a missing field.",
    "401": "No or unknown API key.",
    "404": "Unknown model, or no scenario matches (strict mode).",
    "413": "The request body is larger than the server accepts.",
}


def openapi_document(server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document for POST /v1/chat/completions and GET /v1/models."""
    components, names = _components(load_schemas())
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "chat-emulator",
            "version": _package_version(),
            "description": "An emulator of an LLM router's OpenAI-compatible Chat Completions "
            "API, scripted by scenarios, for testing integrations.",
        },
        "paths": {
            "/v1/chat/completions": {"post": _chat_operation(names)},
            "/v1/models": {"get": _models_operation(names)},
        },
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Authorization: Bearer <API key>",
                }
            },
        },
        "security": [{"bearerAuth": []}],
    }
    if server_url is not None:
        document["servers"] = [{"url": server_url}]
    return document


def _package_version() -> str:
    # Imported here: importlib.metadata is a measurable part of a server's start-up.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("chat-emulator")
    except PackageNotFoundError:
        return "0.0.0"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(name)}}


def _error_responses(names: dict[str, str], statuses: dict[str, str]) -> dict[str, Any]:
    error = names["error.schema.json"]
    return {
        status: {"description": text, "content": _json(error)} for status, text in statuses.items()
    }


def _chat_operation(names: dict[str, str]) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {
            "description": "The reply: one JSON object, or with stream: true a server-sent "
            "event stream of chat.completion.chunk objects ending with data: [DONE].",
            "content": {
                **_json(names["chat-completion.schema.json"]),
                "text/event-stream": {"schema": _sse_event(names)},
            },
        },
        **_error_responses(names, _ERROR_STATUSES),
        "default": {
            "description": "Any other error a scenario injects (402, 408, 429, 5xx ...).",
            "content": _json(names["error.schema.json"]),
        },
    }
    return {
        "operationId": "createChatCompletion",
        "summary": "Create a chat completion",
        "requestBody": {"required": True, "content": _json(names["request.schema.json"])},
        "responses": responses,
    }


def _sse_event(names: dict[str, str]) -> dict[str, Any]:
    """One server-sent event of a stream. OpenAPI 3.1 has no `itemSchema` (3.2 adds it), and
    tools that read 3.1 (schemathesis among them) take the `schema` of text/event-stream to
    describe each event, as an object of its fields; `data` holds a chunk as JSON, or [DONE]."""
    return {
        "description": "One event: `data` is a chat.completion.chunk as JSON, or [DONE] at the "
        "end. Comment lines (`: OPENROUTER PROCESSING`) keep the connection alive between them.",
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {
                "description": "A chat.completion.chunk as JSON, or the literal [DONE].",
                "type": "string",
                "if": {"const": "[DONE]"},
                "else": {
                    "contentMediaType": "application/json",
                    "contentSchema": _ref(names["chat-completion-chunk.schema.json"]),
                },
            },
            "event": {"description": "Not sent: every event is a message.", "type": "string"},
        },
    }


def _models_operation(names: dict[str, str]) -> dict[str, Any]:
    return {
        "operationId": "listModels",
        "summary": "List the model catalog (filtered, sorted and paged by the query)",
        "parameters": _MODELS_PARAMETERS,
        "responses": {
            "200": {
                "description": "The models.",
                "content": _json(names["models-list.schema.json"]),
            },
            **_error_responses(
                names, {"400": "A query parameter is not valid.", "401": _ERROR_STATUSES["401"]}
            ),
        },
    }


_MODELS_PARAMETERS = [
    {
        "name": "offset",
        "in": "query",
        "description": "Models to skip; with `limit`, pages the list.",
        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
    },
    {
        "name": "limit",
        "in": "query",
        "description": "Models per page (at most 1000).",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
    },
    {
        "name": "sort",
        "in": "query",
        "description": "Order of the list (popularity and benchmark sorts keep the catalog order).",
        "schema": {"enum": list(SORTS)},
    },
    {
        "name": "q",
        "in": "query",
        "description": "Text to find in the model's id or name.",
        "schema": {"type": "string"},
    },
]


def _components(
    schemas: dict[str, dict[str, Any]],
) -> tuple[dict[str, Any], dict[str, str]]:
    """Every file and every `$defs` entry as a named component (its `title`), with `$ref`s
    rewritten to `#/components/schemas/<name>`. Returns the components and file -> name."""
    names: dict[str, str] = {}  # absolute URI (file or file#/$defs/x) -> component name
    for schema in schemas.values():
        names[schema["$id"]] = schema["title"]
        for key, sub in schema.get("$defs", {}).items():
            names[f"{schema['$id']}#/$defs/{key}"] = sub.get("title", f"{schema['title']}_{key}")
    if len(set(names.values())) != len(names):
        raise ValueError("schema titles must be unique to serve as component names")
    components: dict[str, Any] = {}
    for schema in schemas.values():
        base = schema["$id"]
        components[names[base]] = _rewrite(_strip(schema), base, names)
        for key, sub in schema.get("$defs", {}).items():
            components[names[f"{base}#/$defs/{key}"]] = _rewrite(copy.deepcopy(sub), base, names)
    by_file = {file: names[schema["$id"]] for file, schema in schemas.items()}
    return dict(sorted(components.items())), by_file


def _strip(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in schema.items() if k not in _STRIPPED_KEYWORDS}


def _rewrite(node: Any, base: str, names: dict[str, str]) -> Any:
    """Replace each `$ref` (relative to the file at `base`) by its component reference."""
    if isinstance(node, list):
        return [_rewrite(item, base, names) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _rewrite(v, base, names) for k, v in node.items()}
    if isinstance(node.get("$ref"), str):
        target = urljoin(base, node["$ref"])
        target = target.removesuffix("#")
        if target not in names:
            raise ValueError(f"cannot map $ref {node['$ref']!r} in {base} to a component")
        out["$ref"] = f"#/components/schemas/{names[target]}"
    return out
