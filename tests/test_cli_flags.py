"""No silent surprises from the command line: every flag checked with a usage error naming the
range, repeated flags accumulate, serve and validate say what they loaded (and every problem),
the shipped library is reachable by name, reloads keep admin-added scenarios, and a busy
fixture port is one clear line."""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.cli import build_parser, config_from_args, main
from emulator.config import Config
from emulator.library import library_dir, library_names
from emulator.loader import load_paths, load_text
from emulator.runtime import Emulator
from emulator.watch import reload

pytest_plugins = ["pytester"]


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The usage error argparse prints for `argv` (it exits with status 2)."""
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    assert info.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "99999"], "argument --port: 99999 is out of range: 0 to 65535"),
        (["--port", "http"], "argument --port: 'http' is not a whole number"),
        (
            ["--log-level", "bogus"],
            "argument --log-level: unknown log level 'bogus'; "
            "valid levels: DEBUG, INFO, WARNING, ERROR, CRITICAL",
        ),
        (["--fixed-time", "-1"], "argument --fixed-time: -1 is out of range: >= 0"),
        (["--journal-limit", "-5"], "argument --journal-limit: -5 is out of range: >= 1"),
        (
            ["--keepalive-ms", "-1"],
            "argument --keepalive-ms: -1 is out of range: a finite number >= 0",
        ),
        (
            ["--time-scale", "-0.5"],
            "argument --time-scale: -0.5 is out of range: a finite number >= 0",
        ),
        (
            ["--time-scale", "inf"],
            "argument --time-scale: inf is out of range: a finite number >= 0",
        ),
        (["--max-body-bytes", "0"], "argument --max-body-bytes: 0 is out of range: >= 1"),
        (["--admin-token", ""], "argument --admin-token: must not be empty"),
        (["--credits", "-1"], "argument --credits: -1 is out of range: a finite number >= 0"),
    ],
)
def test_bad_flag_values_are_usage_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """Each bad value is a one-line usage error naming the flag and the valid range."""
    assert usage_error(capsys, "serve", *argv) == f"chat-emulator serve: error: {message}"


def test_watch_without_scenarios_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """--watch with nothing to watch is refused instead of silently doing nothing."""
    assert usage_error(capsys, "serve", "--watch").endswith(
        "error: --watch needs --scenarios: there are no scenario files to watch"
    )


def test_repeated_scenarios_and_api_keys_accumulate() -> None:
    """`--scenarios a --scenarios b c` loads all three; `--api-key` repeats too."""
    args = build_parser().parse_args(
        ["serve", "--scenarios", "a.yaml", "--scenarios", "b.yaml", "c.yaml"]
        + ["--api-key", "k1", "--api-key", "k2", "--log-level", "debug"]
    )
    config = config_from_args(args)
    assert config.scenario_paths == ("a.yaml", "b.yaml", "c.yaml")
    assert config.api_keys == ("k1", "k2")
    assert args.log_level == "DEBUG"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the installed version."""
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("chat-emulator 0.")


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    """Run the command as a person does, in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "emulator", *argv], capture_output=True, text=True, timeout=60
    )


def test_validate_counts_what_it_checked(tmp_path: Path) -> None:
    """validate names the number of scenarios and files it checked."""
    (tmp_path / "a.yaml").write_text("name: a\nreply: {content: hi}\n")
    (tmp_path / "b.yaml").write_text(
        "scenarios:\n  - {name: b, reply: {}}\n  - {name: c, error: rate_limited}\n"
    )
    done = run("validate", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout
        == f"ok: 3 scenario(s) in 2 file(s): {tmp_path / 'a.yaml'}, {tmp_path / 'b.yaml'}\n"
    )


def test_validate_fails_on_an_empty_folder(tmp_path: Path) -> None:
    """An empty folder checks nothing: that is a failure, not `ok`."""
    done = run("validate", str(tmp_path))
    assert done.returncode == 1
    assert done.stderr == f"error: no scenario files (*.yaml, *.yml, *.json) in {tmp_path}\n"


def test_serve_reports_every_problem_of_a_broken_set(tmp_path: Path) -> None:
    """serve lists every problem of every file before refusing to start."""
    (tmp_path / "a.yaml").write_text("name: a\nreply:\n  contnt: hi\n")
    (tmp_path / "b.yaml").write_text("name: b\nreply:\n  delay_ms: soon\n")
    done = run(
        "serve", "--port", "0", "--scenarios", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")
    )
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[0].startswith(f"error: {tmp_path / 'a.yaml'}:3: unknown key 'contnt'")
    assert lines[1].startswith(f"error: {tmp_path / 'b.yaml'}:3: reply.delay_ms: expected")
    assert lines[2] == "2 problem(s) found; not serving"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """`serve` started on two scenario files given with two --scenarios flags."""
    (tmp_path / "a.yaml").write_text("name: a\nreply: {content: hi}\n")
    (tmp_path / "b.yaml").write_text("name: b\nreply: {content: ho}\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve", "--port", "0"]
        + ["--scenarios", str(tmp_path / "a.yaml"), "--scenarios", str(tmp_path / "b.yaml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield proc
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=10)


def test_serve_says_what_it_loaded(served: subprocess.Popen[str], tmp_path: Path) -> None:
    """serve's first line names the scenario count and every file (both --scenarios flags)."""
    assert served.stdout is not None
    first = served.stdout.readline().strip()
    assert (
        first == f"loaded 2 scenario(s) in 2 file(s): {tmp_path / 'a.yaml'}, {tmp_path / 'b.yaml'}"
    )
    assert served.stdout.readline().startswith("chat-emulator serving on http://127.0.0.1:")


