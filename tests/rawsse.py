"""A raw HTTP/1.1 client for stream tests: every byte off the socket, with arrival times.

It decodes the chunked transfer encoding itself, so each HTTP chunk (one server write) stays a
separate `Piece` stamped with the time its last byte arrived, and it tells a clean end (the
zero-length terminator) from a connection closed or reset mid-body. It also builds the exact
bytes a stream should have, from plain dicts, independently of `emulator.protocol`.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator.journal import JournalEntry
    from emulator.testing import EmulatorServer

HOST = "127.0.0.1"
AUTH = "Bearer sk-test"
MODEL = "openai/gpt-4o"
CREATED = 1735689600
USER = [{"role": "user", "content": "hi"}]
PROMPT_TOKENS = 8  # o200k count of USER with the chat formula (PROTOCOL §8)
EARLY_MS = 1.0  # clocks and rounding: an event never arrives more than this before its deadline


@dataclass
class Piece:
    """One HTTP chunk of the body: ms since the request was sent, and its bytes."""

    t_ms: float
    data: bytes


@dataclass
class RawStream:
    status: int
    headers: dict[str, str]  # names lower-cased
    pieces: list[Piece] = field(default_factory=list)
    end: str = "open"  # complete (chunked terminator) | eof | reset | closed_by_us | timeout
    end_ms: float = 0.0

    @property
    def body(self) -> bytes:
        return b"".join(p.data for p in self.pieces)

    def events(self, eol: str = "\n") -> list[str]:
        """The complete SSE events of the body (cut on blank lines); see `tail` for the rest."""
        return self.body.decode("utf-8", "replace").split(eol * 2)[:-1]

    def tail(self, eol: str = "\n") -> bytes:
        """The bytes after the last complete event (a partial event, when a stream stalls)."""
        return self.body.rsplit((eol * 2).encode(), 1)[-1]

    def timed_events(self, eol: str = "\n") -> list[tuple[float, str]]:
        """(arrival ms of the event's last byte, event text) for every complete event."""
        sep = (eol * 2).encode()
        out: list[tuple[float, str]] = []
        body, start = self.body, 0
        ends = _piece_ends(self.pieces)
        while (found := body.find(sep, start)) >= 0:
            stop = found + len(sep)
            arrived = next(t for end, t in ends if end >= stop)
            out.append((arrived, body[start:found].decode()))
            start = stop
        return out

    def data(self, eol: str = "\n") -> list[Any]:
        """The parsed `data:` payloads ([DONE] kept as the string)."""
        out: list[Any] = []
        for event in self.events(eol):
            if event.startswith("data: "):
                payload = event[len("data: ") :]
                out.append(payload if payload == "[DONE]" else json.loads(payload))
        return out

    def content_times(self) -> list[float]:
        """Arrival ms of every event that carries a non-empty content delta."""
        return [
            t
            for t, e in self.timed_events()
            if '"delta":{"content":"' in e and '"delta":{"content":""' not in e
        ]

    @property
    def gen_id(self) -> str:
        first = next(d for d in self.data() if isinstance(d, dict))
        return str(first["id"])


def _piece_ends(pieces: list[Piece]) -> list[tuple[int, float]]:
    ends, total = [], 0
    for p in pieces:
        total += len(p.data)
        ends.append((total, p.t_ms))
    return ends


def post(
    port: int,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    *,
    timeout: float = 10.0,
    stop_when: Callable[[bytes], bool] | None = None,
    path: str = "/v1/chat/completions",
) -> RawStream:
    """POST a streaming chat request and read the raw response until it ends (or `stop_when`
    says so for the body read so far: then the client closes the socket itself)."""
    payload = json.dumps(body if body is not None else stream_body()).encode()
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {HOST}:{port}",
        f"Authorization: {AUTH}",
        "Content-Type: application/json",
        f"Content-Length: {len(payload)}",
        *(f"{k}: {v}" for k, v in (headers or {}).items()),
    ]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode() + payload
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        t0 = time.monotonic()
        sock.sendall(request)
        return _read(sock, t0, stop_when)


def stream_body(**extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "stream": True, "messages": USER, **extra}


def _read(sock: socket.socket, t0: float, stop_when: Callable[[bytes], bool] | None) -> RawStream:
    buf = b""
    result: RawStream | None = None
    while True:
        if result is None and b"\r\n\r\n" in buf:
            head, _, buf = buf.partition(b"\r\n\r\n")
            result = _head(head)
        if result is not None:
            buf = _take_chunks(buf, result, (time.monotonic() - t0) * 1000)
            if result.end == "complete":
                return result
            if stop_when is not None and stop_when(result.body):
                result.end, result.end_ms = "closed_by_us", (time.monotonic() - t0) * 1000
                return result
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            return _ended(result, "reset", t0)
        except TimeoutError:
            return _ended(result, "timeout", t0)
        if not data:
            return _ended(result, "eof", t0)
        buf += data


