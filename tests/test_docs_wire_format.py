"""docs/wire-format.md is true of what the server sends, and every user-facing text stands alone:
no doc, help text, scenario file, schema or docstring points at files outside the repository."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openai
import pytest
from rawsse import post, stream_body

from emulator.cli import build_parser
from emulator.testing import EmulatorServer

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "wire-format.md").read_text()
OUTSIDE = re.compile(r"PROTOCOL|ROUTER-FACTS|\.\./shared|/work/shared|\bD\d{1,2}\b|§")


def user_facing_files() -> list[Path]:
    """Every file a user reads: README, docs, schemas, the scenario library, the package."""
    found = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "pyproject.toml"]
    for folder, pattern in [
        ("docs", "*.md"),
        ("schemas", "*"),
        ("scenarios", "*"),
        ("emulator", "**/*.py"),
    ]:
        found += [p for p in (ROOT / folder).glob(pattern) if p.is_file()]
    return [p for p in found if p.exists()]


@pytest.mark.parametrize("path", user_facing_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_reference_outside_the_repository(path: Path) -> None:
    """No user-facing file cites notes that ship nowhere (protocol notes, decision numbers)."""
    hits = [
        f"{n}: {line.strip()}"
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert hits == []


def test_help_texts_stand_alone() -> None:
    """`serve -h` and the other commands' help cite nothing outside the repository."""
    parser = build_parser()
    texts = [parser.format_help()]
    for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
        texts += [sub.format_help() for sub in action.choices.values()]
    assert [t for t in texts if OUTSIDE.search(t)] == []


def test_stream_is_as_the_page_shows(server: EmulatorServer) -> None:
    """The stream: comment first, role on the first delta only, an empty finishing delta, one
    usage chunk with no choices, then [DONE]."""
    server.add({"name": "hello", "reply": {"content": "Hello there"}})
    raw = post(server.port, stream_body())
    events = raw.events()
    assert events[0] == ": OPENROUTER PROCESSING"
    data = raw.data()
    assert data[-1] == "[DONE]"
    chunks = data[:-1]
    roles = [c["choices"][0]["delta"].get("role") for c in chunks if c["choices"]]
    assert roles[0] == "assistant" and set(roles[1:]) == {None}
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-2]["choices"][0]["delta"] == {} and chunks[-2]["choices"][0]["finish_reason"]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0
    assert len({c["id"] for c in chunks}) == 1 and chunks[0]["id"].startswith("gen-")
    assert all(e.startswith(("data: ", ": ")) for e in events)


def test_error_envelope_is_as_the_page_shows(server: EmulatorServer) -> None:
    """The page's envelope example is what a rate-limited request gets."""
    example = json.loads(re.search(r"```json\n(.*?)\n```", PAGE, re.S).group(1))  # type: ignore[union-attr]
    server.add({"name": "limited", "error": {"status": 429, "message": "Rate limit exceeded"}})
    with (
        openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0) as client,
        pytest.raises(openai.RateLimitError) as info,
    ):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    body = info.value.body
    assert isinstance(body, dict)
    assert body["code"] == example["error"]["code"] == 429
    assert body["message"] == example["error"]["message"]
    assert body["metadata"]["error_type"] == example["error"]["metadata"]["error_type"]


def test_stream_error_is_as_the_page_shows(server: EmulatorServer) -> None:
    """An in-band error: the error at the top level, one finishing choice, then [DONE]."""
    server.add({"name": "broken", "reply": {"content": "a b c", "stream": {"error_after": 1}}})
    data = post(server.port, stream_body()).data()
    error_chunk = data[-2]
    assert error_chunk["error"]["code"] == 502 and data[-1] == "[DONE]"
    assert error_chunk["choices"] == [
        {
            "index": 0,
            "delta": {"content": ""},
            "finish_reason": "error",
            "native_finish_reason": "error",
        }
    ]


def test_every_section_in_the_contents_exists() -> None:
    """The page's table of contents links only to its own headings."""
    anchors = set(re.findall(r"\]\(#([a-z0-9-]+)\)", PAGE))
    headings = {
        re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
        for h in re.findall(r"^## (.+)$", PAGE, re.M)
    }
    assert anchors and anchors <= headings
