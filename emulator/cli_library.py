"""`chat-emulator library list|path`: the scenario library shipped with the package."""

from __future__ import annotations

import argparse
import sys


def add_library(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `library` command and its `list` and `path` sub-commands to `sub`."""
    library_parser = sub.add_parser(
        "library", help="the scenario library shipped with the package (library:NAME)"
    )
    what = library_parser.add_subparsers(dest="library_command", required=True)
    what.add_parser("list", help="name and summary of every shipped scenario file")
    path = what.add_parser("path", help="where the shipped scenario files are installed")
    path.add_argument("name", nargs="?", help="one file's name (without .yaml)")


def library(args: argparse.Namespace) -> int:
    """`library list`: every shipped scenario's name and summary; `library path [NAME]`."""
    from emulator.errors import ScenarioError
    from emulator.library import PREFIX, describe, library_names, resolve

    if args.library_command == "list":
        names = library_names()
        width = max(map(len, names), default=0)
        for name in names:
            print(f"{name:<{width}}  {describe(name)}")
        print(f"use one with --scenarios {PREFIX}NAME, or all with --scenarios {PREFIX}")
        return 0
    try:
        print(resolve(PREFIX + (args.name or "")))
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
