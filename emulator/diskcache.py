"""An on-disk cache of values that are slow to build and never change for given input (the
parsed tokenizer vocabulary, the parsed built-in catalog): marshal's format, with the sha256 of
the cached bytes in front, checked at every read (a damaged or foreign file is ignored and
rewritten). A file's name carries a digest of its input and the Python version (marshal's format
belongs to one), so a changed input or Python never reads a stale value.

The cache lives in $CHAT_EMULATOR_CACHE_DIR, else $XDG_CACHE_HOME or ~/.cache, under
chat-emulator/; a cache that cannot be read or written is simply not used.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def cache_file(name: str, cache_dir: Path | None = None) -> Path | None:
    """The path of cache entry `name` (in `cache_dir`, else the configured folder), or None
    when there is no folder to be found."""
    if cache_dir is None:
        configured = os.environ.get("CHAT_EMULATOR_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
        try:
            cache_dir = Path(configured) if configured else Path.home() / ".cache"
        except RuntimeError:  # no home directory to be found
            return None
        cache_dir = cache_dir / "chat-emulator"
    version = f"{sys.implementation.name}{sys.version_info[0]}{sys.version_info[1]}"
    return cache_dir / f"{name}-{version}.marshal"


def read(path: Path) -> Any:
    """The value cached at `path`, or None if it is missing, damaged or unreadable."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    digest, payload = data[:32], data[32:]
    if hashlib.sha256(payload).digest() != digest:
        return None
    try:
        return marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None


def write(path: Path, value: Any) -> None:
    """Cache `value` (marshal-able: dicts, lists, str, bytes, numbers...) at `path`, atomically;
    an unwritable folder is not an error."""
    payload = marshal.dumps(value)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
            try:
                tmp.write(hashlib.sha256(payload).digest() + payload)
                tmp.close()
                os.replace(tmp.name, path)  # atomic: a reader sees the old file or the new
            except OSError:
                os.unlink(tmp.name)  # e.g. a folder at `path`, a full disk: leave no litter
                raise
    except OSError:
        return


def cached(
    name: str,
    build: Callable[[], Any],
    valid: Callable[[Any], bool],
    cache_dir: Path | None = None,
) -> Any:
    """The value cached under `name` if `valid` accepts it, else `build()`, cached."""
    path = cache_file(name, cache_dir)
    value = read(path) if path is not None else None
    if value is None or not valid(value):
        value = build()
        if path is not None:
            write(path, value)
    return value


def digest(text: str) -> str:
    """16 hex digits of the sha256 of `text`: the input's part of a cache entry's name."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
