"""Cutting a completion into stream deltas: text into pieces (words, chars, lines, o200k
tokens), each choice into its deltas in the order the router streams them (role first, then
reasoning, content or refusal, annotations, images, tool calls: a full header, then index and
argument fragments), round-robin over the choices. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from emulator import logprobs, protocol, tokens
from emulator.fixedtext import FixedText
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
) -> Iterator[tuple[bool, dict[str, Any] | str]]:
    """Round-robin over the choices: (is a content piece, choice delta). Each choice starts
    with its role delta, which is not a piece (error_after and intervals count pieces). Each
    delta is made when asked for (a lazy stream asks as it plays). The content pieces of a
    scenario's fixed text come as JSON text, serialised once per scenario (emulator.fixedtext);
    every other delta as a dict."""
    running = [(c.index, _choice_deltas(c, spec, completion)) for c in completion.choices]
    step = 0
    while running:
        still = []
        for index, deltas in running:
            found = next(deltas, None)
            if found is not None:
                if isinstance(found, str):  # a fixed reply's piece, serialised once
                    yield step > 0, found
                else:
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


def _choice_deltas(
    choice: protocol.Choice, spec: StreamSpec, completion: Completion | None = None
) -> Iterator[Delta | str]:
    """The deltas of one choice with the logprobs entries each carries: role first (only
    there), reasoning then its reasoning_details, content (or refusal), annotations and images,
    then tool calls as docs/wire-format.md says (a full header, then index + argument
    fragments). Given `completion`, the content pieces of a fixed text (no logprobs) come as
    their serialised stream choices, kept with the scenario: the same text `delta_choice` and
    `dumps` would make."""
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
        fixed = choice.fixed
        if (
            completion is not None
            and fixed is not None
            and fixed.text is choice.content
            and choice.logprobs is None
        ):
            texts = _fixed_pieces(fixed, choice, spec, completion)
            if texts is not None:  # None: too long to keep, serialised below as it goes
                yield from texts
                yield from _after_content(choice, calls, first, split)
                return
        pieces = _pieces(choice, spec)
        per_piece = (
            logprobs.split_by_pieces(list(choice.logprobs), pieces)
            if choice.logprobs is not None
            else [None] * len(pieces)
        )
        for piece, entries in zip(pieces, per_piece, strict=True):
            yield {"content": piece}, entries
    yield from _after_content(choice, calls, first, split)


def _pieces(choice: protocol.Choice, spec: StreamSpec) -> list[str]:
    """The content pieces of `choice`: the scenario's `stream.chunks` when they make up its
    content (choice 0), else its content cut by `spec.chunking`."""
    content = choice.content or ""
    if spec.chunks is not None and choice.index == 0 and "".join(spec.chunks) == content:
        return list(spec.chunks)
    return split_text(content, spec.chunking)


def _fixed_pieces(
    fixed: FixedText, choice: protocol.Choice, spec: StreamSpec, completion: Completion
) -> tuple[str, ...] | None:
    """The serialised stream choices of a fixed text's pieces, made once per key: everything
    the pieces and their JSON depend on besides the text itself; None when they are too long
    to keep (emulator.fixedtext.MAX_KEPT_CHARS)."""
    index = choice.index
    key = (index, completion.text_mode, spec.chunking, spec.chunks if index == 0 else None)

    def make() -> tuple[str, ...]:
        return tuple(
            protocol.dumps(completion.delta_choice(index, {"content": piece}))
            for piece in _pieces(choice, spec)
        )

    return fixed.choice_texts(key, make)


def _after_content(
    choice: protocol.Choice,
    calls: list[protocol.ToolCall],
    first: dict[str, Any],
    split: Chunking,
) -> Iterator[Delta]:
    """A choice's deltas after its content: refusal, annotations, images, tool calls."""
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
