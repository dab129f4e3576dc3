"""The cyclic garbage collector kept off what the server holds for its whole life.

A nested query over thousands of rows allocates about a million short-lived objects (rows, typed objects,
graphql-core's results), so the collector runs its full collections several times per such request, and each
walked the whole heap: the schema, SQLAlchemy, every imported module. That took more than half of the
request's CPU time. Once the process has started, everything it holds is frozen out of those walks
(`gc.freeze`).

Freezing left the collector's old generation small (some 12,000 objects between requests), and a full
collection runs once the objects promoted since the last one exceed a quarter of it: the inventory query
promoted that many about every ten young-generation collections, so it ran 1.2 full collections per request
(about 17 ms each, walking the request's own live rows and objects; 45 ms of collector time per request in
all). A full collection now waits for 100 middle-generation collections instead of 10 (`FULL_AFTER`): 0.1 per
request, 30 ms of collector time, and 38 ms less CPU per request, with the same resident memory. The young
generation's threshold stays the interpreter's: a larger one (10,000) walked more live objects per collection
and saved less, and larger young thresholds left websocket connect-and-close cycles with tens of MB more
memory (`tests/ops/test_websocket_memory.py`).
"""

from __future__ import annotations

import gc

_tuned = False
FULL_AFTER = 100


def tune_collector() -> None:
    """Call once the process has imported and built what it keeps (the app, before serving); only the first
    call of a process freezes (a process that builds many apps, like the test suite, freezes once)."""
    global _tuned
    if _tuned:
        return
    _tuned = True
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_AFTER)
