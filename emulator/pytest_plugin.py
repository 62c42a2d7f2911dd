"""pytest plugin (registered through the `pytest11` entry point): the `chat_emulator` fixture.

Thin on purpose: it imports the server lazily, so merely having the package installed costs a
test run nothing until a test asks for the fixture. One server runs per session (per xdist
worker, since each worker is its own session) and is reset for every test.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

from emulator.markeroptions import MARKER_OPTIONS, RECORD_MODES, bad_values, session_name

if TYPE_CHECKING:
    from emulator.testing import EmulatorServer

DEFAULT_CASSETTES = "tests/cassettes"
UPSTREAM_ENV = "CHAT_EMULATOR_UPSTREAM"
CHECK_HINT = (
    "(checked as the chat_emulator fixture tears down; a test that sends such requests\n"
    " on purpose can turn the check off: @pytest.mark.chat_emulator(check_requests=False))"
)
KEEP_OPTION = "--chat-emulator-keep"
_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()
# With --chat-emulator-keep: the session's server (left running) and each test's first request.
_KEPT = pytest.StashKey["EmulatorServer"]()
_FIRST_SEQ = pytest.StashKey[int]()
# Teardown report lines of scenarios a test loaded but never matched, for the summary.
_UNUSED = pytest.StashKey[list[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chat-emulator")
    group.addoption(
        KEEP_OPTION,
        action="store_true",
        default=False,
        help="keep the chat_emulator server running after the tests (until Ctrl-C), with every "
        "test's requests in its journal; a failing test's report links to them in the inspector",
    )
    group.addoption(
        "--chat-emulator-record",
        choices=RECORD_MODES,
        default=None,
        help="record mode of the tests marked with record= or cassette= (default: the "
        "marker's record=, else none: replay only)",
    )
    group.addoption(
        "--chat-emulator-cassettes",
        default=DEFAULT_CASSETTES,
        metavar="DIR",
        help="where per-test cassettes live, as DIR/<module>/<test>.yaml (default: %(default)s)",
    )
    group.addoption(
        "--chat-emulator-upstream",
        default=None,
        metavar="URL",
        help=f"the router's base URL to record from (default: ${UPSTREAM_ENV})",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "chat_emulator(scenarios=None, strict=None, seed=None, time_scale=None, "
        "check_requests=True, catalog=None, generation_lag_ms=None, generation_lag_polls=None, "
        "catalog_strict=None, rpm=None, rpd=None, tpm=None, record=None, cassette=None, "
        "fail_on_unused=False, session=None, chaos=None, normalize=None): "
        "options for the chat_emulator fixture of this test",
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    # Remember each phase's report so the fixture's teardown knows whether the test failed.
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    if report.when == "call" and report.failed and _FIRST_SEQ in item.stash:
        server = item.config.stash.get(_KEPT, None)
        if server is not None:
            report.sections.append(("chat_emulator", _requests_link(server, item)))


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """One line per test that loaded scenarios it never matched."""
    lines = config.stash.get(_UNUSED, [])
    if lines:
        terminalreporter.section("chat_emulator: unused scenarios")
        for line in lines:
            terminalreporter.line(line)


def pytest_unconfigure(config: pytest.Config) -> None:
    server = config.stash.get(_KEPT, None)
    if server is None:
        return
    try:
        config.get_terminal_writer().line(
            f"chat_emulator: the server keeps running for the inspector: "
            f"{server.url}/_emulator/ui (Ctrl-C to stop)",
            bold=True,
        )
        # Short sleeps: Ctrl-C may be delivered to the server's thread, and then only wakes a
        # main thread that runs Python code; one long sleep would not notice it for an hour.
        while True:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


@pytest.fixture(scope="session")
def chat_emulator_server(pytestconfig: pytest.Config) -> Iterator[EmulatorServer]:
    """One emulator server per test session (per xdist worker), reset for every test. With
    --chat-emulator-keep it outlives the session (stopped at Ctrl-C after the summary)."""
    from emulator.testing import EmulatorServer, ServerStartError

    try:
        server = EmulatorServer().start()
    except ServerStartError as exc:  # one line, not the event loop's traceback
        pytest.fail(str(exc), pytrace=False)
    if pytestconfig.getoption(KEEP_OPTION):
        pytestconfig.stash[_KEPT] = server
        yield server
        return
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def chat_emulator(
    chat_emulator_server: EmulatorServer,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[EmulatorServer]:
    """A running emulator with fresh state: point any client at `chat_emulator.base_url`.

    At teardown, requests the emulator rejected (invalid, or matched no scenario in strict mode)
    fail the test with a report, unless the test already failed on its own.
    """
    server = chat_emulator_server
    keep = request.config.getoption(KEEP_OPTION)
    server.reset(keep_journal=keep)
    if keep:
        request.node.stash[_FIRST_SEQ] = server.emulator.journal.last_seq + 1
    options = _marker_options(request.node)
    try:
        _apply(server, options, request.path.parent)
        if options.get("session") is not None:
            server.use_session(session_name(options["session"], request.node.nodeid))
        if "record" in options or "cassette" in options:
            _record(server, options, request)
        yield server
        if options.get("check_requests", True) and _passed(request.node):
            report = server.problem_report()
            if report is not None:
                exported = server.export_problems(_export_dir(tmp_path_factory, request.node))
                link = f"\n\n{_requests_link(server, request.node)}" if keep else ""
                pytest.fail(f"{report}\n\n{CHECK_HINT}{_exported(exported)}{link}", pytrace=False)
        if _passed(request.node):
            _check_unused(server, request.node, options.get("fail_on_unused", False))
    finally:
        # Cancels any stream the test left open, so nothing bleeds into the next test.
        server.reset(keep_journal=keep)


def _check_unused(server: EmulatorServer, node: pytest.Item, fail: bool) -> None:
    """Scenarios this test loaded but no request matched: a summary line, or (with the marker's
    fail_on_unused=True) a failure."""
    line = server.unused_report()
    if line is None:
        return
    if fail:
        pytest.fail(f"{line}\n(fail_on_unused=True in @pytest.mark.chat_emulator)", pytrace=False)
    node.config.stash.setdefault(_UNUSED, []).append(f"{node.nodeid}: {line}")


def _requests_link(server: EmulatorServer, node: pytest.Item) -> str:
    """Where the inspector shows this test's requests (the server outlives the session)."""
    first, last = node.stash[_FIRST_SEQ], server.emulator.journal.last_seq
    if last < first:
        return "this test sent no request to the emulator"
    link = f"{server.url}/_emulator/ui#from={first}&to={last}"
    if server.session_name is not None:  # the inspector's session filter
        link += "&session=" + quote(server.session_name, safe="")
    return f"this test's requests in the inspector: {link}"


