"""Load-time check that `error_after`, `disconnect_after` and `framing.stall_after` fall inside
the stream they cut, when the reply's text is fixed (no template, no generated text).

A count past the end of a fixed stream would silently do nothing, so it is a `file:line` error
naming how many chunks the stream has. When the text is not fixed (generated, templated, or cut
short at run time by `max_tokens` or `stop`), the timeline applies the fault at the last chunk
instead (see `emulator.timeline`).
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import protocol
from ..deltas import piece_count
from ..scenario import ChoiceSpec, Reply, StreamSpec
from .positions import JsonPath, Where


def fixed_choices(reply: Reply) -> list[protocol.Choice] | None:
    """The reply's choices as streamed, when nothing in them depends on the request; else None."""
    specs: Sequence[ChoiceSpec] = reply.choices if reply.choices is not None else (reply.choice,)
    out: list[protocol.Choice] = []
    for index, spec in enumerate(specs):
        texts = (spec.content, spec.reasoning, spec.refusal)
        if spec.generates_content or any(t is not None and "{{" in t for t in texts):
            return None
        calls = []
        for number, call in enumerate(spec.tool_calls):
            if call.arguments is None:
                return None  # generated from the request's tool schema
            arguments = (
                call.arguments
                if isinstance(call.arguments, str)
                else protocol.dumps(dict(call.arguments))
            )
            calls.append(protocol.ToolCall(call.id or f"call_{number}", call.name, arguments))
        out.append(
            protocol.Choice(
                index=index,
                content=spec.content,
                finish_reason="stop",
                reasoning=spec.reasoning,
                refusal=spec.refusal,
                tool_calls=tuple(calls),
            )
        )
    return out


def check_reach(reply: Reply, where: Where, path: JsonPath) -> None:
    """Raise a ScenarioError when a stream fault's count is past the end of a fixed stream."""
    stream = reply.stream
    if stream is None or stream.events is not None:
        return
    counted = [
        (key, value)
        for key, value in (
            ("error_after", stream.error_after),
            ("disconnect_after", stream.disconnect_after),
        )
        if value is not None
    ]
    stall = stream.framing.stall_after
    if not counted and stall is None:
        return
    choices = fixed_choices(reply)
    if choices is None:
        return
    pieces = piece_count(choices, stream)
    for key, value in counted:
        if value > pieces:
            at = path + ("stream", key)
            raise where.error(
                at,
                f"{where.name(at)}: {value} is past the end of the stream: its text streams as "
                f"{pieces} content chunk(s) ({_chunking(stream)}), so at most {pieces}",
            )
    if stall is not None and not counted:
        events = _data_events(stream, len(choices), pieces)
        if stall > events:
            at = path + ("stream", "framing", "stall_after")
            raise where.error(
                at,
                f"{where.name(at)}: {stall} is past the end of the stream: it sends at most "
                f"{events} data event(s) (role, content, finish, usage and [DONE] chunks)",
            )


def _data_events(stream: StreamSpec, choices: int, pieces: int) -> int:
    """The most data events a generated stream sends: a role delta per choice, the pieces, the
    finish chunk, the usage chunk (unless `usage_chunk: none`) and [DONE] (twice if duplicated)."""
    usage = 0 if stream.usage_chunk == "none" else 1
    done = (1 + stream.framing.duplicate_done) if stream.done else 0
    return choices + pieces + 1 + usage + done


def _chunking(stream: StreamSpec) -> str:
    if stream.chunks is not None:
        return "as listed in chunks"
    size = f", {stream.chunking.size} per chunk" if stream.chunking.size != 1 else ""
    return f"chunking: {stream.chunking.kind}{size}"
