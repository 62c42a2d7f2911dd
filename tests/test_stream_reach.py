"""`error_after`, `disconnect_after` and `framing.stall_after` never silently do nothing: past the
end of a fixed stream they are a load-time `file:line` error, and when a request's `max_tokens`
(or a generated text) makes the stream shorter, the fault still comes, at the last chunk."""

from __future__ import annotations

import pytest
from rawsse import chunk, error_chunk, post, sse, stream_body

from emulator.errors import ScenarioError
from emulator.loader import load_text
from emulator.testing import EmulatorServer
from emulator.timeline import DEFAULT_STREAM_ERROR


def scenario(stream: str, content: str = "one two three") -> str:
    """A one-scenario file whose reply streams `content` with the given `stream` keys."""
    return f"name: s\nreply:\n  content: {content}\n  stream: {{{stream}}}\n"


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        (
            "error_after: 4",
            "f.yaml:4: reply.stream.error_after: 4 is past the end of the stream: its text "
            "streams as 3 content chunk(s) (chunking: words), so at most 3",
        ),
        (
            "disconnect_after: 14, chunking: chars",
            "f.yaml:4: reply.stream.disconnect_after: 14 is past the end of the stream: its "
            "text streams as 13 content chunk(s) (chunking: chars), so at most 13",
        ),
        (
            "error_after: 3, chunking: {words: 2}",
            "f.yaml:4: reply.stream.error_after: 3 is past the end of the stream: its text "
            "streams as 2 content chunk(s) (chunking: words, 2 per chunk), so at most 2",
        ),
        (
            "framing: {stall_after: 8}",
            "f.yaml:4: reply.stream.framing.stall_after: 8 is past the end of the stream: it "
            "sends at most 7 data event(s) (role, content, finish, usage and [DONE] chunks)",
        ),
    ],
)
def test_counts_past_a_fixed_stream_are_load_errors(stream: str, message: str) -> None:
    """A count past the end of a fixed text's stream is refused with file:line and the count."""
    with pytest.raises(ScenarioError) as info:
        load_text(scenario(stream), "f.yaml")
    assert str(info.value) == message


def test_counts_with_chunks_listed() -> None:
    """With `stream.chunks`, the chunks listed are what is counted."""
    text = "name: s\nreply:\n  content: abc\n  stream: {chunks: [a, b, c], error_after: 4}\n"
    with pytest.raises(ScenarioError, match=r"streams as 3 content chunk\(s\) \(as listed"):
        load_text(text, "f.yaml")


@pytest.mark.parametrize(
    "stream",
    [
        "error_after: 3",
        "disconnect_after: 3",
        "framing: {stall_after: 7}",
        "error_after: 0",
    ],
)
def test_counts_within_the_stream_load(stream: str) -> None:
    """Counts up to the last chunk (or data event) load."""
    assert load_text(scenario(stream), "f.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "name: s\nreply:\n  stream: {error_after: 500}\n",
        "name: s\nreply:\n  content: '{{ request.last_user_message }}'\n"
        "  stream: {error_after: 500}\n",
        "name: s\nreply:\n  tool_calls: [{name: f}]\n  stream: {disconnect_after: 500}\n",
    ],
    ids=["generated", "template", "generated-arguments"],
)
def test_counts_over_text_not_known_at_load_are_accepted(text: str) -> None:
    """Generated or templated text has no length at load time: the count is checked at run time."""
    assert load_text(text, "f.yaml")


def test_max_tokens_shortens_stream_error_still_comes(server: EmulatorServer) -> None:
    """error_after 4 over a stream cut to 2 chunks by max_tokens: the error replaces the finish."""
    server.add(
        {"name": "s", "reply": {"content": "one two three four five", "stream": {"error_after": 4}}}
    )
    raw = post(server.port, stream_body(max_tokens=2))
    gid = raw.gen_id
    expected = [
        ": OPENROUTER PROCESSING",
        "data: " + chunk(gid, {"role": "assistant", "content": ""}),
        "data: " + chunk(gid, {"content": "one"}),
        "data: " + chunk(gid, {"content": " two"}),
        "data: " + error_chunk(gid, DEFAULT_STREAM_ERROR.to_json()),
        "data: [DONE]",
    ]
    assert raw.body == sse(expected) and raw.end == "complete"


def test_max_tokens_shortens_stream_disconnect_still_comes(server: EmulatorServer) -> None:
    """disconnect_after past a max_tokens-shortened stream: the connection drops after the last
    content chunk, with no finish chunk and no terminator."""
    server.add(
        {"name": "s", "reply": {"content": "one two three four", "stream": {"disconnect_after": 4}}}
    )
    raw = post(server.port, stream_body(max_tokens=1))
    data = raw.data()
    assert [d["choices"][0]["delta"] for d in data] == [
        {"role": "assistant", "content": ""},
        {"content": "one"},
    ]
    assert raw.end == "eof"


def test_max_tokens_shortens_stream_stall_still_comes(server: EmulatorServer) -> None:
    """stall_after past a shortened stream stalls on the last data event ([DONE]) half-sent."""
    server.add(
        {
            "name": "s",
            "reply": {
                "content": "one two three four five",
                "stream": {"framing": {"stall_after": 9, "stall_ms": 10}},
            },
        }
    )
    raw = post(server.port, stream_body(max_tokens=1))
    assert raw.tail() == b"data: [" and raw.end == "eof"
