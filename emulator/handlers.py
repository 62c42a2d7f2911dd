"""Thin aiohttp handlers: chat completions and models. Each step hands the next a finished
value: auth → body → validation → scenario selection → completion → timeline → writer."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from typing import Any

from aiohttp import web

from emulator import replay, timeline, writer
from emulator.bodyparse import parse_json_body
from emulator.chatrequest import ChatRequest
from emulator.errors import BAD_KEY_MESSAGE, NO_AUTH_MESSAGE, RequestError, error_envelope
from emulator.generate import Draw
from emulator.genstats import generation_cost
from emulator.journal import JournalEntry
from emulator.openapi import openapi_document
from emulator.runtime import Emulator
from emulator.scenario import ErrorReply, Fault, Reply, Response, Scenario
from emulator.state import no_match_error
from emulator.validation import ValidationResult, error_for

EMULATOR = web.AppKey("emulator", Emulator)
NOT_VALIDATED = ValidationResult(problems=(), ignored=())
access_log = logging.getLogger("emulator.access")
log = logging.getLogger("emulator")


def bearer_key(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    key = key.strip()
    return key if scheme.lower() == "bearer" and key else None


def check_auth(request: web.Request, emulator: Emulator) -> str:
    """The caller's API key, or a 401 in the router's envelope."""
    key = bearer_key(request)
    if key is None:
        raise RequestError(401, NO_AUTH_MESSAGE)
    if emulator.config.api_keys and key not in emulator.config.api_keys:
        raise RequestError(401, BAD_KEY_MESSAGE)
    return key


async def chat_completions(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    start = asyncio.get_running_loop().time()
    entry = emulator.journal.open(
        request.method, request.path, request.headers.items(), time.time()
    )
    task = asyncio.current_task()
    if task is not None:
        emulator.open_tasks.add(task)
    plan: timeline.Timeline | None = None
    try:
        try:
            plan = await _plan(request, emulator, entry)
        except RequestError as exc:
            plan = error_timeline(exc)
        entry.status = plan.status
        pacer = emulator.pacing()[0]
        return await writer.play(
            request, plan, entry, start=start, time_scale=emulator.time_scale, pacer=pacer
        )
    except asyncio.CancelledError:
        entry.client_aborted = True
        entry.outcome = "client_aborted"
        raise
    except Exception as exc:  # a bug of ours: a 500 in the envelope, logged with its traceback
        log.exception("unexpected error while answering %s %s", request.method, request.path)
        entry.outcome, entry.error, entry.status = "failed", f"{type(exc).__name__}: {exc}", 500
        return web.json_response(error_envelope(500, "Internal Server Error"), status=500)
    finally:
        if task is not None:
            emulator.open_tasks.discard(task)
        entry.duration_ms = round((asyncio.get_running_loop().time() - start) * 1000, 3)
        _charge(request, emulator, entry)
        emulator.journal.finish(entry)
        access_log.info(
            "%s %s %s scenario=%s %.1fms%s",
            request.method,
            request.path,
            entry.status or "-",
            entry.scenario or "-",
            entry.duration_ms,
            " (client aborted)" if entry.client_aborted else "",
        )


def _charge(request: web.Request, emulator: Emulator, entry: JournalEntry) -> None:
    """Add what a served generation cost to its key's counters (GET /key, GET /credits)."""
    api_key = bearer_key(request)
    if api_key is None or entry.completion is None:
        return
    model = str(entry.completion.get("model") or "")
    free = ":free" in model
    cost = generation_cost(entry, emulator.catalog)
    emulator.accounts.charge(api_key, cost, emulator.now(), free)


def error_timeline(exc: RequestError) -> timeline.Timeline:
    return timeline.error_response(ErrorReply(exc.status, exc.message, exc.metadata, exc.headers))


async def _read_body(request: web.Request, limit: int) -> bytes:
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise RequestError(413, f"request body is larger than the limit of {limit} bytes") from exc