def _marker_options(node: pytest.Item) -> dict[str, Any]:
    marker = node.get_closest_marker("chat_emulator")
    if marker is None:
        return {}
    if marker.args:
        pytest.fail(
            "@pytest.mark.chat_emulator takes keyword options only; valid: "
            + ", ".join(MARKER_OPTIONS),
            pytrace=False,
        )
    unknown = sorted(set(marker.kwargs) - set(MARKER_OPTIONS))
    if unknown:
        pytest.fail(
            f"@pytest.mark.chat_emulator: unknown option(s) {', '.join(unknown)}; "
            f"valid: {', '.join(MARKER_OPTIONS)}",
            pytrace=False,
        )
    options = dict(marker.kwargs)
    for name, problem in bad_values(options):
        pytest.fail(
            f"@pytest.mark.chat_emulator: {name}={options[name]!r} {problem}", pytrace=False
        )
    return options


def _apply(server: EmulatorServer, options: Mapping[str, Any], test_dir: Path) -> None:
    from emulator.errors import ScenarioError

    names = (
        "strict",
        "seed",
        "time_scale",
        "generation_lag_ms",
        "generation_lag_polls",
        "catalog_strict",
        "rpm",
        "rpd",
        "tpm",
    )
    server.configure(**{k: options[k] for k in names if k in options})
    for name in ("chaos", "normalize"):
        try:
            server.configure(**{name: options.get(name)})
        except (ValueError, ScenarioError) as exc:
            pytest.fail(f"@pytest.mark.chat_emulator({name}=...): {exc}", pytrace=False)
    catalogs = options.get("catalog") or ()
    if isinstance(catalogs, (str, os.PathLike, Mapping)):
        catalogs = [catalogs]
    try:
        for source in catalogs:
            is_path = isinstance(source, os.PathLike) or (
                isinstance(source, str) and "\n" not in source
            )
            server.add_catalog(_locate(Path(source), test_dir) if is_path else source)
    except ScenarioError as exc:
        pytest.fail(f"@pytest.mark.chat_emulator(catalog=...): {exc}", pytrace=False)
    scenarios = options.get("scenarios") or ()
    if isinstance(scenarios, (str, os.PathLike, Mapping)):
        scenarios = [scenarios]
    try:
        for item in scenarios:
            if isinstance(item, (str, os.PathLike)):
                server.load(_locate(Path(item), test_dir))
            else:
                server.add(item)
    except ScenarioError as exc:
        pytest.fail(f"@pytest.mark.chat_emulator(scenarios=...): {exc}", pytrace=False)


