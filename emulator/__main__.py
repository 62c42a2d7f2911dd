"""python -m emulator, and the `chat-emulator` command: `run`."""

from __future__ import annotations


def run() -> int:
    """The `chat-emulator` command. Before the command's modules are imported, the methods
    `dataclasses` writes for their classes are looked up among those compiled by an earlier
    start (emulator.compilecache): a quicker start, the same classes."""
    from emulator import compilecache

    compilecache.install()
    from emulator.cli import main

    try:
        return main()
    finally:
        compilecache.save()


if __name__ == "__main__":
    raise SystemExit(run())
