"""Schema-driven fuzzing of a real server for a bounded time; prints what came back.

    python bench/fuzz.py --seconds 120 --examples 3000

A finding is a 5xx, a body that is not JSON, or "Unexpected error." (INTERNAL_ERROR); the run exits 1 if
there is any and prints the first few queries that caused one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.demo import DEMO_CONFIGURATION  # noqa: E402
from bench.harness import TYPE_NAMES, bench_database, global_id, seed_site, server  # noqa: E402
from tests.fuzzing import fuzz  # noqa: E402


async def main(seconds: float, examples: int) -> int:
    async with bench_database() as bench:
        seeded = await seed_site(bench, DEMO_CONFIGURATION)
        ids = [global_id("System", seeded.system_pk), global_id("Site", seeded.site_pk)]
        ids += [global_id(TYPE_NAMES[row.type], row.id) for row in seeded.devices]
        async with server(bench, control_loop="false") as client:
            report = await fuzz(client, seeded.token, ids, [DEMO_CONFIGURATION], examples=examples, seconds=seconds)
    print(f"fuzz (load {os.getloadavg()[0]:.1f}): {report.line()}")
    for query, answer in report.findings[:5]:
        print(f"\n{query}\n-> {answer}")
    return 1 if report.findings or not report.sent else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--examples", type=int, default=3000)
    arguments = parser.parse_args()
    sys.exit(asyncio.run(main(arguments.seconds, arguments.examples)))
