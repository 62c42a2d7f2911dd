"""`serve --watch`: reload scenario files when they change. A broken edit keeps the last good set
serving and logs the error with file:line; nothing half-loads."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from emulator.errors import ScenarioError
from emulator.loader import load_paths
from emulator.runtime import Emulator

log = logging.getLogger("emulator.watch")
POLL_S = 0.5
_SUFFIXES = (".yaml", ".yml", ".json")

Snapshot = dict[str, float]


def snapshot(paths: Iterable[str | os.PathLike[str]]) -> Snapshot:
    """Modification times of every scenario file under `paths` (a vanished file drops out)."""
    found: Snapshot = {}
    for root in map(Path, paths):
        files = sorted(root.iterdir()) if root.is_dir() else [root]
        for path in files:
            if path.suffix in _SUFFIXES or path == root:
                try:
                    found[str(path)] = path.stat().st_mtime_ns
                except OSError:
                    continue
    return found


def reload(emulator: Emulator, paths: Iterable[str | os.PathLike[str]]) -> bool:
    """Load `paths` anew and swap them in for the previous load of the files, keeping the
    scenarios added through the admin API; on any error keep the current set."""
    try:
        scenarios = load_paths(list(paths))
        kept = emulator.state.replace_files(scenarios)
    except ScenarioError as exc:
        log.error("scenario reload failed, still serving the last good set: %s", exc)
        return False
    log.info(
        "reloaded %d scenario(s) from files; kept %d added through the admin API%s",
        len(scenarios),
        len(kept),
        f" ({', '.join(kept)})" if kept else "",
    )
    return True


async def watch_scenarios(
    emulator: Emulator, paths: Iterable[str | os.PathLike[str]], poll_s: float = POLL_S
) -> None:
    """Poll the scenario files and reload on any change, until cancelled."""
    watched = list(paths)
    seen = snapshot(watched)
    while True:
        await asyncio.sleep(poll_s)
        now = snapshot(watched)
        if now != seen:
            seen = now
            reload(emulator, watched)
