"""The wheel ships the schemas, scenarios and inspector page inside the package (read via
importlib.resources)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built once for this module."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return next(out.glob("chat_emulator-*.whl"))


def test_wheel_contains_schemas_and_scenarios(wheel: Path) -> None:
    """A built wheel holds every module, schema, scenario and inspector file, the plugin entry
    point and the CLI."""
    names = set(zipfile.ZipFile(wheel).namelist())
    schemas = {p.name for p in (ROOT / "schemas").glob("*.json")}
    scenarios = {p.name for p in (ROOT / "scenarios").glob("*.yaml")}
    assert schemas and {f"emulator/schemas/{n}" for n in schemas} <= names
    assert {f"emulator/scenarios/{n}" for n in scenarios} <= names
    assert "emulator/schemas/request.schema.json" in names
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "emulator").rglob("*.py")}
    assert modules and modules <= names, sorted(modules - names)
    ui = {p.name for p in (ROOT / "emulator" / "ui").iterdir()}
    assert ui == {
        "index.html",
        "inspector.css",
        "inspector.js",
        "dom.js",
        "detail.js",
        "timeline.js",
    }
    assert {f"emulator/ui/{n}" for n in ui} <= names
    assert {"emulator/catalogs/builtin.yaml", "emulator/catalogs/catalog-file.schema.json"} <= names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "chat_emulator = emulator.pytest_plugin" in text
    assert "chat-emulator = emulator.__main__:run" in text


def test_installed_wheel_reaches_the_library(wheel: Path, tmp_path: Path) -> None:
    """Installed from the wheel (no checkout on the path), `library:NAME` and `library path`
    find the shipped scenario files inside the installed package."""
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target)]
        + [str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "emulator", *argv],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    path = run("library", "path", "stream-stall")
    assert Path(path.stdout.strip()) == target / "emulator" / "scenarios" / "stream-stall.yaml"
    checked = run("validate", "library:")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("ok: ")
