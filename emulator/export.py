"""A journal entry → a scenario that plays exactly what was played: the same bytes in the same
events, with the same scheduled waits (`GET /_emulator/requests/{id}/scenario`,
`chat-emulator export`, `EmulatorServer.export`).

Pure: reads the entry's played events (their exact bytes, see `JournalEntry.sent_bytes`), its
response headers and request body. Ids and `created` are kept as they were sent; the request's
match comes from `capture.request_match`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from emulator.capture import (
    dump_json,
    dump_yaml,
    headers_that_matter,
    line_ending_of,
    raw_event,
    request_match,
    steps_scenario,
    wait_event,
    wire_event,
)
from emulator.journal import JournalEntry

EXPORT_FORMATS = ("yaml", "json")
_STREAM_KINDS = frozenset({"data", "comment", "done", "error", "raw"})


class ExportError(ValueError):
    """The entry cannot be exported yet (its response is still being played)."""


@dataclass(frozen=True)
class _Played:
    kind: str
    data: str
    exact: bytes


def scenario_for(entry: JournalEntry, name: str | None = None) -> dict[str, Any]:
    """The scenario (as plain data, in the scenario file format) that answers `entry`'s request
    with exactly what was played for it. Raises ExportError while the entry is still pending."""
    if not entry.finished:
        raise ExportError(f"request #{entry.seq} is still being answered; export it once done")
    played = [
        _Played(kind, data, entry.sent_bytes(i)) for i, (_, kind, data) in enumerate(entry.played)
    ]
    stamp = datetime.fromtimestamp(entry.started_at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    description = (
        f"Exported from request #{entry.seq} ({entry.method} {entry.path}, {stamp} UTC, "
        f"{entry.outcome}" + (f", scenario {entry.scenario!r}" if entry.scenario else "") + ")"
    )
    step = _step(played, entry)
    return steps_scenario(
        name or f"request-{entry.seq}", request_match(entry.body), [step], description
    )


def render(scenario: dict[str, Any], fmt: str = "yaml") -> str:
    """`scenario` as scenario-file text: YAML (default) or JSON. ValueError for another format."""
    if fmt == "yaml":
        return dump_yaml(scenario)
    if fmt == "json":
        return dump_json(scenario)
    raise ValueError(f"unknown export format {fmt!r}; valid: {', '.join(EXPORT_FORMATS)}")


def _step(played: Sequence[_Played], entry: JournalEntry) -> dict[str, Any]:
    head = next((i for i, p in enumerate(played) if p.kind == "head"), None)
    if head is None:
        return {"fault": _fault(played)}
    delay = sum(float(p.data) for p in played[:head] if p.kind in ("wait", "hold"))
    status = int(played[head].data)
    headers = headers_that_matter(entry.response_headers)
    rest = played[head + 1 :]
    body = next((p for p in rest if p.kind == "body"), None)
    if body is not None:
        return _whole(status, body, headers, delay)
    return {"reply": _stream(rest, headers, delay)}


def _fault(played: Sequence[_Played]) -> Any:
    """No head was sent: a reset, an empty close, or a hang (a wait, then a close)."""
    if any(p.kind == "reset" for p in played):
        return "reset"
    waited = sum(float(p.data) for p in played if p.kind in ("wait", "hold"))
    return {"kind": "hang", "max_ms": wait_event(waited)["wait_ms"]} if waited else "empty"


def _whole(status: int, body: _Played, headers: dict[str, str], delay: float) -> dict[str, Any]:
    text = body.exact.decode("utf-8", "backslashreplace")
    out: dict[str, Any] = {}
    if status >= 400:
        out["status"] = status
        out["message"] = _error_message(text, status)
    if headers:
        out["headers"] = headers
    if delay:
        out["delay_ms"] = wait_event(delay)["wait_ms"]
    out["body"] = text
    return {"error": out} if status >= 400 else {"reply": out}


def _error_message(body: str, status: int) -> str:
    try:
        message = json.loads(body)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return f"HTTP {status}"
    return str(message)


def _stream(rest: Sequence[_Played], headers: dict[str, str], delay: float) -> dict[str, Any]:
    sends = [p.exact for p in rest if p.kind in _STREAM_KINDS and p.kind != "raw"]
    eol = line_ending_of(sends)
    events: list[dict[str, Any]] = []
    for p in rest:
        if p.kind in ("wait", "hold"):
            events.append(wait_event(float(p.data)))
        elif p.kind == "raw":  # written on its own, not as an event that may share a write
            events.append(raw_event(p.exact))
        elif p.kind in _STREAM_KINDS:
            events.append(wire_event(p.exact, eol))
        elif p.kind in ("drop", "reset"):
            events.append({"disconnect": "reset" if p.kind == "reset" else True})
    reply: dict[str, Any] = {}
    if headers:
        reply["headers"] = headers
    if delay:
        reply["delay_ms"] = wait_event(delay)["wait_ms"]
    stream: dict[str, Any] = {"events": events}
    if eol != "\n":
        stream["framing"] = {"line_ending": eol}
    reply["stream"] = stream
    return reply
