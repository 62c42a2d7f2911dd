"""The pure core named in the README imports neither the HTTP stack nor the test stack, directly
or through another module, so it can be used and tested with plain data."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _core_modules() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("- Layout: a pure core")
    layout = re.split(r"and thin\s+edges", readme[start:])[0]
    names = re.findall(r"`([a-z_]+)/?`", layout)
    return sorted(set(names))


def test_the_readme_names_the_core_modules_that_exist() -> None:
    """Every module the README calls core exists in the package."""
    names = _core_modules()
    assert len(names) > 30
    missing = [
        n
        for n in names
        if not (ROOT / "emulator" / f"{n}.py").exists() and not (ROOT / "emulator" / n).is_dir()
    ]
    assert missing == []


def test_core_modules_import_neither_aiohttp_nor_pytest() -> None:
    """Importing every core module (in a fresh interpreter) loads neither aiohttp nor pytest."""
    imports = "; ".join(f"import emulator.{name}" for name in _core_modules())
    code = f"import sys; {imports}; print(sorted({{'aiohttp', 'pytest'}} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_test_imports_its_helpers_through_the_tests_package() -> None:
    """Tests import their helpers as `wire`, `rawsse`, ... (the tests folder is on sys.path under
    the README's plain `pytest`); `tests.wire` only resolves under `python -m pytest`."""
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("tests", "tests_browser")
        for path in sorted((ROOT / folder).glob("**/*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.match(r"\s*(from tests[. ]|import tests\b)", line)
    ]
    assert offenders == []
