"""Signals and crashes of a real `phasewise demo` process, checked by pid: what it started ends with it."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests.ops.served import Served, alive, wait_for
from tests.serving import ANSWER_BOUND_S

# A graceful stop is built to take under 10 s (at most 5 s for requests in flight, then the solver processes
# are terminated and PostgreSQL stopped): about 1.5-4 s on a quiet machine, 8 s beside a full test suite.
# The bound is generous so that only a stop that hangs fails, not a busy machine.
STOP_BOUND_S = 30


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_stop_signal_ends_postgres_solvers_and_tells_subscribers(tmp_path: Path, sig: signal.Signals):
    served = Served(tmp_path / "data")
    try:
        solvers = served.wait_for_solvers()
        postmaster = served.postmaster_pid()
        websocket = connect(f"ws://127.0.0.1:{served.port}/graphql", subprotocols=["graphql-transport-ws"])
        websocket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {served.token}"}}))
        assert json.loads(websocket.recv(timeout=ANSWER_BOUND_S))["type"] == "connection_ack"

        served.signal(sig)
        took = served.exited(STOP_BOUND_S)
        with pytest.raises(Exception) as closed:  # noqa: B017  (websockets raises ConnectionClosed*)
            while True:
                websocket.recv(timeout=STOP_BOUND_S)
        assert getattr(closed.value, "rcvd", None) is not None and closed.value.rcvd.code in {1001, 1012}
        assert served.process.returncode == 0, served.output
        assert not alive(postmaster), "embedded PostgreSQL still running"
        # the resource tracker ends when the last process holding its pipe has gone, a moment after the server
        wait_for(lambda: not [pid for pid in solvers if alive(pid)], STOP_BOUND_S - took, "solver processes ended")
    finally:
        served.stop()


def test_kill_9_ends_the_solvers_and_the_next_start_repairs_the_handle_list(tmp_path: Path):
    data = tmp_path / "data"
    crashed = Served(data)
    try:
        solvers = crashed.wait_for_solvers()
        postmaster = crashed.postmaster_pid()
        crashed.signal(signal.SIGKILL)
        crashed.exited(STOP_BOUND_S)
        wait_for(lambda: not [pid for pid in solvers if alive(pid)], STOP_BOUND_S, "solver processes ended")
        assert alive(postmaster) and crashed.process.pid in crashed.handle_pids()
    finally:
        crashed.stop()

    restarted = Served(data, command="serve")
    try:
        assert restarted.postmaster_pid() == postmaster  # joined the server the crash left behind
        assert restarted.handle_pids() == [restarted.process.pid]
        restarted.signal(signal.SIGTERM)
        restarted.exited(STOP_BOUND_S)
        assert not alive(postmaster), "embedded PostgreSQL still running after a clean stop"
    finally:
        restarted.stop()