def _ended(result: RawStream | None, how: str, t0: float) -> RawStream:
    if result is None:
        result = RawStream(0, {})
    result.end, result.end_ms = how, (time.monotonic() - t0) * 1000
    return result


def _head(head: bytes) -> RawStream:
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawStream(int(status_line.split()[1]), headers)


def _take_chunks(buf: bytes, result: RawStream, now_ms: float) -> bytes:
    """Move every complete HTTP chunk of `buf` into `result`; return what is left."""
    while b"\r\n" in buf:
        size_line, _, rest = buf.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if len(rest) < size + 2:
            return buf
        if size == 0:
            result.end, result.end_ms = "complete", now_ms
            return b""
        result.pieces.append(Piece(now_ms, rest[:size]))
        buf = rest[size + 2 :]
    return buf


def last_entry(server: EmulatorServer, timeout: float = 5.0) -> JournalEntry:
    """The newest journal entry once its timeline has finished playing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entries = server.requests
        if entries and entries[-1].finished:
            return entries[-1]
        time.sleep(0.01)
    raise AssertionError("the request never finished")


def waits(entry: JournalEntry) -> list[float]:
    """The scheduled (unscaled) ms of every wait the writer played, from the journal."""
    return [float(e.data) for e in entry.events if e.kind == "wait"]


# --- the exact bytes a stream should have -----------------------------------------------------


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def head(gen_id: str, model: str = MODEL, provider: str = "OpenAI") -> dict[str, Any]:
    return {
        "id": gen_id,
        "provider": provider,
        "model": model,
        "object": "chat.completion.chunk",
        "created": CREATED,
    }


def choice(
    delta: dict[str, Any], finish: str | None = None, native: str | None = None, index: int = 0
) -> dict[str, Any]:
    return {
        "index": index,
        "delta": delta,
        "finish_reason": finish,
        "native_finish_reason": native,
        "logprobs": None,
    }


def chunk(
    gen_id: str, delta: dict[str, Any], finish: str | None = None, native: str | None = None
) -> str:
    """A data event's JSON: one choice with `delta`."""
    return dumps({**head(gen_id), "choices": [choice(delta, finish, native)]})


def usage_chunk(
    gen_id: str, usage: dict[str, Any], shape: str = "empty_choices", finish: str = "stop"
) -> str:
    choices = [] if shape == "empty_choices" else [choice({}, finish, finish)]
    return dumps({**head(gen_id), "choices": choices, "usage": usage})


def error_chunk(
    gen_id: str, error: dict[str, Any], model: str = MODEL, provider: str = "OpenAI"
) -> str:
    return dumps(
        {
            "id": gen_id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "provider": provider,
            "error": error,
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": ""},
                    "finish_reason": "error",
                    "native_finish_reason": "error",
                }
            ],
        }
    )


def usage(
    completion_tokens: int,
    prompt_tokens: int = PROMPT_TOKENS,
    model: str = MODEL,
    reasoning_tokens: int = 0,
) -> dict[str, Any]:
    """The usage object the emulator reports for these counts: details, and the cost at the
    built-in catalog's prices for `model`."""
    from emulator.catalogfile import builtin_catalog
    from emulator.usage import build_usage

    pricing = builtin_catalog().pricing_for(model)
    return build_usage(prompt_tokens, completion_tokens, reasoning_tokens, pricing=pricing)


def sse(events: list[str], eol: str = "\n") -> bytes:
    """Events (`data: ...` or `: comment` lines) framed with `eol`, as bytes."""
    return "".join(e + eol + eol for e in events).encode()


def text_stream(
    gen_id: str,
    pieces: list[str],
    completion_tokens: int,
    *,
    comments: tuple[str, ...] = ("OPENROUTER PROCESSING",),
    shape: str = "empty_choices",
    done: bool = True,
) -> list[str]:
    """The events of a plain text stream: comments, role, pieces, finish, usage, [DONE]."""
    events = [f": {c}" for c in comments]
    events.append("data: " + chunk(gen_id, {"role": "assistant", "content": ""}))
    events += ["data: " + chunk(gen_id, {"content": p}) for p in pieces]
    events.append("data: " + chunk(gen_id, {}, "stop", "stop"))
    if shape != "none":
        events.append("data: " + usage_chunk(gen_id, usage(completion_tokens), shape))
    if done:
        events.append("data: [DONE]")
    return events
