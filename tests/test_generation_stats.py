"""GET /v1/generation?id=: the router's generation stats (PROTOCOL §10), backed by the journal."""

from __future__ import annotations

import http.client
import time
from datetime import datetime
from typing import Any

import pytest
from wire import RawResponse, chat, request

from emulator.errors import error_type_for
from emulator.testing import EmulatorServer

# Every field of PROTOCOL §10, in its order.
FIELDS = [
    "id",
    "model",
    "created_at",
    "streamed",
    "cancelled",
    "finish_reason",
    "native_finish_reason",
    "tokens_prompt",
    "tokens_completion",
    "native_tokens_prompt",
    "native_tokens_completion",
    "native_tokens_reasoning",
    "native_tokens_cached",
    "native_tokens_completion_images",
    "generation_time",
    "latency",
    "moderation_latency",
    "provider_name",
    "total_cost",
    "usage",
    "upstream_inference_cost",
    "upstream_id",
    "request_id",
    "api_type",
    "origin",
    "http_referer",
    "user_agent",
    "external_user",
    "is_byok",
    "num_media_prompt",
    "num_media_completion",
    "num_input_audio_prompt",
    "num_search_results",
    "num_fetches",
    "cache_discount",
    "service_tier",
    "session_id",
    "router",
    "provider_responses",
    "web_search_engine",
    "data_region",
    "app_id",
    "preset_id",
    "workspace_id",
]
SLOW_STREAM = {
    "name": "slow",
    "reply": {"content": " ".join(["word"] * 100), "stream": {"interval_ms": 100}},
}


def stats(server: EmulatorServer, generation_id: str, prefix: str = "/v1") -> RawResponse:
    return request(server.url, method="GET", path=f"{prefix}/generation?id={generation_id}")


def test_stats_of_a_completion(server: EmulatorServer) -> None:
    """Every §10 field is there, filled from the journal: model, tokens, finish reasons, times."""
    body = {
        "model": "anthropic/claude-3.5-sonnet",
        "user": "u-42",
        "messages": [{"role": "user", "content": "Hi"}],
    }
    headers = {"User-Agent": "my-app/1.0", "HTTP-Referer": "https://example.com/app"}
    completion = request(server.url, body=body, headers=headers).json()
    response = stats(server, completion["id"])
    assert response.status == 200
    data = response.json()["data"]
    assert list(data) == FIELDS
    assert data["id"] == completion["id"]
    assert data["model"] == "anthropic/claude-3.5-sonnet"
    assert data["provider_name"] == "Anthropic"
    assert data["created_at"] == "2025-01-01T00:00:00+00:00"
    assert datetime.fromisoformat(data["created_at"]).timestamp() == completion["created"]
    assert (data["streamed"], data["cancelled"]) == (False, False)
    assert (data["finish_reason"], data["native_finish_reason"]) == ("stop", "end_turn")
    usage = completion["usage"]
    assert (data["tokens_prompt"], data["tokens_completion"]) == (
        usage["prompt_tokens"],
        usage["completion_tokens"],
    )
    assert (data["native_tokens_prompt"], data["native_tokens_completion"]) == (
        usage["prompt_tokens"],
        usage["completion_tokens"],
    )
    # The catalog prices Claude 3.5 Sonnet at $3 / $15 per million prompt / completion tokens.
    cost = usage["prompt_tokens"] * 3e-6 + usage["completion_tokens"] * 15e-6
    assert (data["api_type"], data["external_user"]) == ("completions", "u-42")
    assert data["total_cost"] == data["usage"] == pytest.approx(cost, rel=1e-12)
    assert (data["user_agent"], data["http_referer"], data["origin"]) == (
        "my-app/1.0",
        "https://example.com/app",
        "",
    )


def test_latency_and_generation_time_are_measured(server: EmulatorServer) -> None:
    """latency is the time to the first chunk, generation_time the whole response, in ms."""
    server.add({"name": "late", "reply": {"content": "a b c", "stream": {"ttft_ms": 150}}})
    streamed = chat(server.url, stream=True)
    data = stats(server, streamed.headers["x-generation-id"]).json()["data"]
    entry = server.last_request
    assert data["streamed"] is True
    assert 150 <= data["latency"] <= data["generation_time"]
    assert data["generation_time"] == round(entry.duration_ms or 0)


def test_scripted_usage_details_and_cost(server: EmulatorServer) -> None:
    """A scenario's usage (reasoning, cached tokens, cost, BYOK) shows in the stats."""
    usage = {
        "prompt_tokens": 10,
        "completion_tokens": 20,
        "cost": 0.25,
        "is_byok": True,
        "prompt_tokens_details": {"cached_tokens": 4},
        "completion_tokens_details": {"reasoning_tokens": 5},
    }
    server.add({"name": "costly", "reply": {"content": "x", "usage": usage}})
    data = stats(server, chat(server.url).json()["id"]).json()["data"]
    assert {
        k: data[k]
        for k in (
            "tokens_prompt",
            "tokens_completion",
            "native_tokens_reasoning",
            "native_tokens_cached",
            "total_cost",
            "usage",
            "is_byok",
        )
    } == {
        "tokens_prompt": 10,
        "tokens_completion": 20,
        "native_tokens_reasoning": 5,
        "native_tokens_cached": 4,
        "total_cost": 0.25,
        "usage": 0.25,
        "is_byok": True,
    }


