"""The pure scenario model: what a scenario matches and how it answers.

Everything here is a frozen value built by the loader (from YAML or a dict) and read by
matching, generation and timeline compilation. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from emulator.errors import error_object

if TYPE_CHECKING:  # defined beside the code that applies them, which imports this model
    from .chaos import Chaos
    from .fixedtext import FixedText
    from .fuzz import Fuzz
    from .normalize import Normalize
    from .quota import Limits
    from .wirefaults import StreamFaults

FINISH_REASONS = ("stop", "length", "tool_calls", "content_filter", "error")
AFTER_SEQUENCE = ("repeat_last", "cycle", "fall_through")
ID_MODES = ("keep", "regenerate")
FAULT_KINDS = ("reset", "empty", "hang", "malformed_json", "error_only")
CHUNKING_KINDS = ("words", "chars", "tokens", "lines", "none")
TEXT_OPERATORS = ("equals", "contains", "regex", "glob", "absent")
# Most keep-alive comments one stream sends while its first chunk is pending (each is an event
# of the compiled timeline, so an unbounded count could exhaust memory).
MAX_KEEPALIVES = 10_000


@dataclass(frozen=True)
class SourceRef:
    """Where a scenario (or a part of one) was written: a file (or `<dict>`) and a 1-based line."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file


# --- matching -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TextMatcher:
    """One operator applied to a piece of request text: equals, contains, regex, glob or absent."""

    op: str
    value: str | None = None


@dataclass(frozen=True)
class Match:
    """All given criteria must hold; a criterion left as None is not checked."""

    model: TextMatcher | None = None
    stream: bool | None = None
    headers: tuple[tuple[str, TextMatcher], ...] = ()  # header names lower-cased
    last_user_message: TextMatcher | None = None
    system_message: TextMatcher | None = None
    any_message: TextMatcher | None = None
    tools: tuple[str, ...] | None = None  # the request offers at least these tool names
    tool_choice: str | None = None  # none | auto | required | a function name
    has_tool_result: bool | None = None  # the last message is a tool result
    response_format: str | None = None  # text | json_object | json_schema | json
    body: Mapping[str, Any] | None = None  # subset match on the JSON body
    api_key: TextMatcher | None = None
    turn: TurnMatch | None = None  # conversation-position criteria (emulator.turns)
    provider: TextMatcher | None = None  # the routed endpoint's provider name or slug
    attempt: int | None = None  # the routing attempt's number, 1 for the first


@dataclass(frozen=True)
class TurnRange:
    """Assistant turns so far: `min` <= turns <= `max` (None: unbounded on that side)."""

    min: int | None = None
    max: int | None = None


@dataclass(frozen=True)
class TurnMatch:
    """Where the request stands in an agent conversation; None criteria are not checked.

    `turn`: how many assistant messages the request carries; `last_role`: the role of the last
    message; `tool_call_id`, `tool_name`, `tool_content`: the last tool result's id, the name
    of the function it answers, and its text; `tools_called`: function names that earlier
    assistant messages called (all of them, in any order).
    """

    turn: TurnRange | None = None
    last_role: str | None = None
    tool_call_id: TextMatcher | None = None
    tool_name: TextMatcher | None = None
    tool_content: TextMatcher | None = None
    tools_called: tuple[str, ...] | None = None


# --- responses ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorBody:
    """The inner error object `{code, message, metadata, availability?}` (HTTP, in-band or per
    choice). `metadata.error_type` is derived from `code` unless the metadata sets it."""

    code: int
    message: str
    metadata: Mapping[str, Any] | None = None
    availability: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return error_object(self.code, self.message, self.metadata, self.availability)


@dataclass(frozen=True)
class ToolCallSpec:
    """A tool call to return. `arguments` None: generated from the request's tool schema."""

    name: str
    arguments: Mapping[str, Any] | str | None = None
    id: str | None = None


