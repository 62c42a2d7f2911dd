"""`serve --workers N`: N processes on one port, each answering with its own state, all stopped
by one SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from emulator.cli import build_parser


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "serving on http://127.0.0.1:" in line, line + (
        proc.stderr.read() if proc.stderr else ""
    )
    return proc, line.split("serving on ")[1].split()[0]


def _health(url: str) -> dict[str, object]:
    with urllib.request.urlopen(f"{url}/_emulator/health", timeout=10) as reply:
        return json.loads(reply.read())  # type: ignore[no-any-return]


def test_two_workers_share_the_port_and_stop_on_sigterm() -> None:
    """Both workers answer on the one printed port (health names each), and SIGTERM stops all."""
    proc, url = _start("--workers", "2")
    try:
        seen = {}
        for _ in range(200):  # each urlopen is a new connection, which the kernel spreads
            worker = _health(url)["worker"]
            assert isinstance(worker, dict)
            seen[worker["index"]] = worker["pid"]
            if len(seen) == 2:
                break
        assert sorted(seen) == [0, 1]
        assert len(set(seen.values())) == 2 and proc.pid not in seen.values()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "stopping" in out
    for pid in seen.values():
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)  # type: ignore[call-overload]


def test_one_process_reports_worker_zero_of_one() -> None:
    """Without --workers the health report says worker 0 of 1, the serving process itself."""
    proc, url = _start()
    try:
        assert _health(url)["worker"] == {"index": 0, "of": 1, "pid": proc.pid}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)


@pytest.mark.parametrize("value", ["0", "65", "two"])
def test_workers_out_of_range_is_a_usage_error(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--workers takes a whole number from 1 to 64, and says so."""
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["serve", "--workers", value])
    assert exc.value.code == 2
    assert "--workers" in capsys.readouterr().err
