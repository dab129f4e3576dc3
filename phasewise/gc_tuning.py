"""The cyclic garbage collector tuned for a server that answers large queries.

A nested query over thousands of rows allocates about a million short-lived objects (rows, typed objects,
graphql-core's results). With the interpreter's defaults (a young collection every 700 allocations, a full
one whenever the survivors grew by a quarter), collections that walk the whole heap (the schema, SQLAlchemy,
every imported module) took more than half of such a request's CPU time. So once the process has started,
everything it holds is frozen out of the collector's walks (`gc.freeze`), and young collections run every
50,000 allocations: objects freed by reference counting never wait for the collector, cycles are still
collected, a little later.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000
OLDER_THRESHOLDS = (50, 100)


_tuned = False


def tune_collector() -> None:
    """Call once the process has imported and built what it keeps (the app, before serving); only the first
    call of a process freezes (a process that builds many apps, like the test suite, freezes once)."""
    global _tuned
    if _tuned:
        return
    _tuned = True
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
