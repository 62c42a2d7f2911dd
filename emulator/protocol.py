"""The wire shapes of docs/wire-format.md and nothing else: ids, the completion body, stream
chunks, the usage chunk, the in-band error event and SSE framing (spec schemas ChatResult and
ChatStreamChunk)."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator.fixedtext import FixedText

ALNUM = string.ascii_letters + string.digits
DONE = "[DONE]"
SSE_HEADERS = (
    ("Content-Type", "text/event-stream"),
    ("Cache-Control", "no-cache"),
    ("Connection", "keep-alive"),
    ("X-Accel-Buffering", "no"),
)
JSON_CONTENT_TYPE = "application/json"


def _alnum(rng: random.Random, n: int) -> str:
    return "".join(rng.choices(ALNUM, k=n))


def generation_id(created: int, rng: random.Random) -> str:
    """`gen-<unix>-<20 alphanumerics>`, the router's id format."""
    return f"gen-{created}-{_alnum(rng, 20)}"


def tool_call_id(rng: random.Random) -> str:
    """`call_` + 24 alphanumerics, as OpenAI upstreams pass through."""
    return f"call_{_alnum(rng, 24)}"


# One encoder for every event: json.dumps() with non-default options builds a new one per call.
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def dumps(value: Any) -> str:
    """Compact one-line JSON, UTF-8 kept as is (an SSE data line must not contain a newline)."""
    return _COMPACT.encode(value)


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # a JSON string, as the API sends it (may be deliberately invalid)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(frozen=True)
class Choice:
    """One finished choice: what the model 'said' and why it stopped."""

    index: int
    content: str | None
    finish_reason: str
    native_finish_reason: str | None = None
    reasoning: str | None = None
    refusal: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    error: dict[str, Any] | None = None  # choice-level error (docs/wire-format.md)
    reasoning_details: tuple[Mapping[str, Any], ...] = ()  # spec schema ReasoningDetailUnion
    annotations: tuple[Mapping[str, Any], ...] = ()  # url_citation items (web-search docs)
    images: tuple[str, ...] = ()  # image URLs, sent as [{type: image_url, image_url: {url}}]
    logprobs: tuple[dict[str, Any], ...] | None = None  # one entry per content token, or None
    # The scenario's fixed text when `content` is that very text (not cut): its token count and
    # chunk bodies are kept with it (emulator.fixedtext). Not part of the wire shape.
    fixed: FixedText | None = field(default=None, compare=False, repr=False)

    def logprobs_json(self) -> dict[str, Any] | None:
        """`choices[].logprobs` (spec schema ChatTokenLogprobs), None when not requested."""
        if self.logprobs is None:
            return None
        return {"content": list(self.logprobs), "refusal": None}

    def images_json(self) -> list[dict[str, Any]]:
        """`message.images` (spec schema ChatAssistantImages)."""
        return [{"type": "image_url", "image_url": {"url": url}} for url in self.images]


