"""The `chat-emulator` command's code cache for the methods `dataclasses` writes: the same
classes either way, nothing compiled twice across starts, exactly what was used kept, a damaged
file ignored, and nothing installed by `import emulator` or `create_app`."""

from __future__ import annotations
import __future__

import dataclasses
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import compilecache, diskcache


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CHAT_EMULATOR_CACHE_DIR", str(tmp_path))
    compilecache.uninstall()
    yield tmp_path / "chat-emulator"
    compilecache.uninstall()


def _make_point() -> type:
    @dataclasses.dataclass(frozen=True)
    class Point:
        """A frozen class with a default, as the emulator's models are."""

        x: int
        y: int = 2
        tags: tuple[str, ...] = ()

    return Point


def _behaves(cls: type) -> None:
    p = cls(1)
    assert (p.x, p.y, p.tags) == (1, 2, ())
    assert p == cls(1, 2) and p != cls(1, 3)
    assert hash(p) == hash(cls(1, 2))
    assert repr(p).endswith("Point(x=1, y=2, tags=())")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 5


def test_classes_are_the_same_and_nothing_is_compiled_twice(cache_dir: Path) -> None:
    """A dataclass made with the cache installed behaves as without it; after `save`, a new
    process's cache (here: installed afresh) compiles none of its methods again."""
    first = compilecache.install()
    _behaves(_make_point())
    assert first.compiled >= 5  # __init__, __repr__, __eq__, __hash__, __setattr__, ...
    compilecache.save()
    files = list(cache_dir.glob("dataclass-code-*"))
    assert len(files) == 1
    compilecache.uninstall()
    assert "exec" not in vars(dataclasses)
    again = compilecache.install()
    _behaves(_make_point())
    assert again.compiled == 0
    assert set(again.used) <= set(again.known)


def test_only_what_was_used_is_kept(cache_dir: Path) -> None:
    """`save` writes the code objects of this process only: texts of an earlier version that
    were not used are dropped, and nothing is written when nothing was compiled."""
    path = diskcache.cache_file(compilecache._cache_name())
    assert path is not None
    stale = "def __create_fn__():\n def gone(): pass\n return gone"
    diskcache.write(path, {stale: compile(stale, "<string>", "exec")})
    compilecache.install()
    _make_point()
    compilecache.save()
    kept = diskcache.read(path)
    assert stale not in kept and kept
    written = path.stat().st_mtime_ns
    compilecache.uninstall()
    compilecache.install()
    _make_point()
    compilecache.save()
    assert path.stat().st_mtime_ns == written


def test_a_damaged_file_is_ignored(cache_dir: Path) -> None:
    """A damaged cache file is not used: the methods are compiled as usual and the file is
    written anew."""
    path = diskcache.cache_file(compilecache._cache_name())
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00" * 40)
    cache = compilecache.install()
    assert cache.known == {}
    _behaves(_make_point())
    assert cache.compiled > 0
    compilecache.save()
    assert diskcache.read(path)


def test_non_text_exec_passes_through(cache_dir: Path) -> None:
    """Code objects (not text) given to the installed exec run as the built-in exec runs them."""
    cache = compilecache.install()
    namespace: dict[str, object] = {}
    cache(compile("x = 41 + 1", "<string>", "exec"), namespace)
    assert namespace["x"] == 42
    assert cache.compiled == 0


