"""The process's Prometheus metrics (prometheus-client), written where things happen, read at `/metrics`.

With `serve --workers N` (N > 1) the CLI points PROMETHEUS_MULTIPROC_DIR at a fresh folder before the workers
start: every worker writes its samples there and `/metrics`, whichever worker answers, sums them all
(gauges as the sum over live workers). With one worker the metrics stay in the process's memory."""

from __future__ import annotations

import re
import threading

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
SOLVE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)

REQUESTS = Counter(
    "phasewise_graphql_requests",
    "GraphQL operations answered, by operation name, type and outcome "
    "(ok, rejected: a mutation's payload errors, client_error, unavailable, internal_error).",
    ["operation", "type", "outcome"],
)
REQUEST_SECONDS = Histogram(
    "phasewise_graphql_request_duration_seconds",
    "Time to answer a GraphQL operation (a subscription: its lifetime).",
    ["operation", "type"],
    buckets=LATENCY_BUCKETS,
)
OPTIMIZER_RUNS = Counter(
    "phasewise_optimizer_runs", "Optimizer runs stored, by result status and trigger.", ["status", "trigger"]
)
OPTIMIZER_SECONDS = Histogram(
    "phasewise_optimizer_run_duration_seconds",
    "A run from its snapshot to its stored result, by result status.",
    ["status"],
    buckets=SOLVE_BUCKETS,
)
OPTIMIZER_FAILURES = Counter("phasewise_optimizer_failures", "Runs that raised instead of storing a result.")
FALLBACK_RUNS = Counter("phasewise_optimizer_fallback_runs", "Runs that stored the equal-share fallback plan.")
LIMIT_PUBLICATIONS = Counter(
    "phasewise_enforced_limit_publications", "Sets of enforced limits sent to enforcedLimits subscribers."
)
OPEN_SUBSCRIPTIONS = Gauge(
    "phasewise_open_subscriptions", "Subscriptions listening for events now.", multiprocess_mode="livesum"
)
EVENT_LAG = Histogram(
    "phasewise_event_lag_seconds",
    "From an event's NOTIFY statement to its receipt by this process (wall clocks: hosts must agree on time).",
    buckets=LAG_BUCKETS,
)
EVENTS = Counter("phasewise_events_received", "Events received from PostgreSQL, by kind.", ["kind"])
INGESTED_POINTS = Counter("phasewise_ingested_points", "Measurement points stored (distinct device and time).")
DB_POOL = Gauge(
    "phasewise_db_pool_connections",
    "Database connections of the pool: in_use (checked out) and idle.",
    ["state"],
    multiprocess_mode="livesum",
)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
MAX_OPERATION_NAMES = 256
_names: set[str] = set()
_names_lock = threading.Lock()


def operation_label(name: str | None) -> str:
    """Operation names are the client's choice: a label value only while there are few of them."""
    if not name:
        return "anonymous"
    if not _NAME.fullmatch(name):
        return "other"
    with _names_lock:
        if name in _names:
            return name
        if len(_names) < MAX_OPERATION_NAMES:
            _names.add(name)
            return name
    return "other"