@dataclass(frozen=True)
class ChoiceSpec:
    """One choice of a reply. Content None with no tool calls and no refusal: generated text."""

    content: str | None = None
    reasoning: str | None = None
    refusal: str | None = None
    tool_calls: tuple[ToolCallSpec, ...] = ()
    finish_reason: str | None = None  # None: derived (stop, length, tool_calls)
    native_finish_reason: str | None = None
    choice_error: ErrorBody | None = None
    content_null: bool = False  # `content: null` written out: send null, generate nothing
    reasoning_details: tuple[Mapping[str, Any], ...] | None = None  # None: derived
    annotations: tuple[Mapping[str, Any], ...] = ()
    images: tuple[str, ...] = ()  # image URLs (http(s) or data URLs)

    @cached_property
    def fixed(self) -> FixedText | None:
        """The fixed `content` kept with the scenario (None without one): its o200k token count
        and its stream chunk bodies are made on first use, not per request."""
        from emulator.fixedtext import FixedText  # the model stays light until it is asked

        return FixedText(self.content) if self.content is not None else None

    @property
    def generates_content(self) -> bool:
        return (
            self.content is None
            and not self.content_null
            and not self.tool_calls
            and self.refusal is None
        )


@dataclass(frozen=True)
class Chunking:
    """How text is cut into stream deltas: words, chars, tokens, lines or none, `size` per delta."""

    kind: str = "words"
    size: int = 1


@dataclass(frozen=True)
class Interval:
    """Time between chunks: fixed `ms`, seeded jitter in [min_ms, max_ms], or one per chunk."""

    ms: float = 0.0
    min_ms: float | None = None
    max_ms: float | None = None
    per_chunk: tuple[float, ...] | None = None


@dataclass(frozen=True)
class KeepAlive:
    """SSE comments sent while the first chunk is pending."""

    text: str = "OPENROUTER PROCESSING"
    every_ms: float = 0.0


@dataclass(frozen=True)
class Framing:
    """Wire-level faults of the SSE framing itself."""

    line_ending: str = "\n"
    split_every: int | None = None
    stall_after: int | None = None
    stall_ms: float = 30000.0
    duplicate_done: bool = False


@dataclass(frozen=True)
class StreamEvent:
    """One hand-written timeline entry of `stream.events`: kind is the YAML key, value its value.

    Kinds: comment, wait_ms, content, reasoning, refusal, tool_call, data, raw, error, finish,
    usage, done, disconnect. `data` is one SSE data event's payload written as is; `raw` is text
    (written as UTF-8) or bytes (given in the file as `{base64: ...}`), with no framing added.
    """

    kind: str
    value: Any = None


@dataclass(frozen=True)
class StreamSpec:
    """The `stream` block of a reply; every field defaults to the plain router's behaviour."""

    chunking: Chunking = field(default_factory=Chunking)
    chunks: tuple[str, ...] | None = None
    ttft_ms: float = 0.0
    interval: Interval = field(default_factory=Interval)
    keepalive: KeepAlive | None = None  # None: the server's default keep-alive
    error_after: int | None = None
    error: ErrorBody | None = None
    disconnect_after: int | None = None
    done: bool = True
    usage_chunk: str | None = None  # None: the server's default
    events: tuple[StreamEvent, ...] | None = None
    framing: Framing = field(default_factory=Framing)
    faults: StreamFaults | None = None  # first-class broken shapes (emulator.wirefaults)
    fuzz: Fuzz | None = None  # seeded random chunking and framing (emulator.fuzz)

    @cached_property
    def fixed(self) -> FixedText | None:
        """`chunks` joined, kept with the scenario (None without them): the reply text of
        choice 0, with its token count and chunk bodies made once (see `ChoiceSpec.fixed`)."""
        from emulator.fixedtext import FixedText

        return FixedText("".join(self.chunks)) if self.chunks is not None else None


@dataclass(frozen=True)
class Reply:
    """A 200 answer. The choice fields describe choice 0 (every choice when `choices` is None)."""

    choice: ChoiceSpec = field(default_factory=ChoiceSpec)
    choices: tuple[ChoiceSpec, ...] | None = None
    model: str | None = None  # None: the requested model
    provider: str | None = None  # None: derived from the model's vendor prefix
    usage: Mapping[str, Any] | None = None  # None: exact o200k counts
    delay_ms: float = 0.0
    stream: StreamSpec | None = None  # None: default streaming behaviour
    system_fingerprint: str | None = None
    # Extra response headers (X-Generation-Id ...), over the ones the emulator sets.
    headers: Mapping[str, str] = field(default_factory=dict)
    # The exact JSON body for a request without `stream` (a recorded or exported reply).
    body: str | None = None
    # Recorded ids and `created` in `body` and `data` events: keep, or regenerate per request.
    ids: str = "keep"

    def choice_specs(self, n: int) -> tuple[ChoiceSpec, ...]:
        """The spec of each of `n` choices: the explicit list (padded with generated ones), or
        n copies."""
        if self.choices is None:
            return (self.choice,) * n
        if len(self.choices) >= n:
            return self.choices
        return self.choices + (ChoiceSpec(),) * (n - len(self.choices))


