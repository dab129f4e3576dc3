"""Child processes that end with their parent, even when the parent is killed with SIGKILL.

A parent killed outright runs no shutdown code, so its children (the solver processes, uvicorn's workers)
would live on, holding memory and, for workers, the listening socket. Linux can signal a child when its
parent dies (`prctl(PR_SET_PDEATHSIG)`); a watchdog thread comparing the parent's pid covers the case the
kernel does not (the parent died before the call, or a platform without prctl)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
WATCH_INTERVAL_S = 0.5


def die_with_parent(parent: int, sig: signal.Signals = signal.SIGTERM) -> None:
    """Ask for `sig` when the parent (its pid as the parent saw it) ends; exit at once should it be gone already
    (a spawned child imports its modules before it gets here, and the parent may die meanwhile)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), daemon=True, name="phasewise-lifeline").start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_INTERVAL_S)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5 * WATCH_INTERVAL_S)
    os._exit(1)
