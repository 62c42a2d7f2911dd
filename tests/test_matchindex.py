"""The match index: selection through it picks what a plain walk of every scenario picks, with
the same near misses in the same order, and it follows scenarios added and removed at run time."""

from __future__ import annotations

import random
from typing import Any

import pytest

from emulator.chatrequest import ChatRequest
from emulator.errors import RequestError
from emulator.loader import load_data
from emulator.matchindex import MatchIndex, exact_text
from emulator.matching import matches
from emulator.normalize import Normalize
from emulator.scenario import ChoiceSpec, Match, Reply, Scenario, TextMatcher
from emulator.state import (
    FORCE_HEADER,
    Admit,
    NearMiss,
    ScenarioState,
    Selection,
    _exhausted,
)

# --- the reference: selection as a plain walk of every scenario, in priority order ---------


class LinearState(ScenarioState):
    """ScenarioState selecting by checking every scenario's criteria in turn (no index)."""

    def select(
        self,
        request: ChatRequest,
        admit: Admit | None = None,
        session: str | None = None,
        norm: Normalize | None = None,
    ) -> Selection:
        with self._lock:
            forced = request.headers.get(FORCE_HEADER)
            if forced is not None:
                return self._forced(forced.strip(), admit, session)
            misses: list[NearMiss | Scenario] = []
            views: dict[Normalize, ChatRequest] = {}
            for scenario in self._by_priority:
                own = scenario.normalize if scenario.normalize is not None else norm
                if own:
                    result = self._normalized_match(scenario, request, own, views)
                    if not result.ok:
                        misses.append((scenario.name, result.reasons))
                        continue
                elif not matches(scenario.match, request):
                    misses.append(scenario)
                    continue
                selection = self._consume(scenario, False, tuple(misses), admit, request, session)
                if selection is not None:
                    return selection
                calls = self._counts[(session, scenario.name)]
                misses.append((scenario.name, (_exhausted(calls),)))
            return Selection(None, None, missed=tuple(misses), request=request)


# --- random scenario sets and requests, from small vocabularies so that many match ----------

TEXTS = ["hi", "Hi", "hi ", "hello", "a*", "h?", "[x]", ""]
MODELS = ["a/x", "a/x:free", "A/X", "b/y", "openrouter/auto"]
HEADER_NAMES = ["x-team", "X-Team", "x-env"]
HEADER_VALUES = ["red", "Red", "blue", "b*"]
PATTERNS = {
    "text": ["h*", "h?", "*i", "[hH]i", "hi", "Hi", "a*", "[x]"],
    "model": ["a/*", "a/x", "A/X", "*:free", "b/y"],
    "header": ["r*", "red", "Red", "b*"],
}
REGEXES = ["^h", "i$", "x", "^a/x$", "e"]


def text_matcher(rng: random.Random, values: list[str], kind: str) -> TextMatcher:
    op = rng.choice(["equals", "equals", "equals", "glob", "glob", "contains", "regex", "absent"])
    if op == "absent":
        return TextMatcher("absent")
    if op == "glob":
        return TextMatcher("glob", rng.choice(PATTERNS[kind] + values))
    if op == "regex":
        return TextMatcher("regex", rng.choice(REGEXES))
    return TextMatcher(op, rng.choice(values))


def random_match(rng: random.Random) -> Match:
    fields: dict[str, Any] = {}
    if rng.random() < 0.6:
        fields["model"] = text_matcher(rng, MODELS, "model")
    if rng.random() < 0.4:
        fields["last_user_message"] = text_matcher(rng, TEXTS, "text")
    if rng.random() < 0.3:
        fields["any_message"] = text_matcher(rng, TEXTS, "text")
    if rng.random() < 0.2:
        fields["system_message"] = text_matcher(rng, TEXTS, "text")
    if rng.random() < 0.4:
        names = rng.sample(HEADER_NAMES, rng.randint(1, 2))
        fields["headers"] = tuple(
            (name.lower(), text_matcher(rng, HEADER_VALUES, "header")) for name in names
        )
    if rng.random() < 0.2:
        fields["stream"] = rng.random() < 0.5
    return Match(**fields)


def random_scenarios(rng: random.Random, start: int, count: int) -> list[Scenario]:
    made = []
    for number in range(start, start + count):
        steps = tuple(
            Reply(choice=ChoiceSpec(content=f"s{number}-{step}"))
            for step in range(rng.randint(1, 3))
        )
        normalize = rng.choice([None] * 6 + [Normalize(), Normalize(whitespace=True)])
        made.append(
            Scenario(
                f"s{number}" + ("-refuse" if rng.random() < 0.1 else ""),
                steps,
                random_match(rng),
                priority=rng.randint(0, 2),
                after_sequence=rng.choice(["repeat_last", "cycle", "fall_through"]),
                normalize=normalize,
            )
        )
    return made