def test_library_imports_leave_dataclasses_alone() -> None:
    """Importing the package, the CLI module and the app (as the pytest plugin and library
    users do) installs nothing: only the command's own process does."""
    code = (
        "import dataclasses, emulator, emulator.cli, emulator.app, emulator.testing;"
        "from emulator.config import Config; emulator.app.create_app(Config());"
        "print('exec' in vars(dataclasses))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_the_command_writes_the_cache_then_reuses_it(tmp_path: Path) -> None:
    """`python -m emulator validate` writes the cache on its first run; a second run compiles
    nothing new (the file is not rewritten) and prints the same."""
    scenario = tmp_path / "s.yaml"
    scenario.write_text("scenarios:\n  - name: hi\n    reply: {content: hello}\n")
    env = {"CHAT_EMULATOR_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "emulator", "validate", str(scenario)]
    first = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert first.returncode == 0, first.stderr
    (path,) = (tmp_path / "cache" / "chat-emulator").glob("dataclass-code-*")
    written = path.stat().st_mtime_ns
    second = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    assert path.stat().st_mtime_ns == written


def test_methods_keep_their_annotations(cache_dir: Path) -> None:
    """`__init__`'s annotations are the fields' types, as without the cache (the cache's own
    `from __future__ import annotations` must not reach the code it compiles)."""
    bare = _make_point().__init__.__annotations__
    compilecache.install()
    cached = _make_point().__init__.__annotations__
    assert cached == bare
    assert cached["x"] == "int" and cached["return"] is None


def test_code_compiled_with_postponed_annotations_is_not_used(cache_dir: Path) -> None:
    """A file whose code was compiled with postponed annotations (an earlier build of the cache
    wrote such files) is ignored: the methods are compiled anew and annotated as usual."""
    compilecache.install()
    _make_point()
    used = dict(compilecache._installed.used)  # type: ignore[union-attr]
    compilecache.uninstall()
    path = diskcache.cache_file(compilecache._cache_name())
    assert path is not None
    postponed = __future__.annotations.compiler_flag
    diskcache.write(path, {text: compile(text, "<string>", "exec", postponed) for text in used})
    cache = compilecache.install()
    assert cache.known == {}
    assert _make_point().__init__.__annotations__["x"] == "int"


def test_a_folder_in_the_files_place_leaves_no_temporary_files(cache_dir: Path) -> None:
    """When the cache file cannot be replaced (a folder has its name), each start's attempt to
    save leaves nothing behind in the cache folder: it would otherwise grow at every start."""
    path = diskcache.cache_file(compilecache._cache_name())
    assert path is not None
    path.mkdir(parents=True)
    for _ in range(2):
        compilecache.uninstall()
        cache = compilecache.install()
        _behaves(_make_point())
        assert cache.compiled > 0
        compilecache.save()
    assert sorted(p.name for p in cache_dir.iterdir()) == [path.name]


def _serve_once(env: dict[str, str], *args: str) -> None:
    """Start `python -m emulator serve`, wait for it to answer, stop it with SIGTERM."""
    command = [sys.executable, "-m", "emulator", "serve", "--port", "0", *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().split("serving on ")[1].split()[0]
        with urllib.request.urlopen(f"{url}/_emulator/health", timeout=10) as reply:
            assert reply.status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err


def test_workers_keep_their_code_too(tmp_path: Path) -> None:
    """After one `serve --workers 2`, the file holds the code its workers compiled as well: a
    plain `serve` (which makes the same classes) compiles nothing and does not rewrite it."""
    env = {"CHAT_EMULATOR_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    _serve_once(env, "--workers", "2")
    (path,) = (tmp_path / "chat-emulator").glob("dataclass-code-*")
    written = path.stat().st_mtime_ns
    _serve_once(env)
    assert path.stat().st_mtime_ns == written


def test_sigterm_as_soon_as_ready_stops_cleanly_on_a_first_start(tmp_path: Path) -> None:
    """A first start (empty cache) stopped by SIGTERM right after its "serving on" line exits 0
    and leaves the cache file written, no temporary file (it was killed while saving)."""
    env = {"CHAT_EMULATOR_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "emulator", "serve", "--port", "0"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    assert b"serving on" in proc.stdout.readline()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    (path,) = (tmp_path / "chat-emulator").glob("dataclass-code-*")
    assert diskcache.read(path)
    assert not list((tmp_path / "chat-emulator").glob("tmp*"))
