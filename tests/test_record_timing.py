"""A recording keeps the upstream's timing: an emulator in its own process plays a stream with
known gaps; the recorded waits follow the upstream's own measured schedule, and a replay plays
exactly the recorded schedule."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import rawsse
import yaml
from upstreams import emulator_process

from emulator.testing import EmulatorServer

# The recorder adds no error of its own: on a quiet machine the typical (median) gap is within
# 2 ms of the upstream's. On a busy one either process can be scheduled late by a few ms (the
# 2 ms median failed about one run in four under a loaded CI), so the bounds below leave room
# for that and still catch a recorder that loses or distorts the timing: the scripted
# intervals are 20-60 ms, and a recorder writing them as 0 (or twice as long) is off by that.
TOLERANCE_MS = 8.0
WORST_MS = 18.0
SCENARIO = """
name: paced
reply:
  content: "one two three four five six"
  stream: {ttft_ms: 60, interval_ms: [40, 25, 60, 35, 20]}
"""


@pytest.fixture(scope="module")
def upstream_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`chat-emulator serve` with the paced scenario, in its own process."""
    path = tmp_path_factory.mktemp("upstream") / "paced.yaml"
    path.write_text(SCENARIO)
    with emulator_process(path) as url:
        # A first request warms the process up (lazy imports, first-use caches), as any
        # long-running router is warm.
        port = int(url.rsplit(":", 1)[1])
        rawsse.post(port, rawsse.stream_body(), {"Authorization": "Bearer sk-warm-up"})
        yield url


def _upstream_sends(url: str) -> list[float]:
    """The upstream's measured t_ms of each event it sent (its journal), in order."""
    with urllib.request.urlopen(f"{url}/_emulator/requests", timeout=10) as response:
        entry = json.load(response)["requests"][-1]
    return [e["t_ms"] for e in entry["events"] if e["kind"] in ("data", "comment", "done")]


def _recorded_times(events: list[dict[str, object]]) -> list[float]:
    """Each recorded event's time since the head: the sum of the waits before it."""
    now, times = 0.0, []
    for event in events:
        if "wait_ms" in event:
            now += float(event["wait_ms"])  # type: ignore[arg-type]
        elif "disconnect" not in event:
            times.append(now)
    return times


def test_recorded_gaps_follow_the_upstream_schedule(
    server: EmulatorServer, upstream_url: str, tmp_path: Path
) -> None:
    """The recorded times of the events follow the times the upstream measured when it sent
    them (median within 8 ms, every one within 18 ms, on intervals of 20-60 ms); the replay's
    schedule is exactly the recorded one."""
    cassette = tmp_path / "c.yaml"
    server.record(cassette, "all", f"{upstream_url}/v1")
    first = rawsse.post(server.port, rawsse.stream_body())
    server.stop_recording()
    [scenario] = yaml.safe_load(cassette.read_text())["scenarios"]
    events = scenario["reply"]["stream"]["events"]
    # From the first data event on: the head and the comment before it leave the upstream
    # together, a few ms after its journal stamps them (its first write of the response).
    recorded = _recorded_times(events)[1:]
    sent = _upstream_sends(upstream_url)[1:]
    assert len(recorded) == len(sent) >= 8
    gaps = [
        (round(r - recorded[0], 2), round(s - sent[0], 2))
        for r, s in zip(recorded, sent, strict=True)
    ]
    errors = sorted(abs(r - s) for r, s in gaps)
    assert errors[len(errors) // 2] <= TOLERANCE_MS and errors[-1] <= WORST_MS, gaps
    assert gaps[-1][1] >= 170  # the scripted 40 + 25 + 60 + 35 + 20 ms were really there

    server.reset()
    server.record(cassette, "none")
    again = rawsse.post(server.port, rawsse.stream_body())
    waits = [float(e.data) for e in server.last_request.events if e.kind == "wait"][1:]
    assert waits == [float(e["wait_ms"]) for e in events if "wait_ms" in e]
    assert again.body == first.body
