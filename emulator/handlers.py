"""Thin aiohttp handlers: chat completions and models. Each step hands the next a finished
value: auth → body → validation → scenario selection → completion → timeline → writer."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from emulator import childparse, injection, ratelimits, replay, routing, streams, timeline, writer
from emulator.bodyparse import check_content_encoding, parse_json_body
from emulator.chatrequest import ChatRequest
from emulator.contextfit import prompt_size
from emulator.errors import BAD_KEY_MESSAGE, NO_AUTH_MESSAGE, RequestError, error_envelope
from emulator.fallback import (
    NO_METADATA_STATUSES,
    default_reply,
    metadata_enabled,
    play_attempts,
    route_metadata,
    unrouted_metadata,
)
from emulator.generate import Draw
from emulator.genstats import generation_cost
from emulator.inline import SliceSpent, inline_slice
from emulator.journal import JournalEntry, printable
from emulator.runtime import Emulator
from emulator.scenario import Callback, ErrorReply, Fault, Reply, Response, Scenario
from emulator.state import no_match_error, session_of
from emulator.unavailable import RoutingError
from emulator.validation import ValidationResult, error_for

if TYPE_CHECKING:  # recording only: imported with the proxy when a server records
    from emulator.proxy import Forward

EMULATOR = web.AppKey("emulator", Emulator)
NOT_VALIDATED = ValidationResult(problems=(), ignored=())
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


ENTRY = web.RequestKey("journal_entry", JournalEntry)
# Bodies up to this size are parsed and validated on the event loop: every step is linear, so
# they take well under a millisecond; larger ones go to a worker thread with a deadline
# (emulator.deadline).
INLINE_BODY_BYTES = 16 * 1024
# A reply generated from a JSON Schema (tool arguments, structured output) is tried on the event
# loop within this slice of the generator's budget (about 10 us a step), and redone in a worker
# thread, with the whole budget, the moment it would spend more: same value either way.
INLINE_SLICE_STEPS = 300
INLINE_SLICE_CHARS = 64 * 1024


async def chat_completions(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    start = asyncio.get_running_loop().time()
    entry = emulator.journal.open(
        request.method, request.path, request.headers.items(), time.time()
    )
    request[ENTRY] = entry
    task = asyncio.current_task()
    if task is not None:
        emulator.open_tasks.add(task)
    plan: timeline.Timeline | Forward | None = None
    try:
        try:
            plan = await _plan(request, emulator, entry)
        except RequestError as exc:
            plan = error_timeline(exc)
        if not isinstance(plan, timeline.Timeline):  # recording: the upstream answers (proxy.py)
            return await plan.recorder.forward(request, plan, entry, start)
        entry.status = plan.status
        pacer = emulator.pacing()[0]
        return await writer.play(
            request, plan, entry, start=start, time_scale=emulator.time_scale, pacer=pacer
        )
    except asyncio.CancelledError:
        reason = emulator.cancelled.get(task) if task is not None else None
        entry.client_aborted = reason is None
        entry.outcome = "client_aborted" if reason is None else f"server_{reason}"
        raise
    except writer.ClientGone:  # the client closed the connection while its body was read
        entry.client_aborted = True
        entry.outcome = "client_aborted"
        return web.Response(status=499)  # never sent: the connection is gone
    except Exception as exc:  # a bug of ours: a 500 in the envelope, logged with its traceback
        log.exception("unexpected error while answering %s", printable(request.path))
        entry.outcome, entry.error, entry.status = "failed", f"{type(exc).__name__}: {exc}", 500
        return web.json_response(error_envelope(500, "Internal Server Error"), status=500)
    finally:
        if task is not None:
            emulator.open_tasks.discard(task)
            emulator.cancelled.pop(task, None)
        entry.duration_ms = round((asyncio.get_running_loop().time() - start) * 1000, 3)
        _charge(request, emulator, entry)
        emulator.journal.finish(entry)


def _charge(request: web.Request, emulator: Emulator, entry: JournalEntry) -> None:
    """Add what a served generation cost to its key's counters (GET /key, GET /credits)."""
    api_key = bearer_key(request)
    if api_key is None or entry.completion is None:
        return
    model = str(entry.completion.get("model") or "")
    cost = generation_cost(entry, emulator.catalog)
    emulator.accounts.charge(api_key, cost, emulator.now(), routing.is_free(model))
    ratelimits.count_tokens(emulator, api_key, entry)


