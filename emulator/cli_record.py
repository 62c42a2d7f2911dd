"""The `chat-emulator export` and `record` commands and `serve`'s recording options: kept apart
from cli.py so the serve and validate commands stay one screen long.

`export` asks a running server for journal entry N as a scenario, through its admin API, with
nothing but the standard library (no aiohttp needed on the client side).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
from pathlib import Path
from typing import Any

from emulator import cli_args
from emulator.config import Config

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_OUT = "recordings"
RECORD_MODES = ("none", "once", "new_episodes", "all")  # as emulator.cassette.RECORD_MODES
_TIMEOUT_S = 10.0


def add_export(sub: Any) -> None:
    """Add the `export` sub-command to the `chat-emulator` parser's sub-parsers."""
    export = sub.add_parser(
        "export",
        help="print journal entry N of a running server as a scenario that plays it exactly",
    )
    export.add_argument("request", type=int, metavar="N", help="the request number (#N)")
    export.add_argument(
        "--url", default=DEFAULT_URL, help="the server's root URL (default: %(default)s)"
    )
    export.add_argument("--name", default=None, help="the scenario's name (default: request-N)")
    export.add_argument("--json", action="store_true", help="JSON instead of YAML")
    export.add_argument("--out", default=None, metavar="FILE", help="write to FILE, not stdout")
    export.add_argument(
        "--admin-token", default=None, help="the server's admin token, if it has one"
    )


def export(args: argparse.Namespace) -> int:
    """Run `chat-emulator export`; exit 0, or 1 with the server's error message on stderr."""
    import urllib.error  # here, not at the top: `serve` starts faster without it
    import urllib.request

    url = f"{args.url.rstrip('/')}/_emulator/requests/{args.request}/scenario"
    if args.name:
        url += "?" + urllib.parse.urlencode({"name": args.name})
    headers = {"Accept": "application/json" if args.json else "application/yaml"}
    if args.admin_token:
        headers["Authorization"] = f"Bearer {args.admin_token}"
    try:
        with urllib.request.urlopen(  # the URL is the user's own server
            urllib.request.Request(url, headers=headers), timeout=_TIMEOUT_S
        ) as response:
            text = response.read().decode()
    except urllib.error.HTTPError as exc:
        print(f"error: {exc.code} {_message(exc.read())}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        print(f"error: cannot reach {args.url}: {reason}", file=sys.stderr)
        return 1
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def _message(body: bytes) -> str:
    try:
        return str(json.loads(body)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return body.decode("utf-8", "replace")[:200]


# --- recording ------------------------------------------------------------------------------------


def add_record_options(parser: argparse.ArgumentParser, *, command: bool = False) -> None:
    """`serve`'s recording options (`command`: the `record` command's, with its defaults)."""
    parser.add_argument(
        "--upstream",
        required=command,
        metavar="URL",
        help="the router's base URL to record from, e.g. https://router.example/api/v1",
    )
    if command:
        parser.add_argument(
            "--out",
            dest="cassette",
            default=DEFAULT_OUT,
            metavar="DIR",
            help="a directory (one scenario file per conversation) or a .yaml cassette "
            "(default: %(default)s)",
        )
    else:
        parser.add_argument(
            "--cassette",
            default=None,
            metavar="PATH",
            help="recordings: a .yaml file, or a directory of one file per conversation",
        )
    parser.add_argument(
        "--record" if not command else "--mode",
        dest="record",
        choices=RECORD_MODES,
        default="all" if command else None,
        help="none: replay only; once: record if the cassette is missing; new_episodes: "
        "record what no recording matches; all: record everything again"
        + (" (default: %(default)s)" if command else ""),
    )
    parser.add_argument(
        "--redact",
        action="append",
        default=[],
        metavar="FIELD",
        help="also redact this JSON field's values in recordings (repeatable)",
    )


def add_record(sub: Any) -> None:
    """Add the `record` sub-command: `serve --record all --upstream URL --cassette DIR`."""
    record = sub.add_parser(
        "record", help="a proxy to the router that records every answer as a scenario file"
    )
    record.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    record.add_argument(
        "--port",
        type=cli_args.whole(0, 65535),
        default=8080,
        help="port, 0 for any free one (default: %(default)s)",
    )
    record.add_argument(
        "--log-level",
        type=cli_args.log_level,
        default="INFO",
        help=f"{', '.join(cli_args.LOG_LEVELS)} (default: %(default)s)",
    )
    add_record_options(record, command=True)


def record_command_config(args: argparse.Namespace) -> Config:
    """The server Config of `chat-emulator record`."""
    return Config(host=args.host, port=args.port, **record_config(args))


def record_config(args: argparse.Namespace) -> dict[str, Any]:
    """The Config fields of the recording options."""
    return {
        "record_mode": args.record,
        "upstream": args.upstream,
        "cassette": args.cassette,
        "redact_fields": tuple(args.redact),
    }


def check_record(config: Config) -> str | None:
    """Why the recording options cannot work together, or None."""
    if config.record_mode is None:
        return None
    if config.cassette is None:
        return "--record needs --cassette PATH (a .yaml file or a directory)"
    if config.record_mode != "none" and not config.upstream:
        return f"--record {config.record_mode} needs --upstream URL (where to record from)"
    if config.upstream and urllib.parse.urlsplit(config.upstream).scheme not in ("http", "https"):
        return f"--upstream {config.upstream!r} is not an http:// or https:// URL"
    if config.workers > 1:
        return "recording needs one process: --record does not go with --workers"
    return None