def test_serve_warns_beyond_loopback_without_admin_token() -> None:
    """Binding a non-loopback address without --admin-token warns on stderr before serving."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve", "--host", "0.0.0.0", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("chat-emulator serving on")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert err.startswith("warning: serving on 0.0.0.0 without --admin-token: anyone who can")


def test_library_list_and_path() -> None:
    """`library list` names every shipped file; `library path NAME` prints an existing file."""
    listed = run("library", "list")
    assert listed.returncode == 0
    names = [line.split()[0] for line in listed.stdout.splitlines()[:-1]]
    assert names == library_names() and "stream-stall" in names
    path = run("library", "path", "stream-stall")
    assert Path(path.stdout.strip()).read_text().startswith("name: stream-stall")
    unknown = run("library", "path", "nope")
    assert (
        unknown.returncode == 2
        and "no scenario 'nope' in the library; valid names:" in unknown.stderr
    )


def test_library_names_load_anywhere_paths_do() -> None:
    """`library:NAME` and `library:` load through load_paths (serve, validate, the marker)."""
    [one] = load_paths(["library:stream-stall"])
    assert one.name == "stream-stall"
    everything = load_paths(["library:"])
    assert len(everything) >= len(library_names())
    assert library_dir().joinpath("stream-stall.yaml").is_file()


def test_reload_keeps_admin_added_scenarios(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A --watch reload replaces the files' scenarios and keeps those added through the API."""
    file = tmp_path / "s.yaml"
    file.write_text("name: from-file\nreply: {content: A}\n")
    emulator = Emulator(Config(scenario_paths=(str(file),)), load_paths([file]))
    emulator.state.add(load_text("name: added\nreply: {content: B}\n", "<request body>"))
    file.write_text("name: renamed\nreply: {content: C}\n")
    with caplog.at_level(logging.INFO, logger="emulator.watch"):
        assert reload(emulator, [file])
    assert emulator.state.names() == ("renamed", "added")
    assert (
        "reloaded 1 scenario(s) from files; kept 1 added through the admin API (added)"
        in caplog.text
    )


def test_busy_fixture_port_is_one_clear_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy CHAT_EMULATOR_PORT fails the fixture with one line, not an event-loop traceback."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        monkeypatch.setenv("CHAT_EMULATOR_PORT", str(port))
        pytester.makepyfile(
            test_down='''
            def test_uses_it(chat_emulator):
                """Needs the server."""
            '''
        )
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            f"*chat-emulator cannot listen on 127.0.0.1:{port} (from CHAT_EMULATOR_PORT; "
            "unset it to use a free port): *"
        ]
    )
    assert "Traceback" not in result.stdout.str()
    assert "base_events.py" not in result.stdout.str()
