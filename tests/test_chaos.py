"""Seeded chaos: the pure decisions (determinism, rates within tolerance over 1,000 requests,
bursts), the header and CLI syntax, and every fault kind on the wire and through the SDK."""

from __future__ import annotations

import http.client
import math
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest
from wire import request

from emulator import chaos, chaosspec
from emulator.cli import build_parser, config_from_args
from emulator.testing import EmulatorServer

BODY = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


def decisions(spec: chaos.Chaos, n: int, seed: int = 0, step_ms: float = 1.0) -> list[str | None]:
    counters = chaos.ChaosCounters()
    out = []
    for i in range(n):
        decision = chaos.decide(spec, "server", seed, counters, i * step_ms)
        out.append(decision.fault.kind if decision.fault else None)
    return out


RATES = chaosspec.parse_header("error:502=0.05,reset=0.02,disconnect=0.01,seed=7")


def test_same_seed_same_faults_at_the_same_requests() -> None:
    """Two runs of 1,000 requests under one seed inject the same faults in the same places."""
    assert decisions(RATES, 1000) == decisions(RATES, 1000)


def test_another_seed_moves_the_faults() -> None:
    """A different seed gives a different placement."""
    other = chaosspec.parse_header("error:502=0.05,reset=0.02,disconnect=0.01,seed=8")
    assert decisions(RATES, 1000) != decisions(other, 1000)


def test_observed_rates_within_tolerance_over_1000_requests() -> None:
    """Each fault's share of 1,000 requests is within 4 standard deviations of its rate."""
    counts = Counter(decisions(RATES, 1000))
    for kind, rate in (("error", 0.05), ("reset", 0.02), ("disconnect", 0.01)):
        sigma = math.sqrt(1000 * rate * (1 - rate))
        assert abs(counts[kind] - 1000 * rate) <= 4 * sigma, (kind, counts[kind])


def test_burst_every_n_requests() -> None:
    """burst=error:429*3/10: requests 1-3, 11-13, 21-23 fail, the rest pass."""
    spec = chaosspec.parse_header("burst=error:429*3/10")
    got = decisions(spec, 25)
    assert [i + 1 for i, kind in enumerate(got) if kind] == [1, 2, 3, 11, 12, 13, 21, 22, 23]


def test_burst_every_window_of_time() -> None:
    """burst=reset*2/1s: the first two requests of every 1000 ms window fail."""
    spec = chaosspec.parse_header("burst=reset*2/1s")
    got = decisions(spec, 12, step_ms=250)  # 4 requests per window
    assert [i for i, kind in enumerate(got) if kind] == [0, 1, 4, 5, 8, 9]


def test_the_reason_says_why() -> None:
    """A decision names the spec, the rate and the draw that picked it."""
    spec = chaosspec.parse_header("error:rate_limited=1,seed=3")
    decision = chaos.decide(spec, "server", 0, chaos.ChaosCounters(), 0)
    assert decision.to_json()["detail"] == "error 429 (rate_limited)"
    assert decision.reason.startswith("header chaos: rate 1 of error (seed 3, draw 0.")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("error=2", "rate 2 of error is not between 0 and 1"),
        ("error=0.7,reset=0.6", "rates add up to 1.3; at most 1 (every request) is possible"),
        ("boom=0.1", "fault 'boom' is not a chaos fault; valid: error, disconnect, reset"),
        ("error:teapot=0.1", "unknown error preset 'teapot'; valid: bad_request"),
        ("burst=error*5/3", "a burst of 5 every 3 requests cannot fit"),
        ("burst=error*2/0s", "a burst's period must be above 0 ms and finite, not 0 ms"),
        ("burst=error*0/0", "a burst's count must be at least 1, not 0"),
        ("burst=error*1/" + "9" * 400 + "ms", "a burst's period must be above 0 ms and finite"),
        ("reset:5=0.1", "'reset:5=0.1': fault reset takes no argument"),
        ("what", "cannot read 'what'; expected KIND[:ARG]=RATE"),
    ],
)
def test_bad_specs_are_named(header: str, message: str) -> None:
    """A wrong spec raises ValueError naming the problem (the valid values where listed)."""
    with pytest.raises(ValueError, match=None) as info:
        chaosspec.parse_header(header)
    assert message in str(info.value)


