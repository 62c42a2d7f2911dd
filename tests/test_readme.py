"""Every example in README.md runs: the pytest quick start, the SDK snippet and the curl call."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import shlex
import urllib.request
from pathlib import Path

import pytest

from emulator.cli_options import build_parser
from emulator.testing import EmulatorServer

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parents[1] / "README.md"
README_URL = "http://127.0.0.1:8080"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


def test_quick_start_passes_as_a_downstream_test(pytester: pytest.Pytester) -> None:
    """The README's pytest quick start passes in a fresh project with only the plugin."""
    quick_start = next(b for b in blocks("python") if "def test_" in b)
    # pytest-asyncio (a test dependency, not ours to configure downstream) warns without this.
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_quick_start=quick_start)
    # In a subprocess: an in-process run drops the modules it imported (the SDK's transport)
    # afterwards, and later tests then see re-imported exception classes that never match.
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_sdk_snippet_prints_the_streamed_reply(server: EmulatorServer) -> None:
    """The README's SDK streaming snippet runs against a live server and prints text."""
    snippet = next(b for b in blocks("python") if "def test_" not in b)
    assert README_URL in snippet
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(snippet.replace(README_URL, server.url), {})
    assert out.getvalue().strip()
    assert server.requests[-1].stream is True


def test_curl_example_streams(server: EmulatorServer) -> None:
    """The README's curl command (its URL, headers and body) gets an SSE stream."""
    command = next(b for b in blocks("sh") if b.startswith("curl"))
    args = shlex.split(command.replace("\\\n", " "))
    headers = dict(h.split(": ", 1) for h in (args[i + 1] for i, a in enumerate(args) if a == "-H"))
    body = args[args.index("-d") + 1]
    url = next(a for a in args if a.startswith(README_URL)).replace(README_URL, server.url)
    req = urllib.request.Request(url, data=body.encode(), headers=headers)
    with urllib.request.urlopen(req, timeout=10) as resp:
        text = resp.read().decode()
    assert resp.headers["Content-Type"] == "text/event-stream"
    assert text.startswith(": OPENROUTER PROCESSING\n\n") and text.endswith("data: [DONE]\n\n")
    assert json.loads(body)["stream"] is True


def test_yaml_examples_load_and_play(server: EmulatorServer) -> None:
    """The README's scenario examples load, and the streamed one errors after three chunks."""
    from wire import chat

    for block in blocks("yaml"):
        server.add(block)  # YAML text; a broken block raises ScenarioError with file:line
    server.configure(time_scale=0)
    raw = chat(server.url, stream=True, metadata={"city": "Paris"})
    assert raw.status == 200  # no header: the default reply (the retry scenario needs 'weather')
    errored = request_with(server, "error-after-three")
    assert next(d for d in errored if isinstance(d, dict) and "error" in d)["error"]["code"] == 502
    pieces = [d["choices"][0]["delta"].get("content") for d in errored[1:4]]
    assert pieces == ["One", " two", " three"]


def request_with(server: EmulatorServer, case: str) -> list[object]:
    from wire import request

    body = {
        "model": "openai/gpt-4o",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
    }
    return request(server.url, body=body, headers={"x-test-case": case}).data()


def test_command_line_synopsis_names_every_option() -> None:
    """Every long option of every subcommand's --help appears in the README's command-line block."""
    synopsis = re.findall(r"```\n(chat-emulator serve .*?)```", README.read_text(), flags=re.S)[0]
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [
        f"{name} {option}"
        for name, sub in commands.choices.items()
        for action in sub._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help" and option not in synopsis
    ]
    assert missing == []
