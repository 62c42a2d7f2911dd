"""Playing a route's attempts against the scenarios: the first answer that is not a pre-stream
error wins (model-fallbacks docs; provider-level fallback within a model).

Each attempt is matched as a request for its candidate model on its provider endpoint. An
`ErrorReply` falls through unless it is `terminal` or nothing is left: from a scenario that
matches on `provider` or `attempt` (a provider failing) to the model's next endpoint, otherwise
(the model failing) to the next candidate model; a provider failing is noted in the outcome,
so the default load balancing tries that endpoint last for a while (emulator.outages). So a
plain request with one model gets its scenario's error as before, and a scripted sequence is
not consumed by provider retries. A
reply or a fault ends the loop: errors after the first streamed token never fall back. Every
attempt is recorded as the generation stats' `provider_responses` (spec schema
ProviderResponse).

Pure: no aiohttp (asyncio only to let other requests through a long chain); selection is
passed in.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from emulator.catalog import Catalog
from emulator.chatrequest import ChatRequest
from emulator.routing import Attempt, RoutePlan, candidates
from emulator.scenario import ErrorReply, Reply, Response, Scenario
from emulator.state import Selection

Select = Callable[[ChatRequest], Selection]


@dataclass
class Outcome:
    """What the attempts came to: the response to compile, the request as its attempt saw it,
    the attempt that answered and the selection that picked its response (None: default)."""

    response: Response | None
    request: ChatRequest
    attempt: Attempt
    selection: Selection
    provider_responses: list[dict[str, Any]] = field(default_factory=list)
    # (catalog model id, endpoint tag) of each provider that failed (emulator.outages)
    provider_failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def response_ok(self) -> bool:
        """Whether the attempt answered (not with an error)."""
        return not isinstance(self.response, ErrorReply)


# A chain of fallback models has no documented length limit: the server lets other requests
# through between every this many attempts (see attempt_steps).
ATTEMPTS_PER_STEP = 32


def run_attempts(plan: RoutePlan, chat: ChatRequest, select: Select) -> Outcome:
    """Try `plan`'s attempts in order with `select` (which may raise, e.g. strict mode's 404)."""
    steps = attempt_steps(plan, chat, select)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


async def play_attempts(plan: RoutePlan, chat: ChatRequest, select: Select) -> Outcome:
    """`run_attempts` on the event loop, letting other requests through (`asyncio.sleep(0)`)
    after every ATTEMPTS_PER_STEP attempts: a chain of thousands of fallback models cannot hold
    the loop. Chains of up to ATTEMPTS_PER_STEP - 1 attempts run in one go."""
    steps = attempt_steps(plan, chat, select)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        await asyncio.sleep(0)


def attempt_steps(
    plan: RoutePlan, chat: ChatRequest, select: Select, every: int = ATTEMPTS_PER_STEP
) -> Generator[None, None, Outcome]:
    """`run_attempts` in steps: yields after every `every` attempts tried (a place to let other
    work run: a chain of thousands of failing models takes ~60 us an attempt) and returns the
    Outcome (StopIteration.value)."""
    responses: list[dict[str, Any]] = []
    failures: list[tuple[str, str]] = []
    failed_models: set[str] = set()
    attempts = plan.attempts
    number = 0
    for index, attempt in enumerate(attempts):
        if attempt.model in failed_models:
            continue
        if attempt.refusal is not None:  # the model cannot take it: no provider is tried
            failed_models.add(attempt.model)
            if _any_left(attempts, index + 1, failed_models):
                continue
            request = chat.for_attempt(
                attempt.model, attempt.endpoint.provider_name, attempt.endpoint.tag, number + 1
            )
            refused = Selection(None, None)
            return Outcome(attempt.refusal, request, attempt, refused, responses, failures)
        number += 1
        if number % every == 0:
            yield
        attempt = dataclasses.replace(attempt, number=number)
        request = chat.for_attempt(
            attempt.model, attempt.endpoint.provider_name, attempt.endpoint.tag, attempt.number
        )
        selection = select(request)
        response = selection.response
        if isinstance(response, ErrorReply):
            responses.append(_provider_response(attempt, response.status))
            scenario = selection.scenario
            if scenario is None or not _provider_level(scenario):
                failed_models.add(attempt.model)
            else:
                failures.append((attempt.catalog_model.id, attempt.endpoint.tag))
            if not response.terminal and _any_left(attempts, index + 1, failed_models):
                continue
        else:
            responses.append(_provider_response(attempt, 200))
        served = _served_by(response, attempt)
        return Outcome(served, request, attempt, selection, responses, failures)
    raise AssertionError("a route has at least one attempt")  # pragma: no cover


def _any_left(attempts: Sequence[Attempt], start: int, failed_models: set[str]) -> bool:
    """Whether an attempt from `start` on is of a model not yet failed; stops at the first, so
    a chain of thousands of failing models is walked in linear time."""
    return any(attempts[i].model not in failed_models for i in range(start, len(attempts)))


METADATA_HEADERS = ("x-openrouter-metadata", "x-openrouter-experimental-metadata")
# Statuses whose errors never carry openrouter_metadata (router-metadata docs).
NO_METADATA_STATUSES = frozenset({401, 402, 429, 500})


def metadata_enabled(headers: Mapping[str, str]) -> bool:
    """Whether the request opted in (`X-OpenRouter-Metadata: enabled`, any case; or the
    legacy header), as the router-metadata docs say."""
    return any(headers.get(h, "").strip().lower() == "enabled" for h in METADATA_HEADERS)


def route_metadata(plan: RoutePlan, outcome: Outcome) -> dict[str, Any]:
    """The routing part of `openrouter_metadata` (spec schema OpenRouterMetadata): what was
    requested, the strategy, the attempt that served (0: none did; no endpoint is `selected`
    then), the serving model's endpoints and every attempt with its status."""
    served = outcome.attempt if outcome.response_ok else None
    model = outcome.attempt.catalog_model
    available = [
        {
            "provider": e.provider_name,
            "model": model.id,
            "selected": served is not None and e is served.endpoint,
        }
        for e in model.endpoints
    ]
    attempts = [
        {"provider": r["provider_name"], "model": r["model_permaslug"], "status": r["status"]}
        for r in outcome.provider_responses
    ]
    chosen = served.endpoint.provider_name if served is not None else "none"
    return {
        "requested": plan.requested,
        "strategy": _strategy(plan),
        "region": None,
        "summary": f"available={len(available)}, selected={chosen}",
        "attempt": served.number if served is not None else 0,
        "is_byok": False,
        "endpoints": {"total": len(available), "available": available},
        "attempts": attempts,
    }