async def _plan(request: web.Request, emulator: Emulator, entry: JournalEntry) -> timeline.Timeline:
    api_key = check_auth(request, emulator)
    raw = await _read_body(request, emulator.config.max_body_bytes)
    await emulator.pacing()[1].turn()  # one plan per loop iteration: due chunks go first
    body = parse_json_body(raw, request.headers.get("Content-Type"))
    entry.body = body
    entry.stream = body.get("stream") is True
    result = (
        emulator.validator.validate(body, strict=emulator.strict)
        if emulator.config.validate
        else NOT_VALIDATED
    )
    entry.ignored_params = list(result.ignored)
    entry.validation_errors = [{"path": p.path, "message": p.message} for p in result.problems]
    if result.problems:
        raise error_for(result)
    chat = ChatRequest(body, {k.lower(): v for k, v in request.headers.items()}, api_key)

    def admit(scenario: Scenario) -> None:
        """A strict scenario refuses unknown parameters as strict mode does, before its step
        is used (so a refused request is not one of its calls)."""
        if scenario.strict and result.ignored:
            entry.scenario = scenario.name
            raise error_for(emulator.validator.validate(body, strict=True))

    selection = emulator.state.select(chat, admit)
    scenario = selection.scenario
    entry.scenario = scenario.name if scenario else None
    entry.call_number = selection.call_number if scenario else None
    if scenario is None:
        entry.near_misses = [
            {"scenario": name, "reasons": list(reasons)} for name, reasons in selection.near_misses
        ]
    response: Response | None = selection.response
    if response is None:
        if emulator.strict:
            raise no_match_error(selection)
        response = Reply()
    draw = Draw(
        emulator.seed,
        emulator.created(),
        emulator.next_serial(),
        entry.scenario,
        selection.call_number,
    )
    return _compile(response, chat, draw, emulator, entry)


def _compile(
    response: Response, chat: ChatRequest, draw: Draw, emulator: Emulator, entry: JournalEntry
) -> timeline.Timeline:
    if isinstance(response, ErrorReply):
        return timeline.error_response(response, chat.model, draw.created)
    if isinstance(response, Fault):
        return timeline.fault_response(response)
    completion = emulator.generator.completion(response, chat, draw)
    if response.ids == "regenerate":  # a recorded reply with this request's id and created
        response = replay.regenerated(response, completion.id, completion.created)
    entry.generation_id = replay.recorded_id(response) or completion.id
    entry.completion = _summary(completion)
    if not chat.stream:
        if response.body is not None:
            return timeline.body_response(200, response.body, response.headers, response.delay_ms)
        return timeline.completion_response(completion, response.delay_ms, response.headers)
    cfg = emulator.config
    defaults = timeline.StreamDefaults(cfg.usage_chunk, cfg.keepalive_text, cfg.keepalive_ms)
    rng = emulator.generator.rng(draw, chat, "schedule")
    return timeline.stream_response(
        completion, response.stream, defaults, rng, response.delay_ms, response.headers
    )


def _summary(completion: Any) -> dict[str, Any]:
    return {
        "id": completion.id,
        "created": completion.created,
        "model": completion.model,
        "provider": completion.provider,
        "usage": dict(completion.usage),
        "finish_reasons": [c.finish_reason for c in completion.choices],
        "native_finish_reasons": [c.native_finish_reason for c in completion.choices],
    }


async def openapi_json(request: web.Request) -> web.Response:
    """GET /openapi.json and /v1/openapi.json: the OpenAPI 3.1 document, its server URL the one
    the client used to reach us. No API key needed: the contract is public."""
    server_url = f"{request.scheme}://{request.host}"
    return web.Response(body=_openapi_body(server_url), content_type="application/json")


@functools.lru_cache(maxsize=1)
def _openapi_base() -> dict[str, Any]:
    # The document depends only on the schema files shipped in the package: built once.
    return openapi_document()


@functools.lru_cache(maxsize=16)
def _openapi_body(server_url: str) -> bytes:
    # Serialised once per host name a client uses (bounded), not once per request.
    document = {**_openapi_base(), "servers": [{"url": server_url}]}
    return json.dumps(document, ensure_ascii=False).encode()
