"""The chat_emulator fixture with every kind of client: sync and async openai, raw aiohttp, and a
child process; async clients run in the test's own event loop without deadlocking the server."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import aiohttp
import pytest
from openai import AsyncOpenAI, OpenAI
from openai.types.chat import ChatCompletionMessageParam

from emulator.testing import EmulatorServer

GREETING = {
    "name": "greeting",
    "match": {"last_user_message": "Hi"},
    "reply": {"content": "Hello!"},
}
HI: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hi"}]


def test_sync_openai_client(chat_emulator: EmulatorServer) -> None:
    """The sync SDK gets the scenario's reply, and the journal records what it sent."""
    chat_emulator.add(GREETING)
    client = OpenAI(base_url=chat_emulator.base_url, api_key=chat_emulator.api_key, max_retries=0)
    with client:
        completion = client.chat.completions.create(model="openai/gpt-4o", messages=HI)
    assert completion.choices[0].message.content == "Hello!"
    request = chat_emulator.last_request
    assert (request.scenario, request.status, request.body["model"]) == (
        "greeting",
        200,
        "openai/gpt-4o",
    )
    assert request.headers["authorization"] == "Bearer <redacted>"


async def test_async_openai_client_streams_in_the_test_loop(chat_emulator: EmulatorServer) -> None:
    """The async SDK streams from the fixture's server inside the test's event loop."""
    chat_emulator.add(GREETING)
    async with AsyncOpenAI(
        base_url=chat_emulator.base_url, api_key=chat_emulator.api_key, max_retries=0
    ) as client:
        stream = await client.chat.completions.create(
            model="openai/gpt-4o", messages=HI, stream=True
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "Hello!"
    assert chat_emulator.last_request.stream is True
    assert chat_emulator.last_request.outcome == "completed"


async def test_raw_aiohttp_client(chat_emulator: EmulatorServer) -> None:
    """A raw aiohttp client posting JSON gets the reply; the journal has the parsed body."""
    chat_emulator.add(GREETING)
    headers = {"Authorization": f"Bearer {chat_emulator.api_key}"}
    async with aiohttp.ClientSession() as session:
        async with session.post(
            chat_emulator.base_url + "/chat/completions",
            json={"model": "openai/gpt-4o", "messages": HI},
            headers=headers,
        ) as response:
            body = await response.json()
    assert response.status == 200
    assert body["choices"][0]["message"]["content"] == "Hello!"
    assert chat_emulator.requests[0].body == {"model": "openai/gpt-4o", "messages": HI}


def test_child_process_client(chat_emulator: EmulatorServer) -> None:
    """A Python child process using only urllib reaches the fixture's server."""
    chat_emulator.add(GREETING)
    script = textwrap.dedent(
        """
        import json, sys, urllib.request
        base_url, key = sys.argv[1], sys.argv[2]
        body = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}
        request = urllib.request.Request(
            base_url + "/chat/completions", data=json.dumps(body).encode(),
            headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            print(json.load(response)["choices"][0]["message"]["content"])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, chat_emulator.base_url, chat_emulator.api_key],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "Hello!"
    assert chat_emulator.last_request.headers["user-agent"].startswith("Python-urllib/")


def test_fixture_addresses(chat_emulator: EmulatorServer) -> None:
    """base_url is the root URL + /v1 on 127.0.0.1 and a real port."""
    assert chat_emulator.base_url == chat_emulator.url + "/v1"
    assert chat_emulator.url.startswith("http://127.0.0.1:")
    assert chat_emulator.port > 0


@pytest.mark.chat_emulator(scenarios=[GREETING], strict=True)
def test_marker_in_this_suite(chat_emulator: EmulatorServer) -> None:
    """The marker loads its scenarios before the test starts."""
    assert chat_emulator.scenario_calls() == {"greeting": 0}
    assert chat_emulator.emulator.strict is True
