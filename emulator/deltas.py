"""Cutting a completion into stream deltas: text into pieces (words, chars, lines, o200k
tokens), each choice into its deltas in the order the router streams them (role first, then
reasoning, content or refusal, annotations, images, tool calls: a full header, then index and
argument fragments), round-robin over the choices. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from emulator import logprobs, protocol, tokens
from emulator.protocol import Completion
from emulator.scenario import Chunking, StreamSpec

_WORD = re.compile(r"\s*\S+")


def split_text(text: str, chunking: Chunking) -> list[str]:
    """Cut `text` into deltas that join back to exactly `text`."""
    if not text:
        return []
    size = max(1, chunking.size)
    if chunking.kind == "none":
        return [text]
    if chunking.kind == "chars":
        units = list(text)
    elif chunking.kind == "lines":
        units = text.splitlines(keepends=True)
    elif chunking.kind == "tokens":
        units = _token_units(text)
    else:
        units = _WORD.findall(text)
        tail = text[len("".join(units)) :]
        if tail:  # trailing white space belongs to the last word
            units = units[:-1] + [units[-1] + tail] if units else [tail]
    return ["".join(units[i : i + size]) for i in range(0, len(units), size)]


def _token_units(text: str) -> list[str]:
    """One unit per o200k token, merging tokens that only together form whole UTF-8 characters."""
    units: list[str] = []
    pending = b""
    enc = tokens.encoding()
    for token in enc.encode_ordinary(text):
        pending += enc.decode_single_token_bytes(token)
        try:
            units.append(pending.decode("utf-8"))
            pending = b""
        except UnicodeDecodeError:
            continue
    return units


def content_chunks(
    completion: Completion, spec: StreamSpec
) -> Iterator[tuple[bool, dict[str, Any]]]:
    """Round-robin over the choices: (is a content piece, choice delta). Each choice starts
    with its role delta, which is not a piece (error_after and intervals count pieces). Each
    delta is made when asked for (a lazy stream asks as it plays)."""
    running = [(c.index, _choice_deltas(c, spec)) for c in completion.choices]
    step = 0
    while running:
        still = []
        for index, deltas in running:
            found = next(deltas, None)
            if found is not None:
                delta, logprobs = found
                yield step > 0, completion.delta_choice(index, delta, logprobs=logprobs)
                still.append((index, deltas))
        running = still
        step += 1


def piece_count(choices: Iterable[protocol.Choice], spec: StreamSpec) -> int:
    """How many content pieces (deltas after each choice's role delta) a stream of `choices`
    sends: what `error_after` and `disconnect_after` count."""
    return sum(len(list(_choice_deltas(c, spec))) - 1 for c in choices)


Delta = tuple[dict[str, Any], "list[dict[str, Any]] | None"]


def _choice_deltas(choice: protocol.Choice, spec: StreamSpec) -> Iterator[Delta]:
    """The deltas of one choice with the logprobs entries each carries: role first (only
    there), reasoning then its reasoning_details, content (or refusal), annotations and images,
    then tool calls as docs/wire-format.md says (a full header, then index + argument
    fragments)."""
    split = spec.chunking
    calls = list(choice.tool_calls)
    first: dict[str, Any] = {"role": "assistant", "content": ""}
    if choice.content is None:
        first["content"] = None
        if choice.refusal is not None:
            first["refusal"] = ""
        if calls and choice.reasoning is None:
            first["tool_calls"] = [_tool_header(0, calls[0])]
    yield first, ([] if choice.logprobs is not None else None)
    for piece in split_text(choice.reasoning or "", split):
        yield {"reasoning": piece}, None
    for detail in choice.reasoning_details:
        yield {"reasoning_details": [dict(detail)]}, None
    if choice.content:
        pieces = (
            list(spec.chunks)
            if spec.chunks is not None
            and choice.index == 0
            and "".join(spec.chunks) == choice.content
            else split_text(choice.content, split)
        )
        per_piece = (
            logprobs.split_by_pieces(list(choice.logprobs), pieces)
            if choice.logprobs is not None
            else [None] * len(pieces)
        )
        for piece, entries in zip(pieces, per_piece, strict=True):
            yield {"content": piece}, entries
    for piece in split_text(choice.refusal or "", split):
        yield {"refusal": piece}, None
    if choice.annotations:
        yield {"annotations": [dict(a) for a in choice.annotations]}, None
    if choice.images:
        yield {"images": choice.images_json()}, None
    for index, call in enumerate(calls):
        if index > 0 or "tool_calls" not in first:
            yield {"tool_calls": [_tool_header(index, call)]}, None
        for piece in split_text(call.arguments, split):
            yield {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}, None


def _tool_header(index: int, call: protocol.ToolCall) -> dict[str, Any]:
    return {
        "index": index,
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": ""},
    }


def finish_choice(completion: Completion, choice: protocol.Choice) -> dict[str, Any]:
    out = completion.delta_choice(
        choice.index, {}, choice.finish_reason, choice.native_finish_reason
    )
    if choice.error is not None:
        out["error"] = choice.error
    return out
