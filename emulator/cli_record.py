"""The `chat-emulator export` command (and, with the recorder, `record`): kept apart from cli.py so
the serve and validate commands stay one screen long.

`export` asks a running server for journal entry N as a scenario, through its admin API, with
nothing but the standard library (no aiohttp needed on the client side).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8080"
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
