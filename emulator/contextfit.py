"""Whether an endpoint's context window can hold a request (provider-selection docs: "with
`max_tokens` it routes only to providers that can produce that length"; message-transforms
docs: a prompt plus completion over the context window, without compression, is the router's
400 `context_length_exceeded`).

An endpoint fits when the estimated prompt (the o200k count of the messages and of the tool
definitions) plus the requested output (`max_completion_tokens`, else `max_tokens`, else 0)
is at most its `context_length`, the prompt at most its `max_prompt_tokens`, and the output at
most its `max_completion_tokens`. With context compression asked for (the `context-compression`
plugin, or `transforms: ["middle-out"]`) the prompt is compressed to fit: only the output is
checked. The body's size in bytes bounds its token count from above, so a request far below
every window is never counted here.

Pure: no I/O; the exact count is passed in and taken at most once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from emulator.catalog import CatalogModel, Endpoint
from emulator.chatrequest import whole_number
from emulator.scenario import ErrorReply

COMPRESSION_PLUGIN = "context-compression"
COMPRESSION_TRANSFORM = "middle-out"


@dataclass
class PromptSize:
    """What a request needs of a context window, in tokens. `bound` is an upper bound of the
    prompt's tokens (the body's bytes); `count` gives the exact `(text, tools)` tokens, called
    at most once and only when the bound is not enough to decide."""

    bound: int
    count: Callable[[], tuple[int, int]]
    output: int = 0
    compress: bool = False
    _counted: tuple[int, int] | None = field(default=None, repr=False)

    def prompt(self) -> tuple[int, int]:
        """The prompt's `(text, tool definitions)` tokens."""
        if self._counted is None:
            self._counted = self.count()
        return self._counted


def prompt_size(
    body: Mapping[str, Any], bound: int, count: Callable[[], tuple[int, int]]
) -> PromptSize:
    """The `PromptSize` of a request body whose prompt is at most `bound` tokens."""
    output = 0
    for key in ("max_completion_tokens", "max_tokens"):
        value = whole_number(body.get(key))
        if value is not None:
            output = max(0, value)
            break
    return PromptSize(max(0, bound), count, output, compresses(body))


def compresses(body: Mapping[str, Any]) -> bool:
    """Whether the request asks for context compression (the plugin, enabled, or the
    `middle-out` transform)."""
    plugins = body.get("plugins")
    if isinstance(plugins, list) and any(
        isinstance(p, Mapping)
        and p.get("id") == COMPRESSION_PLUGIN
        and p.get("enabled") is not False
        for p in plugins
    ):
        return True
    transforms = body.get("transforms")
    return isinstance(transforms, list) and COMPRESSION_TRANSFORM in transforms


def known_window(model: CatalogModel) -> bool:
    """Whether the catalog entry gives a context length (its own or an endpoint's): a model
    known only by id (served with the defaults) is never refused for its window."""
    entry = model.source
    endpoints = entry.get("endpoints") or []
    return "context_length" in entry or any(
        isinstance(e, Mapping) and "context_length" in e for e in endpoints
    )


def fits(endpoint: Endpoint, size: PromptSize, window: bool = True) -> bool:
    """Whether `endpoint` can take the request: its `max_completion_tokens` always, its
    context window and `max_prompt_tokens` when `window` (the catalog gives them)."""
    limit = endpoint.max_completion_tokens
    if limit is not None and size.output > limit:
        return False
    if not window:
        return True
    context = endpoint.context_length
    if size.compress:
        return size.output < context
    room = (
        context if endpoint.max_prompt_tokens is None else min(context, endpoint.max_prompt_tokens)
    )
    if size.bound + size.output <= room:
        return True
    text, tools = size.prompt()
    prompt = text + tools
    if endpoint.max_prompt_tokens is not None and prompt > endpoint.max_prompt_tokens:
        return False
    return prompt + size.output <= context


def refusal(endpoints: Sequence[Endpoint], size: PromptSize) -> ErrorReply:
    """The router's 400 `context_length_exceeded` for a model none of whose `endpoints` fits,
    quoting the one with the largest window."""
    best = max(endpoints, key=lambda e: (e.context_length, e.max_completion_tokens or 0))
    limit = best.max_completion_tokens
    metadata = {"error_type": "context_length_exceeded", "provider_name": None}
    if limit is not None and size.output > limit:
        message = (
            f"This endpoint's maximum completion length is {limit} tokens. However, you "
            f"requested {size.output} tokens in the output. Please reduce max_tokens (or "
            "max_completion_tokens)."
        )
        return ErrorReply(400, message, metadata)
    if size.compress:  # the prompt is compressed to fit: only the output can overflow
        message = (
            f"This endpoint's maximum context length is {best.context_length} tokens. However, "
            f"you requested {size.output} tokens in the output, which leaves no room for the "
            "compressed prompt. Please reduce max_tokens (or max_completion_tokens)."
        )
        return ErrorReply(400, message, metadata)
    text, tools = size.prompt()
    prompt_limit = best.max_prompt_tokens
    if prompt_limit is not None and text + tools > prompt_limit:
        message = (
            f"This endpoint's maximum prompt length is {prompt_limit} tokens. However, you "
            f"requested about {text + tools} tokens of input ({text} of text input, {tools} of "
            "tool input). Please reduce the length of the messages, or use the "
            "context-compression plugin to compress your prompt automatically."
        )
        return ErrorReply(400, message, metadata)
    total = text + tools + size.output
    message = (
        f"This endpoint's maximum context length is {best.context_length} tokens. However, you "
        f"requested about {total} tokens ({text} of text input, {tools} of tool input, "
        f"{size.output} in the output). Please reduce the length of either one, or use the "
        "context-compression plugin to compress your prompt automatically."
    )
    return ErrorReply(400, message, metadata)
