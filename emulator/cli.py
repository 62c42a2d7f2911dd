"""The `chat-emulator` command: serve, validate, record, export, library.

The options and their checks live in `emulator.cli_options` (a bad value is a usage error naming
the valid range, never a traceback)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from emulator import cli_args, cli_library, cli_record
from emulator.cli_options import build_parser, config_from_args
from emulator.config import Config

if TYPE_CHECKING:
    from aiohttp import web

    from emulator.scenario import Scenario

__all__ = ["build_parser", "config_from_args", "main", "run_server", "serve", "validate"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "validate":
        return validate(args.paths)
    if args.command == "export":
        return cli_record.export(args)
    if args.command == "library":
        return cli_library.library(args)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    # The format above names no thread or process: a log record need not look them up (the
    # access log writes one per request).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    if args.command == "record":
        return serve(cli_record.record_command_config(args))
    if args.watch and not args.scenarios:
        parser.error("--watch needs --scenarios: there are no scenario files to watch")
    if not cli_args.is_loopback(args.host) and args.admin_token is None:
        print(
            f"warning: serving on {args.host} without --admin-token: anyone who can reach this "
            "port can read the request journal and change the scenarios (/_emulator/*)",
            file=sys.stderr,
        )
    return serve(config_from_args(args))


def validate(paths: Sequence[str]) -> int:
    """Check scenario files; print every problem and exit 1, or the count checked and exit 0.
    Finding no scenario file at all is a failure too (an empty folder checks nothing)."""
    from emulator.loader import survey_paths

    survey = survey_paths(paths)
    for problem in survey.problems:
        print(problem, file=sys.stderr)
    if survey.problems:
        print(f"{len(survey.problems)} problem(s) found", file=sys.stderr)
        return 1
    if not survey.files:
        print(
            f"error: no scenario files (*.yaml, *.yml, *.json) in {', '.join(paths)}",
            file=sys.stderr,
        )
        return 1
    _print_warnings(survey.scenarios)
    print(f"ok: {_loaded(survey.scenarios, survey.files, paths)}")
    return 0


def _print_warnings(scenarios: Sequence[Scenario]) -> None:
    """Scenarios that load but would loop an agent forever (see emulator.turns)."""
    from emulator.turns import loop_warnings

    for message in loop_warnings(scenarios):
        print(f"warning: {message}", file=sys.stderr)


def _loaded(scenarios: Sequence[Scenario], files: Sequence[str], paths: Sequence[str]) -> str:
    """`N scenario(s) in M file(s): a.yaml, b.yaml` (the paths given, when there are many files)."""
    shown = files if len(files) <= 5 else paths
    return f"{len(scenarios)} scenario(s) in {len(files)} file(s): {', '.join(shown)}"


def serve(config: Config) -> int:
    from emulator.catalogfile import build_catalog
    from emulator.errors import ScenarioError
    from emulator.loader import survey_paths

    problem = cli_record.check_record(config)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        build_catalog(config.catalog_paths)  # a broken catalog file: file:line, before serving
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    survey = survey_paths(config.scenario_paths)
    if survey.problems:
        for problem in survey.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"{len(survey.problems)} problem(s) found; not serving", file=sys.stderr)
        return 2
    scenarios = survey.scenarios
    if config.scenario_paths:
        print(f"loaded {_loaded(scenarios, survey.files, config.scenario_paths)}", flush=True)
    from emulator.turns import loop_warnings

    for message in loop_warnings(scenarios):
        logging.getLogger("emulator").warning("%s", message)
    if config.workers > 1:
        from emulator.workers import serve_workers

        return serve_workers(config, scenarios)
    try:
        asyncio.run(run_server(config, scenarios))
    except OSError as exc:
        print(
            f"error: cannot listen on {config.host}:{config.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    return 0


async def run_server(
    config: Config,
    scenarios: list[Scenario],
    *,
    reuse_port: bool = False,
    on_ready: Callable[[str | None], None] | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM. Prints the base URL once listening, or, for a worker of
    `serve --workers`, calls `on_ready(None)` instead (the parent prints it)."""
    from aiohttp import web

    from emulator.app import create_app
    from emulator.httpserver import Runner
    from emulator.inspection import inspector_url

    # Worker threads (emulator.deadline) hand the interpreter lock back to the event loop
    # after at most 1 ms instead of the default 5 ms: a request being parsed or generated
    # delays the others less. The whole process is the server here, so this is ours to set.
    sys.setswitchinterval(0.001)
    app = create_app(config, scenarios, background_warm_up=True)
    runner = Runner(app, config, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port, reuse_port=reuse_port or None)
    await site.start()
    host, port = runner.addresses[0][:2]
    shown = f"[{host}]" if ":" in host else host
    from emulator import compilecache

    # Start-up's classes are made: the next start reuses their code (a worker's too; its parent
    # saved its own before forking). Saved, and SIGINT/SIGTERM watched, before the server says
    # it is ready: a supervisor that stops it as soon as it is ready gets a clean stop.
    compilecache.save()
    stop = asyncio.Event()
    _watch_signals(asyncio.get_running_loop(), stop)
    if on_ready is not None:
        on_ready(None)
    else:
        print(f"chat-emulator serving on http://{shown}:{port}", flush=True)
        print(f"  OpenAI base_url: http://{shown}:{port}/v1", flush=True)
        inspector = inspector_url(f"http://{shown}:{port}", config.admin_token)
        print(f"  inspector: {inspector}", flush=True)
    watcher = _start_watcher(app, config) if config.watch else None
    try:
        await stop.wait()
    finally:
        if watcher is not None:
            watcher.cancel()
        if on_ready is None:
            print("chat-emulator stopping", flush=True)
        await runner.cleanup()
        _stopped.set()


STOP_DEADLINE_S = 4.5


def _watch_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """SIGINT/SIGTERM stop the server gracefully, and in any case within 5 s: a thread waits
    for the signal (so it is seen even while the loop is busy), asks the loop to stop, and
    ends the process if it has not stopped by then. A second signal ends it at once."""
    signals = {signal.SIGINT, signal.SIGTERM}
    # Blocked in every thread but the watcher (threads started later inherit the mask).
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)

    def watch() -> None:
        signal.sigwait(signals)
        loop.call_soon_threadsafe(stop.set)
        received_again = threading.Event()

        def second() -> None:
            signal.sigwait(signals)
            received_again.set()

        threading.Thread(target=second, daemon=True).start()
        if received_again.wait(STOP_DEADLINE_S) or not _stopped.wait(0.5):
            print("chat-emulator: did not stop in time; exiting", file=sys.stderr, flush=True)
            os._exit(1)

    threading.Thread(target=watch, name="chat-emulator-signals", daemon=True).start()


_stopped = threading.Event()  # set once the server has shut down


def _start_watcher(app: web.Application, config: Config) -> asyncio.Task[None]:
    from emulator.handlers import EMULATOR
    from emulator.watch import watch_scenarios

    emulator = app[EMULATOR]
    return asyncio.get_running_loop().create_task(watch_scenarios(emulator, config.scenario_paths))
