"""Reply spec + request → a finished Completion: generated text (Faker, seeded), templates,
stop sequences and max_tokens, prefill continuation, n choices, tool calls, structured output
and exact usage. Pure: one seeded random generator per request and choice, no clock, no I/O."""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emulator import logprobs, lorem, protocol, tokens
from emulator.chatrequest import ChatRequest, whole_number
from emulator.errors import GenerationError, RequestError
from emulator.protocol import Choice, Completion, ToolCall
from emulator.scenario import ChoiceSpec, Reply, ToolCallSpec
from emulator.usage import build_usage

if TYPE_CHECKING:
    from faker import Faker


@dataclass(frozen=True)
class Draw:
    """Where a response is drawn from: seed, scenario and call, time and serial number."""

    seed: int
    created: int
    serial: int = 0  # the server's request counter: ids differ between identical requests
    scenario: str | None = None
    call_number: int = 1


class Generator:
    """Builds completions; holds a Faker instance per thread (seeded afresh before every use),
    made on first use: plain prose needs only Faker's lorem vocabulary (`emulator.lorem`), and
    importing Faker is a measurable part of start-up.

    Per thread, because generation runs on the event loop and, for costly requests, in worker
    threads at the same time: one shared instance would hand one request's draws to another
    and break "same seed, same bytes" (a second instance costs about 2 ms)."""

    def __init__(self, locale: str = "en_US") -> None:
        self.locale = locale
        self._fakers = threading.local()
        # The locale's lorem vocabulary (en_US's copied, so plain prose needs no Faker).
        self.words = lorem.WORDS if locale == "en_US" else tuple(self.faker.get_words_list())

    @property
    def faker(self) -> Faker:
        """This thread's Faker instance (unseeded; `seeded_faker` seeds it for one use)."""
        faker: Faker | None = getattr(self._fakers, "faker", None)
        if faker is None:
            from faker import Faker

            faker = self._fakers.faker = Faker(self.locale)
        return faker

    def rng(self, draw: Draw, request: ChatRequest, *salt: object) -> random.Random:
        """A generator seeded by seed, request and salt alone: same inputs, same values.

        Seeded with a 128-bit digest: seeding with the text itself would feed the whole
        (long) request fingerprint into the generator's key schedule on every request."""
        parts = [str(draw.seed), request.fingerprint, *(str(s) for s in salt)]
        digest = hashlib.blake2b("\x00".join(parts).encode(), digest_size=16).digest()
        return random.Random(int.from_bytes(digest, "big"))

    def seeded_faker(self, rng: random.Random) -> Faker:
        """This thread's Faker, seeded from `rng` (one 64-bit draw)."""
        faker = self.faker
        faker.seed_instance(rng.getrandbits(64))
        return faker

    def completion(
        self,
        reply: Reply,
        request: ChatRequest,
        draw: Draw,
        pricing: Mapping[str, Any] | None = None,
        *,
        reasoning_model: bool = False,
        router_metadata: Mapping[str, Any] | None = None,
    ) -> Completion:
        """The finished completion of `reply` for `request`. `pricing`: the serving model's
        catalog prices (USD per token strings), for `usage.cost`; `reasoning_model`: the catalog
        marks the model as reasoning (a request asking for reasoning then gets generated
        reasoning); `router_metadata`: the `openrouter_metadata` to send, when opted in."""
        model = reply.model or request.model
        provider = reply.provider or protocol.provider_for(model)
        specs = reply.choice_specs(request.n)
        think = reasoning_model and wants_reasoning(request.body)
        choices = tuple(
            self._choice(i, spec, reply, request, draw, provider, think)
            for i, spec in enumerate(specs)
        )
        id_rng = self.rng(draw, request, "id", draw.serial)
        return Completion(
            id=protocol.generation_id(draw.created, id_rng),
            created=draw.created,
            model=model,
            provider=provider,
            choices=choices,
            usage=usage_for(request, choices, reply.usage, pricing, _fixed_counts(choices)),
            pricing=pricing,
            system_fingerprint=reply.system_fingerprint,
            text_mode=request.is_prompt,
            router_metadata=router_metadata,
        )

    # --- one choice ---
    def _choice(
        self,
        index: int,
        spec: ChoiceSpec,
        reply: Reply,
        request: ChatRequest,
        draw: Draw,
        provider: str,
        think: bool = False,
    ) -> Choice:
        rng = self.rng(draw, request, "choice", index, draw.scenario or "", draw.call_number)
        tool_calls = self._tool_calls(spec, request, rng)
        content: str | None
        if spec.content is not None:
            content = self._render(spec.content, request, draw, rng)
        elif reply.stream is not None and reply.stream.fixed is not None and index == 0:
            content = reply.stream.fixed.text
        elif spec.generates_content and not tool_calls:
            content = self._generated_content(request, rng)
        else:
            content = None
        reasoning = (
            self._render(spec.reasoning, request, draw, rng) if spec.reasoning is not None else None
        )
        if reasoning is None and think and spec.generates_content:
            thought = self.rng(draw, request, "reasoning", index)
            reasoning = " ".join(self._sentence(thought) for _ in range(thought.randint(2, 4)))
        refusal = (
            self._render(spec.refusal, request, draw, rng) if spec.refusal is not None else None
        )
        # The scenario's fixed text, while `content` is that very text (nothing cut it).
        source = spec.fixed
        if spec.content is None and reply.stream is not None:
            source = reply.stream.fixed
        fixed = source if source is not None and content is source.text else None
        truncated = False
        if spec.finish_reason is None:  # a scripted finish reason means: send it as written
            if content is not None:
                content = cut_at_stop(content, request.stop)
            budget = Budget(request.max_tokens)
            reasoning = budget.fit(reasoning)
            fixed = fixed if fixed is not None and content is fixed.text else None
            content = budget.fit(content, fixed.tokens if fixed is not None else None)
            fixed = fixed if fixed is not None and content is fixed.text else None
            refusal = budget.fit(refusal)
            tool_calls = budget.fit_calls(tool_calls)
            truncated = budget.exhausted
        finish = spec.finish_reason or _derived_finish(spec, tool_calls, truncated)
        entries = None
        if request.body.get("logprobs") is True:
            top = whole_number(request.body.get("top_logprobs")) or 0
            lp_rng = self.rng(draw, request, "logprobs", index, draw.call_number)
            entries = tuple(logprobs.content_logprobs(content or "", top, lp_rng))
        return Choice(
            index=index,
            content=content,
            finish_reason=finish,
            native_finish_reason=spec.native_finish_reason
            or protocol.native_finish_reason(provider, finish),
            reasoning=reasoning,
            refusal=refusal,
            tool_calls=tool_calls,
            error=spec.choice_error.to_json() if spec.choice_error is not None else None,
            reasoning_details=_reasoning_details(spec, reasoning),
            annotations=spec.annotations,
            images=spec.images,
            logprobs=entries,
            fixed=fixed,
        )

    def _render(self, text: str, request: ChatRequest, draw: Draw, rng: random.Random) -> str:
        if "{{" not in text:
            return text
        from emulator.templating import TemplateTooLarge, parse_template, template_context

        ctx = template_context(request, draw.call_number, draw.scenario)
        try:
            return parse_template(text).render(ctx, self.seeded_faker(rng))
        except TemplateTooLarge as exc:  # the text echoes request data: it grows with the request
            raise RequestError(
                422,
                f"scenario {draw.scenario!r}: {exc}; send a smaller request or echo less of it",
                metadata={"scenario": draw.scenario, "limit_chars": exc.limit},
            ) from None

    def _generated_content(self, request: ChatRequest, rng: random.Random) -> str:
        fmt = request.response_format_type
        schema = request.response_schema
        if schema is not None:
            return json.dumps(self._json_for(schema, rng, "response_format"), ensure_ascii=False)
        if fmt in ("json_object", "json", "json_schema"):
            from emulator.jsongen import generate_object

            return json.dumps(generate_object(rng, self.seeded_faker(rng)), ensure_ascii=False)
        return self._prose(request, rng)

    def _prose(self, request: ChatRequest, rng: random.Random) -> str:
        # Sentences built as Faker's lorem provider builds them (its vocabulary, 4 to 8 words
        # each), drawn straight from the request's generator: Faker's own sentence builder
        # cost about a third of a request's CPU time.
        text = " ".join(self._sentence(rng) for _ in range(rng.randint(2, 4)))
        prefill = request.prefill
        if prefill:  # continue the prefill (seed 002): never repeat it, join it naturally
            text = text[0].lower() + text[1:]
            if not prefill[-1].isspace():
                text = " " + text
        return text

    def _sentence(self, rng: random.Random) -> str:
        words = " ".join(rng.choices(self.words, k=rng.randint(4, 8)))
        return words[0].upper() + words[1:] + "."

    def _json_for(self, schema: Mapping[str, Any], rng: random.Random, where: str) -> Any:
        from emulator.jsongen import generate_json

        try:
            return generate_json(schema, rng, self.seeded_faker(rng))
        except GenerationError as exc:
            raise RequestError(400, f"{where}: {exc}") from exc

    # --- tool calls ---
    def _tool_calls(
        self, spec: ChoiceSpec, request: ChatRequest, rng: random.Random
    ) -> tuple[ToolCall, ...]:
        wanted = spec.tool_calls
        if not wanted and spec.generates_content and request.response_schema is None:
            wanted = _forced_calls(request)
        return tuple(self._tool_call(t, request, rng) for t in wanted)

    def _tool_call(self, spec: ToolCallSpec, request: ChatRequest, rng: random.Random) -> ToolCall:
        call_id = spec.id or protocol.tool_call_id(rng)
        if isinstance(spec.arguments, str):
            arguments = spec.arguments
        elif spec.arguments is not None:
            arguments = protocol.dumps(dict(spec.arguments))
        else:
            schema = request.tool_parameters(spec.name)
            value = self._json_for(schema, rng, f"tools[{spec.name}].parameters") if schema else {}
            arguments = protocol.dumps(value)
        return ToolCall(id=call_id, name=spec.name, arguments=arguments)


