"""`phasewise demo` serves the dashboard at `/` and its simulator keeps the demo site's meters reporting."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.serving import free_port

LATEST = """{ sites { nodes { devices { nodes { name latestMeasurement { timestamp } } } } } }"""


def test_demo_serves_the_dashboard_and_simulates_the_site(tmp_path: Path):
    port = free_port()
    env = {**os.environ, "PHASEWISE_DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen(
        [sys.executable, "-m", "phasewise.cli", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        token, lines = None, []
        deadline = time.monotonic() + 120
        while token is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if '"Authorization": "Bearer ' in line:
                token = line.split("Bearer ")[1].split('"')[0]
        assert token, "".join(lines)
        base = f"http://127.0.0.1:{port}"
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        page = httpx.get(f"{base}/")
        assert page.status_code == 200 and '<script type="module" src="/dashboard/js/main.js">' in page.text
        assert "connect-src 'self'" in page.headers["content-security-policy"]
        for asset in (
            "js/main.js",
            "vendor/uplot/uPlot.esm.js",
            "vendor/uplot/LICENSE",
            "vendor/graphql-ws/LICENSE.md",
        ):
            assert httpx.get(f"{base}/dashboard/{asset}").status_code == 200, asset
        assert "graphiql" in httpx.get(f"{base}/graphql", headers={"Accept": "text/html"}).text.lower()

        # Two rounds of readings from every device: the simulator runs beside the server.
        seen: dict[str, set[str]] = {}
        while time.monotonic() < deadline and (len(seen) < 7 or min(len(s) for s in seen.values()) < 2):
            answer = httpx.post(f"{base}/graphql", json={"query": LATEST}, headers={"Authorization": f"Bearer {token}"})
            for device in answer.json()["data"]["sites"]["nodes"][0]["devices"]["nodes"]:
                if device["latestMeasurement"]:
                    seen.setdefault(device["name"], set()).add(device["latestMeasurement"]["timestamp"])
            time.sleep(0.5)
        assert len(seen) == 7 and all(len(s) >= 2 for s in seen.values()), seen
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
