"""Installed packages and pyproject's lower bounds sit at or above their fixed-advisory floors."""

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.version import Version

# From shared/dependency-floors.md (advisories as of 2026-11).
FLOORS = {
    "starlette": "1.3.1",
    "python-multipart": "0.0.27",
    "werkzeug": "3.1.6",
    "flask": "3.1.3",
    "jinja2": "3.1.6",
    "h11": "0.16.0",
    "gunicorn": "23.0.0",
    "uvicorn": "0.11.7",
}

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def declared_lower_bounds() -> dict[str, Version]:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    bounds = {}
    for requirement in requirements:
        match = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?>=([^,;\s]+)", requirement)
        if match:
            bounds[match[1].lower()] = Version(match[2])
    return bounds


@pytest.mark.parametrize(("package", "floor"), FLOORS.items())
def test_installed_version_is_at_or_above_floor(package: str, floor: str) -> None:
    assert Version(version(package)) >= Version(floor)


@pytest.mark.parametrize(("package", "floor"), FLOORS.items())
def test_pyproject_lower_bound_is_at_or_above_floor(package: str, floor: str) -> None:
    bounds = declared_lower_bounds()
    assert package in bounds, f"{package} needs an explicit lower bound in pyproject.toml"
    assert bounds[package] >= Version(floor)
