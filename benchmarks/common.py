"""Shared helpers of the benchmarks: server subprocesses, CPU accounting, percentiles, request
bodies, SSE parsing and markdown tables.

Kept free of heavy imports at module level: `bare_server.py` imports it too, and its start-up
time is one of the measured figures.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
PYTHON = sys.executable
AUTH = {"Authorization": "Bearer bench", "Content-Type": "application/json"}
STREAM_HEADER = ("X-Bench", "stream20")
MODEL = "openai/gpt-4o"
URL_LINE = re.compile(r"serving on (http://[^\s]+)")
CLK_TCK = os.sysconf("SC_CLK_TCK")

# The 20 content deltas both servers stream in the 20-chunk case (about one word each).
STREAM_CHUNKS: tuple[str, ...] = (
    "The",
    " quick",
    " brown",
    " fox",
    " jumps",
    " over",
    " the",
    " lazy",
    " dog",
    " while",
    " the",
    " cat",
    " watches",
    " from",
    " the",
    " warm",
    " kitchen",
    " window",
    " sill",
    ".",
)


# --- server subprocesses --------------------------------------------------------------------


@dataclass
class Server:
    """A server subprocess and the base URL it printed on its first stdout line."""

    name: str
    proc: subprocess.Popen[str]
    url: str
    log: IO[str]
    started_s: float  # seconds from Popen to the URL line

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def stop(self) -> None:
        stop_process(self.proc)
        self.log.close()


def emulator_cmd(port: int = 0, scenarios: str | None = None, *extra: str) -> list[str]:
    cmd = [PYTHON, "-m", "emulator", "serve", "--port", str(port)]
    if scenarios:
        cmd += ["--scenarios", scenarios]
    return cmd + list(extra)


def bare_cmd(port: int = 0, *extra: str) -> list[str]:
    return [PYTHON, str(BENCH_DIR / "bare_server.py"), "--port", str(port), *extra]


def start_server(
    name: str, cmd: Sequence[str], timeout_s: float = 60.0, cwd: Path = ROOT
) -> Server:
    """Start `cmd` in `cwd` (with `python -m`, the checkout whose package is imported), wait
    for its `serving on http://...` line; stderr goes to a temp file."""
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed by Server.stop)
        "w+", prefix=f"bench-{name}-", suffix=".log", delete=False
    )
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        list(cmd), stdout=subprocess.PIPE, stderr=log, text=True, cwd=cwd, env=server_env()
    )
    url = _read_url(proc, timeout_s)
    started = time.perf_counter() - t0
    if url is None:
        stop_process(proc)
        log.seek(0)
        raise RuntimeError(f"{name} did not start: {log.read()[-2000:]}")
    return Server(name, proc, url, log, started)


def _read_url(proc: subprocess.Popen[str], timeout_s: float) -> str | None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            return None
        found = URL_LINE.search(line)
        if found:
            return found.group(1).rstrip("/")
    return None


def stop_process(proc: subprocess.Popen[str]) -> None:
    """SIGTERM this one process, then SIGKILL it if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    if proc.stdout is not None:
        proc.stdout.close()


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, from /proc/<pid>/stat."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children_cpu_seconds() -> float:
    """CPU of this process's finished, waited-for children (the load generator runs)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def self_cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine have used (every core), from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def wait_for_quiet(
    max_wait_s: float = 30.0, threshold: float = 0.25, window_s: float = 0.5
) -> float:
    """Wait (bounded) until the machine's busy CPU over `window_s` is below `threshold` cores,
    while our own servers are idle; returns the last measured busy cores. Other people's jobs
    on a shared machine would otherwise be measured as the server's slowness."""
    deadline = time.monotonic() + max_wait_s
    while True:
        b0 = machine_busy_seconds()
        time.sleep(window_s)
        busy = (machine_busy_seconds() - b0) / window_s
        if busy < threshold or time.monotonic() >= deadline:
            return busy


def server_env() -> dict[str, str]:
    """Environment of server subprocesses: bytecode caches on, kept outside the repository,
    so start-up is measured the way an installed package starts (after one unmeasured start)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "chat-emulator-bench-pycache")
    return env


def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    """Blocking POST to /v1/chat/completions (http.client): the whole body; raises unless 200."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    try:
        conn.request("POST", "/v1/chat/completions", body=body, headers={**AUTH, **(headers or {})})
        resp = conn.getresponse()
        data = resp.read()
    finally:
        conn.close()
    if resp.status != 200:
        raise RuntimeError(f"{url}: HTTP {resp.status}: {data[:300]!r}")
    return data