def random_request(rng: random.Random) -> ChatRequest:
    body: dict[str, Any] = {}
    roll = rng.random()
    if roll < 0.85:
        body["model"] = rng.choice(MODELS)
    elif roll < 0.92:
        body["model"] = 7  # not a string: no model matcher but `absent` holds
    messages = [
        {"role": rng.choice(["user", "user", "system", "assistant"]), "content": rng.choice(TEXTS)}
        for _ in range(rng.randint(0, 3))
    ]
    if messages or rng.random() < 0.5:
        body["messages"] = messages
    else:
        body["prompt"] = rng.choice(TEXTS)
    body["stream"] = rng.random() < 0.3
    headers = {
        rng.choice(HEADER_NAMES): rng.choice(HEADER_VALUES) for _ in range(rng.randint(0, 3))
    }
    return ChatRequest(body, headers)


def outcome(state: ScenarioState, request: ChatRequest, **options: Any) -> Any:
    """What a selection decided, in full: or the error that refused it."""
    try:
        s = state.select(request, **options)
    except RequestError as error:
        return ("refused", error.status, error.message)
    name = s.scenario.name if s.scenario is not None else None
    return (name, s.response, s.call_number, s.forced, s.missed, s.near_misses)


def refuse(scenario: Scenario) -> None:
    if scenario.name.endswith("-refuse"):
        raise RequestError(429, f"refused {scenario.name}")


@pytest.mark.parametrize("seed", range(40))
def test_indexed_selection_equals_a_plain_walk(seed: int) -> None:
    """Random scenario sets and requests (seeded): the same pick, step, call count, near-miss
    entries (lazy or worked out) and reasons, in order, as checking every scenario in turn,
    with sessions, admission refusals, normalisation and sets changing between requests."""
    rng = random.Random(seed)
    initial = random_scenarios(rng, 0, rng.randint(0, 40))
    indexed, linear = ScenarioState(initial), LinearState(initial)
    added = len(initial)
    for _ in range(60):
        roll = rng.random()
        if roll < 0.05:
            new = random_scenarios(rng, added, rng.randint(1, 5))
            added += len(new)
            indexed.add(new)
            linear.add(new)
        elif roll < 0.07:
            new = random_scenarios(rng, added, rng.randint(0, 30))
            added += len(new)
            indexed.replace_all(new)
            linear.replace_all(new)
        request = random_request(rng)
        options = {
            "session": rng.choice([None, None, "s1"]),
            "admit": rng.choice([None, refuse]),
            "norm": rng.choice([None] * 8 + [Normalize(), Normalize(whitespace=True)]),
        }
        assert outcome(indexed, request, **options) == outcome(linear, request, **options)


def test_random_sets_use_the_index() -> None:
    """The random sets of the equivalence test do file scenarios and rule some out (so the
    test compares the index against the walk, not the walk against itself)."""
    rng = random.Random(1)
    ruled_out = 0
    for _ in range(20):
        by_priority = random_scenarios(rng, 0, 30)
        index = MatchIndex.build(by_priority)
        assert len(index.always) < len(by_priority)
        ruled_out += len(by_priority) - len(index.candidates(random_request(rng)))
    assert ruled_out > 100


# --- each indexed criterion ---------------------------------------------------------------


def many(kind: str, count: int = 50) -> list[dict[str, Any]]:
    """`count` scenarios, each requiring its own exact value of one criterion."""
    made = []
    for n in range(count):
        if kind == "model":
            match: dict[str, Any] = {"model": f"vendor/model-{n}"}
        elif kind == "header":
            match = {"headers": {"X-Tenant": f"tenant-{n}"}}
        elif kind == "last_user_message":
            match = {"last_user_message": f"question {n}"}
        else:
            match = {"any_message": {"equals": f"question {n}"}}
        made.append({"name": f"{kind}-{n}", "match": match, "reply": {"content": str(n)}})
    return made


def request_for(kind: str, n: int) -> ChatRequest:
    model = f"vendor/model-{n}" if kind == "model" else "vendor/other"
    text = f"question {n}" if kind in ("last_user_message", "any_message") else "hello"
    messages = [{"role": "user", "content": text}, {"role": "user", "content": "and then?"}]
    if kind != "any_message":
        messages = messages[:1]
    headers = {"x-tenant": f"tenant-{n}"} if kind == "header" else {}
    return ChatRequest({"model": model, "messages": messages}, headers)


@pytest.mark.parametrize("kind", ["model", "header", "last_user_message", "any_message"])
def test_each_criterion_is_indexed(kind: str) -> None:
    """An exact model, header value, last user message or message text files its scenario:
    a request gets the one scenario it names as the only candidate, and the walk's near
    misses (every scenario before it, with reasons worked out when read)."""
    state = ScenarioState(load_data(many(kind)))
    index = MatchIndex.build(state._by_priority)
    assert index.always == ()
    assert list(index.candidates(request_for(kind, 37))) == [37]
    selection = state.select(request_for(kind, 37))
    assert selection.scenario is not None and selection.scenario.name == f"{kind}-37"
    assert [name for name, _ in selection.near_misses] == [f"{kind}-{n}" for n in range(37)]
    expected = LinearState(load_data(many(kind))).select(request_for(kind, 37))
    assert selection.near_misses == expected.near_misses


