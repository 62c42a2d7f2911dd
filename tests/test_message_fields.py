"""Message fields the router sends beyond text: logprobs (one entry per o200k token, the same
tokens streamed), generated and scripted reasoning with reasoning_details, annotations, images,
content null, openrouter_metadata on opt-in, and the usage of hand-written streams."""

from __future__ import annotations

from typing import Any

import pytest
from conformance import problems, stream_problems
from wire import request

from emulator import tokens
from emulator.testing import EmulatorServer

MODEL = "openai/gpt-4o"
REASONER = "deepseek/deepseek-r1"
USER = [{"role": "user", "content": "What is the weather in Paris?"}]
CHAT = "sendChatCompletionRequest"
OPT_IN = {"X-OpenRouter-Metadata": "enabled"}


def send(server: EmulatorServer, headers: dict[str, str] | None = None, **body: Any) -> Any:
    response = request(server.url, body={"model": MODEL, "messages": USER, **body}, headers=headers)
    assert response.status == 200
    return response


def streamed(
    server: EmulatorServer, headers: dict[str, str] | None = None, **body: Any
) -> list[Any]:
    response = send(server, headers, stream=True, **body)
    assert stream_problems(response.body) == []
    return [d for d in response.data() if isinstance(d, dict)]


# --- logprobs --------------------------------------------------------------------------------


def test_logprobs_one_entry_per_token(server: EmulatorServer) -> None:
    """logprobs: one entry per o200k token of the content, k alternatives, bytes that spell it."""
    body = send(server, logprobs=True, top_logprobs=3).json()
    assert problems(CHAT, 200, body) == []
    choice = body["choices"][0]
    content = choice["message"]["content"]
    entries = choice["logprobs"]["content"]
    assert len(entries) == tokens.count(content) == body["usage"]["completion_tokens"]
    assert b"".join(bytes(e["bytes"]) for e in entries) == content.encode()
    for entry in entries:
        assert entry["logprob"] <= 0 and len(entry["top_logprobs"]) == 3
        assert entry["top_logprobs"][0] == {k: entry[k] for k in ("token", "logprob", "bytes")}
        alternatives = [a["logprob"] for a in entry["top_logprobs"]]
        assert alternatives == sorted(alternatives, reverse=True)


def test_logprobs_stream_the_same_tokens(server: EmulatorServer) -> None:
    """Streamed, each content chunk carries the entries of its tokens: the same list in order."""
    whole = send(server, logprobs=True, top_logprobs=2).json()["choices"][0]["logprobs"]["content"]
    chunks = streamed(server, logprobs=True, top_logprobs=2)
    pieces = [c["choices"][0] for c in chunks if c["choices"]]
    entries = [e for p in pieces if p["logprobs"] for e in p["logprobs"]["content"]]
    assert entries == whole
    text = "".join(p["delta"].get("content") or "" for p in pieces)
    assert b"".join(bytes(e["bytes"]) for e in entries) == text.encode()


def test_no_logprobs_unless_asked(server: EmulatorServer) -> None:
    """Without logprobs: true the choice's logprobs is null."""
    assert send(server).json()["choices"][0]["logprobs"] is None


# --- reasoning ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "extra", "expected"),
    [
        (REASONER, {"reasoning": {"effort": "high"}}, True),
        (REASONER, {"reasoning_effort": "low"}, True),
        (REASONER, {"reasoning": {"exclude": True}}, False),
        (REASONER, {"reasoning": {"effort": "none"}}, False),
        (REASONER, {}, False),
        (MODEL, {"reasoning": {"effort": "high"}}, False),
    ],
    ids=["effort", "reasoning_effort", "exclude", "effort-none", "not-asked", "not-a-reasoner"],
)
def test_generated_reasoning(
    server: EmulatorServer, model: str, extra: dict[str, Any], expected: bool
) -> None:
    """A reasoning model asked for reasoning gets reasoning and a reasoning.text detail, counted
    in completion_tokens_details.reasoning_tokens."""
    body = send(server, model=model, **extra).json()
    assert problems(CHAT, 200, body) == []
    message = body["choices"][0]["message"]
    assert ("reasoning" in message) is expected
    details = body["usage"]["completion_tokens_details"]
    if expected:
        assert message["reasoning_details"] == [
            {
                "type": "reasoning.text",
                "text": message["reasoning"],
                "format": "unknown",
                "index": 0,
            }
        ]
        assert details["reasoning_tokens"] == tokens.count(message["reasoning"]) > 0
    else:
        assert details["reasoning_tokens"] == 0


DETAILS = [
    {
        "type": "reasoning.summary",
        "summary": "Checked the forecast.",
        "format": "anthropic-claude-v1",
    },
    {"type": "reasoning.encrypted", "data": "gAAAAB...", "format": "anthropic-claude-v1"},
]
CITATION = {
    "type": "url_citation",
    "url_citation": {
        "url": "https://example.com/paris",
        "title": "Paris weather",
        "content": "Sunny.",
        "start_index": 0,
        "end_index": 5,
    },
}
RICH = {
    "name": "rich",
    "reply": {
        "content": "Sunny today.",
        "reasoning": "Look it up.",
        "reasoning_details": DETAILS,
        "annotations": [CITATION],
        "images": ["data:image/png;base64,iVBORw0KGgo="],
    },
}


