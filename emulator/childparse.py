"""Parsing that would hold the interpreter lock for long, done in a child process.

Two kinds of input are parsed by long calls into compiled code, during which no other request
of the process is served, worker thread or not: large JSON bodies with very many values, and
large scenario uploads (libyaml composes a whole document in one call).

JSON bodies: a gate in front of parsing.

Decoding JSON is one long call into compiled code that holds the interpreter lock: a 20 MiB
body of `[{}, {}, ...]` (seven million objects) takes seconds, during which no other request of
the process is served, worker thread or not. So a large body that may hold more than
MAX_JSON_VALUES values is first parsed in a separate process (`python -c`, the standard
library's decoder, bounded by the request budget and killed past it), which answers whether it
is valid (the same 400 `parse_json_body` would give) and how many values it holds. Only a body
under the limit is then parsed in the server's process, where its decoding is short.

The router documents no such limit; no chat request comes near 100,000 JSON values.

Scenario uploads over UPLOAD_INLINE_BYTES are loaded by a child process, which sends back each
scenario pickled on its own; the server unpickles them one by one in a worker thread, so the
lock is never held for long. A child that runs past its budget is killed.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import struct
import subprocess
import sys
from typing import TYPE_CHECKING, Any

from emulator.errors import RequestError, ScenarioError

if TYPE_CHECKING:
    from emulator.deadline import Bounded
    from emulator.scenario import Scenario

MAX_JSON_VALUES = 100_000
GATE_BYTES = 1024 * 1024  # smaller bodies decode in milliseconds whatever they hold
GATE_ALWAYS_BYTES = 4 * 1024 * 1024
UPLOAD_INLINE_BYTES = 64 * 1024  # smaller uploads load in a worker thread in milliseconds
_CHILD = "from emulator.childparse import _child; _child()"
_SCENARIO_CHILD = "from emulator.childparse import _scenario_child; _scenario_child()"
_LENGTH = struct.Struct(">I")


class TooSlow(Exception):
    """The child process ran past its budget and was killed."""


async def _run_child(code: str, args: list[str], data: bytes, budget_s: float) -> bytes:
    """Run `python -c code *args` with `data` on stdin; its stdout, or TooSlow past the budget
    (the child is killed). The pipes are served by a thread of the loop's default executor:
    `subprocess.run` writes slices of `data` without copying it, where the loop's own pipe
    transport would copy a 20 MiB body and shift its buffer after every write."""

    def run() -> bytes:
        done = subprocess.run(
            [sys.executable, "-c", code, *args],
            input=data,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            timeout=budget_s,
            check=False,
        )
        return done.stdout

    try:
        return await asyncio.get_running_loop().run_in_executor(None, run)
    except subprocess.TimeoutExpired:
        raise TooSlow from None


def needs_gate(raw: bytes) -> bool:
    """Whether `raw` is large and may hold over MAX_JSON_VALUES values: every value but the
    first follows a comma or opens a container, so counting them gives an upper bound (commas
    and brackets inside strings count too; then the gate finds the body fine). Bodies over
    GATE_ALWAYS_BYTES are gated without counting: counting costs more than it saves there."""
    if len(raw) <= GATE_BYTES:
        return False
    if len(raw) > GATE_ALWAYS_BYTES:
        return True
    return len(raw) - len(raw.translate(None, b",{[")) >= MAX_JSON_VALUES


async def check(raw: bytes, content_type: str | None, budget_s: float) -> None:
    """Parse `raw` in a child process within `budget_s` seconds; RequestError 400 for a body
    `parse_json_body` would refuse, 413 for one with over MAX_JSON_VALUES values or one that
    takes longer than the budget to parse."""
    try:
        out = await _run_child(_CHILD, [content_type or ""], raw, budget_s)
    except TooSlow:
        raise RequestError(
            413,
            f"the request needs more than the server's budget of {budget_s * 1000:.0f} ms to "
            "parse and validate; send a smaller or simpler request",
            {"budget_ms": budget_s * 1000},
        ) from None
    verdict = _verdict(out)
    if "status" in verdict:
        raise RequestError(verdict["status"], verdict["message"], verdict.get("metadata"))
    if verdict["values"] > MAX_JSON_VALUES:
        raise RequestError(
            413,
            f"request body has {verdict['values']:,} JSON values; the limit is {MAX_JSON_VALUES:,}",
            {"values": verdict["values"], "limit": MAX_JSON_VALUES},
        )


async def load_scenarios(
    text: str, source: str, budget_s: float, bounded: Bounded
) -> list[Scenario]:
    """`loader.load_text(text, source)` in a child process within `budget_s` seconds; the
    scenarios, ScenarioError as load_text raises it, or TooSlow."""
    out = await _run_child(_SCENARIO_CHILD, [source], text.encode(), budget_s)

    def unpickle() -> list[Scenario]:
        items = []
        offset = 0
        while offset < len(out):
            (size,) = _LENGTH.unpack_from(out, offset)
            offset += _LENGTH.size
            items.append(pickle.loads(out[offset : offset + size]))  # our own child's bytes
            offset += size
        if items and isinstance(items[0], tuple):
            _, message, where, line = items[0]
            error = ScenarioError(message)  # the child's message as it was, source included
            error.source, error.line = where, line
            raise error
        return items

    return await bounded.run(unpickle, budget_s)


def _verdict(out: bytes) -> dict[str, Any]:
    try:
        verdict = json.loads(out)
    except ValueError:
        verdict = None
    if not isinstance(verdict, dict):
        raise RuntimeError(f"the JSON gate process answered {out[:200]!r}")
    return verdict


def count_values(value: Any) -> int:
    """How many JSON values `value` holds, itself included (keys not counted); walked one
    level at a time, without recursion."""
    total = 1
    level: list[Any] = [value]
    while level:
        deeper: list[Any] = []
        append = deeper.append
        for node in level:
            if node:
                total += len(node)
                for child in node.values() if isinstance(node, dict) else node:
                    if isinstance(child, (dict, list)):
                        append(child)
        level = deeper
    return total


def _child() -> None:
    """The gate process: the body on stdin, the Content-Type as argv[1]; prints the verdict."""
    import gc

    from emulator.bodyparse import parse_json_body

    gc.disable()  # a short-lived process: collections over millions of objects buy nothing
    raw = sys.stdin.buffer.read()
    try:
        body = parse_json_body(raw, sys.argv[1] or None)
    except RequestError as exc:
        verdict: dict[str, Any] = {
            "status": exc.status,
            "message": exc.message,
            "metadata": exc.metadata,
        }
    else:
        verdict = {"values": count_values(body)}
    sys.stdout.write(json.dumps(verdict))


def _scenario_child() -> None:
    """The upload process: YAML/JSON text on stdin, the source name as argv[1]; writes each
    scenario (or the ScenarioError) pickled, each preceded by its length."""
    from emulator.loader import load_text

    text = sys.stdin.buffer.read().decode()
    try:
        items: list[Any] = list(load_text(text, sys.argv[1]))
    except ScenarioError as exc:
        items = [("error", str(exc), exc.source, exc.line)]
    out = sys.stdout.buffer
    for item in items:
        data = pickle.dumps(item)
        out.write(_LENGTH.pack(len(data)) + data)
