"""An upstream's answer, as it arrived → a scenario step that replays it; steps → cassettes.

Pure: no I/O, no clock, no aiohttp. The proxy (`emulator.proxy`) measures and hands over an
`Exchange`; this module turns it into the scenario file format:

- a stream becomes `reply.stream.events`: every whole SSE event that arrived in one piece as
  `data`/`comment`/`done`, every other byte run (an event that arrived in pieces, a trailing
  partial event) as `raw`, each with the measured wait before it (`wait_ms`); a connection that
  ended without the chunked terminator ends with `disconnect: true`;
- a JSON answer becomes `reply.body` (or `error.body`, with its status), byte for byte;
- the headers that matter are kept (`X-Generation-Id`, `Retry-After`, error headers), and every
  secret is redacted (the caller's own key wherever it appears, credential-looking headers,
  configured JSON fields, key-shaped strings) before anything is kept.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from emulator.capture import (
    headers_that_matter,
    line_ending_of,
    raw_event,
    request_match,
    steps_scenario,
    wait_event,
    wire_event,
)

REDACTED = "<redacted>"
# JSON fields whose string values are secrets wherever they appear in a recorded body.
DEFAULT_REDACT_FIELDS = (
    "api_key",
    "apiKey",
    "x-api-key",
    "authorization",
    "password",
    "secret",
    "access_token",
    "refresh_token",
)
# Strings shaped like API keys (the router's `sk-or-...` and the common `sk-...`).
KEY_PATTERN = re.compile(r"\bsk-[A-Za-z0-9][A-Za-z0-9_-]{15,}")
_SECRET_HEADER_WORDS = ("key", "token", "auth", "cookie", "secret")
_EVENT_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Exchange:
    """One request and the upstream's answer as it arrived.

    `head_ms`: from sending the request to the response head; `arrivals`: (ms since the head,
    bytes) for every read of the body; `complete`: the body ended normally (False: the
    connection closed or reset mid-body)."""

    body: Any
    status: int
    headers: tuple[tuple[str, str], ...]
    head_ms: float
    arrivals: tuple[tuple[float, bytes], ...]
    complete: bool = True

    @property
    def is_stream(self) -> bool:
        kind = next((v for k, v in self.headers if k.lower() == "content-type"), "")
        return kind.split(";")[0].strip().lower() == "text/event-stream"


@dataclass(frozen=True)
class Redactor:
    """Removes secrets from recorded text: the given secret strings (the caller's key) anywhere,
    the string values of `fields` in JSON, and key-shaped strings."""

    secrets: tuple[str, ...] = ()
    fields: tuple[str, ...] = DEFAULT_REDACT_FIELDS

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret:
                value = value.replace(secret, REDACTED)
        if self.fields:
            names = "|".join(re.escape(f) for f in self.fields)
            value = re.sub(
                rf'("(?:{names})"\s*:\s*)"(?:[^"\\]|\\.)*"', rf'\1"{REDACTED}"', value, flags=re.I
            )
        return KEY_PATTERN.sub(REDACTED, value)

    def data(self, value: Any) -> Any:
        """The same redaction over plain data (strings inside lists and mappings)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            return {k: self.data(v) for k, v in value.items()}
        return value

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {
            name: REDACTED
            if any(w in name.lower() for w in _SECRET_HEADER_WORDS)
            else self.text(value)
            for name, value in headers.items()
        }


# --- one exchange → one step --------------------------------------------------------------------


def step_for(exchange: Exchange, redactor: Redactor) -> dict[str, Any]:
    """The scenario step (`{"reply": ...}` or `{"error": ...}`) that replays `exchange`."""
    headers = redactor.headers(headers_that_matter(exchange.headers))
    delay = wait_event(exchange.head_ms)["wait_ms"]
    if exchange.is_stream and exchange.status < 400:
        events, eol = stream_events(exchange.arrivals, exchange.complete)
        events = [_redacted_event(e, redactor) for e in events]
        stream: dict[str, Any] = {"events": events}
        if eol != "\n":
            stream["framing"] = {"line_ending": eol}
        reply: dict[str, Any] = {"headers": headers} if headers else {}
        if delay:
            reply["delay_ms"] = delay
        reply["stream"] = stream
        return {"reply": reply}
    body = redactor.text(b"".join(data for _, data in exchange.arrivals).decode("utf-8", "replace"))
    out: dict[str, Any] = {}
    if exchange.status >= 400:
        out["status"] = exchange.status
        out["message"] = _error_message(body, exchange.status)
    if headers:
        out["headers"] = headers
    if delay:
        out["delay_ms"] = delay
    out["body"] = body
    return {"error": out} if exchange.status >= 400 else {"reply": out}


def _error_message(body: str, status: int) -> str:
    import json

    try:
        return str(json.loads(body)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {status}"


def _redacted_event(event: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    ((kind, value),) = event.items()
    if kind in ("data", "comment") or (kind == "raw" and isinstance(value, str)):
        return {kind: redactor.text(value)}
    return event


def stream_events(
    arrivals: Sequence[tuple[float, bytes]], complete: bool = True
) -> tuple[list[dict[str, Any]], str]:
    """The events that replay `arrivals` (ms since the head, bytes) byte for byte, each after
    its measured wait, and the line ending they use. An SSE event that arrived whole is a
    structured event; bytes of an event that arrived in pieces are `raw` runs, one per piece."""
    stream = b"".join(data for _, data in arrivals)
    ends: list[int] = []  # offset just after each read
    for _, data in arrivals:
        ends.append((ends[-1] if ends else 0) + len(data))
    events_end = {m.end() for m in _EVENT_END.finditer(stream)}
    cuts = sorted({0, *ends, *events_end})
    segments = [(a, b) for a, b in itertools.pairwise(cuts) if b > a]
    whole = [stream[a:b] for a, b in segments if (a == 0 or a in events_end) and b in events_end]
    eol = line_ending_of(whole)
    events: list[dict[str, Any]] = []
    last_ms = 0.0
    for a, b in segments:
        t_ms = arrivals[bisect.bisect_left(ends, b)][0]
        if t_ms - last_ms >= 0.05:
            events.append(wait_event(round(t_ms - last_ms, 2)))
        last_ms = max(last_ms, t_ms)
        piece = stream[a:b]
        is_whole = (a == 0 or a in events_end) and b in events_end
        events.append(wire_event(piece, eol) if is_whole else raw_event(piece))
    if not complete:
        events.append({"disconnect": True})
    return events, eol


# --- steps → a cassette --------------------------------------------------------------------------


@dataclass
class Cassette:
    """Recorded scenarios in recording order. A request with the match of a recorded scenario
    (the next step of a tool loop, or the same question again) adds a step to its sequence."""

    prefix: str = "recorded"
    taken: set[str] = field(default_factory=set)  # names already used (loaded recordings)
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    reserved: dict[str, str] = field(default_factory=dict)  # match (repr) → name

    def name_for(self, body: Any, redactor: Redactor) -> str:
        """The scenario a request for `body` is recorded into: the recorded one with its match,
        or a new name (reserved now, so the journal can name it before the answer ends)."""
        match = redactor.data(request_match(body))
        for scenario in self.scenarios:
            if scenario["match"] == match:
                return str(scenario["name"])
        key = repr(match)
        if key not in self.reserved:
            self.reserved[key] = self._name(match)
        return self.reserved[key]

    def add(self, exchange: Exchange, redactor: Redactor) -> dict[str, Any]:
        """Record `exchange`; returns the scenario it went into."""
        name = self.name_for(exchange.body, redactor)
        step = step_for(exchange, redactor)
        for scenario in self.scenarios:
            if scenario["name"] == name:
                steps = scenario.pop("sequence", None) or [
                    {k: scenario.pop(k)} for k in ("reply", "error") if k in scenario
                ]
                scenario["sequence"] = [*steps, step]
                return scenario
        match = redactor.data(request_match(exchange.body))
        description = f"Recorded from {_upstream_model(exchange.body)}."
        scenario = steps_scenario(name, match, [step], description)
        self.scenarios.append(scenario)
        return scenario

    def _name(self, match: Mapping[str, Any]) -> str:
        question = match.get("last_user_message", {}).get("equals", "") or "request"
        model = str(match.get("model", "")).rsplit("/", 1)[-1]
        base = _SLUG.sub("-", f"{self.prefix} {model} {question}".lower()).strip("-")[:60]
        base = base.strip("-") or self.prefix
        name, n = base, 1
        while name in self.taken:
            n += 1
            name = f"{base}-{n}"
        self.taken.add(name)
        return name

    def file(self, existing: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
        """The cassette file's data: `existing` scenarios (kept as loaded) then the recorded."""
        return {"scenarios": [*existing, *self.scenarios]}


def _upstream_model(body: Any) -> str:
    model = body.get("model") if isinstance(body, Mapping) else None
    return f"a request for {model}" if isinstance(model, str) else "a request"
