"""Record modes and where recordings live: one cassette file (`scenarios:` list) or a directory of
one scenario file per recorded conversation. No aiohttp: file I/O only, each write atomic.

Record modes, as pytest-recording (VCR.py) names them:

- `none`: replay only; a request no recording matches is an error (404 naming the closest).
- `once`: record when the cassette does not exist yet; afterwards, as `none`.
- `new_episodes`: replay what matches, record (and append) the rest.
- `all`: record every request again; the cassette is rewritten.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML ships no type hints

from emulator.capture import dump_yaml
from emulator.loader import SUFFIXES, load_paths
from emulator.recording import Cassette
from emulator.scenario import Scenario

RECORD_MODES = ("none", "once", "new_episodes", "all")


def check_mode(mode: str) -> str:
    """`mode` if it is a record mode; else ValueError naming the valid ones."""
    if mode not in RECORD_MODES:
        raise ValueError(
            f"{mode!r} is not a valid record mode. Valid modes are: {', '.join(RECORD_MODES)}"
        )
    return mode


@dataclass
class CassetteStore:
    """Recordings at `path`: a `.yaml`/`.yml`/`.json` file, or else a directory."""

    path: Path
    mode: str
    recorded: Cassette = field(default_factory=Cassette)
    existed: bool = False
    _existing: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_mode(self.mode)
        self.path = Path(self.path)
        self.existed = self._exists()
        if self.existed and self.is_file and self.mode == "new_episodes":
            data = yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}
            self._existing = list(data.get("scenarios", [data] if "name" in data else []))

    @property
    def is_file(self) -> bool:
        return self.path.suffix in SUFFIXES

    def _exists(self) -> bool:
        if self.is_file:
            return self.path.is_file()
        return self.path.is_dir() and any(p.suffix in SUFFIXES for p in self.path.iterdir())

    # --- what the mode means ---
    @property
    def records_all(self) -> bool:
        """Every request goes upstream (`all`, or `once` before the cassette exists)."""
        return self.mode == "all" or (self.mode == "once" and not self.existed)

    @property
    def records_misses(self) -> bool:
        """A request no recording matches goes upstream (else it is an error)."""
        return self.records_all or self.mode == "new_episodes"

    def replayed(self) -> list[Scenario]:
        """The recordings to replay (none when every request is recorded again)."""
        if self.records_all or not self.existed:
            return []
        return load_paths([self.path])

    # --- writing ---
    def save(self, name: str | None = None) -> list[Path]:
        """Write the recordings (atomically): the whole cassette file, or in a directory the
        file of scenario `name` (every recording's when None). Returns the files written."""
        if self.is_file:
            _write(self.path, dump_yaml(self.recorded.file(self._existing)))
            return [self.path]
        written = []
        for scenario in self.recorded.scenarios:
            if name is None or scenario["name"] == name:
                target = self.path / f"{scenario['name']}.yaml"
                _write(target, dump_yaml(scenario))
                written.append(target)
        return written

    def reserve(self, names: Iterable[str]) -> None:
        """Names a new recording must not take (the loaded scenarios')."""
        self.recorded.taken.update(names)
        self.recorded.taken.update(str(s.get("name")) for s in self._existing)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def scenario_names(scenarios: Iterable[Scenario | Mapping[str, Any]]) -> list[str]:
    return [s.name if isinstance(s, Scenario) else str(s.get("name")) for s in scenarios]
