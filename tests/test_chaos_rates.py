"""Seeded chaos over 1,000 real requests: what the client observes per fault kind is within
tolerance of each rate, and lands exactly at the requests the pure decisions predict for the
seed (so a run is reproducible from its seed alone)."""

from __future__ import annotations

import http.client
import json
import math
from collections import Counter

from emulator import chaos, chaosspec
from emulator.runtime import session_scope
from emulator.testing import EmulatorServer

HEADER = "error:502=0.05,malformed=0.04,reset=0.02,disconnect=0.02,stall:0=0.02,seed=13"
BODY = json.dumps({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
N = 1000


def observe(server: EmulatorServer) -> str:
    """What one request looks like from the client: `ok`, `error`, `malformed` or `dropped`
    (the connection ended without a response: disconnect, reset or stall)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = {"Authorization": "Bearer k", "Content-Type": "application/json"}
    try:
        conn.request("POST", "/v1/chat/completions", BODY, {**headers, "X-Emulator-Chaos": HEADER})
        response = conn.getresponse()
        body = response.read()
    except (ConnectionError, http.client.HTTPException):
        return "dropped"
    finally:
        conn.close()
    if response.status == 502:
        return "error"
    try:
        json.loads(body)
    except ValueError:
        return "malformed"
    return "ok"


def test_observed_rates_and_placements_over_1000_requests(server: EmulatorServer) -> None:
    """Each observed share is within 4 standard deviations of its rate, and every request got
    the fault the seed decides for its number."""
    server.configure(time_scale=0)
    seen = [observe(server) for _ in range(N)]

    spec = chaosspec.parse_header(HEADER)
    counters = chaos.ChaosCounters()
    scope = session_scope(None) + f"header {HEADER}"
    predicted = [chaos.decide(spec, scope, 0, counters, 0.0).fault for _ in range(N)]
    as_seen = {"error": "error", "malformed": "malformed"}
    expected = [as_seen.get(f.kind, "dropped") if f else "ok" for f in predicted]
    assert seen == expected

    counts = Counter(seen)
    for kind, rate in (("error", 0.05), ("malformed", 0.04), ("dropped", 0.06)):
        sigma = math.sqrt(N * rate * (1 - rate))
        assert abs(counts[kind] - N * rate) <= 4 * sigma, (kind, counts[kind])
    journal = Counter(e.chaos["fault"] for e in server.requests if e.chaos and e.chaos["fault"])
    assert journal == Counter(f.kind for f in predicted if f)
