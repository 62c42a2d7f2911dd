"""`pytest --chat-emulator-keep`: the session's emulator outlives the tests (until Ctrl-C), each
test's requests stay in its journal, and a failing test's report links to them in the inspector."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

TESTS = """
import json
import urllib.request

import pytest


def ask(server, text):
    body = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": text}]}
    request = urllib.request.Request(
        server.base_url + "/chat/completions", data=json.dumps(body).encode(),
        headers={"Authorization": "Bearer k", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def test_passes(chat_emulator):
    ask(chat_emulator, "first")
    assert [r.seq for r in chat_emulator.requests] == [1]


@pytest.mark.chat_emulator(session="job a")
def test_fails(chat_emulator):
    ask(chat_emulator, "second")
    ask(chat_emulator, "third")
    assert [r.seq for r in chat_emulator.requests] == [2, 3]
    assert len(chat_emulator.requests) == 99
"""


def test_keep_links_a_failing_test_to_its_requests_and_waits_for_ctrl_c(tmp_path: Path) -> None:
    """The failure report gives the inspector URL of the test's own requests (and its session,
    for a test bound to one); the server then keeps serving them (numbering went on across
    tests) until SIGINT."""
    (tmp_path / "test_keep.py").write_text(TESTS)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--chat-emulator-keep"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if "keeps running for the inspector" in line:
                break
        output = "".join(lines)
        link = re.search(r"this test's requests in the inspector: (\S+)", output)
        assert link is not None, output
        url = link.group(1)
        assert re.fullmatch(
            r"http://127\.0\.0\.1:\d+/_emulator/ui#from=2&to=3&session=job%20a", url
        ), url
        assert "1 failed, 1 passed" in output
        root = url.split("/_emulator/")[0]
        with urllib.request.urlopen(f"{root}/_emulator/requests/3", timeout=10) as response:
            detail = json.load(response)
        assert detail["body"]["messages"][0]["content"] == "third"
        assert detail["summary"]["session"] == "job a"
        with urllib.request.urlopen(f"{root}/_emulator/requests", timeout=10) as response:
            assert len(json.load(response)["requests"]) == 3
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 1  # the failed test, not the interrupt
