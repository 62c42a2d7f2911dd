"""A bare aiohttp server: the baseline the emulator is measured against.

It answers POST /v1/chat/completions with nothing in between: no auth check, no validation, no
matching, no token counting, no journal. The body is parsed only to read `stream`:

- without `"stream": true`: one fixed, pre-encoded completion of the emulator's size and shape;
- with `"stream": true`: a fixed SSE stream of the emulator's shape (the keep-alive comment, a role
  chunk, 20 content chunks, a finish chunk, a usage chunk, `data: [DONE]`), one StreamResponse
  write per event, no delays;
- (stream_timing.py only) with headers `X-Bench-Chunks: N` and `X-Bench-Interval-Ms: MS`, N
  content chunks at absolute deadlines MS apart, the emulator's pacing, as a timing baseline.

Run: python benchmarks/bare_server.py [--port 0] [--content-chars 250]
It prints `bare-server serving on http://127.0.0.1:PORT` as its first line, like the emulator.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from typing import Any

from aiohttp import web
from common import STREAM_CHUNKS

ID = "gen-1700000000-AbCdEfGhIjKlMnOpQrSt"
CREATED = 1700000000
HEAD = {"id": ID, "provider": "OpenAI", "model": "openai/gpt-4o", "created": CREATED}
SSE_HEADERS = {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-cache",
    "Connection": "keep-alive",
    "X-Accel-Buffering": "no",
    "X-Generation-Id": ID,
}
WORDS = ("lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed")
APP_KEY_JSON = web.AppKey("completion", bytes)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def content_of(chars: int) -> str:
    words: list[str] = []
    i = 0
    while len(" ".join(words)) < chars:
        words.append(WORDS[i % len(WORDS)])
        i += 1
    return (" ".join(words)[: chars - 1].rstrip() + ".") if chars > 0 else ""


def completion_bytes(content: str) -> bytes:
    body = {
        **HEAD,
        "object": "chat.completion",
        "choices": [
            {
                "logprobs": None,
                "finish_reason": "stop",
                "native_finish_reason": "stop",
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
            }
        ],
        "usage": {"prompt_tokens": 18, "completion_tokens": 52, "total_tokens": 70},
    }
    return dumps(body).encode()


def chunk(choices: list[dict[str, Any]], usage: dict[str, int] | None = None) -> bytes:
    out: dict[str, Any] = {**HEAD, "object": "chat.completion.chunk", "choices": choices}
    if usage is not None:
        out["usage"] = usage
    return f"data: {dumps(out)}\n\n".encode()


def delta(d: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
    return [
        {
            "index": 0,
            "delta": d,
            "finish_reason": finish,
            "native_finish_reason": finish,
            "logprobs": None,
        }
    ]


def stream_events(pieces: tuple[str, ...]) -> tuple[list[bytes], list[bytes], list[bytes]]:
    """(head events, one event per content piece, tail events) of a stream."""
    head = [b": OPENROUTER PROCESSING\n\n", chunk(delta({"role": "assistant", "content": ""}))]
    body = [chunk(delta({"content": p})) for p in pieces]
    usage = {
        "prompt_tokens": 18,
        "completion_tokens": len(pieces),
        "total_tokens": 18 + len(pieces),
    }
    tail = [chunk(delta({}, "stop")), chunk([], usage), b"data: [DONE]\n\n"]
    return head, body, tail


FIXED_STREAM = stream_events(STREAM_CHUNKS)


async def chat(request: web.Request) -> web.StreamResponse:
    body = json.loads(await request.read())
    if body.get("stream") is not True:
        return web.Response(
            body=request.app[APP_KEY_JSON],
            content_type="application/json",
            headers={"X-Generation-Id": ID},
        )
    chunks = request.headers.get("X-Bench-Chunks")
    if chunks is not None:
        return await timed_stream(
            request, int(chunks), float(request.headers.get("X-Bench-Interval-Ms", "0"))
        )
    response = web.StreamResponse(headers=SSE_HEADERS)
    await response.prepare(request)
    head, pieces, tail = FIXED_STREAM
    for event in (*head, *pieces, *tail):
        await response.write(event)
    await response.write_eof()
    return response


async def timed_stream(request: web.Request, n: int, interval_ms: float) -> web.StreamResponse:
    """n content chunks, interval_ms apart, against absolute deadlines on the loop clock."""
    loop = asyncio.get_running_loop()
    head, pieces, tail = stream_events(tuple(f" w{i}" for i in range(n)))
    response = web.StreamResponse(headers=SSE_HEADERS)
    await response.prepare(request)
    for event in head:
        await response.write(event)
    start = loop.time()
    for i, event in enumerate(pieces):
        left = start + i * interval_ms / 1000 - loop.time()
        if left > 0:
            await asyncio.sleep(left)
        await response.write(event)
    for event in tail:
        await response.write(event)
    await response.write_eof()
    return response


async def serve(port: int, content_chars: int) -> None:
    app = web.Application()
    app[APP_KEY_JSON] = completion_bytes(content_of(content_chars))
    app.router.add_post("/v1/chat/completions", chat)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    host, bound = runner.addresses[0][:2]
    print(f"bare-server serving on http://{host}:{bound}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--content-chars",
        type=int,
        default=250,
        help="length of the fixed completion's content (match the emulator's)",
    )
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.content_chars))


if __name__ == "__main__":
    main()
