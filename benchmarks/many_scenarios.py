"""CPU per request with many scenarios loaded, the request matching the last one, in one command.

    python benchmarks/many_scenarios.py [--scenarios 500] [--keyed model|text|header]
        [--duration 8] [--connections 16] [--rounds 3] [--against OTHER_TREE]
        [--reply-chars N] [--max-tokens N]

What it does:
1. writes `--scenarios` scenarios to a temp dir, each requiring its own exact value of one
   criterion (`--keyed`: `model: bench/model-N`, `last_user_message: question N` or header
   `X-Tenant: tenant-N`) and replying with fixed text (`--reply-chars`: padded to that many
   characters), all of one priority;
2. starts the emulator (`python -m emulator serve --scenarios DIR`, validation, journal and
   access log on) and, with `--against`, the same command run from another checkout of the
   project (its working directory comes first on `sys.path`, so its `emulator` package is the
   one imported; e.g. a worktree at main, for an A/B of a change);
3. drives them in alternation (A, B, A, B, ... for `--rounds`) with wrk, every request asking
   for the last scenario's value (so every scenario before it is checked, or ruled out), and
   prints requests/s and the server's CPU ms per request (utime + stime from /proc/<pid>/stat
   over the run) per round, and the medians.

Short runs on 127.0.0.1 only; needs wrk (`apt-get install -y wrk`).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from common import (
    Server,
    emulator_cmd,
    median,
    post,
    start_server,
    table,
    wait_for_quiet,
    wrk_available,
    wrk_load,
)

SENTENCE = "The quick brown fox jumps over the lazy dog while the cat watches. "


def reply_text(n: int, chars: int) -> str:
    """The N-th scenario's fixed reply: `answer N`, padded to `chars` characters of prose."""
    text = f"answer {n}"
    if chars > len(text):
        text += (" " + SENTENCE * (chars // len(SENTENCE) + 1))[: chars - len(text)]
    return text


def write_scenarios(count: int, keyed: str, chars: int = 0) -> str:
    """A scenario file of `count` scenarios, the N-th requiring the N-th value of `keyed`."""
    lines = ["scenarios:"]
    for n in range(count):
        if keyed == "model":
            match = f"{{model: bench/model-{n}}}"
        elif keyed == "text":
            match = f'{{last_user_message: "question {n}"}}'
        else:
            match = f'{{headers: {{X-Tenant: "tenant-{n}"}}}}'
        reply = json.dumps({"content": reply_text(n, chars)})
        lines += [f"  - name: s{n}", f"    match: {match}", f"    reply: {reply}"]
    directory = tempfile.mkdtemp(prefix="bench-many-")
    Path(directory, "many.yaml").write_text("\n".join(lines) + "\n")
    return directory


def request_for(
    count: int, keyed: str, max_tokens: int | None = None
) -> tuple[str, dict[str, str]]:
    """The body template (a per-request MARK in `user`, so every body differs) and headers of
    a request for the last scenario."""
    last = count - 1
    model = f"bench/model-{last}" if keyed == "model" else "openai/gpt-4o"
    text = f"question {last}" if keyed == "text" else "Tell me about the weather."
    messages = [{"role": "user", "content": text}]
    fields = {"model": model, "messages": messages, "user": "request-@@N@@"}
    if max_tokens is not None:
        fields["max_tokens"] = max_tokens
    body = json.dumps(fields)
    headers = {"X-Tenant": f"tenant-{last}"} if keyed == "header" else {}
    return body, headers


def check(server: Server, body: str, headers: dict[str, str], count: int, chars: int) -> None:
    answer = json.loads(post(server.url, body.replace("@@N@@", "check").encode(), headers))
    content = answer["choices"][0]["message"]["content"]
    if content != reply_text(count - 1, chars):
        raise RuntimeError(f"{server.name} answered {content!r}, not the last scenario's")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=500)
    parser.add_argument("--keyed", choices=("model", "text", "header"), default="model")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per load run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", metavar="TREE", help="another checkout to compare with")
    parser.add_argument(
        "--reply-chars", type=int, default=0, help="pad each fixed reply to this many characters"
    )
    parser.add_argument("--max-tokens", type=int, help="send max_tokens (above the reply's)")
    args = parser.parse_args()
    if not wrk_available():
        print("wrk is needed: apt-get install -y wrk", file=sys.stderr)
        return 2
    directory = write_scenarios(args.scenarios, args.keyed, args.reply_chars)
    body, headers = request_for(args.scenarios, args.keyed, args.max_tokens)
    cmd = emulator_cmd(0, directory)
    servers = [start_server("this", cmd)]
    if args.against:
        servers.append(start_server("against", cmd, cwd=Path(args.against).resolve()))
    rows: list[list[object]] = []
    cpu: dict[str, list[float]] = {s.name: [] for s in servers}
    try:
        for server in servers:
            check(server, body, headers, args.scenarios, args.reply_chars)
            wrk_load(server.url, body, headers, args.connections, 1, "warm")
        for rnd in range(args.rounds):
            for server in servers:
                wait_for_quiet(10)
                c0 = server.cpu_seconds()
                load = wrk_load(
                    server.url, body, headers, args.connections, args.duration, f"r{rnd}"
                )
                ms = (server.cpu_seconds() - c0) * 1000 / max(1, load.requests)
                cpu[server.name].append(ms)
                rows.append([rnd, server.name, f"{load.rps:.0f}", f"{ms:.3f}", load.errors])
    finally:
        for server in servers:
            server.stop()
    print(
        f"{args.scenarios} scenarios keyed by {args.keyed}, replies of "
        f"{len(reply_text(args.scenarios - 1, args.reply_chars))} characters, max_tokens "
        f"{args.max_tokens}; the request matches the last scenario"
    )
    print(table(["round", "server", "req/s", "CPU ms/req", "errors"], rows))
    for name, values in cpu.items():
        print(f"median CPU ms/req {name}: {median(values):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
