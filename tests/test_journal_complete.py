"""A client that stops reading at `data: [DONE]` (as the SDKs do) finds the request's journal
entry complete: the close, the outcome and the duration are journaled before the last bytes
leave, not after (another thread may read the journal between the write and the next line)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from openai import OpenAI

from emulator.testing import EmulatorServer


def test_the_last_write_leaves_a_complete_journal_entry(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When `data: [DONE]` is written, the entry already ends with close, completed, a duration."""
    seen: list[tuple[str, str | None, bool]] = []
    write, write_eof = web.StreamResponse.write, web.StreamResponse.write_eof

    def look(data: Any) -> None:
        if b"data: [DONE]" in bytes(data):
            entry = server.last_request
            seen.append((entry.events[-1].kind, entry.outcome, entry.duration_ms is not None))

    async def watching_write(self: web.StreamResponse, data: Any) -> None:
        look(data)
        await write(self, data)

    async def watching_write_eof(self: web.StreamResponse, data: Any = b"") -> None:
        look(data)
        await write_eof(self, data)

    monkeypatch.setattr(web.StreamResponse, "write", watching_write)
    monkeypatch.setattr(web.StreamResponse, "write_eof", watching_write_eof)
    server.add("name: s\nreply: {content: one two}\n")
    client = OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
    chunks = list(
        client.chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True
        )
    )
    assert chunks and seen == [("close", "completed", True)]
    entry = server.last_request
    assert [e.kind for e in entry.events][-2:] == ["done", "close"]
    assert entry.client_aborted is False and entry.outcome == "completed"
