"""What the inspector page shows of a journal entry, as plain JSON-ready values: a summary row,
the stream's timing (scheduled and actual time of every played event), the reply rebuilt from
what was sent, and the request as a curl command.

Pure functions over journal entries (no aiohttp): `emulator/inspector.py` serves them.
"""

from __future__ import annotations

import itertools
import json
import shlex
from typing import Any

from emulator.journal import JournalEntry

SESSION_HEADER = "x-emulator-session"
# Events that carry response bytes: the first of these after the head is the first byte.
BYTE_KINDS = ("body", "data", "comment", "done", "error", "raw")
# Headers a curl command leaves out: curl sets them itself, or they only describe the SDK.
_CURL_SKIPPED = ("host", "content-length", "connection", "accept-encoding", "user-agent")
_CURL_SKIPPED_PREFIXES = ("x-stainless-",)


def inspector_url(root: str, admin_token: str | None = None) -> str:
    """The inspector page's URL on a server at `root` (scheme://host:port); with an admin token,
    a placeholder where it goes (the page's `?token=` sets a cookie; the token is never shown)."""
    url = f"{root}/_emulator/ui"
    return url + "?token=<admin token>" if admin_token is not None else url


def outcome(entry: JournalEntry) -> str:
    """How the request ended: `invalid` when it failed validation, else the journal's outcome
    (pending, completed, client_aborted, dropped, reset, failed)."""
    return "invalid" if entry.validation_errors else entry.outcome


def session(entry: JournalEntry) -> str | None:
    """The session the client named (the `X-Emulator-Session` header), if any."""
    value = getattr(entry, "session", None) or entry.headers.get(SESSION_HEADER)
    return str(value) if value else None


def model(entry: JournalEntry) -> str | None:
    """The model the request asked for (its body's `model`), if it named one."""
    body = entry.body if isinstance(entry.body, dict) else {}
    value = body.get("model")
    return value if isinstance(value, str) else None


def summary(entry: JournalEntry) -> dict[str, Any]:
    """One row of the inspector's list: what the filters and the columns need."""
    return {
        "seq": entry.seq,
        "method": entry.method,
        "path": entry.path,
        "status": entry.status,
        "outcome": outcome(entry),
        "stream": entry.stream,
        "scenario": entry.scenario,
        "session": session(entry),
        "model": model(entry),
        "started_at": entry.started_at,
        "duration_ms": entry.duration_ms,
        "events": len(entry.played),
    }


def timing(entry: JournalEntry) -> dict[str, Any]:
    """Every played event with its scheduled and actual time (ms since the request arrived),
    the time to the first byte of the body (`first_byte_ms`: a keep-alive comment counts) and to
    the first data event (`ttft_ms`; for a JSON reply, its body), the gaps between data events,
    and where the client aborted (`aborted_at_ms`, None when it did not).

    An event's scheduled time is the sum of the waits before it (a wait's own, included), times
    the time scale it was played at (a `hold` is not scaled): the writer sends each event at once
    after its wait's deadline, so the difference is the server's lateness."""
    scheduled = 0.0
    events: list[dict[str, Any]] = []
    for index, event in enumerate(entry.events):
        if event.kind == "wait":
            scheduled += _float(event.data) * entry.time_scale
        elif event.kind == "hold":  # a wait the time scale does not shorten (hang, stall)
            scheduled += _float(event.data)
        events.append(
            {
                "kind": event.kind,
                "t_ms": event.t_ms,
                "scheduled_ms": round(scheduled, 3),
                "bytes": len(entry.sent_bytes(index)) if event.kind in BYTE_KINDS else 0,
                "data": event.data,
            }
        )
    data_times = [e["t_ms"] for e in events if e["kind"] in ("data", "error", "done")]
    first_byte = next((e["t_ms"] for e in events if e["kind"] in BYTE_KINDS), None)
    return {
        "events": events,
        "first_byte_ms": first_byte,
        "ttft_ms": data_times[0] if data_times else first_byte,
        "gaps_ms": [round(b - a, 3) for a, b in itertools.pairwise(data_times)],
        "aborted_at_ms": entry.duration_ms if entry.client_aborted else None,
        "time_scale": entry.time_scale,
    }


def raw_bytes(entry: JournalEntry) -> bytes:
    """Every byte the response sent after its head (body, data events, comments, raw bytes),
    exactly, in order: what a client read from the socket, minus the HTTP head."""
    kinds = [event[1] for event in entry.played]
    return b"".join(entry.sent_bytes(i) for i, kind in enumerate(kinds) if kind in BYTE_KINDS)


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


# --- the reply, rebuilt from the bytes sent ----------------------------------------------------


def reply(entry: JournalEntry) -> dict[str, Any]:
    """The reply as the client received it: per choice the text (content, reasoning, refusal)
    joined from the stream's deltas or read from the JSON body, tool calls with their
    arguments joined, finish reasons; the usage (with `cost` when the reply had one) and any
    error object (spec schemas ChatResult, ChatStreamChunk)."""
    played = entry.events
    if entry.stream:
        text = "".join(e.data for e in played if e.kind in ("data", "error", "done", "raw"))
        return _from_chunks(_sse_payloads(text))
    body = "".join(e.data for e in played if e.kind == "body")
    try:
        parsed = json.loads(body)
    except ValueError:
        return {"choices": [], "usage": None, "cost": None, "error": None}
    if not isinstance(parsed, dict):
        parsed = {}
    choices = [_message_choice(c) for c in parsed.get("choices") or [] if isinstance(c, dict)]
    usage = parsed.get("usage") if isinstance(parsed.get("usage"), dict) else None
    return {"choices": choices, "usage": usage, "cost": _cost(usage), "error": parsed.get("error")}


