"""Replaying a recorded reply (`body`, `data` events): which generation id it carries, and the
same reply with fresh ids and `created` when the scenario says `ids: regenerate`.

Pure. A recorded id is found in the reply's `X-Generation-Id` header, else as the `id` of the
recorded body or first data event; `created` likewise. Regenerating replaces every occurrence of
that id's text and of `"created":<that number>` in the recorded text, so the bytes change only
there (key order and spacing stay as recorded).
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from emulator.scenario import Reply, StreamEvent

GENERATION_HEADER = "x-generation-id"


def _payloads(reply: Reply) -> list[str]:
    found = [reply.body] if reply.body is not None else []
    if reply.stream is not None and reply.stream.events is not None:
        found += [str(e.value) for e in reply.stream.events if e.kind == "data"]
    return found


def _first(reply: Reply, key: str) -> Any:
    for text in _payloads(reply):
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, dict) and key in value:
            return value[key]
    return None


def recorded_id(reply: Reply) -> str | None:
    """The generation id a recorded reply sends, or None for a scripted reply."""
    for name, value in reply.headers.items():
        if name.lower() == GENERATION_HEADER:
            return str(value)
    found = _first(reply, "id")
    return found if isinstance(found, str) else None


def regenerated(reply: Reply, new_id: str, new_created: int) -> Reply:
    """`reply` with its recorded id replaced by `new_id` and its recorded `created` by
    `new_created` everywhere (headers, body, data and raw events)."""
    old_id = recorded_id(reply)
    old_created = _first(reply, "created")
    created = (
        re.compile(rf'("created"\s*:\s*){int(old_created)}\b')
        if isinstance(old_created, (int, float)) and not isinstance(old_created, bool)
        else None
    )

    def fix(text: str) -> str:
        if old_id:
            text = text.replace(old_id, new_id)
        if created is not None:
            text = created.sub(lambda m: f"{m.group(1)}{new_created}", text)
        return text

    headers = {name: fix(str(value)) for name, value in reply.headers.items()}
    body = fix(reply.body) if reply.body is not None else None
    stream = reply.stream
    if stream is not None and stream.events is not None:
        events = tuple(
            StreamEvent(e.kind, fix(e.value))
            if e.kind in ("data", "raw") and isinstance(e.value, str)
            else e
            for e in stream.events
        )
        stream = dataclasses.replace(stream, events=events)
    return dataclasses.replace(reply, headers=headers, body=body, stream=stream)