def _record(server: EmulatorServer, options: Mapping[str, Any], request: Any) -> None:
    """Per-test cassette: replay it and record what the mode says (see docs/record-replay.md)."""
    config = request.config
    mode = config.getoption("--chat-emulator-record") or options.get("record") or "none"
    cassette = options.get("cassette")
    if cassette is None or cassette is True:
        cassette = cassette_path(request.node, config)
    elif not Path(cassette).is_absolute():
        cassette = request.path.parent / cassette
    upstream = config.getoption("--chat-emulator-upstream") or os.environ.get(UPSTREAM_ENV)
    try:
        server.record(cassette, mode, upstream)
    except ValueError as exc:
        pytest.fail(
            f"@pytest.mark.chat_emulator(record=...): {exc}; give --chat-emulator-upstream "
            f"URL or set {UPSTREAM_ENV}",
            pytrace=False,
        )


def cassette_path(node: pytest.Item, config: pytest.Config) -> Path:
    """The default cassette of a test: <cassettes dir>/<module>/<test name>.yaml."""
    base = Path(config.getoption("--chat-emulator-cassettes"))
    if not base.is_absolute():
        base = config.rootpath / base
    module = Path(str(node.path)).stem
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in node.name)[:150]
    return base / module / f"{name}.yaml"


def _locate(path: Path, test_dir: Path) -> Path:
    """A relative path is looked up next to the test file first, then in the working directory."""
    beside = test_dir / path
    if path.is_absolute() or not beside.exists():
        return path
    try:  # shorter in reports: relative to the working directory when below it
        return beside.relative_to(Path.cwd())
    except ValueError:
        return beside


def _export_dir(factory: pytest.TempPathFactory, node: pytest.Item) -> Path:
    """Where the teardown report writes the scenarios of the requests that went wrong: the
    session's temporary directory (pytest keeps the last three), one folder per test."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in node.name)
    return factory.getbasetemp() / "chat-emulator" / safe[:100]


def _exported(paths: list[Path]) -> str:
    if not paths:
        return ""
    lines = "".join(f"\n  {path}" for path in paths)
    return f"\n\nexported as scenarios that replay exactly what the emulator answered:{lines}"


def _passed(node: pytest.Item) -> bool:
    """Whether setup and call both passed: a failed or skipped test keeps its own outcome."""
    reports = node.stash.get(_REPORTS, {})
    return all(r.passed for r in reports.values() if r.when in ("setup", "call"))
