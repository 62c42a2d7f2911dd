"""The scenario library shipped inside the package (`emulator/scenarios/*.yaml`), reachable after
`pip install` without a checkout: `library:NAME` (one file, NAME without `.yaml`) or `library:`
(every file) wherever scenario paths are accepted (`serve --scenarios`, `validate`, the pytest
marker, `load_paths`), and `chat-emulator library list|path`.
"""

from __future__ import annotations

import os
from importlib.resources import as_file, files
from pathlib import Path

from .errors import ScenarioError

PREFIX = "library:"


def library_dir() -> Path:
    """The directory of the shipped scenario files (installed package data; a real directory for
    a regular or editable install, which is what `serve` needs to read and watch them)."""
    with as_file(files("emulator.scenarios")) as path:
        return Path(path)


def library_names() -> list[str]:
    """The names of the shipped scenarios (file names without `.yaml`), sorted."""
    return sorted(p.stem for p in library_dir().glob("*.yaml"))


def resolve(entry: str | os.PathLike[str]) -> Path:
    """`entry` as a path: `library:NAME` → the shipped file, `library:` → the library directory,
    anything else as given. An unknown NAME raises ScenarioError listing the valid names."""
    text = os.fspath(entry)
    if not text.startswith(PREFIX):
        return Path(text)
    name = text[len(PREFIX) :].removesuffix(".yaml")
    if not name:
        return library_dir()
    path = library_dir() / f"{name}.yaml"
    if not path.is_file():
        raise ScenarioError(
            f"no scenario {name!r} in the library; valid names: {', '.join(library_names())}",
            text,
        )
    return path


def describe(name: str) -> str:
    """The first sentence of a library file's first `description`, for `library list`."""
    text = (library_dir() / f"{name}.yaml").read_text(encoding="utf-8")
    lines = text.splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("description:"):
            rest = stripped[len("description:") :].strip()
            if rest in ("", ">-", ">", "|", "|-"):
                rest = " ".join(
                    more.strip() for more in lines[i + 1 : i + 4] if more.startswith("  ")
                )
            sentence = rest.strip("'\"").split(". ")[0].rstrip(".")
            return sentence if len(sentence) <= 90 else sentence[:87].rstrip() + "..."
    return ""
