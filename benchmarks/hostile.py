"""Hostile inputs vs a concurrent health check: how long does `GET /_emulator/health` wait while
one hostile request (at most 20 MiB) is being handled? Target: under 50 ms for every input.

    python benchmarks/hostile.py [--only NAME ...] [--json results.json]

It starts `python -m emulator serve --port 0` (and a `--strict` one for the strict-mode input)
as subprocesses on 127.0.0.1, builds every body first, then for each input: a prober thread
sends `GET /_emulator/health` on a kept-alive connection every 5 ms while the main thread sends
the hostile request and reads its answer. It reports the hostile request's status and time,
and the health checks' median and worst wait during it. Last, it sends SIGTERM to a server in
the middle of the costliest request and measures how long the process takes to exit.

A fresh server is first given one request and 2 s to finish its start-up warm-up.

Bounded: one hostile request per input, each answer awaited at most 120 s; ~1-2 minutes in all.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contextlib

from common import emulator_cmd, start_server, wait_for_quiet

MIB = 1024 * 1024
TARGET_MS = 50.0
PROBE_EVERY_S = 0.005
HOSTILE_TIMEOUT_S = 120.0
SETTLE_S = 2.0  # after start, for the server's warm-up (see settle)
MESSAGES = [{"role": "user", "content": "hi"}]
JSON_HEADERS = {"Authorization": "Bearer bench", "Content-Type": "application/json"}


@dataclass
class Case:
    """One hostile request: where it goes, its bytes, and which server (strict or not)."""

    name: str
    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON_HEADERS))
    strict: bool = False
    setup: Callable[[str], None] | None = None  # runs before the request (loads scenarios)


def _dump(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _enum_request(n: int) -> bytes:
    schema = {
        "type": "object",
        "properties": {"pick": {"enum": [f"value-{i}" for i in range(n)]}},
        "required": ["pick"],
    }
    rf = {"type": "json_schema", "json_schema": {"name": "pick", "strict": True, "schema": schema}}
    return _dump({"model": "m", "messages": MESSAGES, "response_format": rf})


def _post_scenario(text: str) -> Callable[[str], None]:
    def setup(url: str) -> None:
        status, _ = request(url, "POST", "/_emulator/scenarios?replace=true", text.encode(), {})
        if status != 201:
            raise RuntimeError(f"scenario upload answered {status}")

    return setup


def _scenario_yaml(size: int) -> bytes:
    """A valid scenario file of about `size` bytes: scenarios with 2 KB replies (a file of
    tiny scenarios this size passes the loader's 200,000-value limit and is refused)."""
    reply = "lorem ipsum dolor sit amet " * 75
    parts, total, i = ["scenarios:\n"], 0, 0
    while total < size:
        text = f"  - name: s{i}\n    match: {{last_user_message: hello {i}}}\n"
        text += f"    reply: {{content: {reply}}}\n"
        parts.append(text)
        total += len(text)
        i += 1
    return "".join(parts).encode()


def cases() -> list[Case]:
    """Every hostile input of the issue, at its full size (each at most 20 MiB)."""
    parts_128k = [{"type": "bogus", "x": 1}] * (128 * 1024 // 24)
    unknown = {f"unknown_{i}": 1 for i in range(16_000)}
    empties = b"{}," * ((20 * MIB - 64) // 3)
    template = "{{ request.last_user_message }}" * 100_000
    return [
        Case(
            "enum of 4,000 values (response_format)", "/v1/chat/completions", _enum_request(4_000)
        ),
        Case(
            "enum of 100,000 values (response_format)",
            "/v1/chat/completions",
            _enum_request(100_000),
        ),
        Case(
            "128 KB of invalid content parts",
            "/v1/chat/completions",
            _dump({"model": "m", "messages": [{"role": "user", "content": parts_128k}]}),
        ),
        Case(
            "16,000 unknown keys (strict mode)",
            "/v1/chat/completions",
            _dump({"model": "m", "messages": MESSAGES, **unknown}),
            strict=True,
        ),
        Case(
            "20 MiB body of [{}] (depth check, validation)",
            "/v1/chat/completions",
            b'{"model":"m","messages":[' + empties[:-1] + b"]}",
        ),
        Case(
            "4 MB prompt (token counting)",
            "/v1/chat/completions",
            _dump(
                {"model": "m", "messages": [{"role": "user", "content": "lorem ipsum " * 349_526}]}
            ),
        ),
        Case(
            "4 MB prompt of one repeated letter (token counting)",
            "/v1/chat/completions",
            _dump({"model": "m", "messages": [{"role": "user", "content": "a" * (4 * MIB)}]}),
        ),
        Case(
            "5 MB scenario upload (YAML parsing)",
            "/_emulator/scenarios?replace=true",
            _scenario_yaml(5 * MIB),
            headers={"Content-Type": "application/yaml"},
        ),
        Case(
            "26-character input against scenario regex ^(a+)+$",
            "/v1/chat/completions",
            _dump({"model": "m", "messages": [{"role": "user", "content": "a" * 25 + "!"}]}),
            setup=_post_scenario(
                "name: redos\nmatch:\n  last_user_message: {regex: '^(a+)+$'}\n"
                "reply: {content: matched}\n"
            ),
        ),
        Case(
            "100,000 copies of a template expression",
            "/v1/chat/completions",
            _dump({"model": "m", "messages": [{"role": "user", "content": "x" * 1024}]}),
            setup=_post_scenario(f"name: blowup\nreply:\n  content: '{template}'\n"),
        ),
        Case(
            "models[] of 5,000 fallback models, every one failing",
            "/v1/chat/completions",
            _dump(
                {
                    "model": "acme/m",
                    "models": [f"acme/m{i}" for i in range(5_000)],
                    "messages": MESSAGES,
                }
            ),
            setup=_post_scenario("name: down\nerror: service_unavailable\n"),
        ),
    ]


def request(
    url: str, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=HOSTILE_TIMEOUT_S)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Prober(threading.Thread):
    """GET /_emulator/health every PROBE_EVERY_S on one kept-alive connection; each probe's
    (start time, wait in ms)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            t0 = time.perf_counter()
            self.conn.request("GET", "/_emulator/health")
            self.conn.getresponse().read()
            self.samples.append((t0, (time.perf_counter() - t0) * 1000))
            self.stop.wait(PROBE_EVERY_S)
        self.conn.close()


@dataclass
class Result:
    name: str
    status: int
    request_ms: float
    probes: int
    health_p50_ms: float
    health_max_ms: float

    @property
    def ok(self) -> bool:
        return self.health_max_ms < TARGET_MS


def measure(case: Case, url: str) -> Result:
    if case.setup is not None:
        case.setup(url)
    prober = Prober(url)
    prober.start()
    time.sleep(0.1)  # a few probes before, so the connection is warm
    t0 = time.perf_counter()
    status, _ = request(url, "POST", case.path, case.body, case.headers)
    t1 = time.perf_counter()
    time.sleep(0.05)
    prober.stop.set()
    prober.join()
    # Probes that were waiting at any moment while the hostile request was in flight.
    during = [ms for start, ms in prober.samples if start <= t1 and start + ms / 1000 >= t0]
    return Result(
        case.name,
        status,
        (t1 - t0) * 1000,
        len(during),
        statistics.median(during) if during else 0.0,
        max(during) if during else 0.0,
    )


def baseline(url: str, seconds: float = 1.0) -> Result:
    """The health checks' wait with no hostile request: the machine's noise floor."""
    prober = Prober(url)
    prober.start()
    time.sleep(seconds)
    prober.stop.set()
    prober.join()
    waits = [ms for _, ms in prober.samples[5:]]
    return Result(
        "no hostile request (noise floor)",
        0,
        seconds * 1000,
        len(waits),
        statistics.median(waits),
        max(waits),
    )


def sigterm_during(case: Case) -> float:
    """Seconds from SIGTERM to exit while `case` is being handled."""
    server = start_server("hostile-sigterm", emulator_cmd(0, None, "--log-level", "WARNING"))
    sender = threading.Thread(
        target=lambda: _ignore(
            lambda: request(server.url, "POST", case.path, case.body, case.headers)
        ),
        daemon=True,
    )
    sender.start()
    time.sleep(0.5)  # the body is sent and being worked on
    t0 = time.perf_counter()
    server.proc.terminate()
    server.proc.wait(timeout=30)
    elapsed = time.perf_counter() - t0
    server.stop()
    return elapsed


def _ignore(fn: Callable[[], object]) -> None:
    with contextlib.suppress(OSError):
        fn()


def settle(url: str) -> None:
    """Let a fresh server finish its start-up warm-up (the tokenizer, the validator and Faker,
    built on its event loop at idle moments after it starts listening: a one-time pause of up to
    ~0.4 s that is start-up, not hostile input) before anything is measured."""
    body = _dump({"model": "openai/gpt-4o", "messages": MESSAGES})
    request(url, "POST", "/v1/chat/completions", body, JSON_HEADERS)
    time.sleep(SETTLE_S)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", nargs="*", help="run only inputs whose name contains these")
    parser.add_argument("--json", help="write the results here as JSON")
    args = parser.parse_args()
    selected = [c for c in cases() if not args.only or any(word in c.name for word in args.only)]
    wait_for_quiet()
    normal = start_server("hostile", emulator_cmd(0, None, "--log-level", "WARNING"))
    strict = start_server(
        "hostile-strict", emulator_cmd(0, None, "--strict", "--log-level", "WARNING")
    )
    for server in (normal, strict):
        settle(server.url)
    results: list[Result] = []
    try:
        for case in [None, *selected]:
            if case is None:
                result = baseline(normal.url)
            else:
                result = measure(case, strict.url if case.strict else normal.url)
            results.append(result)
            mark = "ok " if result.ok else "SLOW"
            print(
                f"{mark} {result.name:55s} -> {result.status} in {result.request_ms:8.0f} ms; "
                f"health waited p50 {result.health_p50_ms:5.1f} ms, "
                f"max {result.health_max_ms:6.1f} ms ({result.probes} probes)",
                flush=True,
            )
    finally:
        normal.stop()
        strict.stop()
    stop_s = sigterm_during(cases()[1])
    print(f"SIGTERM during the 100,000-value enum request: exited in {stop_s:.2f} s")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"results": [r.__dict__ for r in results], "sigterm_exit_s": stop_s}, indent=2
            )
        )
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
