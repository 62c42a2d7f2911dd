"""Paced streams: 100 staggered streams (with an empty and a full journal) and the paced-stream
capacity of one process, emulator against bare aiohttp in the same run.

    python benchmarks/pacing.py [--repeat 3] [--levels 100 200 300 400 500 600 800]

1. **100 staggered streams**: 100 concurrent streams of 50 content chunks 10 ms apart, started
   one every 2.5 ms: gap error (|observed gap - 10 ms|) p50/p99, drift p99, first chunk p50, for
   the bare server, the emulator, and the emulator whose journal already holds 1,000 entries
   (its default limit: 1,000 streams are played first, so the garbage collector and the journal
   carry their full weight).
2. **capacity**: for each level of n streams (started over max(0.25, n/400) s), the run with
   the median p99; a server "holds" a level when every stream completes with a p99 gap error
   under 5 ms. Levels rise until a server no longer holds one; its capacity is the highest level
   it held. Emulator and bare alternate at each level. Target: emulator / bare >= 0.8. A stream
   lasts 0.49 s, so up to 200 the level is the number of streams live at once; above it, about
   200 are live at a time (the "peak live" column) and a higher level is the same 400 new
   streams a second sustained for longer (n/400 s).

The client is Python on the same 2 cores (its CPU is in the table): compare the ratios, not the
absolute figures. Each run waits (bounded) for the machine to go quiet first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

import aiohttp
from common import (
    AUTH,
    Server,
    bare_cmd,
    emulator_cmd,
    machine_line,
    percentile,
    start_server,
    table,
)
from stream_timing import (
    BARE_HEADERS,
    HEADER,
    HEADERS,
    Config,
    Observed,
    median_run,
    row,
    run_clean,
    write_scenario,
)

P99_LIMIT_MS = 5.0
STAGGERED = Config("100, one every 2.5 ms", 100, 0.25)


def holds(o: Observed) -> bool:
    return o.complete() == o.config.streams and percentile(o.gap_errors_ms(), 99) < P99_LIMIT_MS


async def fill_journal(session: aiohttp.ClientSession, server: Server, n: int) -> None:
    """Play `n` short streams so the journal is full before measuring."""
    url = server.url + "/v1/chat/completions"
    body = json.dumps(
        {
            "model": "openai/gpt-4o",
            "stream": True,
            "messages": [{"role": "user", "content": "fill"}],
            "max_tokens": 50,
        }
    ).encode()
    sem = asyncio.Semaphore(32)

    async def one() -> None:
        async with sem, session.post(url, data=body) as resp:
            await resp.read()

    await asyncio.gather(*(one() for _ in range(n)))


async def measure(
    args: argparse.Namespace, servers: dict[str, tuple[Server, dict[str, str]]]
) -> None:
    counter = [0]
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, headers=AUTH, timeout=timeout) as session:
        for server, headers in servers.values():  # warm-up
            await run_clean(session, server, Config("warm-up", 20, 0.25), headers, counter, args)
        await fill_journal(session, servers["emulator, full journal"][0], 1000)
        staggered = []
        for name, (server, headers) in servers.items():
            runs = [
                await run_clean(session, server, STAGGERED, headers, counter, args)
                for _ in range(args.repeat)
            ]
            best = median_run(runs)
            best.server = name
            staggered.append(best)
            print(f"  {name}: p99 {percentile(best.gap_errors_ms(), 99):.2f} ms", file=sys.stderr)
        capacity: dict[str, int] = {}
        sweep: list[Observed] = []
        alive = {"bare": True, "emulator": True}
        for n in args.levels:
            spread = max(0.25, n / 400)
            for name in ("bare", "emulator"):
                if not alive[name]:
                    continue
                server, headers = servers[name]
                runs = [
                    await run_clean(
                        session,
                        server,
                        Config(f"{n}, over {spread:g} s", n, spread),
                        headers,
                        counter,
                        args,
                    )
                    for _ in range(args.repeat)
                ]
                o = median_run(runs)
                o.server = name
                sweep.append(o)
                ok = holds(o)
                print(
                    f"  capacity {name:8} {n:5}: p99 {percentile(o.gap_errors_ms(), 99):.2f} ms, "
                    f"complete {o.complete()}/{n} -> {'holds' if ok else 'no'}",
                    file=sys.stderr,
                    flush=True,
                )
                if ok:
                    capacity[name] = n
                else:
                    alive[name] = False
            if not any(alive.values()):
                break
    print(machine_line())
    print("\n### 100 staggered streams of 50 chunks at 10 ms\n")
    print(table(HEADERS, [row(o) for o in staggered]))
    print("\n### Capacity sweep (p99 gap error < 5 ms, every stream complete)\n")
    print(table(HEADERS, [row(o) for o in sweep]))
    emu, bare = capacity.get("emulator", 0), capacity.get("bare", 0)
    top = max(args.levels)
    note = " (the highest level tried: raise --levels)" if top in (emu, bare) else ""
    ratio = emu / bare if bare else float("nan")
    print(
        f"\nCapacity: emulator {emu}, bare {bare} streams{note}; "
        f"ratio {ratio:.2f} (target >= 0.8)"
    )
    for o in staggered:
        p99, drift = percentile(o.gap_errors_ms(), 99), percentile(o.drifts_ms(), 99)
        verdict = (
            "PASS" if o.complete() == o.config.streams and p99 < 5 and abs(drift) < 5 else "MISS"
        )
        print(
            f"{o.server}: p99 gap error {p99:.2f} ms, drift p99 {drift:.2f} ms "
            f"(targets < 5 ms): {verdict}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--levels", type=int, nargs="+", default=[100, 200, 300, 400, 500, 600, 800]
    )
    parser.add_argument("--quiet-wait", type=float, default=10.0)
    parser.add_argument("--retries", type=int, default=2)
    parser.add_argument(
        "--noisy", type=float, default=0.25, help="others' CPU (cores) that makes a run noisy"
    )
    args = parser.parse_args()
    scenarios = write_scenario()
    started: dict[str, tuple[Server, dict[str, str]]] = {}
    try:
        started["bare"] = (start_server("bare", bare_cmd()), BARE_HEADERS)
        started["emulator"] = (start_server("emulator", emulator_cmd(0, scenarios)), HEADER)
        started["emulator, full journal"] = (
            start_server("emulator-full", emulator_cmd(0, scenarios)),
            HEADER,
        )
        asyncio.run(measure(args, started))
    finally:
        for server, _ in started.values():
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