def test_scripted_fields_in_json(server: EmulatorServer) -> None:
    """reasoning_details, annotations and images are sent as scripted, and the body validates."""
    server.add(RICH)
    body = send(server).json()
    assert problems(CHAT, 200, body) == []
    message = body["choices"][0]["message"]
    assert message["reasoning_details"] == DETAILS
    assert message["annotations"] == [CITATION]
    assert message["images"] == [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    ]


def test_scripted_fields_in_a_stream(server: EmulatorServer) -> None:
    """Streamed: reasoning pieces, one delta per reasoning detail, content, then annotations and
    images deltas; every chunk validates."""
    server.add(RICH)
    deltas = [c["choices"][0]["delta"] for c in streamed(server) if c["choices"]]
    details = [d["reasoning_details"][0] for d in deltas if "reasoning_details" in d]
    assert details == DETAILS
    assert [d["annotations"] for d in deltas if "annotations" in d] == [[CITATION]]
    assert len([d for d in deltas if "images" in d]) == 1
    assert "".join(d.get("content") or "" for d in deltas) == "Sunny today."


def test_content_null_with_finish_error(server: EmulatorServer) -> None:
    """`content: null` sends null (nothing generated), here with a choice error."""
    server.add(
        {
            "name": "died",
            "reply": {"content": None, "finish_reason": "error", "choice_error": "provider_error"},
        }
    )
    body = send(server).json()
    assert problems(CHAT, 200, body) == []
    choice = body["choices"][0]
    assert (choice["message"]["content"], choice["finish_reason"]) == (None, "error")
    assert choice["error"]["metadata"]["error_type"] == "provider_unavailable"
    assert body["usage"]["completion_tokens"] == 0 and body["usage"]["cost"] == 0


# --- openrouter_metadata -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [OPT_IN, {"X-OpenRouter-Experimental-Metadata": "ENABLED"}],
    ids=["header", "legacy-header"],
)
def test_router_metadata_top_level(server: EmulatorServer, headers: dict[str, str]) -> None:
    """Opted in, a JSON reply carries openrouter_metadata at the top level, valid per the spec."""
    body = send(server, headers).json()
    assert problems(CHAT, 200, body) == []
    metadata = body["openrouter_metadata"]
    assert (metadata["requested"], metadata["strategy"], metadata["attempt"]) == (
        MODEL,
        "direct",
        1,
    )
    selected = [e for e in metadata["endpoints"]["available"] if e["selected"]]
    assert selected == [{"provider": body["provider"], "model": MODEL, "selected": True}]


@pytest.mark.parametrize("value", [None, "disabled", "yes"])
def test_no_router_metadata_without_opt_in(server: EmulatorServer, value: str | None) -> None:
    """No header, `disabled` or any other value: no openrouter_metadata anywhere."""
    headers = {"X-OpenRouter-Metadata": value} if value else None
    assert "openrouter_metadata" not in send(server, headers).json()
    assert not any("openrouter_metadata" in c for c in streamed(server, headers))


def test_router_metadata_on_the_final_chunk_only(server: EmulatorServer) -> None:
    """Streamed, only the final chunk before [DONE] (the usage chunk) carries it."""
    chunks = streamed(server, OPT_IN)
    assert [i for i, c in enumerate(chunks) if "openrouter_metadata" in c] == [len(chunks) - 1]
    assert "usage" in chunks[-1]


def test_router_metadata_beside_errors(server: EmulatorServer) -> None:
    """Beside error on a 404 (attempt 0, nothing selected); never on a 429 or a 500."""
    for preset, status, present in [
        ("not_found", 404, True),
        ("rate_limited", 429, False),
        ("server_error", 500, False),
    ]:
        server.reset()
        server.add({"name": preset, "error": preset})
        response = request(server.url, body={"model": MODEL, "messages": USER}, headers=OPT_IN)
        assert response.status == status
        body = response.json()
        assert problems(CHAT, status, body) == []
        assert ("openrouter_metadata" in body) is present
        if present:
            assert body["openrouter_metadata"]["attempt"] == 0
            assert not any(
                e["selected"] for e in body["openrouter_metadata"]["endpoints"]["available"]
            )


# --- hand-written streams ------------------------------------------------------------------------


def test_hand_written_usage_counts_what_was_sent(server: EmulatorServer) -> None:
    """A usage event reports the tokens of the deltas the stream actually sent."""
    server.add(
        {
            "name": "events",
            "reply": {
                "content": "a much longer reply that is never sent",
                "stream": {
                    "events": [
                        {"content": "Hello"},
                        {"content": " there"},
                        {"finish": "stop"},
                        {"usage": {}},
                    ]
                },
            },
        }
    )
    chunks = streamed(server)
    usage = chunks[-1]["usage"]
    assert usage["completion_tokens"] == tokens.count("Hello there")
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_hand_written_stream_without_finish_is_not_recorded_as_stop(
    server: EmulatorServer,
) -> None:
    """The stats of a hand-written stream that never sent a finish reason say null, not stop,
    and count the tokens it sent."""
    from test_generation_stats import wait_for_stats

    server.add(
        {
            "name": "no-finish",
            "reply": {"content": "never sent", "stream": {"events": [{"content": "Hi"}]}},
        }
    )
    chunks = streamed(server)
    data = wait_for_stats(server, chunks[0]["id"])
    assert (data["finish_reason"], data["tokens_completion"]) == (None, tokens.count("Hi"))
