"""The time scale shortens latencies but never the faults whose purpose is a client timeout:
`fault: hang` and `framing.stall_ms` are played whole even at time scale 0, so a fast suite can
still test a client's timeout handling."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from rawsse import last_entry

from emulator.config import Config
from emulator.testing import EmulatorServer

HOLD_MS = 3000  # far longer than the client's timeout below: the server stops it once we hang up
CLIENT_TIMEOUT_S = 0.3


@pytest.fixture(scope="module")
def fast_server() -> Iterator[EmulatorServer]:
    """A server whose time scale is 0, like a fast test suite's."""
    with EmulatorServer(Config(fixed_time=1735689600, time_scale=0)) as server:
        yield server


@pytest.fixture
def client(fast_server: EmulatorServer) -> Iterator[openai.OpenAI]:
    """An openai client with a short timeout and no retries."""
    fast_server.reset()
    with openai.OpenAI(
        base_url=fast_server.base_url, api_key="k", timeout=CLIENT_TIMEOUT_S, max_retries=0
    ) as client:
        yield client


def test_hang_at_time_scale_zero_times_the_client_out(
    fast_server: EmulatorServer, client: openai.OpenAI
) -> None:
    """`fault: hang` is not shortened by time scale 0: the client's own timeout fires."""
    fast_server.add({"name": "hang", "fault": {"kind": "hang", "max_ms": HOLD_MS}})
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])


def test_unscaled_waits_are_journaled_as_hold(fast_server: EmulatorServer) -> None:
    """The journal tells an unscaled wait (`hold`) from a scaled one (`wait`)."""
    fast_server.reset()
    fast_server.add({"name": "hang", "fault": {"kind": "hang", "max_ms": 20}})
    with (
        openai.OpenAI(base_url=fast_server.base_url, api_key="k", max_retries=0) as client,
        pytest.raises(openai.APIConnectionError),
    ):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    entry = last_entry(fast_server)
    assert [(e.kind, e.data) for e in entry.events] == [("hold", "20.0"), ("drop", "")]


def test_stall_at_time_scale_zero_times_the_client_out(
    fast_server: EmulatorServer, client: openai.OpenAI
) -> None:
    """`framing.stall_ms` is not shortened either: the stream stalls until the client gives up."""
    fast_server.add(
        {
            "name": "stall",
            "reply": {
                "content": "one two three",
                "stream": {"ttft_ms": 5000, "framing": {"stall_after": 3, "stall_ms": HOLD_MS}},
            },
        }
    )
    stream = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    received: list[str | None] = []
    with pytest.raises(openai.APITimeoutError):
        for chunk in stream:
            received.append(chunk.choices[0].delta.content)
    # ttft_ms (a latency) was scaled to nothing; the stall (a fault) held the third event.
    assert received == ["", "one"]
