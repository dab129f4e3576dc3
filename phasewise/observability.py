"""`/metrics`: the Prometheus text format, summed over every worker when several share the port."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from starlette.requests import Request
from starlette.responses import Response

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def share_metrics_between_workers(folder: Path) -> None:
    """Before the workers start (they read the variable when they import prometheus-client): a fresh folder."""
    if os.environ.get(MULTIPROCESS_ENV):
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ[MULTIPROCESS_ENV] = str(folder)


def worker_stopped() -> None:
    """A stopped worker's gauges leave the sums."""
    if os.environ.get(MULTIPROCESS_ENV):
        mark_process_dead(os.getpid())


async def metrics(_: Request) -> Response:
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
