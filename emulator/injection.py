"""What the request path adds to a selected response for agents and chaos: a Python callable's
reply, a chaos fault, and a stream's first-class faults or fuzz. The handler calls these in
order; each takes a finished value and hands one on. The decisions themselves are pure
(`emulator.chaos`, `emulator.wirefaults`, `emulator.fuzz`); this module only reads the request
and the server's state, and writes the journal.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Mapping
from typing import Any

from emulator import chaos, chaosspec, fuzz, wirefaults
from emulator.chatrequest import ChatRequest
from emulator.errors import RequestError, ScenarioError
from emulator.journal import JournalEntry
from emulator.runtime import Emulator, session_scope
from emulator.scenario import Callback, ErrorReply, Fault, Reply, Response, Scenario
from emulator.timeline import Timeline

log = logging.getLogger("emulator")
RESPONSE_KEYS = ("reply", "error", "fault")


# --- Python callables -----------------------------------------------------------------------------


async def resolve(response: Response, chat: ChatRequest, scenario: Scenario | None) -> Response:
    """`response`, or for a Callback the response its function returns for `chat` (a sync
    function runs in a worker thread, so it cannot stall the server's loop). A function that
    raises or returns something that is not a scenario's response is a 500 naming it."""
    if not isinstance(response, Callback):
        return response
    name = scenario.name if scenario is not None else "<callable>"
    try:
        if inspect.iscoroutinefunction(response.fn):
            value = await response.fn(chat)
        else:
            value = await asyncio.to_thread(response.fn, chat)
            if inspect.isawaitable(value):
                value = await value
    except Exception as exc:  # the test's own code: reported, never a traceback on the wire
        log.warning("scenario %r: its callable raised %s: %s", name, type(exc).__name__, exc)
        raise RequestError(
            500, f"scenario {name!r}: its callable raised {type(exc).__name__}: {exc}"
        ) from None
    return _response_of(value, name)


def _response_of(value: Any, name: str) -> Response:
    from emulator.loader import load_data

    if isinstance(value, (Reply, ErrorReply, Fault)):
        return value
    if isinstance(value, str):
        value = {"content": value}
    if not isinstance(value, Mapping):
        raise RequestError(
            500,
            f"scenario {name!r}: its callable returned {type(value).__name__}; expected a "
            "mapping of reply keys (or {reply|error|fault: ...}) or a string",
        )
    data = dict(value) if any(k in value for k in RESPONSE_KEYS) else {"reply": dict(value)}
    try:
        (scenario,) = load_data({"name": name, **data}, f"<callable {name}>")
    except ScenarioError as exc:
        raise RequestError(500, f"scenario {name!r}: its callable returned {exc}") from None
    return scenario.steps[0]


# --- chaos ----------------------------------------------------------------------------------------


def inject_chaos(
    emulator: Emulator,
    chat: ChatRequest,
    scenario: Scenario | None,
    session: str | None,
    response: Response | None,
    entry: JournalEntry,
) -> Response | None:
    """`response`, or the fault chaos picks for this request (header spec, else the
    scenario's, else the server's); the decision and its reason go to the journal."""
    spec, scope = _spec(emulator, chat, scenario)
    if spec is None:
        return response
    now_ms = time.monotonic() * 1000
    scope = session_scope(session) + scope
    decision = chaos.decide(spec, scope, emulator.seed, emulator.chaos_counters, now_ms)
    entry.chaos = decision.to_json()
    if decision.fault is None:
        return response
    return chaos.inject(decision.fault, response, chat.stream)


def _spec(
    emulator: Emulator, chat: ChatRequest, scenario: Scenario | None
) -> tuple[chaos.Chaos | None, str]:
    header = chat.headers.get(chaos.HEADER)
    if header is not None:
        try:
            return chaosspec.parse_header(header), f"header {header.strip()}"
        except ValueError as exc:
            raise RequestError(
                400, f"header X-Emulator-Chaos: {exc}", headers={"x-should-retry": "false"}
            ) from None
    if scenario is not None and scenario.chaos is not None:
        return scenario.chaos, f"scenario {scenario.name}"
    return emulator.chaos, "server"


# --- stream faults and fuzz ----------------------------------------------------------------------


def reshape(plan: Timeline, reply: Reply, fuzz_seed: int, entry: JournalEntry) -> Timeline:
    """A stream's timeline with its `stream.faults` and then its `stream.fuzz` applied (the
    fuzz seed, the spec's or `fuzz_seed`, goes to the journal)."""
    spec = reply.stream
    if spec is None or not plan.stream:
        return plan
    eol = spec.framing.line_ending
    if spec.faults:
        plan = wirefaults.apply(plan, spec.faults, eol)
    if spec.fuzz is not None:
        seed = spec.fuzz.seed if spec.fuzz.seed is not None else fuzz_seed
        entry.fuzz_seed = seed
        plan = fuzz.fuzz(plan, seed, eol)
    return plan


def error_only(fault: Fault, chat: ChatRequest) -> Timeline:
    """The timeline of an `error_only` fault for this request (stream or JSON)."""
    return wirefaults.error_only_response(fault, chat.stream)