def unrouted_metadata(chat: ChatRequest, catalog: Catalog) -> dict[str, Any]:
    """openrouter_metadata of a request no endpoint could take: attempt 0, nothing selected."""
    model = catalog.get(chat.model)
    endpoints = model.endpoints if model is not None else ()
    available = [
        {"provider": e.provider_name, "model": chat.model, "selected": False} for e in endpoints
    ]
    return {
        "requested": chat.model,
        "strategy": "fallback" if len(candidates(chat.body)) > 1 else "direct",
        "region": None,
        "summary": f"available={len(available)}, selected=none",
        "attempt": 0,
        "is_byok": False,
        "endpoints": {"total": len(available), "available": available},
    }


def _strategy(plan: RoutePlan) -> str:
    if plan.router == "openrouter/auto":
        return "auto"
    if plan.router == "openrouter/free":
        return "free"
    return plan.strategy


def _provider_level(scenario: Scenario) -> bool:
    """Whether a scenario's error is a provider's failure (it matches on provider or attempt)."""
    return scenario.match.provider is not None or scenario.match.attempt is not None


def _served_by(response: Response | None, attempt: Attempt) -> Response | None:
    """A reply names the provider that served it, unless the scenario names one or replies as
    another model (then its provider is that model's, as before routing)."""
    if isinstance(response, Reply) and response.provider is None and response.model is None:
        return dataclasses.replace(response, provider=attempt.endpoint.provider_name)
    return response


def default_reply(attempt: Attempt) -> Reply:
    """The built-in reply, from the attempt's provider."""
    return Reply(provider=attempt.endpoint.provider_name)


def _provider_response(attempt: Attempt, status: int) -> dict[str, Any]:
    endpoint = attempt.endpoint
    return {
        "status": status,
        "provider_name": endpoint.provider_name,
        "endpoint_id": endpoint.tag,
        "model_permaslug": attempt.catalog_model.data["canonical_slug"],
        "latency": round(endpoint.latency[0] * 1000),
        "is_byok": False,
    }