def _message_choice(choice: dict[str, Any]) -> dict[str, Any]:
    message = choice.get("message") or choice
    return {
        "index": choice.get("index", 0),
        "content": message.get("content", choice.get("text")),
        "reasoning": message.get("reasoning"),
        "refusal": message.get("refusal"),
        "tool_calls": [_call(c) for c in message.get("tool_calls") or [] if isinstance(c, dict)],
        "finish_reason": choice.get("finish_reason"),
    }


def _call(call: dict[str, Any]) -> dict[str, Any]:
    function = call.get("function") or {}
    return {
        "id": call.get("id"),
        "name": function.get("name"),
        "arguments": function.get("arguments") or "",
    }


def _sse_payloads(text: str) -> list[Any]:
    """The JSON of every `data:` field in an SSE text (comments and [DONE] skipped)."""
    payloads: list[Any] = []
    for block in text.replace("\r\n", "\n").replace("\r", "\n").split("\n\n"):
        lines = [line[5:].removeprefix(" ") for line in block.split("\n") if line[:5] == "data:"]
        if not lines or lines == ["[DONE]"]:
            continue
        try:
            payloads.append(json.loads("\n".join(lines)))
        except ValueError:
            continue
    return payloads


def _from_chunks(chunks: list[Any]) -> dict[str, Any]:
    choices: dict[int, dict[str, Any]] = {}
    usage: dict[str, Any] | None = None
    error: Any = None
    for chunk in chunks:
        if not isinstance(chunk, dict):
            continue
        if isinstance(chunk.get("usage"), dict):
            usage = chunk["usage"]
        error = chunk.get("error", error)
        for raw in chunk.get("choices") or []:
            if isinstance(raw, dict):
                _add_delta(choices, raw)
    return {
        "choices": [choices[i] for i in sorted(choices)],
        "usage": usage,
        "cost": _cost(usage),
        "error": error,
    }


def _add_delta(choices: dict[int, dict[str, Any]], raw: dict[str, Any]) -> None:
    index = raw.get("index", 0) if isinstance(raw.get("index"), int) else 0
    choice = choices.setdefault(
        index,
        {
            "index": index,
            "content": None,
            "reasoning": None,
            "refusal": None,
            "tool_calls": [],
            "finish_reason": None,
        },
    )
    delta = _dict(raw.get("delta"))
    for key in ("content", "reasoning", "refusal"):
        if isinstance(delta.get(key), str):
            choice[key] = (choice[key] or "") + delta[key]
    for call in delta.get("tool_calls") or []:
        if isinstance(call, dict):
            _add_call(choice["tool_calls"], call)
    if raw.get("finish_reason") is not None:
        choice["finish_reason"] = raw["finish_reason"]


def _add_call(calls: list[dict[str, Any]], delta: dict[str, Any]) -> None:
    index = delta.get("index", 0) if isinstance(delta.get("index"), int) else 0
    while len(calls) <= index:
        calls.append({"id": None, "name": None, "arguments": ""})
    call = calls[index]
    function = _dict(delta.get("function"))
    call["id"] = delta.get("id") or call["id"]
    call["name"] = function.get("name") or call["name"]
    if isinstance(function.get("arguments"), str):
        call["arguments"] += function["arguments"]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _cost(usage: dict[str, Any] | None) -> Any:
    return usage.get("cost") if usage else None


# --- curl --------------------------------------------------------------------------------------


def curl_command(entry: JournalEntry, base_url: str) -> str:
    """The request as a shell command for curl against `base_url` (scheme://host:port): the
    method, the path, the headers a client chose (the API key as `$OPENROUTER_API_KEY`, since
    the journal keeps no credentials) and the body exactly as JSON."""
    parts = ["curl", "-sS"]
    if entry.stream:
        parts.append("-N")  # show each event as it arrives
    if entry.method != "POST":
        parts += ["-X", entry.method]
    parts.append(shlex.quote(base_url.rstrip("/") + entry.path))
    for name, value in entry.headers.items():
        if name in _CURL_SKIPPED or name.startswith(_CURL_SKIPPED_PREFIXES):
            continue
        if name == "authorization":
            parts += ["-H", '"Authorization: Bearer $OPENROUTER_API_KEY"']
        else:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    if entry.body is not None:
        parts += ["--data-raw", shlex.quote(json.dumps(entry.body, ensure_ascii=False))]
    return " ".join(parts)


def detail(entry: JournalEntry, base_url: str, cost: float | None = None) -> dict[str, Any]:
    """Everything the detail pane shows: the journal entry as the admin API gives it, plus its
    summary, timing, rebuilt reply and curl command. `cost` (USD, what generation stats report
    for it) stands in when the reply's usage carries none."""
    rebuilt = reply(entry)
    if rebuilt["cost"] is None:
        rebuilt["cost"] = cost
    return {
        **entry.to_json(),
        "summary": summary(entry),
        "timing": timing(entry),
        "reply": rebuilt,
        "curl": curl_command(entry, base_url),
    }
