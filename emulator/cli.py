"""The `chat-emulator` command: serve, validate, record, export."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from emulator import cli_record
from emulator.config import (
    DEFAULT_CREDITS,
    DEFAULT_HOST,
    DEFAULT_IDLE_TIMEOUT_MS,
    DEFAULT_JOURNAL_MAX_BYTES,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_PORT,
    DEFAULT_REQUEST_BUDGET_MS,
    USAGE_CHUNK_SHAPES,
    Config,
)

if TYPE_CHECKING:
    from aiohttp import web

    from emulator.scenario import Scenario


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chat-emulator",
        description="Emulate an LLM router's OpenAI-compatible Chat Completions API.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve", help="start the server (built-in default replies, or scenarios)"
    )
    serve.add_argument(
        "--host", default=DEFAULT_HOST, help="address to bind (default: %(default)s)"
    )
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="port, 0 for any free one (default: %(default)s)",
    )
    serve.add_argument(
        "--scenarios", nargs="+", default=[], metavar="PATH", help="scenario files or directories"
    )
    serve.add_argument(
        "--seed", type=int, default=0, help="seed of every generated value (default: %(default)s)"
    )
    serve.add_argument(
        "--time-scale", type=float, default=1.0, help="multiply every wait; 0: no waits"
    )
    serve.add_argument(
        "--strict",
        action="store_true",
        help="400 on unknown parameters, 404 when no scenario matches",
    )
    serve.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY",
        help="accept only these keys (repeatable)",
    )
    serve.add_argument(
        "--admin-token", default=None, help="require this bearer token on /_emulator/*"
    )
    serve.add_argument(
        "--usage-chunk",
        choices=USAGE_CHUNK_SHAPES,
        default="empty_choices",
        help="shape of the final usage chunk (PROTOCOL D1)",
    )
    serve.add_argument(
        "--keepalive-ms",
        type=float,
        default=0.0,
        help="repeat the keep-alive comment this often until the first chunk",
    )
    serve.add_argument(
        "--chaos",
        type=_chaos,
        default=None,
        metavar="SPEC",
        help="seeded fault injection for every request, e.g. 'error:429=0.05,reset=0.01,"
        "burst=error:502*3/100,seed=7', or a YAML file of {seed, rates, bursts} (docs/chaos.md)",
    )
    serve.add_argument(
        "--normalize",
        type=_normalize,
        default=None,
        metavar="REWRITES",
        help="normalise before matching for every scenario without its own `normalize`: "
        "comma-separated whitespace, json, volatile (docs/agents.md)",
    )
    serve.add_argument(
        "--fixed-time",
        type=int,
        default=None,
        metavar="UNIX",
        help="use this time for `created` and ids (byte-identical runs)",
    )
    serve.add_argument(
        "--journal-limit", type=int, default=1000, help="requests kept in the journal"
    )
    serve.add_argument(
        "--journal-max-bytes",
        type=int,
        default=DEFAULT_JOURNAL_MAX_BYTES,
        metavar="BYTES",
        help="about how many bytes the journal keeps; oldest entries dropped beyond (0: no bound)",
    )
    serve.add_argument(
        "--request-budget-ms",
        type=float,
        default=DEFAULT_REQUEST_BUDGET_MS,
        metavar="MS",
        help="time one request may take to parse and validate (413) or generate (422)",
    )
    serve.add_argument(
        "--idle-timeout-ms",
        type=float,
        default=DEFAULT_IDLE_TIMEOUT_MS,
        metavar="MS",
        help="close connections with no complete request head for this long (0: never)",
    )
    serve.add_argument(
        "--max-connections",
        type=int,
        default=DEFAULT_MAX_CONNECTIONS,
        metavar="N",
        help="close connections beyond this many open ones (0: no limit)",
    )
    serve.add_argument(
        "--max-body-bytes", type=int, default=20 * 1024 * 1024, help="413 above this size"
    )
    serve.add_argument(
        "--no-validate",
        dest="validate",
        action="store_false",
        help="skip request validation (only to measure its cost)",
    )
    serve.add_argument(
        "--watch", action="store_true", help="reload scenario files when they change"
    )
    serve.add_argument("--log-level", default="INFO", help="logging level (default: %(default)s)")
    serve.add_argument(
        "--workers",
        type=_workers,
        default=1,
        metavar="N",
        help="N processes on one port (SO_REUSEPORT), each with its own journal and counters",
    )
    _add_catalog_arguments(serve)
    validate = sub.add_parser(
        "validate", help="check scenario files and exit non-zero on any problem"
    )
    validate.add_argument("paths", nargs="+", metavar="PATH")
    cli_record.add_record_options(serve)
    cli_record.add_record(sub)
    cli_record.add_export(sub)
    return parser


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f"{value} is out of range: 1 to 64")
    return value


def _add_catalog_arguments(serve: argparse.ArgumentParser) -> None:
    """Options of the model catalog, the account counters and the generation stats."""
    serve.add_argument(
        "--catalog",
        action="append",
        default=[],
        metavar="FILE",
        help="catalog file applied over the built-in model catalog (repeatable; docs/catalog.md)",
    )
    serve.add_argument(
        "--credits",
        type=float,
        default=DEFAULT_CREDITS,
        metavar="USD",
        help="the account's credits reported by /credits (default: %(default)s)",
    )
    serve.add_argument(
        "--key-limit",
        type=float,
        default=None,
        metavar="USD",
        help="each key's spending limit reported by /key (default: none)",
    )
    serve.add_argument(
        "--generation-lag-ms",
        type=float,
        default=0.0,
        metavar="MS",
        help="/generation answers 404 until a generation ended this long ago (time-scaled)",
    )
    serve.add_argument(
        "--generation-lag-polls",
        type=int,
        default=0,
        metavar="N",
        help="/generation answers 404 to the first N polls of each generation",
    )
    serve.add_argument(
        "--catalog-strict",
        action="store_true",
        help="a model missing from the catalog is the router's 400 model_not_found",
    )
    for flag, what in (
        ("--rpm", "requests per minute"),
        ("--rpd", "requests per UTC day"),
        ("--tpm", "tokens per minute"),
    ):
        serve.add_argument(
            flag, type=int, default=None, metavar="N", help=f"per-key limit of {what} (429)"
        )


def config_from_args(args: argparse.Namespace) -> Config:
    return Config(
        host=args.host,
        port=args.port,
        scenario_paths=tuple(args.scenarios),
        seed=args.seed,
        time_scale=args.time_scale,
        strict=args.strict,
        api_keys=tuple(args.api_key),
        admin_token=args.admin_token,
        usage_chunk=args.usage_chunk,
        keepalive_ms=args.keepalive_ms,
        fixed_time=args.fixed_time,
        journal_limit=args.journal_limit,
        journal_max_bytes=args.journal_max_bytes,
        request_budget_ms=args.request_budget_ms,
        idle_timeout_ms=args.idle_timeout_ms,
        max_connections=args.max_connections,
        max_body_bytes=args.max_body_bytes,
        watch=args.watch,
        validate=args.validate,
        workers=args.workers,
        catalog_paths=tuple(args.catalog),
        credits=args.credits,
        key_limit=args.key_limit,
        generation_lag_ms=args.generation_lag_ms,
        generation_lag_polls=args.generation_lag_polls,
        catalog_strict=args.catalog_strict,
        rpm=args.rpm,
        rpd=args.rpd,
        tpm=args.tpm,
        **cli_record.record_config(args),
        chaos=args.chaos,
        normalize=args.normalize,
    )


def _chaos(value: str) -> Any:
    """`--chaos`: the X-Emulator-Chaos header's syntax, or a YAML file of a chaos mapping."""
    from emulator import chaos

    try:
        if os.path.isfile(value):
            import yaml  # type: ignore[import-untyped]  # PyYAML ships no type hints

            with open(value, encoding="utf-8") as handle:
                data = yaml.safe_load(handle)
            if not isinstance(data, dict):
                raise ValueError("the file must hold a mapping of seed, rates and bursts")
            return chaos.parse(data)
        return chaos.parse_header(value)
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise argparse.ArgumentTypeError(f"{value}: {exc}") from None