def test_bad_header_is_a_400(server: EmulatorServer) -> None:
    """On the wire a bad X-Emulator-Chaos header is a 400 naming it."""
    answer = request(server.url, body=BODY, headers={"X-Emulator-Chaos": "error=2"})
    assert answer.status == 400
    assert answer.json()["error"]["message"] == (
        "header X-Emulator-Chaos: rate 2 of error is not between 0 and 1"
    )


@pytest.mark.parametrize("header", ["burst=error:429*3/0s", "burst=error*0/0", "burst=reset*0/0ms"])
def test_a_burst_with_no_period_is_a_400_not_a_500(server: EmulatorServer, header: str) -> None:
    """A header burst of 0 ms or 0 requests is refused naming it (before: a division by zero
    while deciding, a 500)."""
    answer = request(server.url, body=BODY, headers={"X-Emulator-Chaos": header})
    assert answer.status == 400
    assert answer.json()["error"]["message"].startswith("header X-Emulator-Chaos: a burst's")


def test_a_seed_given_twice_is_a_400_naming_it(server: EmulatorServer) -> None:
    """`seed=1,seed=2` is refused (the last one silently won before)."""
    answer = request(server.url, body=BODY, headers={"X-Emulator-Chaos": "seed=1,seed=2"})
    assert answer.status == 400
    assert answer.json()["error"]["message"] == (
        "header X-Emulator-Chaos: seed is given twice ('seed=2'); give one seed=N"
    )


def test_cli_takes_the_header_syntax_and_rejects_bad_specs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """serve --chaos builds the spec; a wrong one is an argparse error naming it."""
    args = build_parser().parse_args(["serve", "--chaos", "error:429=0.1,seed=4"])
    config = config_from_args(args)
    assert config.chaos is not None and config.chaos.seed == 4
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--chaos", "error=3"])
    assert "rate 3 of error is not between 0 and 1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("seed: 1\nrates:\n  - fault: error\n", "missing required key 'rate' in chaos.rates[0]"),
        ("seed: [1\n", "not valid YAML"),
        ("- 1\n", "the file must hold a mapping of seed, rates and bursts"),
    ],
    ids=["missing-rate", "bad-yaml", "not-a-mapping"],
)
def test_cli_chaos_file_problems_are_usage_errors_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    """serve --chaos FILE checks the file as a scenario's chaos: key: a usage error naming the
    file and the problem, never a traceback or a bare key name."""
    path = tmp_path / "chaos.yaml"
    path.write_text(text)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--chaos", str(path)])
    err = capsys.readouterr().err
    assert f"argument --chaos: {path}" in err and message in err


def test_cli_chaos_file_builds_the_server_spec(tmp_path: Path) -> None:
    """A good chaos file gives the server's chaos spec."""
    path = tmp_path / "chaos.yaml"
    path.write_text("seed: 3\nrates:\n  - {fault: error, error: provider_error, rate: 0.5}\n")
    config = config_from_args(build_parser().parse_args(["serve", "--chaos", str(path)]))
    assert config.chaos is not None and config.chaos.seed == 3 and config.chaos.source == "server"


# --- on the wire ------------------------------------------------------------------------------


def faults_of(server: EmulatorServer, header: str, n: int) -> list[int]:
    return [
        request(server.url, body=BODY, headers={"X-Emulator-Chaos": header}).status
        for _ in range(n)
    ]


def test_same_seed_same_statuses_over_http(server: EmulatorServer) -> None:
    """200 requests twice (reset between): the same requests get the 429s."""
    header = "error:429=0.1,seed=11"
    first = faults_of(server, header, 200)
    server.reset()
    assert faults_of(server, header, 200) == first
    assert first.count(429) >= 5
    assert first.count(429) <= 40


def test_journal_says_which_fault_and_why(server: EmulatorServer) -> None:
    """The journal entry holds the fault, its detail and the reason."""
    request(server.url, body=BODY, headers={"X-Emulator-Chaos": "error:503=1"})
    entry = server.last_request
    assert entry.status == 503
    assert entry.chaos is not None
    assert (entry.chaos["fault"], entry.chaos["detail"], entry.chaos["request"]) == (
        "error",
        "error 503 (no_provider)",
        1,
    )
    assert entry.chaos["reason"].startswith("header chaos: rate 1 of error")