@dataclass(frozen=True)
class Completion:
    """Everything a response says, independent of whether it is streamed."""

    id: str
    created: int
    model: str
    provider: str
    choices: tuple[Choice, ...]
    usage: dict[str, Any]
    system_fingerprint: str | None = None
    text_mode: bool = False  # a legacy `prompt` request: choices carry `text`, not `message`
    extra: dict[str, Any] = field(default_factory=dict)
    pricing: Mapping[str, Any] | None = None  # the serving model's prices, for usage.cost
    router_metadata: Mapping[str, Any] | None = None  # openrouter_metadata, when opted in

    # --- non-streaming body (spec schema ChatResult; key order as in real router bodies) ---
    def to_json(self) -> dict[str, Any]:
        """The non-streaming body (spec schema ChatResult): `system_fingerprint` always present,
        null unless scripted."""
        body: dict[str, Any] = self._head("chat.completion")
        body["system_fingerprint"] = self.system_fingerprint
        body["choices"] = [self._choice_json(c) for c in self.choices]
        body["usage"] = dict(self.usage)
        if self.router_metadata is not None:
            body["openrouter_metadata"] = dict(self.router_metadata)
        return body

    def _head(self, obj: str) -> dict[str, Any]:
        """id, provider, model, object, created; a stream chunk (spec schema ChatStreamChunk)
        carries `system_fingerprint` only as a string."""
        head: dict[str, Any] = {
            "id": self.id,
            "provider": self.provider,
            "model": self.model,
            "object": obj,
            "created": self.created,
        }
        if self.system_fingerprint is not None:
            head["system_fingerprint"] = self.system_fingerprint
        return head

    def _choice_json(self, c: Choice) -> dict[str, Any]:
        out: dict[str, Any] = {
            "logprobs": c.logprobs_json(),
            "finish_reason": c.finish_reason,
            "native_finish_reason": c.native_finish_reason,
            "index": c.index,
        }
        if self.text_mode:
            out["text"] = c.content or ""
        else:
            message: dict[str, Any] = {
                "role": "assistant",
                "content": c.content,
                "refusal": c.refusal,
            }
            if c.reasoning is not None:
                message["reasoning"] = c.reasoning
            if c.reasoning_details:
                message["reasoning_details"] = [dict(d) for d in c.reasoning_details]
            if c.annotations:
                message["annotations"] = [dict(a) for a in c.annotations]
            if c.images:
                message["images"] = c.images_json()
            if c.tool_calls:
                message["tool_calls"] = [t.to_json() for t in c.tool_calls]
            out["message"] = message
        if c.error is not None:
            out["error"] = c.error
        return out

    # --- stream chunks (spec schema ChatStreamChunk) ---
    def chunk(
        self, choices: list[dict[str, Any]], usage: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A `chat.completion.chunk` with this completion's id, created and model on every chunk."""
        out = self._head("chat.completion.chunk")
        out["choices"] = choices
        if usage is not None:  # the final chunk: usage, and the router metadata when opted in
            out["usage"] = usage
            if self.router_metadata is not None:
                out["openrouter_metadata"] = dict(self.router_metadata)
        return out

    @cached_property
    def _chunk_prefix(self) -> str:
        """`{"id":...,"created":...,"choices":` serialised once for all of a stream's chunks."""
        return dumps(self._head("chat.completion.chunk"))[:-1] + ',"choices":'

    def chunk_text(self, choices: list[dict[str, Any]] | str) -> str:
        """The JSON text of `chunk(choices)` (no usage), built from the cached head; a string
        is one choice already serialised (a fixed reply's piece, emulator.fixedtext)."""
        if isinstance(choices, str):
            return self._chunk_prefix + "[" + choices + "]}"
        return self._chunk_prefix + dumps(choices) + "}"

    def delta_choice(
        self,
        index: int,
        delta: dict[str, Any],
        finish_reason: str | None = None,
        native_finish_reason: str | None = None,
        logprobs: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """One stream choice (spec schema ChatStreamChoice); `logprobs` are the entries of the
        tokens this delta carries."""
        lp = {"content": logprobs, "refusal": None} if logprobs is not None else None
        if self.text_mode:
            text = delta.get("content") or ""
            return {
                "index": index,
                "text": text,
                "finish_reason": finish_reason,
                "native_finish_reason": native_finish_reason,
                "logprobs": lp,
            }
        return {
            "index": index,
            "delta": delta,
            "finish_reason": finish_reason,
            "native_finish_reason": native_finish_reason,
            "logprobs": lp,
        }

    def usage_chunk(self, shape: str) -> dict[str, Any] | None:
        """The one usage chunk before [DONE]: `empty_choices`, `openrouter`, None for `none`.

        `openrouter` repeats each choice's finish reason with an empty delta. Real OpenRouter puts
        `role` in that delta too, but the role stays on the first delta only: openai-python's
        stream helper would otherwise rebuild `role == "assistantassistant"`."""
        if shape == "none":
            return None
        if shape == "openrouter":
            choices = [
                self.delta_choice(
                    c.index,
                    {},
                    c.finish_reason,
                    c.native_finish_reason,
                )
                for c in self.choices
            ]
            return self.chunk(choices, dict(self.usage))
        return self.chunk([], dict(self.usage))

    def error_chunk(self, error: dict[str, Any]) -> dict[str, Any]:
        """The in-band error event of a stream that has started (errors-and-debugging docs
        "Mid-stream errors"): `error` at the top level, and `openrouter_metadata` beside it when
        opted in (not for a 401, 402, 429 or 500: router-metadata docs)."""
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "provider": self.provider,
            "error": error,
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": ""},
                    "finish_reason": "error",
                    "native_finish_reason": "error",
                }
            ],
        }
        if self.router_metadata is not None and error.get("code") not in (401, 402, 429, 500):
            chunk["openrouter_metadata"] = dict(self.router_metadata)
        return chunk


def sse_data(payload: str, line_ending: str = "\n") -> bytes:
    """One `data:` event (only data lines and comments are ever sent)."""
    return f"data: {payload}{line_ending}{line_ending}".encode()


def sse_comment(text: str, line_ending: str = "\n") -> bytes:
    return f": {text}{line_ending}{line_ending}".encode()


# --- providers and native finish reasons -----------------------------------------------------

_PROVIDERS = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "google": "Google",
    "meta-llama": "Meta",
    "mistralai": "Mistral",
    "deepseek": "DeepSeek",
    "x-ai": "xAI",
    "qwen": "Alibaba",
    "cohere": "Cohere",
    "amazon": "Amazon Bedrock",
    "microsoft": "Azure",
    "nvidia": "Nvidia",
}
_NAME_HINTS = (
    ("claude", "Anthropic"),
    ("gemini", "Google"),
    ("gemma", "Google"),
    ("llama", "Meta"),
    ("mistral", "Mistral"),
    ("deepseek", "DeepSeek"),
    ("grok", "xAI"),
    ("qwen", "Alibaba"),
)
_NATIVE = {
    "Anthropic": {
        "stop": "end_turn",
        "length": "max_tokens",
        "tool_calls": "tool_use",
        "content_filter": "refusal",
    },
    "Google": {
        "stop": "STOP",
        "length": "MAX_TOKENS",
        "tool_calls": "STOP",
        "content_filter": "SAFETY",
    },
}


def provider_for(model: str) -> str:
    """The provider the router would report for `model`, from its vendor prefix or name."""
    vendor, _, _ = model.partition("/")
    if "/" in model and vendor in _PROVIDERS:
        return _PROVIDERS[vendor]
    lowered = model.lower()
    for hint, provider in _NAME_HINTS:
        if hint in lowered:
            return provider
    return "OpenAI"


def native_finish_reason(provider: str, finish_reason: str) -> str:
    """The upstream's raw finish reason for a normalized one (e.g. Anthropic `end_turn`)."""
    return _NATIVE.get(provider, {}).get(finish_reason, finish_reason)