def machine_line() -> str:
    """One line describing this machine: CPU model, cores, Python and aiohttp versions."""
    import platform

    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import aiohttp

        aio = aiohttp.__version__
    except ImportError:
        aio = "?"
    return (
        f"{model}, {os.cpu_count()} cores, Linux {platform.release()}, "
        f"Python {platform.python_version()}, aiohttp {aio}"
    )


# --- statistics and tables -------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile, q in [0, 100]; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub markdown table; floats shown with sensible precision."""

    def cell(v: Any) -> str:
        if isinstance(v, float):
            if math.isnan(v):
                return "n/a"
            return f"{v:.0f}" if abs(v) >= 100 else f"{v:.2f}" if abs(v) >= 1 else f"{v:.3f}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


# --- request bodies ----------------------------------------------------------------------------


MARK = "@@N@@"


def plain_body(stream: bool = False) -> str:
    """A short chat request with a MARK where a per-request counter goes."""
    body: dict[str, Any] = {
        "model": MODEL,
        "messages": [{"role": "user", "content": f"Tell me something about request {MARK}."}],
    }
    if stream:
        body["stream"] = True
    return json.dumps(body)


def tools_body() -> str:
    """A realistic 10-message conversation with 2 tools, a MARK in the last user message."""
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather for a city.",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "city": {"type": "string", "description": "City name"},
                        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                    },
                    "required": ["city"],
                    "additionalProperties": False,
                },
            },
        },
        {
            "type": "function",
            "function": {
                "name": "search_web",
                "description": "Search the web and return the top results.",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "query": {"type": "string"},
                        "max_results": {"type": "integer", "minimum": 1, "maximum": 10},
                    },
                    "required": ["query"],
                },
            },
        },
    ]
    call = {
        "id": "call_abc123",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city":"Paris","unit":"celsius"}'},
    }
    messages = [
        {
            "role": "system",
            "content": "You are a helpful travel assistant. Answer briefly and "
            "use the tools when they help.",
        },
        {"role": "user", "content": "I am planning a trip to France next month."},
        {"role": "assistant", "content": "Great! Which cities are you thinking of visiting?"},
        {"role": "user", "content": "Paris first, then maybe Lyon. What is it like in Paris now?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {
            "role": "tool",
            "tool_call_id": "call_abc123",
            "content": '{"temperature": 18, "condition": "partly cloudy"}',
        },
        {"role": "assistant", "content": "It is 18 °C and partly cloudy in Paris right now."},
        {"role": "user", "content": [{"type": "text", "text": "Nice. Any museums you recommend?"}]},
        {"role": "assistant", "content": "The Louvre, the Musée d'Orsay and the Centre Pompidou."},
        {"role": "user", "content": f"Thanks! Plan a first day for me, trip number {MARK}."},
    ]
    return json.dumps(
        {
            "model": MODEL,
            "messages": messages,
            "tools": tools,
            "tool_choice": "auto",
            "temperature": 0.7,
            "top_p": 0.95,
            "user": "bench-user",
        },
        ensure_ascii=False,
    )


def fill(template: str, n: int | str) -> bytes:
    return template.replace(MARK, str(n)).encode()


# --- SSE -----------------------------------------------------------------------------------------


@dataclass
class StreamCount:
    """What one SSE stream held."""

    content_chunks: int = 0
    data_events: int = 0
    comments: int = 0
    done: bool = False
    extra: list[str] = field(default_factory=list)


def count_sse(raw: bytes) -> StreamCount:
    """Count the content deltas, data events, comments and [DONE] of a whole SSE body."""
    out = StreamCount()
    for line in raw.decode().split("\n"):
        if line.startswith(":"):
            out.comments += 1
        elif line.startswith("data: "):
            payload = line[6:]
            if payload == "[DONE]":
                out.done = True
                continue
            out.data_events += 1
            chunk = json.loads(payload)
            for choice in chunk.get("choices", []):
                if choice.get("delta", {}).get("content"):
                    out.content_chunks += 1
    return out


# --- load generators -----------------------------------------------------------------------