def test_api_v1_prefix(server: EmulatorServer) -> None:
    """The router's own path /api/v1/generation answers the same."""
    generation_id = chat(server.url).json()["id"]
    assert stats(server, generation_id, "/api/v1").json()["data"]["id"] == generation_id


def test_abandoned_stream_is_cancelled(server: EmulatorServer) -> None:
    """A stream is not queryable while it runs; once the client hangs up, cancelled is true."""
    server.add(SLOW_STREAM)
    conn, response = open_stream(server)
    generation_id = response.getheader("X-Generation-Id") or ""
    try:
        first = read_first_data(response)
        assert first.startswith(b"data: {")
        running = stats(server, generation_id)
        assert running.status == 404
        assert "has not finished yet" in running.json()["error"]["message"]
    finally:
        conn.close()
    data = wait_for_stats(server, generation_id)
    assert (data["streamed"], data["cancelled"]) == (True, True)
    assert data["latency"] is not None and data["generation_time"] < 5000
    assert server.last_request.client_aborted
    # Only what was sent counts: far fewer than the 100 words planned, and no finish reason.
    assert data["tokens_completion"] < 100 and data["finish_reason"] is None


def test_stream_error_reports_what_was_sent(server: EmulatorServer) -> None:
    """A stream that errors after one chunk reports finish_reason error and that chunk's tokens."""
    server.add(
        {"name": "broken", "reply": {"content": "one two three", "stream": {"error_after": 1}}}
    )
    generation_id = chat(server.url, stream=True).headers["x-generation-id"]
    data = wait_for_stats(server, generation_id)
    assert (data["finish_reason"], data["tokens_completion"], data["cancelled"]) == (
        "error",
        1,
        False,
    )


def test_split_stream_still_counts_fully(server: EmulatorServer) -> None:
    """A stream written in 3-byte pieces that completes reports the planned counts."""
    server.add(
        {
            "name": "split",
            "reply": {"content": "one two three", "stream": {"framing": {"split_every": 3}}},
        }
    )
    generation_id = chat(server.url, stream=True).headers["x-generation-id"]
    data = wait_for_stats(server, generation_id)
    assert (data["finish_reason"], data["tokens_completion"]) == ("stop", 3)


@pytest.mark.parametrize(
    ("path", "headers", "status", "message"),
    [
        ("/v1/generation?id=gen-nope", None, 404, "generation 'gen-nope' not found"),
        ("/v1/generation", None, 400, "missing required query parameter 'id' (a generation id)"),
        (
            "/v1/generation?id=",
            None,
            400,
            "missing required query parameter 'id' (a generation id)",
        ),
        ("/v1/generation?id=gen-nope", {"Authorization": None}, 401, "No auth credentials found"),
    ],
    ids=["unknown", "missing", "empty", "no-auth"],
)
def test_rejected_lookups(
    server: EmulatorServer, path: str, headers: dict[str, Any] | None, status: int, message: str
) -> None:
    """Unknown id 404, missing id 400, no key 401: each in the router's error envelope."""
    response = request(server.url, method="GET", path=path, headers=headers)
    assert (response.status, response.json()) == (
        status,
        {
            "error": {
                "code": status,
                "message": message,
                "metadata": {"error_type": error_type_for(status)},
            }
        },
    )


def test_errors_have_no_generation(server: EmulatorServer) -> None:
    """A scripted error answer produced no generation, so it has no stats."""
    server.add({"name": "down", "error": {"status": 503, "message": "overloaded"}})
    chat(server.url)
    assert server.last_request.generation_id is None


# --- helpers ---


def open_stream(server: EmulatorServer) -> tuple[http.client.HTTPConnection, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    body = (
        '{"model": "openai/gpt-4o", "stream": true, "messages": [{"role": "user", "content": "x"}]}'
    )
    conn.request(
        "POST",
        "/v1/chat/completions",
        body=body,
        headers={"Authorization": "Bearer k", "Content-Type": "application/json"},
    )
    return conn, conn.getresponse()


def read_first_data(response: Any) -> bytes:
    while True:
        line: bytes = response.readline()
        if line.startswith(b"data:") or not line:
            return line


def wait_for_stats(server: EmulatorServer, generation_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        response = stats(server, generation_id)
        if response.status == 200:
            data: dict[str, Any] = response.json()["data"]
            return data
        time.sleep(0.02)
    raise AssertionError(f"no stats for {generation_id} within 3 s: {response.json()}")
