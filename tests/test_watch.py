"""serve --watch: changed scenario files reload; a broken edit keeps the last good set."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest

from emulator.config import Config
from emulator.runtime import Emulator
from emulator.watch import reload, watch_scenarios


def write(path: Path, content: str) -> None:
    path.write_text(content)
    stat = path.stat()  # make sure the change is visible even on coarse mtime clocks
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_broken_edit_keeps_last_good_set(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A broken file logs file:line and leaves the loaded scenarios as they were."""
    file = tmp_path / "s.yaml"
    write(file, "name: one\nreply: {content: hi}\n")
    emulator = Emulator(Config())
    assert reload(emulator, [tmp_path])
    write(file, "name: one\nreply:\n  contnt: hi\n")
    with caplog.at_level(logging.ERROR, logger="emulator.watch"):
        assert not reload(emulator, [tmp_path])
    assert [s.name for s in emulator.state.scenarios] == ["one"]
    assert f"{file}:3:" in caplog.text


async def test_watch_picks_up_changes(tmp_path: Path) -> None:
    """The watcher reloads a changed directory within a few polls."""
    file = tmp_path / "s.yaml"
    write(file, "name: one\nreply: {content: hi}\n")
    emulator = Emulator(Config())
    reload(emulator, [tmp_path])
    task = asyncio.create_task(watch_scenarios(emulator, [tmp_path], poll_s=0.02))
    await asyncio.sleep(0.05)  # the watcher takes its first snapshot
    try:
        write(file, "name: two\nreply: {content: hi}\n")
        (tmp_path / "more.yaml").write_text("name: three\nreply: {content: yo}\n")
        for _ in range(100):
            await asyncio.sleep(0.02)
            if [s.name for s in emulator.state.scenarios] == ["three", "two"]:
                break
        assert [s.name for s in emulator.state.scenarios] == ["three", "two"]
    finally:
        task.cancel()
