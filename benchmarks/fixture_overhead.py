"""Per-test overhead of the `chat_emulator` pytest fixture, on this machine, in one command.

    python benchmarks/fixture_overhead.py [--tests 200] [--rounds 3]

What it does:
1. writes two test files to a temp dir: `--tests` tests that each take the `chat_emulator`
   fixture, and the same tests without it (both with an empty body, so only the fixture differs);
2. runs each file in its own `python -m pytest` subprocess, alternating, `--rounds` times, and
   takes the fastest wall-clock run of each (the least disturbed by the rest of the machine);
3. a conftest in the temp dir records every test's setup + teardown time from pytest's own
   reports, which gives the steady per-test cost apart from the one-time server start;
4. prints both figures: (a) whole-run difference / number of tests, which includes importing the
   server and starting it once per session; (b) the median and p95 per-test setup + teardown
   with the fixture, minus the same without it.

The target of issue 6 is < 10 ms of fixture overhead per test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_MS = 10.0

CONFTEST = """
import json, os

_phases = {}


def pytest_runtest_logreport(report):
    if report.when in ("setup", "teardown"):
        _phases[report.nodeid] = _phases.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session):
    with open(os.environ["PHASES_FILE"], "w") as out:
        json.dump(_phases, out)
"""
INI = """[pytest]
addopts = -p no:cacheprovider -q
asyncio_default_fixture_loop_scope = function
"""


def write_suite(root: Path, tests: int) -> None:
    (root / "pytest.ini").write_text(INI)
    (root / "conftest.py").write_text(CONFTEST)
    with_fixture = "".join(f"\n\ndef test_{i}(chat_emulator):\n    pass\n" for i in range(tests))
    without = "".join(f"\n\ndef test_{i}():\n    pass\n" for i in range(tests))
    (root / "test_with_fixture.py").write_text(with_fixture)
    (root / "test_without_fixture.py").write_text(without)


def run(root: Path, test_file: str) -> tuple[float, list[float]]:
    """Wall-clock seconds of one pytest run, and each test's setup + teardown seconds."""
    phases = root / f"{test_file}.phases.json"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", test_file],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "PHASES_FILE": str(phases)},
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"pytest failed on {test_file}:\n{done.stdout}\n{done.stderr}")
    return wall, list(json.loads(phases.read_text()).values())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fixture-overhead-") as tmp:
        root = Path(tmp)
        write_suite(root, args.tests)
        walls: dict[str, list[float]] = {"with": [], "without": []}
        per_test: dict[str, list[float]] = {"with": [], "without": []}
        for _ in range(args.rounds):
            for kind in ("with", "without"):
                wall, phases = run(root, f"test_{kind}_fixture.py")
                walls[kind].append(wall)
                per_test[kind] += phases[1:]  # the first test's setup starts the server
        report(args.tests, walls, per_test)
    return 0


def report(tests: int, walls: dict[str, list[float]], per_test: dict[str, list[float]]) -> None:
    whole_ms = (min(walls["with"]) - min(walls["without"])) / tests * 1000
    median_ms = (
        statistics.median(per_test["with"]) - statistics.median(per_test["without"])
    ) * 1000
    p95_ms = (percentile(per_test["with"], 0.95) - percentile(per_test["without"], 0.95)) * 1000
    print(f"{tests} tests, fastest of {len(walls['with'])} runs each")
    print(f"  wall clock with the fixture:    {min(walls['with']):.3f} s")
    print(f"  wall clock without the fixture: {min(walls['without']):.3f} s")
    print(
        f"  (a) overhead per test, whole run (import + one server start included): "
        f"{whole_ms:.2f} ms"
    )
    print(
        f"  (b) overhead per test, setup + teardown: median {median_ms:.3f} ms, p95 {p95_ms:.3f} ms"
    )
    verdict = "PASS" if whole_ms < TARGET_MS else "MISS"
    print(f"  target < {TARGET_MS:.0f} ms per test: {verdict}")


if __name__ == "__main__":
    sys.exit(main())
