"""Stream-block rules the schema alone cannot say, each with its exact file:line message."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.errors import ScenarioError
from emulator.loader import load_text


@pytest.mark.parametrize(
    "text,message",
    [
        (
            "name: a\nreply:\n  content: Hello\n  stream:\n    chunks: [He, ll]\n",
            "f.yaml:5: reply.stream.chunks join to 'Hell', not to the reply's content 'Hello'; "
            "give one of the two, or make them agree",
        ),
        (
            "name: a\nreply:\n  stream:\n    framing: {stall_after: 0}\n",
            "f.yaml:4: reply.stream.framing.stall_after: must be >= 1, got 0",
        ),
    ],
)
def test_broken_stream_blocks(text: str, message: str) -> None:
    """Chunks that disagree with the content, and stall_after 0, are load errors."""
    with pytest.raises(ScenarioError) as info:
        load_text(text, "f.yaml")
    assert str(info.value) == message


def test_chunks_agreeing_with_content_or_templated_content_load() -> None:
    """Chunks that spell the content, or a templated content, are accepted."""
    load_text("name: a\nreply:\n  content: Hello\n  stream: {chunks: [He, llo]}\n", "f.yaml")
    load_text(
        "name: b\nreply:\n  content: '{{ request.model }}'\n  stream: {chunks: [x]}\n", "f.yaml"
    )


def test_disconnect_reset_event_loads() -> None:
    """`disconnect: reset` in a hand-written timeline is a TCP reset."""
    spec = load_text("name: a\nreply:\n  stream:\n    events: [{disconnect: reset}]\n", "f.yaml")[0]
    stream = spec.steps[0].stream  # type: ignore[union-attr]
    assert stream is not None and stream.events is not None
    assert stream.events[0].value == "reset"


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_json_files_refuse_non_finite_numbers(tmp_path: Path, number: str) -> None:
    """A .json scenario file with NaN/Infinity/1e999 is refused (it would send invalid JSON)."""
    from emulator.loader import load_paths

    path = tmp_path / "s.json"
    path.write_text('{"name": "a",\n "reply": {"usage": {"cost": ' + number + "}}}")
    with pytest.raises(ScenarioError, match=rf"s\.json:2: non-finite number '{number}'"):
        load_paths([path])


@pytest.mark.parametrize("header", ["Content-Length", "transfer-encoding", "Connection"])
def test_error_headers_cannot_set_framing(header: str) -> None:
    """An error's headers may not set the headers that frame the response."""
    text = f"name: a\nerror:\n  status: 429\n  message: x\n  headers:\n    {header}: '5'\n"
    with pytest.raises(
        ScenarioError, match=rf"f\.yaml:6: error\.headers\.{header}: the emulator sets"
    ):
        load_text(text, "f.yaml")


def test_keepalive_flood_is_refused() -> None:
    """A keep-alive period that would send over 10,000 comments during ttft is a load error."""
    text = "name: a\nreply:\n  stream:\n    ttft_ms: 100000000\n    keepalive: {every_ms: 0.001}\n"
    with pytest.raises(
        ScenarioError,
        match=r"f\.yaml:5: reply\.stream\.keepalive\.every_ms: "
        r"0\.001 ms over a ttft_ms of 1e\+08 would send",
    ):
        load_text(text, "f.yaml")