@dataclass
class Load:
    """One load run against one server."""

    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    loadgen_cpu_s: float

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0


WRK_LUA = """-- generated by benchmarks/common.py: a distinct body per request, latency percentiles
local prefix = [==[%(prefix)s]==]
local suffix = [==[%(suffix)s]==]
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
%(headers)s
end

function request()
  counter = counter + 1
  local body = prefix .. (tid or 0) .. "-" .. counter .. suffix
  return wrk.format(nil, "/v1/chat/completions", nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%%d duration_us=%%d p50_us=%%.0f p99_us=%%.0f " ..
    "status=%%d connect=%%d read=%%d write=%%d timeout=%%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
end
"""


def wrk_available() -> bool:
    import shutil

    return shutil.which("wrk") is not None


def wrk_script(template: str, headers: dict[str, str], run_id: str) -> str:
    """A wrk Lua script whose every request body is `template` with a unique counter at MARK."""
    prefix, _, suffix = template.partition(MARK)
    lines = "\n".join(f'  wrk.headers["{k}"] = "{v}"' for k, v in {**AUTH, **headers}.items())
    return WRK_LUA % {"prefix": prefix + run_id + "-", "suffix": suffix, "headers": lines}


def wrk_load(
    url: str,
    template: str,
    headers: dict[str, str],
    connections: int,
    duration_s: float,
    run_id: str,
) -> Load:
    """Drive `url` with wrk (1 thread, `connections` connections) for `duration_s` seconds."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(wrk_script(template, headers, run_id))
    cpu0 = children_cpu_seconds()
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(duration_s))}s",
                "--timeout",
                "10s",
                "-s",
                f.name,
                url,
            ],
            check=False,
            capture_output=True,
            text=True,
            timeout=duration_s + 60,
        )
    finally:
        os.unlink(f.name)
    found = re.search(r"BENCH (.*)", out.stdout)
    if found is None:
        raise RuntimeError(f"wrk failed: {out.stdout}\n{out.stderr}")
    v = {k: float(x) for k, x in (kv.split("=") for kv in found.group(1).split())}
    errors = int(v["status"] + v["connect"] + v["read"] + v["write"] + v["timeout"])
    return Load(
        int(v["requests"]),
        v["duration_us"] / 1e6,
        v["p50_us"] / 1000,
        v["p99_us"] / 1000,
        errors,
        children_cpu_seconds() - cpu0,
    )


def python_load(
    url: str,
    template: str,
    headers: dict[str, str],
    connections: int,
    duration_s: float,
    run_id: str,
    max_requests: int = 2_000_000,
) -> Load:
    """The fallback load generator: `connections` aiohttp workers in this process, bounded in
    time and count. It shares the 2 cores with the server, so absolute figures are lower."""
    import asyncio

    cpu0 = self_cpu_seconds()
    load = asyncio.run(
        _python_load(url, template, headers, connections, duration_s, run_id, max_requests)
    )
    load.loadgen_cpu_s = self_cpu_seconds() - cpu0
    return load


async def _python_load(
    url: str,
    template: str,
    headers: dict[str, str],
    connections: int,
    duration_s: float,
    run_id: str,
    max_requests: int,
) -> Load:
    import asyncio
    import itertools

    import aiohttp

    latencies: list[float] = []
    errors = 0
    counter = itertools.count()
    target = url + "/v1/chat/completions"

    async def worker(session: aiohttp.ClientSession, deadline: float) -> None:
        nonlocal errors
        while time.perf_counter() < deadline and len(latencies) < max_requests:
            body = fill(template, f"{run_id}-{next(counter)}")
            t0 = time.perf_counter()
            try:
                async with session.post(target, data=body) as resp:
                    await resp.read()
                    errors += resp.status != 200
            except (aiohttp.ClientError, asyncio.TimeoutError):
                errors += 1
            latencies.append(time.perf_counter() - t0)

    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(
        connector=connector, headers={**AUTH, **headers}, timeout=timeout
    ) as session:
        t0 = time.perf_counter()
        deadline = t0 + duration_s
        await asyncio.gather(*(worker(session, deadline) for _ in range(connections)))
        elapsed = time.perf_counter() - t0
    return Load(
        len(latencies),
        elapsed,
        percentile(latencies, 50) * 1000,
        percentile(latencies, 99) * 1000,
        errors,
        0.0,
    )
