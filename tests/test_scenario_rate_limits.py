"""A scenario's own `rate_limits` (rpm, rpd, tpm): loaded with file:line errors, counted per key
and per session on the emulator's clock, over a limit the router's 429 with Retry-After and
X-RateLimit-*, recovering when the window ends (advanced or time-scaled)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import openai
import pytest
from conftest import FIXED_TIME
from openai import OpenAI
from openrouter import OpenRouter, errors
from wire import chat, request

from emulator.errors import ScenarioError
from emulator.loader import load_data, load_paths
from emulator.quota import Limits
from emulator.testing import EmulatorServer

USER = [{"role": "user", "content": "Hi"}]
LIMITED = {
    "name": "limited",
    "match": {"model": "openai/gpt-4o"},
    "rate_limits": {"rpm": 3},
    "reply": {"content": "fine"},
}


def client(server: EmulatorServer, key: str = "sk-test") -> OpenAI:
    return OpenAI(base_url=server.base_url, api_key=key, max_retries=0)


def test_rate_limits_load_into_the_scenario() -> None:
    """`rate_limits` becomes the scenario's Limits; a scenario without it has none."""
    (limited, plain) = load_data(
        [
            {**LIMITED, "rate_limits": {"rpm": 3, "rpd": 10, "tpm": 500}},
            {"name": "plain", "reply": {"content": "x"}},
        ]
    )
    assert limited.rate_limits == Limits(rpm=3, rpd=10, tpm=500)
    assert plain.rate_limits is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{rpm: 0}", "rate_limits.rpm"),
        ("{rps: 3}", "rps"),
        ("{}", "rate_limits: give at least 1 of: rpd, rpm, tpm"),
        ("{rpm: three}", "rate_limits.rpm"),
    ],
)
def test_bad_rate_limits_name_file_and_line(tmp_path: Path, value: str, message: str) -> None:
    """A bad `rate_limits` value fails the load with file:line naming the key."""
    path = tmp_path / "limits.yaml"
    path.write_text(f"name: x\nreply: {{content: hi}}\nrate_limits: {value}\n")
    with pytest.raises(ScenarioError) as caught:
        load_paths([path])
    assert str(caught.value).startswith(f"{path}:3: ")
    assert message in str(caught.value)


def test_fourth_request_in_a_minute_is_the_routers_429(fresh: EmulatorServer) -> None:
    """rpm 3: three requests are served, the fourth is the router's 429 with Retry-After and
    X-RateLimit-* for the scenario's window; other scenarios are not limited."""
    fresh.add(LIMITED, {"name": "other", "match": {"model": "openai/gpt-4o-mini"}, "reply": {}})
    with client(fresh) as sdk:
        served = [
            sdk.chat.completions.create(model="openai/gpt-4o", messages=USER) for _ in range(3)
        ]
        with pytest.raises(openai.RateLimitError) as caught:
            sdk.chat.completions.create(model="openai/gpt-4o", messages=USER)
        other = sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=USER)
    assert [r.choices[0].message.content for r in served] == ["fine"] * 3
    headers = caught.value.response.headers
    assert headers["x-ratelimit-limit"] == "3"
    assert headers["x-ratelimit-remaining"] == "0"
    assert headers["x-ratelimit-reset"] == str((FIXED_TIME + 60) * 1000)
    assert headers["retry-after"] == "60"  # the clock stands at the window's start
    assert caught.value.body == {
        "code": 429,
        "message": "Rate limit exceeded: requests-per-min.",
        "metadata": {"error_type": "rate_limit_exceeded"},
    }
    assert [(e.scenario, e.status) for e in fresh.requests][-2:] == [
        ("limited", 429),
        ("other", 200),
    ]
    assert fresh.emulator.state.call_counts()["limited"] == 3  # the refused request used no step
    assert other.choices[0].finish_reason == "stop"


