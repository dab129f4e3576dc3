"""`phasewise demo` / `phasewise serve` as a real child process, with the pids of everything it runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from tests.serving import free_port

STARTUP_BOUND_S = 600  # a cold embedded PostgreSQL and a first solve on a very busy machine


def wait_for(predicate: Callable[[], object], bound: float, what: str | Callable[[], str]) -> float:
    """Poll, with a generous bound, for what no one signals: a grandchild process started or gone (psutil cannot
    wait on a process that is not our child, and this container's init may leave it a zombie), or /ready
    answering 200 again (readiness is only read, never pushed); return the seconds it took."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > bound:
            raise AssertionError(f"not within {bound} s: {what() if callable(what) else what}")
        time.sleep(0.05)
    return time.monotonic() - start


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


class Served:
    """One server process; its output is read in the background so it never blocks on a full pipe."""

    def __init__(
        self, data_dir: Path, command: str = "demo", env: dict[str, str] | None = None, args: tuple[str, ...] = ()
    ) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.lines: list[str] = []
        self._announced = threading.Event()
        """Set once the server prints its address, or its output ends."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "phasewise.cli", command, "--port", str(self.port), *args],
            env={**os.environ, "PHASEWISE_DATA_DIR": str(data_dir), **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        assert self._announced.wait(STARTUP_BOUND_S), f"not accepting within {STARTUP_BOUND_S} s:\n{self.output}"
        assert self.accepting, self.output

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if self.accepting:
                self._announced.set()
        self._announced.set()

    def exited(self, bound: float) -> float:
        """Wait for the server process to end (at most `bound` s); return the seconds it took."""
        start = time.monotonic()
        try:
            self.process.wait(bound)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the server did not exit within {bound} s:\n{self.output}") from None
        return time.monotonic() - start

    @property
    def output(self) -> str:
        return "".join(self.lines)

    @property
    def accepting(self) -> bool:
        return "GraphiQL at http://" in self.output

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        return self.output.split('"Authorization": "Bearer ')[1].split('"')[0]

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    def postmaster_pid(self) -> int:
        return int((self.pgdata / "postmaster.pid").read_text().splitlines()[0])

    def handle_pids(self) -> list[int]:
        return json.loads((self.pgdata / ".handle_pids.json").read_text())

    def children(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.Error:
            return []

    def solver_processes(self) -> list[psutil.Process]:
        """The spawned solver pool and multiprocessing's resource tracker."""
        found = []
        for child in self.children():
            try:
                cmdline = " ".join(child.cmdline())
            except psutil.Error:
                continue
            if "multiprocessing" in cmdline:
                found.append(child)
        return found

    def wait_for_solvers(self) -> list[int]:
        """The demo site has a battery, so the control loop plans it at once and the pool starts."""
        wait_for(lambda: len(self.solver_processes()) >= 2, STARTUP_BOUND_S, "solver processes started")
        return [p.pid for p in self.solver_processes()]

    def signal(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
