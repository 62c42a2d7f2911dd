"""A read-only view of one validated chat completions request, with the derived facts that
matching, templating and generation ask about (last user message, tool names, prefill ...)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from emulator import tokens


def text_of(content: Any) -> str:
    """The text of a message `content`: the string itself, or its text parts joined by newlines."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part["text"]
            for part in content
            if isinstance(part, dict)
            and part.get("type") == "text"
            and isinstance(part.get("text"), str)
        )
    return ""


def whole_number(value: Any) -> int | None:
    """An integer parameter's value: JSON Schema's `integer` also admits 2.0 (and 1e3)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


_DELIVERY_KEYS = frozenset(
    {"stream", "stream_options", "stop", "max_tokens", "max_completion_tokens", "n"}
)


@dataclass(frozen=True)
class ChatRequest:
    """The parsed JSON body plus the request's headers (names lower-cased) and bearer key."""

    body: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)
    api_key: str | None = None
    # Routing (docs/routing.md): the provider endpoint this attempt goes to (display name and
    # slug) and the attempt's number, 1 for the first; None before routing.
    provider: str | None = None
    provider_tag: str | None = None
    attempt: int = 1

    def for_attempt(self, model: str, provider: str, tag: str, attempt: int) -> ChatRequest:
        """This request as one routing attempt sees it: a request for `model` on `provider`."""
        same = self.body.get("model") == model
        body = self.body if same else {**self.body, "model": model}
        routed = ChatRequest(body, self.headers, self.api_key, provider, tag, attempt)
        if same:  # the same body: keep the derived values already worked out (cached)
            fields = {"body", "headers", "api_key", "provider", "provider_tag", "attempt"}
            routed.__dict__.update({k: v for k, v in self.__dict__.items() if k not in fields})
        else:  # another model: the token counts of the prompt stay the same
            counts = ("prompt_token_count", "tool_token_count")
            routed.__dict__.update({k: self.__dict__[k] for k in counts if k in self.__dict__})
        return routed

    # --- plain parameters ---
    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def stream(self) -> bool:
        return self.body.get("stream") is True

    @property
    def n(self) -> int:
        n = whole_number(self.body.get("n"))
        return n if n is not None and n >= 1 else 1

    @property
    def max_tokens(self) -> int | None:
        """`max_completion_tokens` if given, else `max_tokens`."""
        for key in ("max_completion_tokens", "max_tokens"):
            value = whole_number(self.body.get(key))
            if value is not None:
                return value
        return None

    @property
    def stop(self) -> tuple[str, ...]:
        stop = self.body.get("stop")
        if isinstance(stop, str):
            return (stop,) if stop else ()
        if isinstance(stop, list):
            return tuple(s for s in stop if isinstance(s, str) and s)
        return ()

    @property
    def is_prompt(self) -> bool:
        """A legacy `prompt` request (text choices) rather than `messages`."""
        return "messages" not in self.body and isinstance(self.body.get("prompt"), str)

    @property
    def prompt(self) -> str | None:
        p = self.body.get("prompt")
        return p if isinstance(p, str) else None

    @property
    def messages(self) -> list[dict[str, Any]]:
        msgs = self.body.get("messages")
        return [m for m in msgs if isinstance(m, dict)] if isinstance(msgs, list) else []

    # --- tools and formats ---
    @property
    def tools(self) -> list[dict[str, Any]]:
        tools = self.body.get("tools")
        return [t for t in tools if isinstance(t, dict)] if isinstance(tools, list) else []

    @cached_property
    def tool_names(self) -> tuple[str, ...]:
        names = []
        for tool in self.tools:
            fn = tool.get("function")
            if isinstance(fn, dict) and isinstance(fn.get("name"), str):
                names.append(fn["name"])
        return tuple(names)

    @cached_property
    def prompt_token_count(self) -> int:
        """The body's `prompt_tokens` (o200k, the messages formula of `emulator.tokens`)."""
        return tokens.prompt_tokens(self.body)

    @cached_property
    def tool_token_count(self) -> int:
        """Tokens of the tool definitions the request sends (o200k over their compact JSON): the
        "tool input" a context window must also hold."""
        if not self.tools:
            return 0
        return tokens.count(json.dumps(self.tools, separators=(",", ":"), ensure_ascii=False))

    def tool_parameters(self, name: str) -> dict[str, Any] | None:
        """The JSON Schema of the named tool's parameters, if the request offers that tool."""
        for tool in self.tools:
            fn = tool.get("function")
            if isinstance(fn, dict) and fn.get("name") == name:
                params = fn.get("parameters")
                return params if isinstance(params, dict) else None
        return None

    @property
    def tool_choice(self) -> str | None:
        """`none`, `auto`, `required`, the forced function's name, or None when absent."""
        choice = self.body.get("tool_choice")
        if isinstance(choice, str):
            return choice
        if isinstance(choice, dict):
            fn = choice.get("function")
            if isinstance(fn, dict) and isinstance(fn.get("name"), str):
                return str(fn["name"])
        return None

    @property
    def forced_tool(self) -> str | None:
        """The function named by an object `tool_choice`, if any."""
        choice = self.body.get("tool_choice")
        if isinstance(choice, dict):
            return self.tool_choice
        return None

    @property
    def response_format(self) -> Mapping[str, Any] | None:
        rf = self.body.get("response_format")
        return rf if isinstance(rf, dict) else None

    @property
    def response_format_type(self) -> str | None:
        rf = self.response_format
        return str(rf.get("type")) if rf is not None and "type" in rf else None

    @property
    def response_schema(self) -> dict[str, Any] | None:
        """The JSON Schema the reply must satisfy (json_schema, or legacy json with a schema)."""
        rf = self.response_format
        if rf is None:
            return None
        if rf.get("type") == "json_schema":
            js = rf.get("json_schema")
            if isinstance(js, dict) and isinstance(js.get("schema"), dict):
                return dict(js["schema"])
        if rf.get("type") == "json" and isinstance(rf.get("schema"), dict):
            return dict(rf["schema"])
        return None

    # --- conversation facts ---
    def _texts(self, roles: tuple[str, ...]) -> list[str]:
        return [text_of(m.get("content")) for m in self.messages if m.get("role") in roles]

    @cached_property
    def last_user_message(self) -> str | None:
        texts = self._texts(("user",))
        if texts:
            return texts[-1]
        return self.prompt

    @cached_property
    def system_message(self) -> str | None:
        texts = self._texts(("system", "developer"))
        return "\n".join(texts) if texts else None

    @cached_property
    def message_texts(self) -> list[str]:
        texts = [text_of(m.get("content")) for m in self.messages]
        if self.prompt is not None:
            texts.append(self.prompt)
        return texts

    @property
    def has_tool_result(self) -> bool:
        msgs = self.messages
        return bool(msgs) and msgs[-1].get("role") == "tool"

    @property
    def prefill(self) -> str | None:
        """The text of a last `assistant` message, which the reply must continue (seed 002)."""
        msgs = self.messages
        if msgs and msgs[-1].get("role") == "assistant" and not msgs[-1].get("tool_calls"):
            return text_of(msgs[-1].get("content"))
        return None

    def warm(self) -> None:
        """Compute the derived values matching and generation read (their cost grows with
        the body), so a worker thread pays for them instead of the event loop."""
        for name in ("tool_names", "last_user_message", "system_message", "message_texts"):
            getattr(self, name)
        _ = self.fingerprint

    @cached_property
    def fingerprint(self) -> str:
        """A canonical text of the body minus the keys that only shape delivery (stream,
        stream_options) or cut the text (stop, max_tokens, n): the streamed and JSON forms of a
        request generate the same reply, and max_tokens or stop cut that very text."""
        body = {k: v for k, v in self.body.items() if k not in _DELIVERY_KEYS}
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
