"""Generation tried inline within a slice: it either gives exactly the value the full budget
gives, or stops (SliceSpent) so the server redoes it in a worker thread; the slice never changes
a choice. Through the server: tool calls generated inline and in the worker thread alike."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from faker import Faker
from openai import OpenAI
from test_jsongen import SCHEMAS

from emulator.deadline import Bounded
from emulator.errors import GenerationError
from emulator.handlers import INLINE_SLICE_CHARS, INLINE_SLICE_STEPS
from emulator.inline import SliceSpent, inline_slice
from emulator.jsongen import generate_json
from emulator.testing import EmulatorServer

ZOD = json.loads((Path(__file__).parent / "schemas_zod" / "zod-v4-schemas.json").read_text())
ALL = {**SCHEMAS, **{f"zod-{k}": v for k, v in ZOD.items()}}
# Needs far more than the slice: 400 objects of 4 properties each.
HEAVY = {
    "type": "array",
    "minItems": 400,
    "items": {
        "type": "object",
        "properties": {k: {"type": "string"} for k in ("a", "b", "c", "d")},
        "required": ["a", "b", "c", "d"],
    },
}


def _generate(schema: Any, seed: int) -> Any:
    fake = Faker()
    fake.seed_instance(seed)
    return generate_json(schema, random.Random(seed), fake)


def _outcome(schema: Any, seed: int) -> str:
    try:
        return json.dumps(_generate(schema, seed))
    except GenerationError as exc:
        return f"error: {exc}"


@pytest.mark.parametrize("name", sorted(ALL))
def test_the_slice_changes_no_value(name: str) -> None:
    """For every table and zod schema and 6 seeds: inline within the slice, the same value (or
    the same error) as with the whole budget, unless it stops with SliceSpent."""
    for seed in range(6):
        full = _outcome(ALL[name], seed)
        try:
            with inline_slice(INLINE_SLICE_STEPS, INLINE_SLICE_CHARS):
                sliced = _outcome(ALL[name], seed)
        except SliceSpent:
            continue
        assert sliced == full


def test_most_schemas_fit_in_the_slice() -> None:
    """The slice is not so small that ordinary schemas always go to the worker thread."""
    fitting = 0
    for schema in ALL.values():
        try:
            with inline_slice(INLINE_SLICE_STEPS, INLINE_SLICE_CHARS):
                _outcome(schema, 0)
            fitting += 1
        except SliceSpent:
            pass
    assert fitting >= len(ALL) * 3 // 4


@pytest.mark.parametrize(
    "schema",
    [HEAVY, {"type": "string", "minLength": INLINE_SLICE_CHARS + 1}],
    ids=["many-steps", "long-string"],
)
def test_work_beyond_the_slice_stops_but_completes_without_it(schema: Any) -> None:
    """A schema that needs more than the slice stops inline and is generated in full without."""
    with pytest.raises(SliceSpent), inline_slice(INLINE_SLICE_STEPS, INLINE_SLICE_CHARS):
        _generate(schema, 1)
    assert _generate(schema, 1)


def _tool_call_arguments(server: EmulatorServer, parameters: dict[str, Any]) -> tuple[str, str]:
    client = OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
    tool = {"type": "function", "function": {"name": "fill", "parameters": parameters}}
    texts = []
    for _ in range(2):
        server.reset()
        reply = client.chat.completions.create(
            model="openai/gpt-4o",
            messages=[{"role": "user", "content": "go"}],
            tools=[tool],  # type: ignore[list-item]
            tool_choice="required",
        )
        calls = reply.choices[0].message.tool_calls
        assert calls
        texts.append(calls[0].function.arguments)  # type: ignore[union-attr]
    return texts[0], texts[1]


def test_tool_arguments_inline_and_in_the_worker_thread(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small tool schema is generated on the event loop (no worker thread), a heavy one is
    redone in the worker thread; both give valid arguments, the same on a fresh server."""
    offloaded: list[object] = []
    run = Bounded.run

    async def counting_run(self: Bounded, fn: Any, budget_s: float) -> Any:
        offloaded.append(fn)
        return await run(self, fn, budget_s)

    monkeypatch.setattr(Bounded, "run", counting_run)
    small = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    first, again = _tool_call_arguments(server, small)
    assert first == again and "city" in json.loads(first)
    assert offloaded == []
    heavy = {"type": "object", "properties": {"rows": HEAVY}, "required": ["rows"]}
    first, again = _tool_call_arguments(server, heavy)
    assert first == again and len(json.loads(first)["rows"]) >= 400
    assert len(offloaded) == 2
