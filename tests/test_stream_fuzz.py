"""stream.fuzz: over 200 seeds the openai SDK rebuilds the same text and tool calls; the same
seed gives the same bytes; the journal holds the seed and every byte played."""

from __future__ import annotations

import json
from typing import Any

import openai
from wire import request

from emulator.testing import EmulatorServer

TOOLS = [
    {"type": "function", "function": {"name": n, "parameters": {"type": "object"}}}
    for n in ("get_weather", "get_time")
]
# Short on purpose (each chunk costs the SDK time), with multi-byte characters and escapes.
CONTENT = "«Paris», 21 °C — ok"
WEATHER = {"city": "Paris", "q": '"\\é'}
FUZZED = f"""
name: fuzzed
reply:
  content: {json.dumps(CONTENT)}
  tool_calls:
    - {{name: get_weather, arguments: {json.dumps(WEATHER)}}}
    - {{name: get_time, arguments: {{tz: Europe/Paris}}}}
  stream: {{fuzz: FUZZ}}
"""
MESSAGES = [{"role": "user", "content": "weather and time?"}]


def test_sdk_rebuilds_the_same_reply_over_200_seeds(server: EmulatorServer) -> None:
    """200 differently fuzzed streams all rebuild to the same content and tool calls."""
    server.configure(time_scale=0)
    server.add(FUZZED.replace("FUZZ", "true"))
    client = openai.OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0)
    rebuilt: set[tuple[Any, ...]] = set()
    for _ in range(200):
        with client.chat.completions.stream(
            model="openai/gpt-4o", messages=MESSAGES, tools=TOOLS
        ) as stream:
            message = stream.get_final_completion().choices[0].message
        calls = tuple(
            (c.function.name, json.loads(c.function.arguments)["tz" if i else "city"])
            for i, c in enumerate(message.tool_calls or [])
        )
        rebuilt.add((message.content, calls))
    assert rebuilt == {(CONTENT, (("get_weather", "Paris"), ("get_time", "Europe/Paris")))}
    seeds = {e.fuzz_seed for e in server.requests}
    assert len(seeds) >= 195  # a seed per request: 200 different shapes


def test_same_seed_same_bytes_and_the_journal_holds_them(server: EmulatorServer) -> None:
    """A fixed fuzz seed plays the same bytes after a reset; the journal has them all."""
    server.add(FUZZED.replace("FUZZ", "{seed: 42}"))
    body = {"model": "openai/gpt-4o", "messages": MESSAGES, "tools": TOOLS, "stream": True}
    first = request(server.url, body=body).body
    entry = server.last_request
    assert entry.fuzz_seed == 42
    played = "".join(e.data for e in entry.events if e.kind in ("data", "comment", "done"))
    assert played.encode() == first
    server.reset()
    server.add(FUZZED.replace("FUZZ", "{seed: 42}"))
    assert request(server.url, body=body).body == first


def test_another_seed_another_shape(server: EmulatorServer) -> None:
    """Two seeds cut the same reply differently."""
    body = {"model": "openai/gpt-4o", "messages": MESSAGES, "tools": TOOLS, "stream": True}
    shapes = []
    for seed in (1, 2):
        server.reset()
        server.add(FUZZED.replace("FUZZ", f"{{seed: {seed}}}"))
        shapes.append(request(server.url, body=body).events())
    assert shapes[0] != shapes[1]
