"""The cyclic garbage collector kept off what the server holds for its whole life.

A nested query over thousands of rows allocates about a million short-lived objects (rows, typed objects,
graphql-core's results), so the collector runs its full collections several times per such request, and each
walked the whole heap: the schema, SQLAlchemy, every imported module. That took more than half of the
request's CPU time. Once the process has started, everything it holds is frozen out of those walks
(`gc.freeze`); the collection thresholds stay the interpreter's (larger ones made the collector sweep less
often and saved a little more CPU, but left connect-and-close cycles of websockets with tens of MB more
memory, `tests/ops/test_websocket_memory.py`).
"""

from __future__ import annotations

import gc

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
