"""Bytes that went over the wire → the scenario format that plays them again, exactly.

Shared by export (a journal entry as a scenario) and recording (an upstream's answer as a
scenario). Pure: no I/O, no aiohttp. The forms chosen are the most readable ones that give back
the same bytes: a `data` event for `data: PAYLOAD` framed by the stream's line ending, `comment`,
`done`, and otherwise `raw` (text, or `{base64: ...}` for bytes that are not UTF-8).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML ships no type hints

from emulator.chatrequest import text_of

LINE_ENDINGS = ("\n", "\r\n", "\r")
DONE_PAYLOAD = "[DONE]"
# Headers the emulator writes itself (or that frame the response): never part of a scenario.
OWN_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "transfer-encoding",
        "connection",
        "cache-control",
        "x-accel-buffering",
        "date",
        "server",
        "content-encoding",
        "keep-alive",
        "vary",
        "set-cookie",
        "access-control-allow-origin",
    }
)
_GLOB_CHARS = frozenset("*?[")

Event = dict[str, Any]


# --- wire bytes → events -----------------------------------------------------------------------


def raw_event(data: bytes) -> Event:
    """`raw`: the bytes as text, or `{base64: ...}` when they are not UTF-8."""
    try:
        return {"raw": data.decode()}
    except UnicodeDecodeError:
        return {"raw": {"base64": base64.b64encode(data).decode("ascii")}}


def wire_event(data: bytes, line_ending: str = "\n") -> Event:
    """The event that writes exactly `data` under `line_ending` framing: `comment`, `done`,
    `data` (one SSE event of one data line), or `raw` for anything else."""
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return raw_event(data)
    end = line_ending * 2
    if text.endswith(end):
        line = text[: -len(end)]
        if not any(c in line for c in "\r\n"):
            if line.startswith("data: "):
                payload = line[len("data: ") :]
                return {"done": True} if payload == DONE_PAYLOAD else {"data": payload}
            if line.startswith(": "):
                return {"comment": line[2:]}
    return {"raw": text}


def line_ending_of(pieces: Iterable[bytes]) -> str:
    """The line ending under which most of `pieces` read as whole SSE events ("\\n" on a tie)."""
    runs = list(pieces)

    def whole(eol: str) -> int:
        return sum(1 for p in runs if "raw" not in wire_event(p, eol))

    return max(LINE_ENDINGS, key=lambda eol: (whole(eol), eol == "\n"))


def wait_event(ms: float) -> Event:
    """`wait_ms`, as an integer when it is one (diff-friendly)."""
    rounded = round(ms, 3)
    return {"wait_ms": int(rounded) if rounded == int(rounded) else rounded}


def headers_that_matter(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """The response headers a scenario must give back: everything but framing and the headers
    the emulator sets itself (Content-Type, Cache-Control ...), in their original spelling."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {name: value for name, value in items if name.lower() not in OWN_HEADERS}


# --- the request → a match ---------------------------------------------------------------------


def request_match(body: Any) -> dict[str, Any]:
    """What identifies a conversation: the model, stream or not, the system message and the last
    user message (their text exactly), and the tool names offered. Every step of one tool loop
    has the same match, so the steps of a loop become one scenario's sequence."""
    if not isinstance(body, Mapping):
        return {}
    match: dict[str, Any] = {}
    model = body.get("model")
    if isinstance(model, str) and model:
        match["model"] = {"equals": model} if _GLOB_CHARS & set(model) else model
    match["stream"] = body.get("stream") is True
    messages = [m for m in body.get("messages") or [] if isinstance(m, Mapping)]
    system = [text_of(m.get("content")) for m in messages if m.get("role") in ("system",)]
    if system:
        match["system_message"] = {"equals": system[0]}
    users = [text_of(m.get("content")) for m in messages if m.get("role") == "user"]
    if users:
        match["last_user_message"] = {"equals": users[-1]}
    elif isinstance(body.get("prompt"), str):
        match["body"] = {"prompt": body["prompt"]}
    tools = [
        t["function"]["name"]
        for t in body.get("tools") or []
        if isinstance(t, Mapping)
        and isinstance(t.get("function"), Mapping)
        and isinstance(t["function"].get("name"), str)
    ]
    if tools:
        match["tools"] = tools
    return match


# --- the file layout ---------------------------------------------------------------------------


# libyaml's emitter when PyYAML has it (about ten times faster: a recording is written while
# other streams play on the same loop), else the pure-Python one; the same layout either way.
_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[misc,valid-type]  # yaml is untyped
    """Block style, keys in the order written, no anchors (each value written out)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: _Dumper, value: str) -> Any:
    # Multi-line text as a literal block when that round-trips (no trailing spaces, no CR).
    if (
        "\n" in value
        and "\r" not in value
        and not any(line != line.rstrip() for line in value.split("\n"))
    ):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _text)


def dump_yaml(data: Any) -> str:
    """Stable, diff-friendly YAML: block style, keys in insertion order, one event per line
    (no folding of long lines), UTF-8 text as is. Loads back to equal data with the loader."""
    text: str = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=2**31 - 1,
    )
    return text


def dump_json(data: Any) -> str:
    """The same scenario as indented JSON (the loader reads `*.json` too)."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def steps_scenario(
    name: str, match: Mapping[str, Any], steps: Sequence[Mapping[str, Any]], description: str = ""
) -> dict[str, Any]:
    """A scenario dict: one step as itself, several as a `sequence`."""
    scenario: dict[str, Any] = {"name": name}
    if description:
        scenario["description"] = description
    scenario["match"] = dict(match)
    if len(steps) == 1:
        scenario.update(steps[0])
    else:
        scenario["sequence"] = [dict(step) for step in steps]
    return scenario
