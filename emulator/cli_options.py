"""The options of `chat-emulator` (the parser) and the Config they make. Every value is checked
by its argparse type (`emulator.cli_args`): a bad one is a usage error naming the valid range."""

from __future__ import annotations

import argparse
import os
from typing import Any

from emulator import cli_args, cli_library, cli_record
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


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command and option (serve, validate, record, export, library)."""
    parser = argparse.ArgumentParser(
        prog="chat-emulator",
        description="Emulate an LLM router's OpenAI-compatible Chat Completions API.",
    )
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve", help="start the server (built-in default replies, or scenarios)"
    )
    serve.add_argument(
        "--host", default=DEFAULT_HOST, help="address to bind (default: %(default)s)"
    )
    serve.add_argument(
        "--port",
        type=cli_args.whole(0, 65535),
        default=DEFAULT_PORT,
        help="port, 0 for any free one (default: %(default)s)",
    )
    serve.add_argument(
        "--scenarios",
        action="extend",
        nargs="+",
        default=[],
        metavar="PATH",
        help="scenario files or directories, or library:NAME (repeatable)",
    )
    serve.add_argument(
        "--seed", type=int, default=0, help="seed of every generated value (default: %(default)s)"
    )
    serve.add_argument(
        "--time-scale",
        type=cli_args.number(0),
        default=1.0,
        help="multiply every latency; 0: none (fault: hang and stall_ms are never shortened)",
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
        "--admin-token",
        type=cli_args.token,
        default=None,
        help="require this bearer token on /_emulator/*",
    )
    serve.add_argument(
        "--usage-chunk",
        choices=USAGE_CHUNK_SHAPES,
        default="empty_choices",
        help="shape of the final usage chunk (default: %(default)s)",
    )
    serve.add_argument(
        "--keepalive-ms",
        type=cli_args.number(0),
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
        type=cli_args.whole(0),
        default=None,
        metavar="UNIX",
        help="use this time for `created` and ids (byte-identical runs)",
    )
    serve.add_argument(
        "--journal-limit",
        type=cli_args.whole(1),
        default=1000,
        help="requests kept in the journal (default: %(default)s)",
    )
    serve.add_argument(
        "--journal-max-bytes",
        type=cli_args.whole(0),
        default=DEFAULT_JOURNAL_MAX_BYTES,
        metavar="BYTES",
        help="about how many bytes the journal keeps; oldest entries dropped beyond (0: no bound)",
    )
    serve.add_argument(
        "--request-budget-ms",
        type=cli_args.number(0, above=True),
        default=DEFAULT_REQUEST_BUDGET_MS,
        metavar="MS",
        help="time one request may take to parse and validate (413) or generate (422)",
    )
    serve.add_argument(
        "--idle-timeout-ms",
        type=cli_args.number(0),
        default=DEFAULT_IDLE_TIMEOUT_MS,
        metavar="MS",
        help="close connections with no complete request head for this long (0: never)",
    )
    serve.add_argument(
        "--max-connections",
        type=cli_args.whole(0),
        default=DEFAULT_MAX_CONNECTIONS,
        metavar="N",
        help="close connections beyond this many open ones (0: no limit)",
    )
    serve.add_argument(
        "--max-body-bytes",
        type=cli_args.whole(1),
        default=20 * 1024 * 1024,
        help="413 above this size (default: %(default)s)",
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
    serve.add_argument(
        "--log-level",
        type=cli_args.log_level,
        default="INFO",
        help=f"{', '.join(cli_args.LOG_LEVELS)} (default: %(default)s)",
    )
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
    validate.add_argument("paths", nargs="+", metavar="PATH", help="file, folder or library:NAME")
    cli_record.add_record_options(serve)
    cli_record.add_record(sub)
    cli_library.add_library(sub)
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
        type=cli_args.number(0),
        default=DEFAULT_CREDITS,
        metavar="USD",
        help="the account's credits reported by /credits (default: %(default)s)",
    )
    serve.add_argument(
        "--key-limit",
        type=cli_args.number(0),
        default=None,
        metavar="USD",
        help="each key's spending limit reported by /key (default: none)",
    )
    serve.add_argument(
        "--generation-lag-ms",
        type=cli_args.number(0),
        default=0.0,
        metavar="MS",
        help="/generation answers 404 until a generation ended this long ago (time-scaled)",
    )
    serve.add_argument(
        "--generation-lag-polls",
        type=cli_args.whole(0),
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
            flag,
            type=cli_args.whole(1),
            default=None,
            metavar="N",
            help=f"per-key limit of {what} (429)",
        )


def config_from_args(args: argparse.Namespace) -> Config:
    """The Config of parsed `serve` options."""
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
    from emulator import chaosspec
    from emulator.errors import ScenarioError
    from emulator.testkit import chaos_from

    try:
        if os.path.isfile(value):
            import yaml  # type: ignore[import-untyped]  # PyYAML ships no type hints

            with open(value, encoding="utf-8") as handle:
                try:
                    data = yaml.safe_load(handle)
                except yaml.YAMLError as exc:
                    raise ValueError(f"not valid YAML: {exc}") from None
            if not isinstance(data, dict):
                raise ValueError("the file must hold a mapping of seed, rates and bursts")
            # Checked as a scenario's chaos: key is, the problem named with its place.
            return chaos_from(data, source=value)
        return chaosspec.parse_header(value)
    except ScenarioError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise argparse.ArgumentTypeError(f"{value}: {exc}") from None


def _normalize(value: str) -> Any:
    from emulator import normalize

    try:
        return normalize.parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class _VersionAction(argparse.Action):
    """argparse's "version" action, reading the installed version only when asked: reading it
    (importlib.metadata scans the installed distributions) is a measurable part of start-up."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(
            option_strings,
            dest=argparse.SUPPRESS,
            default=argparse.SUPPRESS,
            nargs=0,
            help="show program's version number and exit",
        )

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        print(f"{parser.prog} {_version()}")
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("chat-emulator")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"