def wants_reasoning(body: Mapping[str, Any]) -> bool:
    """True when a request asks for reasoning (reasoning-tokens docs): a `reasoning` object not
    disabled (`enabled: false`, `effort: none`) nor hidden (`exclude: true`), a
    `reasoning_effort` other than `none`, or `include_reasoning: true`."""
    reasoning = body.get("reasoning")
    if isinstance(reasoning, Mapping):
        off = reasoning.get("enabled") is False or reasoning.get("effort") == "none"
        return not off and reasoning.get("exclude") is not True
    effort = body.get("reasoning_effort")
    return (effort is not None and effort != "none") or body.get("include_reasoning") is True


def _reasoning_details(spec: ChoiceSpec, reasoning: str | None) -> tuple[Mapping[str, Any], ...]:
    """The scenario's reasoning_details, else one `reasoning.text` item carrying the reasoning
    (spec schema ReasoningDetailText), else none."""
    if spec.reasoning_details is not None:
        return spec.reasoning_details
    if not reasoning:
        return ()
    return ({"type": "reasoning.text", "text": reasoning, "format": "unknown", "index": 0},)


def _forced_calls(request: ChatRequest) -> tuple[ToolCallSpec, ...]:
    """The default reply honours tool_choice: a named function or `required` gives a tool call."""
    if request.forced_tool:
        return (ToolCallSpec(name=request.forced_tool),)
    if request.tool_choice == "required" and request.tool_names:
        return (ToolCallSpec(name=request.tool_names[0]),)
    return ()