def test_scenario_chaos_through_the_sdk(server: EmulatorServer) -> None:
    """A scenario's chaos burst gives the SDK a RateLimitError, then the scenario's reply."""
    server.add(
        """
name: flaky
chaos:
  bursts: [{fault: error, error: rate_limited, count: 1, every: 2}]
reply: {content: fine}
"""
    )
    client = openai.OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0)

    def ask() -> str:
        reply = client.chat.completions.create(model="openai/gpt-4o", messages=BODY["messages"])
        return reply.choices[0].message.content or ""

    with pytest.raises(openai.RateLimitError):
        ask()
    assert ask() == "fine"
    with pytest.raises(openai.RateLimitError):
        ask()


def test_a_burst_every_window_of_time_through_the_sdk(server: EmulatorServer) -> None:
    """burst=error:429*2/60s: the first two requests of the minute are RateLimitErrors, the
    rest of that minute's requests pass."""
    client = openai.OpenAI(
        base_url=server.base_url,
        api_key=server.api_key,
        max_retries=0,
        default_headers={"X-Emulator-Chaos": "burst=error:429*2/60s"},
    )
    outcomes = []
    for _ in range(5):
        try:
            client.chat.completions.create(model="openai/gpt-4o", messages=BODY["messages"])
            outcomes.append("ok")
        except openai.RateLimitError:
            outcomes.append("429")
    assert outcomes == ["429", "429", "ok", "ok", "ok"]
    assert server.requests[1].chaos is not None
    assert server.requests[1].chaos["reason"] == (
        "header chaos: burst of 2 error every 60000 ms (window 0, 2 of 2)"
    )


def test_server_chaos_from_the_config(make_server: Callable[..., EmulatorServer]) -> None:
    """A server started with chaos applies it to every request."""
    server = make_server(chaos=chaosspec.parse_header("error:502=1"))
    assert request(server.url, body=BODY).status == 502


def raw(server: EmulatorServer, header: str, stream: bool = False) -> tuple[Any, bytes]:
    """(status or the exception, body bytes) of one raw request."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    body = {**BODY, "stream": stream}
    try:
        import json

        conn.request(
            "POST",
            "/v1/chat/completions",
            json.dumps(body),
            {
                "Authorization": "Bearer k",
                "Content-Type": "application/json",
                "X-Emulator-Chaos": header,
            },
        )
        response = conn.getresponse()
        return response.status, response.read()
    except (ConnectionError, http.client.HTTPException) as exc:
        return type(exc).__name__, b""
    finally:
        conn.close()


def test_fault_kinds_on_the_wire(server: EmulatorServer) -> None:
    """Each chaos fault kind does what it says on the wire."""
    server.configure(time_scale=0)
    assert raw(server, "disconnect=1")[0] == "RemoteDisconnected"
    assert raw(server, "reset=1")[0] in ("ConnectionResetError", "RemoteDisconnected")
    assert raw(server, "stall:100=1")[0] == "RemoteDisconnected"
    status, body = raw(server, "malformed=1")
    assert (status, body) == (200, b'{"id": "gen-broken", "choices": [')
    status, body = raw(server, "malformed=1", stream=True)
    assert status == 200 and b'data: {"id": "gen-broken"' in body
    status, body = raw(server, "error_after:0=1", stream=True)
    assert status == 200
    assert b'"error":{"code":502,"message":"Provider returned error"' in body
    assert raw(server, "error_after:2=1")[0] == 502


def test_a_stall_longer_than_ten_minutes_is_refused(server: EmulatorServer) -> None:
    """A chaos stall set from a request header is bounded: over 600,000 ms is a 400 naming the
    limit, not a connection held open for years."""
    status, body = raw(server, "stall:99999999999=1")
    assert status == 400
    assert b"a stall's ms must be from 0 to 600000" in body


def test_burst_counters_go_with_their_scope() -> None:
    """Past MAX_SCOPES scopes (every distinct header is one), the oldest scope's time-burst
    counters go with its request count (before, they stayed: memory grew with every header)."""
    spec = chaosspec.parse_header("burst=error*1/5s")
    counters = chaos.ChaosCounters()
    for i in range(chaos.MAX_SCOPES + 1):
        chaos.decide(spec, f"header burst=error*1/5s,seed={i}", 0, counters, 0)
    assert len(counters._bursts) == chaos.MAX_SCOPES
