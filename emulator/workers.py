"""`serve --workers N`: N server processes answering on one port, for more than one core.

The parent loads the scenarios once, reserves the port (a socket bound with SO_REUSEPORT, never
listening, so port 0 resolves to one port for all), forks N workers that each listen on it with
SO_REUSEPORT (the kernel spreads new connections over them), prints the base URL once every
worker is listening, and on SIGINT/SIGTERM stops them all (SIGTERM, then SIGKILL after 5 s).

Each worker is a whole emulator with its own state: journal, sequence counters and generation
stats are per worker, and `/_emulator/health` says which worker answered. Linux (and other
systems with SO_REUSEPORT) only.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import queue
import signal
import socket
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from emulator import compilecache
from emulator.inspection import inspector_url

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess
    from multiprocessing.queues import Queue

    from emulator.config import Config
    from emulator.scenario import Scenario

STOP_TIMEOUT_S = 5.0
READY_TIMEOUT_S = 30.0


def reserve_port(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) with SO_REUSEPORT, not listening: it holds the port (and
    resolves port 0) for the workers. Raises OSError when the port is taken or the system has no
    SO_REUSEPORT."""
    if not hasattr(socket, "SO_REUSEPORT"):
        raise OSError("--workers needs SO_REUSEPORT, which this system does not have")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def serve_workers(config: Config, scenarios: Sequence[Scenario]) -> int:
    """Run `config.workers` worker processes until SIGINT/SIGTERM; the exit status of `serve`."""
    try:
        holder = reserve_port(config.host, config.port)
    except OSError as exc:
        print(f"error: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        return 2
    port = holder.getsockname()[1]
    # Saved now, the parent's compiled code is in the file before the workers save theirs
    # (each: the parent's and its own): saved only at exit, the parent's would replace them.
    compilecache.save()
    context = multiprocessing.get_context("fork")
    ready: Queue[tuple[int, str | None]] = context.Queue()
    workers: list[BaseProcess] = []
    stop = _StopFlag()
    try:
        for index in range(config.workers):
            child = config.replace(port=port, worker=index)
            process = context.Process(
                target=_worker_main, args=(child, scenarios, ready), name=f"worker-{index}"
            )
            process.start()
            workers.append(process)
        failed = _await_ready(ready, workers, stop)
        if failed:
            print(f"error: {failed}", file=sys.stderr)
            return 2
        shown = f"[{config.host}]" if ":" in config.host else config.host
        print(
            f"chat-emulator serving on http://{shown}:{port} ({config.workers} workers)",
            flush=True,
        )
        print(f"  OpenAI base_url: http://{shown}:{port}/v1", flush=True)
        inspector = inspector_url(f"http://{shown}:{port}", config.admin_token)
        print(f"  inspector: {inspector} (each worker shows its own journal)", flush=True)
        stop.wait(workers)
        print("chat-emulator stopping", flush=True)
        return 0
    finally:
        _stop(workers)
        holder.close()


def _await_ready(
    ready: Queue[tuple[int, str | None]], workers: Sequence[BaseProcess], stop: _StopFlag
) -> str | None:
    """None once every worker listens; else what went wrong (a worker's own problem, a worker
    that died, a signal, or the start-up time limit)."""
    waiting = len(workers)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while waiting:
        if stop.signalled:
            return "stopped before every worker was listening"
        if time.monotonic() > deadline:
            return f"workers did not start within {READY_TIMEOUT_S:.0f} s"
        try:
            index, problem = ready.get(timeout=0.2)
        except queue.Empty:
            dead = [w.name for w in workers if not w.is_alive()]
            if dead:
                return f"{', '.join(dead)} exited before listening (see its output above)"
            continue
        if problem is not None:
            return f"worker {index}: {problem}"
        waiting -= 1
    return None


class _StopFlag:
    """Waits for SIGINT/SIGTERM in the parent, or for a worker to die."""

    def __init__(self) -> None:
        self.signalled = False
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._set)

    def _set(self, signum: int, frame: object) -> None:
        self.signalled = True

    def wait(self, workers: Sequence[BaseProcess]) -> None:
        while not self.signalled and all(w.is_alive() for w in workers):
            workers[0].join(0.2)


def _stop(workers: Sequence[BaseProcess]) -> None:
    for worker in workers:
        if worker.is_alive() and worker.pid is not None:
            os.kill(worker.pid, signal.SIGTERM)
    for worker in workers:
        worker.join(STOP_TIMEOUT_S)
        if worker.is_alive():
            worker.kill()
            worker.join()


def _worker_main(
    config: Config, scenarios: Sequence[Scenario], ready: Queue[tuple[int, str | None]]
) -> None:
    from emulator.cli import run_server

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)

    def announce(problem: str | None) -> None:
        ready.put((config.worker, problem))

    try:
        asyncio.run(run_server(config, list(scenarios), reuse_port=True, on_ready=announce))
    except OSError as exc:
        announce(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}")