def error_timeline(exc: RequestError) -> timeline.Timeline:
    return timeline.error_response(ErrorReply(exc.status, exc.message, exc.metadata, exc.headers))


async def read_body(request: web.Request, limit: int, timeout_ms: float) -> bytes:
    """The request body, decoded from gzip/deflate when it says so; RequestError 413 over
    `limit` bytes, 408 when it stalls for `timeout_ms`, 415 for another Content-Encoding, 400
    when its framing or encoding is broken (bad chunked data, a body that does not decode);
    writer.ClientGone when the client closes the connection before sending all of it."""
    check_content_encoding(request.headers.get("Content-Encoding"))
    try:
        if timeout_ms <= 0 or request.content.is_eof():  # all of it is here: nothing to time
            return await request.read()
        return await asyncio.wait_for(request.read(), timeout_ms / 1000)
    except web.HTTPRequestEntityTooLarge as exc:
        raise RequestError(413, f"request body is larger than the limit of {limit} bytes") from exc
    except ConnectionError as exc:  # the client went away before sending all of it
        raise writer.ClientGone("the client closed the connection mid-body") from exc
    except asyncio.TimeoutError:
        _close_after_answer(request)
        raise RequestError(
            408, f"the request body stalled for more than {timeout_ms:.0f} ms"
        ) from None
    except (web.RequestPayloadError, HttpProcessingError):
        # A body that does not decode (bad gzip) or bad chunk framing: the connection cannot
        # carry another request after it.
        _close_after_answer(request)
        raise RequestError(400, _payload_message(request)) from None


def _close_after_answer(request: web.Request) -> None:
    """Answer this request, then close the connection instead of keeping it alive; the rest of
    its body is not read (ending the body here stops aiohttp draining it, which would fail
    again and log a traceback)."""
    request.content.feed_eof()
    if request.protocol is not None:
        request.protocol.close()


def _payload_message(request: web.Request) -> str:
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding and encoding != "identity":
        return f"request body does not decode as Content-Encoding {encoding!r}"
    return "request body framing is broken (bad chunked transfer coding)"


