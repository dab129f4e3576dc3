"""Running the server under a supervisor, a terminal or a container runtime.

SIGTERM (systemd, containers, `kill`), SIGINT (Ctrl-C) and SIGHUP (the terminal closed) all stop the server
the same graceful way: websockets get a close frame, the app's shutdown ends its solver processes, and the
process then returns normally, so the embedded PostgreSQL is stopped by its exit handler. uvicorn alone
re-raises the signal after its shutdown, which kills the process before exit handlers run, and treats SIGHUP
as "restart the workers"."""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
GRACEFUL_SHUTDOWN_S = 5
log = logging.getLogger("phasewise.server")


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


class _Supervisor(Multiprocess):
    def handle_hup(self) -> None:
        log.info("Received SIGHUP, exiting.")
        self.should_exit.set()


def ignore_hangup_in_worker() -> None:
    """A worker leaves SIGHUP (sent to the whole terminal's process group) to its supervisor, which stops it."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGHUP, signal.SIG_IGN)


def serve(app: str, host: str, port: int, workers: int, on_accepting: Callable[[], None], **options: object) -> None:
    """Serve `app` (a factory's import path) until a stop signal; `on_accepting` runs once the port answers."""
    config = uvicorn.Config(
        app,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        **options,  # type: ignore[arg-type]
    )
    threading.Thread(target=_announce, args=(host, port, on_accepting), daemon=True, name="phasewise-announce").start()
    if workers > 1:
        _Supervisor(config, sockets=[config.bind_socket()]).run()
        return
    server = _Server(config)
    server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def _announce(host: str, port: int, on_accepting: Callable[[], None]) -> None:
    target = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    while True:
        try:
            with socket.create_connection((target, port), timeout=1):
                break
        except OSError:
            time.sleep(0.1)
    on_accepting()
