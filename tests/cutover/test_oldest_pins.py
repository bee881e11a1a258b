"""The oldest set `make test` runs the toolkit's suite on (.venv-oldest) is exactly the lower
bounds cutover declares, so every floor in its metadata is one a test run has passed on."""

import re
import tomllib
from pathlib import Path

from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "cutover" / "pyproject.toml"
PINS = ROOT / "tests" / "cutover" / "requirements-oldest.txt"


def _name(raw: str) -> str:
    return re.sub(r"[-_.]+", "-", raw).lower()


def declared_floors() -> dict[str, Version]:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements.extend(extra)
    floors = {}
    for requirement in requirements:
        match = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?>=([^,;\s]+)", requirement)
        assert match, f"{requirement!r} needs a lower bound"
        floors[_name(match[1])] = Version(match[2])
    return floors


def oldest_pins() -> dict[str, Version]:
    pins = {}
    for line in PINS.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)", line)
        if match:
            pins[_name(match[1])] = Version(match[2])
    return pins


def test_the_oldest_set_pins_every_declared_floor_and_nothing_else() -> None:
    floors = declared_floors()
    assert {"flask", "werkzeug", "starlette", "sqlalchemy", "prometheus-client"} <= floors.keys()
    assert oldest_pins() == floors