@pytest.mark.parametrize(
    ("matcher", "exact"),
    [
        (TextMatcher("equals", "Hi"), "Hi"),
        (TextMatcher("equals", ""), ""),
        (TextMatcher("glob", "a/x:free"), "a/x:free"),
        (TextMatcher("glob", "a/*"), None),
        (TextMatcher("glob", "a/?"), None),
        (TextMatcher("glob", "[ab]/x"), None),
        (TextMatcher("contains", "hi"), None),
        (TextMatcher("regex", "^hi$"), None),
        (TextMatcher("absent"), None),
        (TextMatcher("equals"), None),
        (None, None),
    ],
)
def test_only_exact_operators_file_a_scenario(
    matcher: TextMatcher | None, exact: str | None
) -> None:
    """`equals` and a wildcard-free `glob` hold for one text; contains, regex, absent and
    wildcard globs hold for many and leave the scenario a candidate for every request."""
    assert exact_text(matcher) == exact


def test_model_match_is_case_sensitive_and_exact() -> None:
    """A scenario for `a/x` is no candidate for `A/X` or `a/x:free` (matching compares the
    request's model as sent, case and variant included)."""
    state = ScenarioState(load_data([{"name": "x", "match": {"model": "a/x"}, "reply": {}}]))
    for model in ("A/X", "a/x:free", "a/x "):
        request = ChatRequest({"model": model, "messages": []})
        assert state.select(request).scenario is None
    assert state.select(ChatRequest({"model": "a/x", "messages": []})).scenario is not None


def test_header_names_in_any_case() -> None:
    """A header-filed scenario is found whatever case the request spells the header name in;
    the value is compared exactly."""
    state = ScenarioState(
        load_data([{"name": "t", "match": {"headers": {"X-Tenant": "acme"}}, "reply": {}}])
    )
    body = {"model": "m", "messages": []}
    assert state.select(ChatRequest(body, {"X-TENANT": "acme"})).scenario is not None
    assert state.select(ChatRequest(body, {"x-tenant": "ACME"})).scenario is None


def test_normalising_scenarios_stay_candidates() -> None:
    """A scenario with its own normalisation is filed under nothing (its texts are rewritten
    before matching), and the server's normalisation checks every scenario."""
    state = ScenarioState(
        load_data(
            [
                {
                    "name": "spaced",
                    "normalize": {"whitespace": True},
                    "match": {"last_user_message": "hello   world"},
                    "reply": {"content": "n"},
                },
                {"name": "plain", "match": {"last_user_message": "a  b"}, "reply": {}},
            ]
        )
    )
    assert MatchIndex.build(state._by_priority).always == (0,)
    request = ChatRequest({"model": "m", "messages": [{"role": "user", "content": " hello world"}]})
    selection = state.select(request)
    assert selection.scenario is not None and selection.scenario.name == "spaced"
    spaced = ChatRequest({"model": "m", "messages": [{"role": "user", "content": "a b"}]})
    assert state.select(spaced).scenario is None
    chosen = state.select(spaced, norm=Normalize(whitespace=True)).scenario
    assert chosen is not None and chosen.name == "plain"


# --- the index follows the set -----------------------------------------------------------


def test_scenarios_added_at_run_time_are_indexed() -> None:
    """A scenario added after start (admin API, fixture) is found through the index, and one
    of higher priority added later wins over an earlier one."""
    state = ScenarioState(load_data(many("model", 10)))
    request = ChatRequest({"model": "late/model", "messages": []})
    assert state.select(request).scenario is None
    state.add(load_data([{"name": "late", "match": {"model": "late/model"}, "reply": {}}]))
    chosen = state.select(request).scenario
    assert chosen is not None and chosen.name == "late"
    state.add(
        load_data([{"name": "later", "priority": 1, "match": {"model": "late/model"}, "reply": {}}])
    )
    chosen = state.select(request).scenario
    assert chosen is not None and chosen.name == "later"


def test_scenarios_removed_at_run_time_leave_the_index() -> None:
    """After a replace, a reload of the files or a clear, a removed scenario is never picked
    and the near misses name only the scenarios loaded now."""
    state = ScenarioState(load_data(many("model", 10)))
    request = request_for("model", 3)
    state.replace_all(load_data(many("header", 5)))
    selection = state.select(request)
    assert selection.scenario is None
    assert [name for name, _ in selection.near_misses] == [f"header-{n}" for n in range(5)]
    state.replace_files(load_data(many("model", 2)))
    assert state.select(request).scenario is None
    state.replace_files(load_data(many("model", 5)))
    chosen = state.select(request).scenario
    assert chosen is not None and chosen.name == "model-3"
    state.clear()
    assert state.select(request) == Selection(None, None, missed=(), request=request)