async def _plan(
    request: web.Request, emulator: Emulator, entry: JournalEntry
) -> timeline.Timeline | Forward:
    api_key = check_auth(request, emulator)
    cfg = emulator.config
    raw = await read_body(request, cfg.max_body_bytes, cfg.idle_timeout_ms)
    entry.body_bytes = len(raw)
    headers = {k.lower(): v for k, v in request.headers.items()}
    strict = emulator.strict

    def intake() -> tuple[dict[str, Any], ValidationResult, ChatRequest]:
        body = parse_json_body(raw, request.headers.get("Content-Type"))
        result = emulator.validator.validate(body, strict=strict) if cfg.validate else NOT_VALIDATED
        chat = ChatRequest(body, headers, api_key)
        if result.ok:
            chat.warm()  # the derived texts matching reads, computed here rather than on the loop
        return body, result, chat

    heavy = len(raw) > INLINE_BODY_BYTES
    if childparse.needs_gate(raw):
        await childparse.check(
            raw, request.headers.get("Content-Type"), cfg.request_budget_ms / 1000
        )
    await emulator.pacing()[1].turn()  # one plan per loop iteration: due chunks go first
    if heavy:
        body, result, chat = await emulator.within_budget(intake, 413, "parse and validate")
    else:
        body, result, chat = intake()
    entry.body = body
    entry.stream = body.get("stream") is True
    entry.ignored_params = list(result.ignored)
    entry.validation_errors = [{"path": p.path, "message": p.message} for p in result.problems]
    if result.problems:
        raise error_for(result)
    session = entry.session = session_of(chat.headers)
    limited: set[str] = set()  # scenarios whose rate_limits counted this request

    def admit(scenario: Scenario) -> None:
        """A strict scenario refuses unknown parameters as strict mode does, and a scenario
        over its `rate_limits` with the router's 429, before its step is used (so a refused
        request is not one of its calls)."""
        if scenario.strict and result.ignored:
            entry.scenario = scenario.name
            raise error_for(emulator.validator.validate(body, strict=True))
        if scenario.rate_limits is not None:
            entry.scenario = scenario.name
            ratelimits.admit_scenario(emulator, scenario, api_key, session, limited)

    recorder = emulator.recorder
    if recorder is not None and recorder.records_all:  # recording: every request goes upstream
        from emulator.proxy import Forward

        return Forward(recorder, body, raw)
    now = emulator.clock()
    refusal = ratelimits.key_refusal(emulator, api_key, session, chat.model, now)
    if refusal is not None:
        reply = ErrorReply(429, refusal.message, headers=refusal.headers(now))
        return timeline.error_response(reply, chat.model, emulator.created())
    try:
        route = await _route(emulator, body, chat, (len(raw), heavy), session)
    except RoutingError as exc:
        reply = ErrorReply(exc.status, exc.message, availability=exc.availability)
        meta = unrouted_metadata(chat, emulator.catalog) if metadata_enabled(chat.headers) else None
        return timeline.error_response(reply, chat.model, emulator.created(), meta)
    outcome = await play_attempts(
        route, chat, lambda r: emulator.state.select(r, admit, session, emulator.normalize)
    )
    emulator.outages.record(session, outcome.provider_failures, emulator.clock())
    chat, selection = outcome.request, outcome.selection
    scenario = selection.scenario
    entry.scenario = scenario.name if scenario else None
    entry.call_number = selection.call_number if scenario else None
    if scenario is None:
        entry.near_misses = [
            {"scenario": name, "reasons": list(reasons)} for name, reasons in selection.near_misses
        ]
    response = injection.inject_chaos(emulator, chat, scenario, session, outcome.response, entry)
    if response is not None:
        response = await injection.resolve(response, chat, scenario)
    if response is None:
        if recorder is not None:
            return recorder.on_miss(body, raw, selection)
        if emulator.strict:
            raise no_match_error(selection)
        response = default_reply(outcome.attempt)
    draw = Draw(
        emulator.seed,
        emulator.created(),
        emulator.next_serial(),
        entry.scenario,
        selection.call_number,
    )
    if (
        isinstance(response, ErrorReply)
        and response.status not in NO_METADATA_STATUSES
        and metadata_enabled(chat.headers)
    ):  # every attempt failed: say which
        meta = route_metadata(route, outcome)
        return timeline.error_response(response, chat.model, emulator.created(), meta)
    served_pricing = outcome.attempt.endpoint.pricing
    # openrouter_metadata of the reply (router-metadata docs), when the request opted in.
    router_meta = route_metadata(route, outcome) if metadata_enabled(chat.headers) else None

    def compile_plan() -> timeline.Timeline:
        return _compile(response, chat, draw, emulator, entry, served_pricing, router_meta)

    def whole_plan() -> timeline.Timeline:
        # A stream's events made here, within the budget, not later on the loop as it plays.
        return compile_plan().whole()

    plan: timeline.Timeline | None = None
    if not heavy and not _costly(response):
        try:
            with inline_slice(INLINE_SLICE_STEPS, INLINE_SLICE_CHARS):
                plan = compile_plan()
        except SliceSpent:
            plan = None  # too much for the event loop: the worker thread starts it again
    if plan is None:
        plan = await emulator.within_budget(whole_plan, 422, "generate")
    if entry.completion is not None:  # what routing did, for the stats and the cost
        entry.completion["pricing"] = dict(served_pricing)
        entry.completion["provider_responses"] = outcome.provider_responses
        entry.completion["router"] = route.router
        # For the response's openrouter_metadata (router-metadata docs): the routing part.
        entry.completion["route_metadata"] = route_metadata(route, outcome)
    return plan


