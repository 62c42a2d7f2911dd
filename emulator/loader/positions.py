"""Where scenario data came from: JSON paths, their lines, readable names and value summaries.

A `Where` turns a JSON path (`("scenarios", 0, "reply", "content")`) into the line it came from
and the name a person reads (`reply.content`), and makes `file:line: message` errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ScenarioError

Key = str | int
JsonPath = tuple[Key, ...]
Lines = Mapping[JsonPath, int]


@dataclass(frozen=True)
class Where:
    """Where the data came from, to turn JSON paths into `file:line` and readable names."""

    source: str
    lines: Lines
    file_form: bool

    def line(self, path: JsonPath) -> int | None:
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def name(self, path: JsonPath) -> str:
        rest = path
        if self.file_form:
            if not path:
                return "file"
            if len(path) >= 2 and path[0] == "scenarios" and isinstance(path[1], int):
                rest = path[2:]
        text = ""
        for key in rest:
            text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else key)
        return text or "scenario"

    def error(
        self, path: JsonPath, message: str, line_path: JsonPath | None = None
    ) -> ScenarioError:
        return ScenarioError(
            message, self.source, self.line(path if line_path is None else line_path)
        )


def describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, str):
        return f"a string ({short(value)})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def short(value: Any, limit: int = 40) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return repr(text[: limit - 3] + "..." if len(text) > limit else text)


def shown(value: Any) -> str:
    if isinstance(value, str) and re.fullmatch(r"[\w./-]+", value):
        return value
    return json.dumps(value)
