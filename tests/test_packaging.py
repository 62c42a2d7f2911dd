"""The wheel ships the schemas, scenarios and inspector page inside the package (read via
importlib.resources)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_contains_schemas_and_scenarios(tmp_path: Path) -> None:
    """A built wheel holds every module, schema, scenario and inspector file, the plugin entry
    point and the CLI."""
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("chat_emulator-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    schemas = {p.name for p in (ROOT / "schemas").glob("*.json")}
    scenarios = {p.name for p in (ROOT / "scenarios").glob("*.yaml")}
    assert schemas and {f"emulator/schemas/{n}" for n in schemas} <= names
    assert {f"emulator/scenarios/{n}" for n in scenarios} <= names
    assert "emulator/schemas/request.schema.json" in names
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "emulator").rglob("*.py")}
    assert modules and modules <= names, sorted(modules - names)
    ui = {p.name for p in (ROOT / "emulator" / "ui").iterdir()}
    assert ui == {"index.html", "inspector.js", "inspector.css"}
    assert {f"emulator/ui/{n}" for n in ui} <= names
    assert {"emulator/catalogs/builtin.yaml", "emulator/catalogs/catalog-file.schema.json"} <= names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "chat_emulator = emulator.pytest_plugin" in text
    assert "chat-emulator = emulator.cli:main" in text