async def _route(
    emulator: Emulator,
    body: dict[str, Any],
    chat: ChatRequest,
    raw: tuple[int, bool],
    session: str | None,
) -> routing.RoutePlan:
    """The request's route, the session's recent outages tried last; a large body's (`raw`:
    its size and whether it is large), whose prompt may need counting against the context
    windows, is planned in a worker thread within the request budget."""
    rng = emulator.generator.rng(Draw(emulator.seed, 0), chat, "route")
    prompt = prompt_size(body, raw[0], lambda: (chat.prompt_token_count, chat.tool_token_count))
    down = emulator.outages.down(session, emulator.clock())

    def plan() -> routing.RoutePlan:
        catalog, strict = emulator.catalog, emulator.catalog_strict
        return routing.plan_route(body, catalog, rng, strict, prompt, down)

    return await emulator.within_budget(plan, 413, "route") if raw[1] else plan()


def _costly(response: Response) -> bool:
    """Whether generating `response` may take long whatever the request: a reply with templates
    (parsed on first use, output up to 4 MiB) or long texts."""
    if not isinstance(response, Reply):
        return False
    specs = (response.choice, *(response.choices or ()))
    texts = [t for spec in specs for t in (spec.content, spec.reasoning, spec.refusal) if t]
    return any("{{" in text or len(text) > INLINE_BODY_BYTES for text in texts)


def _compile(
    response: Response,
    chat: ChatRequest,
    draw: Draw,
    emulator: Emulator,
    entry: JournalEntry,
    served_pricing: Mapping[str, Any] | None = None,
    router_meta: Mapping[str, Any] | None = None,
) -> timeline.Timeline:
    """The timeline of `response`; a completion costs `served_pricing` (the routed endpoint's
    prices) unless the reply names another model (then that model's catalog prices)."""
    if isinstance(response, ErrorReply):
        meta = router_meta if response.status not in NO_METADATA_STATUSES else None
        return timeline.error_response(response, chat.model, draw.created, meta)
    if isinstance(response, Fault):
        if response.kind == "error_only":
            return injection.error_only(response, chat)
        return timeline.fault_response(response)
    assert not isinstance(response, Callback)  # resolved by the caller
    if response.model is not None or served_pricing is None:
        pricing = emulator.catalog.pricing_for(response.model or chat.model)
    else:
        pricing = served_pricing
    catalog_model = emulator.catalog.get(response.model or chat.model)
    completion = emulator.generator.completion(
        response,
        chat,
        draw,
        pricing,
        reasoning_model=catalog_model is not None and catalog_model.is_reasoning,
        router_metadata=router_meta,
    )
    if response.ids == "regenerate":  # a recorded reply with this request's id and created
        response = replay.regenerated(response, completion.id, completion.created)
    entry.generation_id = replay.recorded_id(response) or completion.id
    entry.completion = _summary(completion)
    if chat.stream and response.stream is not None and response.stream.events is not None:
        # A hand-written stream: its stats come from the events played, not the reply.
        entry.completion["scripted_events"] = True
    if not chat.stream:
        if response.body is not None:
            return timeline.body_response(200, response.body, response.headers, response.delay_ms)
        return timeline.completion_response(completion, response.delay_ms, response.headers)
    cfg = emulator.config
    defaults = timeline.StreamDefaults(cfg.usage_chunk, cfg.keepalive_text, cfg.keepalive_ms)
    rng = emulator.generator.rng(draw, chat, "schedule")
    plan = streams.stream_response(
        completion, response.stream, defaults, rng, response.delay_ms, response.headers
    )
    fuzz_seed = emulator.generator.rng(draw, chat, "fuzz", draw.call_number).getrandbits(32)
    return injection.reshape(plan, response, fuzz_seed, entry)


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
    from emulator.openapi import openapi_document

    return openapi_document()


@functools.lru_cache(maxsize=16)
def _openapi_body(server_url: str) -> bytes:
    # Serialised once per host name a client uses (bounded), not once per request.
    document = {**_openapi_base(), "servers": [{"url": server_url}]}
    return json.dumps(document, ensure_ascii=False).encode()