def _derived_finish(spec: ChoiceSpec, tool_calls: tuple[ToolCall, ...], truncated: bool) -> str:
    if spec.choice_error is not None:
        return "error"
    if truncated:
        return "length"
    return "tool_calls" if tool_calls else "stop"


def cut_at_stop(text: str, stop: tuple[str, ...]) -> str:
    """`text` up to (not including) the first stop sequence in it."""
    positions = [p for p in (text.find(s) for s in stop) if p >= 0]
    return text[: min(positions)] if positions else text


class Budget:
    """max_tokens spent in the order a model writes: reasoning, content (or refusal), then tool
    calls (name, then arguments). Whatever does not fit is cut, as a real model's output is."""

    def __init__(self, max_tokens: int | None) -> None:
        self.left = max_tokens
        self.exhausted = False

    def fit(self, text: str | None, count: int | None = None) -> str | None:
        """`text` cut to the tokens left (and those spent); `count`: its tokens, when known."""
        if text is None or self.left is None:
            return text
        if count is not None and count <= self.left:  # it fits: no need to encode it
            self.left -= count
            return text
        shorter = tokens.truncate(text, self.left)
        self.exhausted |= shorter != text
        self.left -= tokens.count(shorter)
        return shorter

    def fit_calls(self, calls: tuple[ToolCall, ...]) -> tuple[ToolCall, ...]:
        if self.left is None:
            return calls
        kept: list[ToolCall] = []
        for call in calls:
            name = tokens.count(call.name)
            if name > self.left:
                self.exhausted = True
                break
            self.left -= name
            arguments = self.fit(call.arguments) or ""
            kept.append(ToolCall(call.id, call.name, arguments))
        return tuple(kept)


def usage_for(
    request: ChatRequest,
    choices: tuple[Choice, ...],
    given: Mapping[str, Any] | None,
    pricing: Mapping[str, Any] | None = None,
    content_tokens: Sequence[int | None] = (),
) -> dict[str, Any]:
    """Exact o200k usage with details and cost (see emulator.usage); a scenario's `usage`
    overrides any of the numbers. `content_tokens`: per choice, its content's tokens when
    already known (a scenario's fixed text), else None or nothing."""
    known = [*content_tokens, *[None] * (len(choices) - len(content_tokens))]
    return build_usage(
        request.prompt_token_count,
        sum(_choice_tokens(c, k) for c, k in zip(choices, known, strict=False)),
        sum(tokens.count(c.reasoning) for c in choices if c.reasoning),
        pricing=pricing,
        finish_reason=choices[0].finish_reason if choices else None,
        given=given,
    )


def _choice_tokens(choice: Choice, content_tokens: int | None = None) -> int:
    texts = [choice.reasoning, choice.refusal]
    if content_tokens is None:
        texts.append(choice.content)
    for call in choice.tool_calls:
        texts += [call.name, call.arguments]
    return (content_tokens or 0) + sum(tokens.count(t) for t in texts if t)


def _fixed_counts(choices: Sequence[Choice]) -> list[int | None]:
    """Per choice, the tokens of its content when it is its scenario's fixed text as written
    (no template, stop sequence or max_tokens changed it), counted once per scenario; else None."""
    return [c.fixed.tokens if c.fixed is not None else None for c in choices]
