"""`serve --workers 2`: `/metrics` sums every worker's samples, whichever answers; SIGHUP stops them all."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.ops.served import STARTUP_BOUND_S, Served, alive, wait_for
from tests.ops.test_processes import STOP_BOUND_S
from tests.serving import ANSWER_BOUND_S

REQUESTS = 20


def _pings(base: str) -> float:
    text = httpx.get(f"{base}/metrics", timeout=ANSWER_BOUND_S).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "phasewise_graphql_requests_total" and sample.labels.get("operation") == "Ping"
    )


def test_metrics_add_up_over_workers_and_sighup_stops_them_all(tmp_path: Path):
    served = Served(
        tmp_path / "data", command="serve", env={"PHASEWISE_CONTROL_LOOP": "false"}, args=("--workers", "2")
    )
    try:
        wait_for(
            lambda: httpx.get(f"{served.base}/ready", timeout=ANSWER_BOUND_S).status_code == 200,
            STARTUP_BOUND_S,
            "ready",
        )
        workers = [child.pid for child in served.children() if "multiprocessing" in " ".join(child.cmdline())]
        assert len(workers) >= 2
        with httpx.Client(
            base_url=served.base, timeout=ANSWER_BOUND_S
        ) as client:  # new connections spread over the workers
            for _ in range(REQUESTS):
                client.post("/graphql", json={"query": "query Ping { __typename }"}, headers={"Connection": "close"})
        assert [_pings(served.base) for _ in range(6)] == [REQUESTS] * 6
        postmaster = served.postmaster_pid()

        served.signal(signal.SIGHUP)
        served.exited(STOP_BOUND_S)
        assert served.process.returncode == 0
        wait_for(
            lambda: not [pid for pid in [*workers, postmaster] if alive(pid)],
            STOP_BOUND_S,
            "workers and PostgreSQL ended",
        )
    finally:
        served.stop()