@dataclass(frozen=True)
class RateLimit:
    """The router's own rate limit (limits docs): sent as X-RateLimit-Limit (requests),
    X-RateLimit-Remaining and X-RateLimit-Reset (unix ms: the response's time + `reset_ms`)."""

    limit: int
    remaining: int = 0
    reset_ms: int = 60_000


@dataclass(frozen=True)
class ErrorReply:
    """An HTTP error in the router's envelope, `code` = `status`. `availability` (a model
    availability error) goes beside code and message; an empty `requested_models` list in it is
    filled with the request's model."""

    status: int
    message: str
    metadata: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_ms: float = 0.0
    preset: str | None = None
    body: str | None = None  # the exact body to send instead of the envelope (recorded errors)
    availability: Mapping[str, Any] | None = None
    rate_limit: RateLimit | None = None
    terminal: bool = False  # routing: no fallback to the next model or provider after it

    def inner(self) -> ErrorBody:
        """The inner error object this reply sends."""
        return ErrorBody(self.status, self.message, self.metadata, self.availability)


@dataclass(frozen=True)
class Fault:
    """A broken answer: reset, empty, hang (bounded by max_ms), malformed_json, or error_only
    (a 200 whose only content is an error envelope: `emulator.wirefaults`)."""

    kind: str
    max_ms: float = 30000.0
    body: str | None = None  # malformed_json: the broken body to send
    error: ErrorBody | None = None  # error_only: the error (None: the provider_error preset)


@dataclass(frozen=True, eq=False)
class Callback:
    """A reply computed per request by Python code (the pytest fixture's `add(callable)`):
    `fn(request)` (a ChatRequest; sync or async) returns the mapping a scenario would hold: a
    reply's keys, or one of {reply: ...}, {error: ...}, {fault: ...}."""

    fn: Callable[[Any], Any]


Response = Reply | ErrorReply | Fault | Callback


@dataclass(frozen=True)
class Scenario:
    """A named request pattern with the response (or sequence of responses) it gets."""

    name: str
    steps: tuple[Response, ...]
    match: Match = field(default_factory=Match)
    description: str = ""
    priority: int = 0
    after_sequence: str = "repeat_last"
    strict: bool | None = None  # per-scenario strict mode for unknown parameters
    normalize: Normalize | None = None  # None: the server's normalisation (emulator.normalize)
    chaos: Chaos | None = None  # None: the server's chaos (emulator.chaos)
    rate_limits: Limits | None = None  # this scenario's own rate limits (emulator.quota)
    source: SourceRef = field(default_factory=lambda: SourceRef("<dict>"))

    @property
    def is_sequence(self) -> bool:
        return len(self.steps) > 1

    def step(self, call_index: int) -> Response | None:
        """The response for the 0-based `call_index`-th call, or None to fall through."""
        count = len(self.steps)
        if call_index < count:
            return self.steps[call_index]
        if self.after_sequence == "cycle":
            return self.steps[call_index % count]
        if self.after_sequence == "fall_through":
            return None
        return self.steps[-1]

    def models(self) -> tuple[str, ...]:
        """Model ids this scenario reports or matches literally (for GET /v1/models)."""
        found: list[str] = []
        m = self.match.model
        if m is not None and m.op == "equals" and m.value:
            found.append(m.value)
        if m is not None and m.op == "glob" and m.value and not any(c in m.value for c in "*?["):
            found.append(m.value)
        for step in self.steps:
            if isinstance(step, Reply) and step.model:
                found.append(step.model)
        return tuple(dict.fromkeys(found))
