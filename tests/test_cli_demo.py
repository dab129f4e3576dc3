"""The README's first command: `phasewise demo` serves GraphiQL and the demo site over real HTTP."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.serving import free_port

DEMO_SITE = """{ sites { nodes { name status validation { validForOptimization }
  mainCollector { name lineCurrent phaseVoltage children { nodes { name phaseType phase lineCurrent } } }
  devices { totalCount nodes { __typename name ... on ChargingPole { pinToPhaseMapping { pinList phaseList } } } } } } }"""


def test_demo_serves_graphiql_and_the_demo_site(tmp_path: Path):
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
        token = None
        deadline = time.monotonic() + 90
        lines = []
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
        page = httpx.get(f"{base}/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "graphiql" in page.text.lower()
        answer = httpx.post(
            f"{base}/graphql", json={"query": DEMO_SITE}, headers={"Authorization": f"Bearer {token}"}
        ).json()
        (site,) = answer["data"]["sites"]["nodes"]
        assert site["status"] == "ONBOARDED" and site["validation"]["validForOptimization"]
        assert (site["mainCollector"]["lineCurrent"], site["mainCollector"]["phaseVoltage"]) == (63, 230)
        boards = {b["name"]: b for b in site["mainCollector"]["children"]["nodes"]}
        assert (boards["garage_board"]["phaseType"], boards["garage_board"]["lineCurrent"]) == (
            "THREE_PHASE",
            32,
        )
        assert (
            boards["carport_board"]["phaseType"],
            boards["carport_board"]["phase"],
            boards["carport_board"]["lineCurrent"],
        ) == ("SINGLE_PHASE", "L3", 16)
        poles = [d for d in site["devices"]["nodes"] if d["__typename"] == "ChargingPole"]
        assert len(poles) == 4 and sum(len(p["pinToPhaseMapping"]["pinList"]) == 1 for p in poles) == 1
        assert {d["__typename"] for d in site["devices"]["nodes"]} == {
            "ChargingPole",
            "ForecastedSeries",
            "Battery",
        }
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