def _normalize(value: str) -> Any:
    from emulator import normalize

    try:
        return normalize.parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "validate":
        return validate(args.paths)
    if args.command == "export":
        return cli_record.export(args)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    if args.command == "record":
        return serve(cli_record.record_command_config(args))
    return serve(config_from_args(args))


def validate(paths: Sequence[str]) -> int:
    from emulator.loader import check_paths

    problems = check_paths(paths)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    _print_warnings(paths)
    print(f"ok: {', '.join(paths)}")
    return 0


def _print_warnings(paths: Sequence[str]) -> None:
    """Scenarios that load but would loop an agent forever (see emulator.turns)."""
    from emulator.loader import load_paths
    from emulator.turns import loop_warnings

    for message in loop_warnings(load_paths(paths)):
        print(f"warning: {message}", file=sys.stderr)


def serve(config: Config) -> int:
    from emulator.catalogfile import build_catalog
    from emulator.errors import ScenarioError
    from emulator.loader import load_paths

    problem = cli_record.check_record(config)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        build_catalog(config.catalog_paths)  # a broken catalog file: file:line, before serving
        scenarios = load_paths(config.scenario_paths)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
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

    app = create_app(config, scenarios)
    runner = Runner(app, config, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port, reuse_port=reuse_port or None)
    await site.start()
    host, port = runner.addresses[0][:2]
    shown = f"[{host}]" if ":" in host else host
    if on_ready is not None:
        on_ready(None)
    else:
        print(f"chat-emulator serving on http://{shown}:{port}", flush=True)
        print(f"  OpenAI base_url: http://{shown}:{port}/v1", flush=True)
        inspector = inspector_url(f"http://{shown}:{port}", config.admin_token)
        print(f"  inspector: {inspector}", flush=True)
    stop = asyncio.Event()
    _watch_signals(asyncio.get_running_loop(), stop)
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
