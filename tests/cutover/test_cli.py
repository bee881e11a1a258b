"""`cutover routes`, run as a real subprocess against the stub gateway module."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cutover.stub_routing_apps import gateway

PROJECT_ROOT = Path(__file__).resolve().parents[2]
APP = "tests.cutover.stub_routing_apps:gateway"


def cutover(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cutover.cli", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_routes_prints_an_aligned_table_and_the_progress() -> None:
    result = cutover("routes", "--app", APP)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header, *rows, blank, progress = lines
    assert header.split() == ["METHOD", "PATH", "LEGACY", "NEW", "SIDE"]
    assert blank == ""
    assert progress == "Progress: 10/16 routes served by the new app (62%)"
    assert len(rows) == gateway.inventory.total
    side_column = header.index("SIDE")
    assert {row[side_column:] for row in rows} == {"legacy", "new"}
    path_column = header.index("PATH")
    assert [row[path_column:].split()[0] for row in rows] == [
        row.path for row in gateway.inventory.rows
    ]
    assert rows[0].split() == ["GET", "/docs", "legacy_docs", "-", "legacy"]


def test_routes_json_is_the_inventory() -> None:
    result = cutover("routes", "--app", APP, "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["routes"] == gateway.inventory.as_dicts()
    assert (document["served_by_new"], document["total"]) == (10, 16)


def test_an_app_that_is_not_a_gateway_is_refused() -> None:
    result = cutover("routes", "--app", "tests.cutover.stub_routing_apps:not_a_gateway")
    assert result.returncode == 2
    assert "is a FastAPI, not a cutover.Gateway" in result.stderr
    assert result.stdout == ""
    missing = cutover("routes", "--app", "tests.cutover.stub_routing_apps:missing")
    assert missing.returncode == 2
    assert "has no attribute 'missing'" in missing.stderr
    malformed = cutover("routes", "--app", "no_colon")
    assert malformed.returncode == 2
    assert "module:attribute" in malformed.stderr
