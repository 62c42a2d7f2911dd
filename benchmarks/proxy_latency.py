"""Recording proxy: the latency it adds to every chunk (issue 14's benchmark).

    python benchmarks/proxy_latency.py [--streams 50] [--chunks 50] [--interval-ms 20]

An emulator in its own process (the upstream) streams a scenario: `--chunks` content chunks,
`--interval-ms` apart. `chat-emulator record` in a second process records from it (mode `all`,
one scenario file per stream). A raw aiohttp client runs `--streams` concurrent streams, first
straight to the upstream, then through the proxy, and stamps each content chunk with the wall
clock when its line arrives. The upstream's journal gives the wall time it wrote each chunk
(the request's arrival time + the event's t_ms). Per chunk, latency = arrival - written; the
proxy's added latency is the through-proxy latency minus the direct one (p50, p99). The client
shares the machine's 2 cores with both servers, and its own read loop is part of both figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp
from common import PYTHON, Server, emulator_cmd, machine_line, percentile, start_server, table


def scenario(chunks: int, interval_ms: float) -> str:
    words = " ".join(f"w{i}" for i in range(chunks))
    return (
        "name: bench\n"
        f"reply:\n  content: {words}\n"
        f"  stream: {{ttft_ms: 50, interval_ms: {interval_ms}}}\n"
    )


def _is_content(line: bytes) -> bool:
    """A chunk with content text (not the role chunk's empty content)."""
    return b'"content":"' in line and b'"content":""' not in line


async def one_stream(session: aiohttp.ClientSession, url: str, i: int) -> list[float]:
    """Wall-clock arrival time (s) of each content chunk of stream `i`."""
    body = {
        "model": "openai/gpt-4o",
        "stream": True,
        "messages": [{"role": "user", "content": f"bench {i}"}],
    }
    headers = {"Authorization": "Bearer sk-bench", "X-Bench-Id": str(i)}
    arrivals = []
    async with session.post(f"{url}/v1/chat/completions", json=body, headers=headers) as resp:
        async for line in resp.content:
            if line.startswith(b"data: {") and _is_content(line):
                arrivals.append(time.time())
    return arrivals


async def run(url: str, streams: int) -> dict[int, list[float]]:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        results = await asyncio.gather(*(one_stream(session, url, i) for i in range(streams)))
    return dict(enumerate(results))


def written_times(upstream: str) -> dict[int, list[float]]:
    """Wall time the upstream wrote each content chunk, per X-Bench-Id, from its journal."""
    with urllib.request.urlopen(f"{upstream}/_emulator/requests", timeout=30) as response:
        entries = json.load(response)["requests"]
    out: dict[int, list[float]] = {}
    for entry in entries:
        bench_id = entry["headers"].get("x-bench-id")
        if bench_id is None:
            continue
        out[int(bench_id)] = [
            entry["started_at"] + event["t_ms"] / 1000
            for event in entry["events"]
            if event["kind"] == "data" and _is_content(event["data"].encode())
        ]
    return out


def latencies(arrived: dict[int, list[float]], written: dict[int, list[float]]) -> list[float]:
    found = []
    for i, times in arrived.items():
        sent = written[i]
        assert len(times) == len(sent), f"stream {i}: {len(times)} chunks read, {len(sent)} sent"
        found += [(a - s) * 1000 for a, s in zip(times, sent, strict=True)]
    return found


def clear(upstream: str) -> None:
    request = urllib.request.Request(f"{upstream}/_emulator/requests", method="DELETE")
    urllib.request.urlopen(request, timeout=10).close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--chunks", type=int, default=50)
    parser.add_argument("--interval-ms", type=float, default=20.0)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-proxy-"))
    (tmp / "bench.yaml").write_text(scenario(args.chunks, args.interval_ms))
    servers: list[Server] = []
    try:
        upstream = start_server("upstream", emulator_cmd(0, str(tmp / "bench.yaml")))
        servers.append(upstream)
        proxy_cmd = [PYTHON, "-m", "emulator", "record", "--port", "0"]
        proxy_cmd += ["--upstream", f"{upstream.url}/v1", "--out", str(tmp / "recorded")]
        proxy = start_server("proxy", proxy_cmd)
        servers.append(proxy)
        asyncio.run(run(upstream.url, 2))  # warm both processes up
        asyncio.run(run(proxy.url, 2))
        rows = []
        figures: dict[str, list[float]] = {}
        for name, url in (("direct", upstream.url), ("through the proxy", proxy.url)):
            clear(upstream.url)
            arrived = asyncio.run(run(url, args.streams))
            figures[name] = latencies(arrived, written_times(upstream.url))
        direct, proxied = figures["direct"], figures["through the proxy"]
        for name, values in figures.items():
            rows.append([name, len(values), *(f"{percentile(values, q):.2f}" for q in (50, 99))])
        rows.append(
            [
                "added by the proxy",
                "",
                f"{percentile(proxied, 50) - percentile(direct, 50):.2f}",
                f"{percentile(proxied, 99) - percentile(direct, 99):.2f}",
            ]
        )
        recorded = len(list((tmp / "recorded").glob("*.yaml")))
        print(machine_line())
        print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}")
        print(
            f"{args.streams} concurrent streams x {args.chunks} chunks, {args.interval_ms:g} ms "
            f"apart; {recorded} recordings written\n"
        )
        print(table(["chunk latency (ms)", "chunks", "p50", "p99"], rows))
    finally:
        for server in servers:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
