"""Scenario keys (name, match, reply, choices, sequence ...) → the scenario model.

Runs on data that passed the schema; semantic problems (bad regex, bad template, chunks that do
not spell the content ...) raise `ScenarioError` with file:line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..quota import Limits
from ..regex import compile_regex
from ..scenario import (
    ChoiceSpec,
    Match,
    Reply,
    Response,
    Scenario,
    SourceRef,
    TextMatcher,
    ToolCallSpec,
)
from .agentkeys import AgentKeys
from .explain import RESPONSE_KINDS
from .positions import JsonPath, short
from .streamreach import check_reach

CHOICE_KEYS = (
    "content",
    "reasoning",
    "refusal",
    "tool_calls",
    "finish_reason",
    "native_finish_reason",
    "choice_error",
    "reasoning_details",
    "annotations",
    "images",
)
TEMPLATE_KEYS = ("content", "reasoning", "refusal")


class Builder(AgentKeys):
    """Builds model objects from schema-valid data; semantic problems raise with file:line."""

    def scenarios(self, data: Mapping[str, Any]) -> list[Scenario]:
        if self.w.file_form:
            items = data["scenarios"]
            return [self.scenario(item, ("scenarios", i)) for i, item in enumerate(items)]
        return [self.scenario(data, ())]

    def scenario(self, d: Mapping[str, Any], path: JsonPath) -> Scenario:
        return Scenario(
            name=d["name"],
            steps=self.steps(d, path),
            match=self.match(d.get("match", {}), path + ("match",)),
            description=d.get("description", ""),
            priority=int(d.get("priority", 0)),
            after_sequence=d.get("after_sequence", "repeat_last"),
            strict=d.get("strict"),
            normalize=self.normalize_of(d, path),
            chaos=self.chaos_of(d, path),
            rate_limits=rate_limits_of(d),
            source=SourceRef(self.w.source, self.w.line(path)),
        )

    def steps(self, d: Mapping[str, Any], path: JsonPath) -> tuple[Response, ...]:
        if "sequence" in d:
            return tuple(
                self.response(kind, value, path + ("sequence", i, kind))
                for i, item in enumerate(d["sequence"])
                for kind, value in item.items()
            )
        kind = next(k for k in RESPONSE_KINDS if k in d)
        return (self.response(kind, d[kind], path + (kind,)),)

    def response(self, kind: str, value: Any, path: JsonPath) -> Response:
        if kind == "reply":
            return self.reply(value, path)
        if kind == "error":
            return self.error_reply(value, path)
        return self.fault(value, path)

    # --- match ---
    def match(self, d: Mapping[str, Any], path: JsonPath) -> Match:
        text = {
            key: self.text_matcher(d[key], path + (key,), "glob" if key == "model" else "equals")
            for key in (
                "model",
                "last_user_message",
                "system_message",
                "any_message",
                "api_key",
                "provider",
            )
            if key in d
        }
        headers = tuple(
            (name.lower(), self.text_matcher(value, path + ("headers", name), "equals"))
            for name, value in d.get("headers", {}).items()
        )
        tools = d.get("tools")
        return Match(
            **text,
            stream=d.get("stream"),
            headers=headers,
            tools=tuple(tools) if tools is not None else None,
            tool_choice=d.get("tool_choice"),
            has_tool_result=d.get("has_tool_result"),
            response_format=d.get("response_format"),
            body=d.get("body"),
            turn=self.turn_match(d, path),
            attempt=d.get("attempt"),
        )

    def text_matcher(self, value: Any, path: JsonPath, plain_op: str) -> TextMatcher:
        if not isinstance(value, dict):
            return TextMatcher(plain_op, str(value))
        op, operand = next(iter(value.items()))
        if op == "absent":
            return TextMatcher("absent")
        if op == "regex":
            self.check_regex(operand, path + ("regex",))
        return TextMatcher(op, operand)

    def check_regex(self, pattern: str, path: JsonPath) -> None:
        try:
            compile_regex(pattern)
        except ValueError as exc:
            raise self.w.error(path, f"{self.w.name(path)}: bad regex {pattern!r}: {exc}") from None

    def check_template(self, text: str, path: JsonPath) -> str:
        if "{{" not in text:  # no expression: nothing to parse (nor to import)
            return text
        from ..templating import parse_template

        try:
            parse_template(text)
        except ValueError as exc:
            raise self.w.error(path, f"{self.w.name(path)}: bad template: {exc}") from None
        return text

    # --- reply ---
    def reply(self, d: Mapping[str, Any], path: JsonPath) -> Reply:
        choices = d.get("choices")
        beside = [k for k in CHOICE_KEYS if k in d]
        if choices is not None and beside:
            raise self.w.error(
                path + (beside[0],),
                f"{self.w.name(path)} has both 'choices' and {beside[0]!r}; "
                f"put {beside[0]!r} inside each item of 'choices'",
            )
        stream = d.get("stream")
        self.check_chunks(d, path)
        reply = Reply(
            choice=self.choice(d, path),
            choices=(
                tuple(self.choice(c, path + ("choices", i)) for i, c in enumerate(choices))
                if choices is not None
                else None
            ),
            model=d.get("model"),
            provider=d.get("provider"),
            usage=d.get("usage"),
            delay_ms=float(d.get("delay_ms", 0)),
            stream=self.stream(stream, path + ("stream",)) if stream is not None else None,
            system_fingerprint=d.get("system_fingerprint"),
            headers={
                name: self.header_value(value, path + ("headers", name))
                for name, value in d.get("headers", {}).items()
            },
            body=d.get("body"),
            ids=d.get("ids", "keep"),
        )
        check_reach(reply, self.w, path)
        return reply

    def check_chunks(self, d: Mapping[str, Any], path: JsonPath) -> None:
        """`stream.chunks` beside a static `content` must spell that content exactly."""
        chunks = (d.get("stream") or {}).get("chunks")
        content = d.get("content")
        if chunks is None or not isinstance(content, str) or "{{" in content:
            return
        if "".join(chunks) != content:
            raise self.w.error(
                path + ("stream", "chunks"),
                f"{self.w.name(path + ('stream', 'chunks'))} join to {short(''.join(chunks))}, "
                f"not to the reply's content {short(content)}; give one of the two, or make "
                "them agree",
            )

    def choice(self, d: Mapping[str, Any], path: JsonPath) -> ChoiceSpec:
        texts = {
            k: self.check_template(d[k], path + (k,)) for k in TEMPLATE_KEYS if d.get(k) is not None
        }
        error = d.get("choice_error")
        details = d.get("reasoning_details")
        return ChoiceSpec(
            content_null="content" in d and d["content"] is None,
            reasoning_details=tuple(details) if details is not None else None,
            annotations=tuple(d.get("annotations", ())),
            images=tuple(d.get("images", ())),
            **texts,
            tool_calls=tuple(
                ToolCallSpec(name=c["name"], arguments=c.get("arguments"), id=c.get("id"))
                for c in d.get("tool_calls", [])
            ),
            finish_reason=d.get("finish_reason"),
            native_finish_reason=d.get("native_finish_reason"),
            choice_error=self.error_body(error) if error is not None else None,
        )

    # --- errors and faults ---


def rate_limits_of(d: Mapping[str, Any]) -> Limits | None:
    """A scenario's `rate_limits` (schema-checked: whole numbers >= 1), None when absent."""
    value = d.get("rate_limits")
    if value is None:
        return None
    return Limits(value.get("rpm"), value.get("rpd"), value.get("tpm"))
