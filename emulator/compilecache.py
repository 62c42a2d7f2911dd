"""The `chat-emulator` command's start-up: the methods `dataclasses` writes for the emulator's
model classes are compiled once and kept on disk, not compiled again at every start.

`@dataclass` writes each class's `__init__`, `__repr__`, `__eq__`, `__hash__` and (frozen)
`__setattr__`/`__delattr__` as source text and compiles it with `exec`: about 0.15 ms per
method, about 1 ms per class, 60-80 ms for the ~70 classes on the way to a server's first
answer, most of what importing the emulator costs. `install` gives the `dataclasses` module an
`exec` that looks the text up among the code objects compiled by an earlier start (the same
text always compiles to the same code) and compiles only what is new; `save` keeps exactly the
code objects this process used (so the file does not grow across versions), in the on-disk
cache next to the vocabulary (`emulator.diskcache`: named by Python version, checked by sha256,
ignored when damaged: the code is then compiled as usual). Like Python's own bytecode caches,
what is kept is code compiled from this installation's source.

Only the command's own process installs it (`emulator.__main__.run`); `import emulator`, the
pytest plugin and `create_app` leave `dataclasses` untouched.
"""

from __future__ import annotations
import __future__

import builtins
import dataclasses
from types import CodeType
from typing import Any

from emulator import __version__, diskcache

_real_exec = builtins.exec

# What `from __future__ import annotations` gives code: never in what the built-in exec,
# called from dataclasses' own code (which has no such import), compiles from the text.
_POSTPONED = __future__.annotations.compiler_flag


class CompiledOnce:
    """The code cache `install` puts in place: `exec(text, globals, locals)` with the text's
    code object compiled at most once across starts."""

    def __init__(self, known: dict[str, CodeType]) -> None:
        self.known = known
        self.used: dict[str, CodeType] = {}
        self.compiled = 0  # texts this process had to compile (not found on disk)

    def __call__(self, source: Any, globals: Any = None, locals: Any = None) -> None:
        if not isinstance(source, str):
            _real_exec(source, globals, locals)
            return
        code = self.used.get(source) or self.known.get(source)
        if code is None:
            # dont_inherit: not this module's `from __future__ import annotations`, which
            # would turn the methods' annotations into the texts of dataclasses' local names
            code = compile(source, "<string>", "exec", dont_inherit=True)
            self.compiled += 1
        self.used[source] = code
        _real_exec(code, globals, locals)


_installed: CompiledOnce | None = None


def _cache_name() -> str:
    return f"dataclass-code-{__version__}"


def install() -> CompiledOnce:
    """Give `dataclasses` the cached `exec` (once per process); returns it."""
    global _installed
    if _installed is None:
        path = diskcache.cache_file(_cache_name())
        known = diskcache.read(path) if path is not None else None
        valid = isinstance(known, dict) and all(
            isinstance(k, str) and isinstance(v, CodeType) and not v.co_flags & _POSTPONED
            for k, v in known.items()
        )
        _installed = CompiledOnce(known if valid else {})  # type: ignore[arg-type]
        dataclasses.exec = _installed  # type: ignore[attr-defined]
    return _installed


def save() -> None:
    """Keep the code objects this process used, when it had to compile any (no write
    otherwise); an unwritable cache folder is not an error."""
    if _installed is None or not _installed.compiled:
        return
    path = diskcache.cache_file(_cache_name())
    if path is not None:
        diskcache.write(path, dict(_installed.used))
        _installed.known = {**_installed.known, **_installed.used}
        _installed.compiled = 0


def uninstall() -> None:
    """Give `dataclasses` back the built-in `exec` (for tests)."""
    global _installed
    if _installed is not None:
        del dataclasses.exec  # type: ignore[attr-defined]
        _installed = None
