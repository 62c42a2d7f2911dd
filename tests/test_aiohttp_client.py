"""emulator.create_app under pytest-aiohttp's aiohttp_client: the emulator in the test's loop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from openai import AsyncOpenAI

import emulator
from emulator.loader import load_data
from emulator.runtime import Emulator

AiohttpClient = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
AUTH = {"Authorization": "Bearer sk-test"}
GREETING = {
    "name": "greeting",
    "match": {"last_user_message": "Hi"},
    "reply": {"content": "Hello!"},
}
HI = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}


async def test_create_app_serves_scenarios(aiohttp_client: AiohttpClient) -> None:
    """An app built with scenarios answers with them, in the test's loop."""
    app = emulator.create_app(emulator.Config(), scenarios=load_data(GREETING))
    client = await aiohttp_client(app)
    response = await client.post("/v1/chat/completions", json=HI, headers=AUTH)
    assert response.status == 200
    assert (await response.json())["choices"][0]["message"]["content"] == "Hello!"


async def test_journal_of_an_app_built_with_an_emulator(aiohttp_client: AiohttpClient) -> None:
    """Pass your own Emulator to read its journal and scenario state after the requests."""
    config = emulator.Config(strict=True, time_scale=0)
    state = Emulator(config, load_data(GREETING))
    client = await aiohttp_client(emulator.create_app(config, emulator=state))
    await client.post("/v1/chat/completions", json=HI, headers=AUTH)
    missed = await client.post(
        "/v1/chat/completions",
        json={**HI, "messages": [{"role": "user", "content": "Yo"}]},
        headers=AUTH,
    )
    assert missed.status == 404
    assert [(e.scenario, e.status) for e in state.journal.entries()] == [
        ("greeting", 200),
        (None, 404),
    ]
    assert state.state.call_counts() == {"greeting": 1}


async def test_streaming_and_admin_in_loop(aiohttp_client: AiohttpClient) -> None:
    """Streams and the admin API work in-loop too."""
    client = await aiohttp_client(emulator.create_app(emulator.Config(time_scale=0)))
    response = await client.post("/v1/chat/completions", json={**HI, "stream": True}, headers=AUTH)
    body = await response.text()
    assert body.rstrip().endswith("data: [DONE]")
    journal = await (await client.get("/_emulator/requests")).json()
    assert [e["stream"] for e in journal["requests"]] == [True]


async def test_openai_sdk_against_the_test_server(aiohttp_client: AiohttpClient) -> None:
    """The async openai SDK talks to aiohttp_client's server from the same loop."""
    client = await aiohttp_client(emulator.create_app(scenarios=load_data(GREETING)))
    base_url = str(client.make_url("/v1"))
    async with AsyncOpenAI(base_url=base_url, api_key="sk-test", max_retries=0) as sdk:
        completion = await sdk.chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "Hi"}]
        )
    assert completion.choices[0].message.content == "Hello!"