def test_the_window_ends_on_the_emulators_clock(fresh: EmulatorServer) -> None:
    """Once the emulator's clock passes the minute, the scenario serves again."""
    fresh.add(LIMITED)
    statuses = [chat(fresh.url).status for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    fresh.advance_clock(60)
    assert chat(fresh.url).status == 200


def test_counted_per_key_and_per_session(fresh: EmulatorServer) -> None:
    """Another key, or another X-Emulator-Session, has counters of its own."""
    fresh.add(LIMITED)
    for _ in range(3):
        assert chat(fresh.url).status == 200
    assert chat(fresh.url).status == 429
    other_key = request(
        fresh.url,
        body={"model": "openai/gpt-4o", "messages": USER},
        headers={"Authorization": "Bearer sk-other"},
    )
    assert other_key.status == 200
    session = {"X-Emulator-Session": "job-2"}
    body = {"model": "openai/gpt-4o", "messages": USER}
    assert [request(fresh.url, body=body, headers=session).status for _ in range(4)] == [
        200,
        200,
        200,
        429,
    ]


def test_requests_per_day_and_tokens_per_minute(fresh: EmulatorServer) -> None:
    """rpd refuses until the next UTC day; tpm refuses once a minute's served tokens reach it."""
    fresh.add(
        {
            "name": "daily",
            "match": {"model": "openai/gpt-4o"},
            "rate_limits": {"rpd": 2},
            "reply": {},
        },
        {
            "name": "tokens",
            "match": {"model": "openai/gpt-4o-mini"},
            "rate_limits": {"tpm": 30},
            "reply": {"usage": {"prompt_tokens": 10, "completion_tokens": 10}},
        },
    )
    assert [chat(fresh.url).status for _ in range(3)] == [200, 200, 429]
    refused = chat(fresh.url)
    assert refused.json()["error"]["message"] == "Rate limit exceeded: requests-per-day."
    assert refused.headers["x-ratelimit-reset"] == str((FIXED_TIME + 86400) * 1000)
    mini = [chat(fresh.url, model="openai/gpt-4o-mini") for _ in range(3)]
    assert [r.status for r in mini] == [200, 200, 429]  # 20 tokens, then 40 >= 30
    assert mini[2].json()["error"]["message"] == "Rate limit exceeded: tokens-per-min."
    fresh.advance_clock(86400)
    assert chat(fresh.url).status == 200
    assert chat(fresh.url, model="openai/gpt-4o-mini").status == 200


def test_time_scaled_window_passes_sooner(make_server: Callable[..., EmulatorServer]) -> None:
    """With a time scale of 0.01 a minute's window ends after 0.6 s of real time."""
    server = make_server(time_scale=0.01)
    server.add(LIMITED)
    statuses = []
    for _ in range(40):  # a window may end between two requests: go until one is refused
        statuses.append(chat(server.url).status)
        if statuses[-1] == 429:
            break
    assert statuses[-1] == 429, statuses
    time.sleep(0.7)  # more than a whole window (60 s x 0.01) on the emulator's clock
    assert chat(server.url).status == 200


def test_openrouter_sdk_sees_the_429(fresh: EmulatorServer) -> None:
    """The router's own SDK raises its rate-limit error for the scenario's 429."""
    fresh.add({**LIMITED, "rate_limits": {"rpm": 1}})
    with OpenRouter(api_key="sk-test", server_url=fresh.url + "/api/v1") as sdk:
        assert sdk.chat.send(model="openai/gpt-4o", messages=USER).choices
        with pytest.raises(errors.TooManyRequestsResponseError) as caught:
            sdk.chat.send(model="openai/gpt-4o", messages=USER)
    assert caught.value.data.error.code == 429
    assert caught.value.raw_response.headers["x-ratelimit-limit"] == "1"


def test_a_request_counts_once_across_its_routing_attempts(fresh: EmulatorServer) -> None:
    """A scenario picked by two attempts of one request (the first model fails, the second
    serves) counts that request once against its rpm."""
    fresh.add(
        {
            "name": "flaky",
            "rate_limits": {"rpm": 2},
            "sequence": [{"error": "service_unavailable"}, {"reply": {"content": "ok"}}],
            "after_sequence": "cycle",
        }
    )
    body = {"model": "openai/gpt-4o", "models": ["openai/gpt-4o-mini"], "messages": USER}
    answers = [request(fresh.url, body=body) for _ in range(3)]
    assert [a.status for a in answers] == [200, 200, 429]
    assert [a.json().get("model") for a in answers[:2]] == ["openai/gpt-4o-mini"] * 2
    assert fresh.emulator.state.call_counts()["flaky"] == 4  # two steps per served request
