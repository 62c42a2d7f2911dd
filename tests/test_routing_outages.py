"""Outage skipping: after a provider fails a request (a scenario failing it), the default load
balancing tries that endpoint last for 30 s of the emulator's clock, per session, unless the
request pins it (`order`, `only`) or it is all that is left. As plain data and over HTTP."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import pytest
from openai import OpenAI
from openrouter import OpenRouter
from wire import request

from emulator.catalogfile import builtin_catalog
from emulator.outages import OUTAGE_SECONDS, Outages
from emulator.routing import plan_route
from emulator.testing import EmulatorServer

GPT = "openai/gpt-4o"
USER = [{"role": "user", "content": "Hi"}]
OPENAI_DOWN = frozenset({(GPT, "openai")})
# OpenAI fails its first request, then serves.
FAILS_ONCE = {
    "name": "openai-fails-once",
    "match": {"provider": "openai"},
    "sequence": [{"error": "provider_error"}, {"reply": {"content": "back"}}],
}


def tags(body: dict[str, Any], down: frozenset[tuple[str, str]] = OPENAI_DOWN) -> list[str]:
    plan = plan_route(body, builtin_catalog(), random.Random(0), down=down)
    return [a.endpoint.tag for a in plan.attempts]


def test_outages_last_thirty_seconds_per_session() -> None:
    """An endpoint is down for 30 s after its failure, in the failing session only."""
    outages = Outages()
    outages.record(None, [(GPT, "openai")], 1000.0)
    outages.record("job-2", [(GPT, "azure")], 1000.0)
    assert outages.down(None, 1000.0 + OUTAGE_SECONDS - 0.001) == OPENAI_DOWN
    assert outages.down(None, 1000.0 + OUTAGE_SECONDS) == frozenset()
    assert outages.down("job-2", 1001.0) == frozenset({(GPT, "azure")})
    outages.clear("job-2")
    assert outages.down("job-2", 1001.0) == frozenset()
    assert outages.down(None, 1001.0) == OPENAI_DOWN


def test_the_default_load_balancing_tries_a_down_endpoint_last() -> None:
    """OpenAI, normally first for gpt-4o, goes behind Azure while down; still tried last."""
    assert tags({"model": GPT}, frozenset()) == ["openai", "azure"]
    assert tags({"model": GPT}) == ["azure", "openai"]
    assert tags({"model": GPT, "provider": {"allow_fallbacks": False}}) == ["azure"]


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        ({"order": ["openai"]}, ["openai", "azure"]),
        ({"only": ["openai", "azure"]}, ["openai", "azure"]),
        ({"only": ["openai"]}, ["openai"]),
        ({"sort": "latency"}, ["openai", "azure"]),
    ],
    ids=["order", "only", "only-one", "sort"],
)
def test_pinned_or_sorted_requests_keep_a_down_endpoint(
    provider: dict[str, Any], expected: list[str]
) -> None:
    """order and only pin the endpoint; an explicit sort is not the load balancing."""
    assert tags({"model": GPT, "provider": provider}) == expected


def test_a_model_with_one_endpoint_still_uses_it() -> None:
    """When the down endpoint is the only one left, it is tried."""
    down = frozenset({("openai/gpt-5-nano", "openai")})
    assert tags({"model": "openai/gpt-5-nano"}, down) == ["openai"]


def attempts(server: EmulatorServer, generation_id: str) -> list[tuple[str, int]]:
    path = f"/api/v1/generation?id={generation_id}"
    data = request(server.url, method="GET", path=path).json()["data"]
    return [(r["endpoint_id"], r["status"]) for r in data["provider_responses"]]


def test_a_failed_provider_is_skipped_until_the_window_ends(fresh: EmulatorServer) -> None:
    """Through the openai SDK: OpenAI fails, Azure serves; the next requests go straight to
    Azure (OpenAI not tried, its next step unused) until 30 s of the clock have passed."""
    fresh.add(FAILS_ONCE)
    with OpenAI(base_url=fresh.base_url, api_key="sk-test", max_retries=0) as client:
        first = client.chat.completions.create(model=GPT, messages=USER)
        second = client.chat.completions.create(model=GPT, messages=USER)
        fresh.advance_clock(OUTAGE_SECONDS)
        third = client.chat.completions.create(model=GPT, messages=USER)
    assert attempts(fresh, first.id) == [("openai", 502), ("azure", 200)]
    assert attempts(fresh, second.id) == [("azure", 200)]
    assert attempts(fresh, third.id) == [("openai", 200)]
    assert third.choices[0].message.content == "back"


def test_outages_are_per_session(fresh: EmulatorServer) -> None:
    """A failure in one X-Emulator-Session does not steer another session's routing."""
    fresh.add(FAILS_ONCE)
    body = {"model": GPT, "messages": USER}
    for session in ("job-1", "job-2"):
        headers = {"X-Emulator-Session": session}
        reply = request(fresh.url, body=body, headers=headers).json()
        assert attempts(fresh, reply["id"]) == [("openai", 502), ("azure", 200)]


def test_openrouter_sdk_pins_the_failed_provider_with_order(fresh: EmulatorServer) -> None:
    """Through the router's SDK: after the failure, order [openai] still tries OpenAI first."""
    fresh.add(FAILS_ONCE)
    with OpenRouter(api_key="sk-test", server_url=fresh.url + "/api/v1") as sdk:
        sdk.chat.send(model=GPT, messages=USER)
        pinned = sdk.chat.send(model=GPT, messages=USER, provider={"order": ["openai"]})
    assert attempts(fresh, pinned.id) == [("openai", 200)]


def test_the_window_passes_on_a_time_scaled_clock(
    make_server: Callable[..., EmulatorServer],
) -> None:
    """At a time scale of 0.1 the 30 s window is 3 s of real time: afterwards the failed
    provider is first again."""
    server = make_server(time_scale=0.1)
    server.add(FAILS_ONCE)
    body = {"model": GPT, "messages": USER}
    first = request(server.url, body=body).json()
    assert attempts(server, first["id"]) == [("openai", 502), ("azure", 200)]
    time.sleep(3.2)  # more than 30 s x 0.1
    again = request(server.url, body=body).json()
    assert attempts(server, again["id"]) == [("openai", 200)]
