"""ScenarioState: which scenario a request gets, sequences and their counters, thread safety."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from emulator.chatrequest import ChatRequest
from emulator.errors import RequestError, ScenarioError
from emulator.loader import load_data
from emulator.presets import error_preset
from emulator.scenario import Fault, Reply, Scenario
from emulator.state import ScenarioState, no_match_error


def scenarios(*items: dict[str, Any]) -> list[Scenario]:
    return load_data(list(items))


def request(text: str = "hello", model: str = "openai/gpt-4o", **headers: str) -> ChatRequest:
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    return ChatRequest(body=body, headers={k.replace("_", "-"): v for k, v in headers.items()})


def content(state: ScenarioState, req: ChatRequest | None = None) -> str | None:
    response = state.select(req or request()).response
    assert isinstance(response, Reply)
    return response.choice.content


def test_highest_priority_wins() -> None:
    """Of several matching scenarios the highest priority wins, whatever the load order."""
    state = ScenarioState(
        scenarios(
            {"name": "low", "reply": {"content": "low"}},
            {"name": "high", "priority": 5, "reply": {"content": "high"}},
        )
    )
    selection = state.select(request())
    assert selection.scenario is not None and selection.scenario.name == "high"
    assert selection.call_number == 1 and not selection.forced


def test_ties_go_to_load_order() -> None:
    """Equal priorities: the scenario loaded first wins."""
    state = ScenarioState(
        scenarios(
            {"name": "first", "reply": {"content": "1"}},
            {"name": "second", "reply": {"content": "2"}},
        )
    )
    assert content(state) == "1"


def test_non_matching_scenarios_are_skipped_and_reported() -> None:
    """Scenarios that do not match are passed over and listed as near misses with reasons."""
    state = ScenarioState(
        scenarios(
            {
                "name": "weather",
                "priority": 1,
                "match": {"last_user_message": {"contains": "weather"}},
                "reply": {"content": "w"},
            },
            {"name": "any", "reply": {"content": "a"}},
        )
    )
    selection = state.select(request("hi"))
    assert selection.scenario is not None and selection.scenario.name == "any"
    assert selection.near_misses == (
        ("weather", ("last_user_message does not contain 'weather' (was: 'hi')",)),
    )


def test_no_match_gives_no_response_and_all_near_misses() -> None:
    """With no match, response is None (the default reply) and every scenario is a near miss."""
    state = ScenarioState(
        scenarios(
            {"name": "a", "match": {"model": "anthropic/*"}, "reply": {}},
            {
                "name": "b",
                "priority": 2,
                "match": {"model": "google/*", "stream": True},
                "reply": {},
            },
        )
    )
    selection = state.select(request())
    assert (selection.scenario, selection.response, selection.call_number) == (None, None, 0)
    assert [name for name, _ in selection.near_misses] == ["b", "a"]


def test_no_match_error_names_the_closest() -> None:
    """The strict-mode 404 lists the closest scenarios and why each did not match."""
    state = ScenarioState(
        scenarios(
            {
                "name": "far",
                "priority": 1,
                "match": {"model": "google/*", "stream": True},
                "reply": {},
            },
            {"name": "near", "match": {"model": "anthropic/*"}, "reply": {}},
        )
    )
    error = no_match_error(state.select(request()))
    assert error.status == 404
    assert error.headers == {"x-should-retry": "false"}
    assert error.message == (
        "no scenario matched this request (strict mode); closest: "
        "'near' (model does not match glob 'anthropic/*' (was: 'openai/gpt-4o')); "
        "'far' (model does not match glob 'google/*' (was: 'openai/gpt-4o'), stream is false, expected true)"
    )
    assert error.envelope()["error"]["metadata"] == {
        "error_type": "not_found",
        "near_misses": [
            {
                "scenario": "far",
                "reasons": [
                    "model does not match glob 'google/*' (was: 'openai/gpt-4o')",
                    "stream is false, expected true",
                ],
            },
            {
                "scenario": "near",
                "reasons": ["model does not match glob 'anthropic/*' (was: 'openai/gpt-4o')"],
            },
        ],
    }


def test_no_match_error_without_scenarios() -> None:
    """With nothing loaded the 404 says so."""
    error = no_match_error(ScenarioState().select(request()))
    assert (
        error.message == "no scenario matched this request (strict mode); no scenarios are loaded"
    )


def test_header_forces_a_scenario() -> None:
    """X-Emulator-Scenario picks the named scenario even if it would not match."""
    state = ScenarioState(
        scenarios(
            {"name": "default", "reply": {"content": "d"}},
            {"name": "special", "match": {"model": "nothing/*"}, "reply": {"content": "s"}},
        )
    )
    selection = state.select(request(x_emulator_scenario="special"))
    assert selection.scenario is not None and selection.scenario.name == "special"
    assert selection.forced and selection.call_number == 1


def test_header_with_unknown_name_is_a_404() -> None:
    """Forcing an unknown scenario is a 404 listing the loaded names."""
    state = ScenarioState(scenarios({"name": "a", "reply": {}}, {"name": "b", "reply": {}}))
    with pytest.raises(RequestError) as info:
        state.select(request(x_emulator_scenario="c"))
    assert (info.value.status, info.value.message) == (404, "no scenario named 'c'; loaded: a, b")
    assert info.value.metadata == {"scenarios": ["a", "b"]}


SEQUENCE = [{"error": "rate_limited"}, {"fault": "reset"}, {"reply": {"content": "ok"}}]


def test_sequence_repeat_last() -> None:
    """Call N gets item N; afterwards the last item repeats."""
    state = ScenarioState(scenarios({"name": "s", "sequence": SEQUENCE}))
    got = [state.select(request()) for _ in range(5)]
    assert [s.call_number for s in got] == [1, 2, 3, 4, 5]
    assert got[0].response == error_preset("rate_limited")
    assert got[1].response == Fault("reset")
    assert [s.response for s in got[2:]] == [got[2].response] * 3


def test_sequence_cycle() -> None:
    """after_sequence: cycle starts the sequence again."""
    state = ScenarioState(scenarios({"name": "s", "sequence": SEQUENCE, "after_sequence": "cycle"}))
    kinds = [type(state.select(request()).response).__name__ for _ in range(6)]
    assert kinds == ["ErrorReply", "Fault", "Reply"] * 2


def test_sequence_fall_through() -> None:
    """after_sequence: fall_through skips the exhausted scenario and tries the next match."""
    state = ScenarioState(
        scenarios(
            {
                "name": "once",
                "priority": 1,
                "sequence": [{"reply": {"content": "first"}}],
                "after_sequence": "fall_through",
            },
            {"name": "rest", "reply": {"content": "rest"}},
        )
    )
    assert content(state) == "first"
    second = state.select(request())
    assert second.scenario is not None and second.scenario.name == "rest"
    assert second.near_misses == (
        ("once", ("sequence exhausted after 1 call(s) (after_sequence: fall_through)",)),
    )
    assert state.call_counts() == {"once": 1, "rest": 1}


def test_forced_exhausted_fall_through_gets_the_default_reply() -> None:
    """Forcing an exhausted fall_through scenario gives the default reply (response None)."""
    state = ScenarioState(
        scenarios({"name": "once", "reply": {"content": "x"}, "after_sequence": "fall_through"})
    )
    state.select(request(x_emulator_scenario="once"))
    selection = state.select(request(x_emulator_scenario="once"))
    assert selection.forced and selection.response is None


def test_counters_count_per_scenario_and_reset() -> None:
    """Each scenario counts its own calls; reset_counters starts sequences over."""
    state = ScenarioState(
        scenarios(
            {
                "name": "a",
                "match": {"last_user_message": "a"},
                "sequence": [{"reply": {"content": "a1"}}, {"reply": {"content": "a2"}}],
            },
            {"name": "b", "reply": {"content": "b"}},
        )
    )
    assert content(state, request("a")) == "a1"
    assert content(state, request("b")) == "b"
    assert content(state, request("a")) == "a2"
    assert state.call_counts() == {"a": 2, "b": 1}
    state.reset_counters()
    assert state.call_counts() == {"a": 0, "b": 0}
    assert content(state, request("a")) == "a1"


def test_add_rejects_duplicate_names() -> None:
    """Adding a scenario whose name is loaded fails, naming both places, and changes nothing."""
    state = ScenarioState(load_data({"name": "a", "reply": {}}, "first"))
    with pytest.raises(ScenarioError) as info:
        state.add(load_data([{"name": "b", "reply": {}}, {"name": "a", "reply": {}}], "second"))
    assert str(info.value) == (
        "second: duplicate scenario name 'a': a scenario of that name is already loaded "
        "(from first, earlier)"
    )
    assert state.names() == ("a",)


def test_replace_all_and_clear() -> None:
    """replace_all swaps the set and resets counters; clear empties everything."""
    state = ScenarioState(scenarios({"name": "a", "reply": {}}))
    state.select(request())
    state.replace_all(scenarios({"name": "a", "reply": {}}, {"name": "b", "reply": {}}))
    assert state.call_counts() == {"a": 0, "b": 0}
    with pytest.raises(ScenarioError):
        state.replace_all(
            scenarios({"name": "c", "reply": {}}) + scenarios({"name": "c", "reply": {}})
        )
    assert state.names() == ("a", "b")
    state.clear()
    assert state.scenarios == () and state.call_counts() == {}


def test_concurrent_selects_consume_each_step_once() -> None:
    """Threads selecting at once each get a distinct call number: select-and-consume is atomic."""
    steps = [{"reply": {"content": str(i)}} for i in range(400)]
    state = ScenarioState(
        scenarios({"name": "s", "sequence": steps, "after_sequence": "fall_through"})
    )
    seen: list[str | None] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            value = content(state)
            with lock:
                seen.append(value)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen, key=lambda v: int(v or 0)) == [str(i) for i in range(400)]
    assert state.call_counts() == {"s": 400}


def test_add_while_selecting() -> None:
    """Adding scenarios from another thread while selecting neither fails nor loses counts."""
    state = ScenarioState(scenarios({"name": "base", "reply": {}}))
    stop = threading.Event()

    def adder() -> None:
        for i in range(100):
            state.add(scenarios({"name": f"extra{i}", "match": {"model": "none/*"}, "reply": {}}))
        stop.set()

    thread = threading.Thread(target=adder)
    thread.start()
    calls = 0
    while not stop.is_set() or calls < 10:
        state.select(request())
        calls += 1
    thread.join()
    assert state.call_counts()["base"] == calls
    assert len(state.scenarios) == 101
