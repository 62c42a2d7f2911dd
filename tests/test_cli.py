"""The chat-emulator command as a person runs it: serve, answer, stop on SIGTERM; validate."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from wire import AUTH


def start(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    if first.startswith("loaded "):  # with --scenarios: what was loaded comes first
        first = proc.stdout.readline()
    assert first.startswith("chat-emulator serving on http://127.0.0.1:"), first
    return proc, first.split()[-1]


def test_serve_prints_the_inspector_url() -> None:
    """serve prints the base_url and the inspector page's URL, which serves the page."""
    proc, url = start()
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == f"OpenAI base_url: {url}/v1"
        assert proc.stdout.readline().strip() == f"inspector: {url}/_emulator/ui"
        with urllib.request.urlopen(url + "/_emulator/ui", timeout=10) as resp:
            assert b"chat-emulator inspector" in resp.read()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)


def test_serve_prints_a_token_placeholder_not_the_token() -> None:
    """With an admin token, the inspector URL shows where the token goes, never the token."""
    proc, url = start("--admin-token", "s3cret")
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        line = proc.stdout.readline().strip()
        assert line == f"inspector: {url}/_emulator/ui?token=<admin token>"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    assert "s3cret" not in out


def test_serve_answers_and_stops_on_sigterm() -> None:
    """serve prints its URL, answers a request, logs one line per request, exits 0 on SIGTERM."""
    proc, url = start("--seed", "3")
    try:
        body = json.dumps(
            {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
        )
        req = urllib.request.Request(
            url + "/v1/chat/completions",
            data=body.encode(),
            headers={**AUTH, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert json.load(resp)["choices"][0]["message"]["content"]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "POST /v1/chat/completions 200 scenario=- " in err


def test_serve_rejects_a_broken_scenario_file(tmp_path: Path) -> None:
    """serve refuses to start on a broken scenario file and names file:line."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nreply:\n  contnt: hi\n")
    proc = subprocess.run(
        [sys.executable, "-m", "emulator", "serve", "--port", "0", "--scenarios", str(broken)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert f"{broken}:3:" in proc.stderr and "contnt" in proc.stderr


def test_validate_command(tmp_path: Path) -> None:
    """validate exits 0 on good files and 1 with file:line on a broken one."""
    good = tmp_path / "good.yaml"
    good.write_text("name: ok\nreply:\n  content: hi\n")
    ok = subprocess.run(
        [sys.executable, "-m", "emulator", "validate", str(good)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert ok.returncode == 0, ok.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nreply:\n  delay_ms: soon\n")
    fail = subprocess.run(
        [sys.executable, "-m", "emulator", "validate", str(good), str(bad)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert fail.returncode == 1
    assert f"{bad}:3:" in fail.stderr


def test_sigterm_during_an_open_response_stops_and_logs_a_shutdown(tmp_path: Path) -> None:
    """SIGTERM while a response is pending: serve exits 0, logging "(server shutdown)" for it
    (not a client abort)."""
    import socket
    import time

    scenario = tmp_path / "slow.yaml"
    scenario.write_text("name: slow\nreply:\n  content: late\n  delay_ms: 60000\n")
    proc, url = start("--scenarios", str(scenario))
    port = int(url.rsplit(":", 1)[1])
    body = b'{"model":"m","messages":[{"role":"user","content":"hi"}]}'
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer k\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        time.sleep(0.5)  # the request is being answered (its reply waits 60 s)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "POST /v1/chat/completions 200 scenario=slow " in err
    assert err.rstrip().splitlines()[-1].endswith("(server shutdown)")
