"""The router's official Python SDK (`openrouter`) against a real socket: the catalog, key,
credits, endpoints and generation calls parse the emulator's answers (the SDK validates every
response against its models)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import FIXED_TIME
from openrouter import OpenRouter
from wire import request

from emulator.config import Config
from emulator.testing import EmulatorServer

KEY = "sk-or-v1-0123456789abcdef"


@pytest.fixture(scope="module")
def live() -> Iterator[EmulatorServer]:
    """One server for the module, with a spending limit on keys."""
    with EmulatorServer(Config(fixed_time=FIXED_TIME, time_scale=0, key_limit=5.0)) as server:
        yield server


@pytest.fixture
def client(live: EmulatorServer) -> Iterator[OpenRouter]:
    """An SDK client on a freshly reset server."""
    live.reset()
    with OpenRouter(api_key=KEY, server_url=live.url + "/api/v1") as sdk:
        yield sdk


def test_models_list(client: OpenRouter) -> None:
    """models.list parses the catalog; sort and limit reach the server."""
    listed = client.models.list(sort="newest", limit=3)
    assert listed is not None
    assert len(listed.result.data) == 3
    assert listed.result.total_count >= 30
    assert listed.result.links.next is not None and "offset=3" in listed.result.links.next
    every = client.models.list(limit=1000).result.data
    assert {"openai/gpt-4o", "anthropic/claude-sonnet-4.5"} <= {m.id for m in every}


def test_models_count(client: OpenRouter) -> None:
    """models.count matches the catalog size."""
    assert client.models.count().data.count == len(client.models.list(limit=1000).result.data)


def test_endpoints_list(client: OpenRouter) -> None:
    """endpoints.list parses a model's providers."""
    listed = client.endpoints.list(author="openai", slug="gpt-oss-120b")
    assert [e.tag for e in listed.data.endpoints][:2] == ["deepinfra/fp4", "cerebras"]


# The SDK itself warns when it parses GET /key's deprecated fields (rate_limit,
# is_provisioning_key), which the spec requires: the same happens against the router.
@pytest.mark.filterwarnings("ignore::DeprecationWarning:pydantic.main")
def test_credits_and_key_track_what_was_served(live: EmulatorServer, client: OpenRouter) -> None:
    """credits.get_credits and api_keys.get_current_key_metadata report the spend of a
    generation, which generations.get_generation reports as its total_cost."""
    body = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}
    headers = {"Authorization": f"Bearer {KEY}"}
    generation_id = request(live.url, body=body, headers=headers).json()["id"]
    stats = client.generations.get_generation(id=generation_id).data
    assert stats.id == generation_id
    assert stats.model == "openai/gpt-4o"
    assert stats.total_cost > 0
    credits = client.credits.get_credits().data
    assert (credits.total_credits, credits.total_usage) == (100.0, pytest.approx(stats.total_cost))
    key = client.api_keys.get_current_key_metadata().data
    assert key.label == "sk-or-v1-01...def"
    assert key.usage == pytest.approx(stats.total_cost)
    assert key.limit_remaining == pytest.approx(5.0 - stats.total_cost)
    assert key.effective_budget is not None and key.effective_budget.scope == "key_limit"
