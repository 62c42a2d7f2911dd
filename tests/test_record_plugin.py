"""Per-test cassettes through the pytest plugin, as a downstream project uses them (pytester):
`--chat-emulator-record=MODE`, the `record=`/`cassette=` marker options, the default path."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

# Imported before pytester's in-process runs (which drop the modules a run imports).
import openai  # noqa: F401
import pytest
import yaml

import emulator.proxy
import emulator.testing  # noqa: F401
from emulator.config import Config
from emulator.testing import EmulatorServer

pytest_plugins = ["pytester"]

TEST_FILE = """
import pytest
from openai import OpenAI


@pytest.mark.chat_emulator(cassette=True)
def test_weather(chat_emulator):
    client = OpenAI(base_url=chat_emulator.base_url, api_key="sk-or-v1-secret0123456789abcdef")
    reply = client.chat.completions.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "Weather?"}]
    )
    assert reply.choices[0].message.content == "Sunny."
"""


@pytest.fixture(scope="module")
def upstream() -> Iterator[EmulatorServer]:
    """The upstream to record from: an emulator that says it is sunny."""
    with EmulatorServer(Config(fixed_time=1735689600)) as server:
        server.add({"name": "sunny", "reply": {"content": "Sunny."}})
        yield server


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A downstream project with one test marked for a per-test cassette."""
    pytester.makeini(
        "[pytest]\naddopts = -p no:cacheprovider\nfilterwarnings = error\n"
        "asyncio_default_fixture_loop_scope = function\n"
    )
    pytester.mkdir("tests")
    (pytester.path / "tests" / "test_api.py").write_text(textwrap.dedent(TEST_FILE))
    return pytester


def test_once_records_then_replays_without_upstream(
    project: pytest.Pytester, upstream: EmulatorServer
) -> None:
    """`--chat-emulator-record=once` writes tests/cassettes/<module>/<test>.yaml; the next run
    (default mode none) replays it with no upstream at all."""
    url = f"--chat-emulator-upstream={upstream.base_url}"
    project.runpytest("--chat-emulator-record=once", url).assert_outcomes(passed=1)
    cassette = project.path / "tests" / "cassettes" / "test_api" / "test_weather.yaml"
    text = cassette.read_text()
    assert "secret0123456789" not in text
    [scenario] = yaml.safe_load(text)["scenarios"]
    assert scenario["match"]["last_user_message"] == {"equals": "Weather?"}
    calls = len(upstream.requests)
    project.runpytest().assert_outcomes(passed=1)
    assert len(upstream.requests) == calls


def test_mode_none_without_cassette_is_a_404(project: pytest.Pytester) -> None:
    """Replay only and no cassette: the client gets a 404 naming the missing cassette."""
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*no recording matched this request (record mode none); nothing is recorded in *"]
    )


def test_recording_mode_needs_an_upstream(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recording without an upstream URL fails the test with how to give one."""
    monkeypatch.delenv("CHAT_EMULATOR_UPSTREAM", raising=False)
    result = project.runpytest("--chat-emulator-record=all")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*needs an upstream URL*--chat-emulator-upstream URL*"])
