"""Workers scaling: non-streaming requests/s of `serve --workers 2` against one process, in
alternating rounds of the same run.

    python benchmarks/workers.py [--duration 10] [--rounds 3] [--connections 64]
                                 [--loadgen auto|wrk|python]

Both servers are started as users run them (`python -m emulator serve --port 0`, validation,
matching, token counting, the journal and the access log on); every request body is distinct.
The load generator shares the machine's 2 cores with the server (wrk is light; the Python
fallback is not): the figure is the ratio of the two in the same rounds, not an absolute rate.
On a 2-core machine the second worker competes with the load generator for the second core,
so the ratio there is a floor, not what a bigger machine gives.
"""

from __future__ import annotations

import argparse
import sys

from common import (
    AUTH,
    emulator_cmd,
    machine_line,
    median,
    plain_body,
    python_load,
    start_server,
    table,
    wait_for_quiet,
    wrk_available,
    wrk_load,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--quiet-wait", type=float, default=10.0)
    args = parser.parse_args()
    use_wrk = args.loadgen == "wrk" or (args.loadgen == "auto" and wrk_available())
    load = wrk_load if use_wrk else python_load
    servers = {
        "1 process": start_server("one", emulator_cmd()),
        "--workers 2": start_server("two", emulator_cmd(0, None, "--workers", "2")),
    }
    rates: dict[str, list[float]] = {name: [] for name in servers}
    rows = []
    try:
        template = plain_body()
        for name, server in servers.items():  # warm-up
            load(server.url + "/v1/chat/completions", template, AUTH, 8, 1.0, f"warm-{name}")
        for r in range(args.rounds):
            for name, server in servers.items():
                wait_for_quiet(args.quiet_wait)
                result = load(
                    server.url + "/v1/chat/completions",
                    template,
                    AUTH,
                    args.connections,
                    args.duration,
                    f"r{r}-{name}",
                )
                rates[name].append(result.rps)
                rows.append([name, r + 1, result.rps, result.p50_ms, result.p99_ms, result.errors])
                print(f"  round {r + 1} {name}: {result.rps:.0f} req/s", file=sys.stderr)
    finally:
        for server in servers.values():
            server.stop()
    print(machine_line())
    print(f"load generator: {'wrk' if use_wrk else 'python (shares the cores)'}\n")
    print(table(["server", "round", "req/s", "p50 ms", "p99 ms", "errors"], rows))
    ratios = [two / one for one, two in zip(rates["1 process"], rates["--workers 2"], strict=True)]
    print(f"\n--workers 2 / 1 process, non-streaming req/s: median {median(ratios):.2f} ")
    print("(per round: " + ", ".join(f"{x:.2f}" for x in ratios) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
