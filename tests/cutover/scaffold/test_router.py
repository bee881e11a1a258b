"""The drafted router module's own imports: what the Flask view itself used, the draft binds."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy

from cutover.scaffold import scaffold

VIEWS = """
import sqlalchemy as sa
from flask import Flask, jsonify
from sqlalchemy import func, select


def create_app():
    app = Flask(__name__)

    @app.get("/numbers")
    def numbers():
        statement = select(func.count()).select_from(sa.table("numbers"))
        return jsonify(sql=str(statement))

    return app
"""


def _load(path: Path, name: str) -> object:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def flask_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    (tmp_path / "select_views.py").write_text(textwrap.dedent(VIEWS))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "select_views", raising=False)
    views = _load(tmp_path / "select_views.py", "select_views")
    sys.modules["select_views"] = views  # type: ignore[assignment]
    return views.create_app()  # type: ignore[attr-defined]


def test_a_view_calling_select_and_sa_itself_gets_them_imported(
    flask_app: object, tmp_path: Path
) -> None:
    drafted = scaffold(flask_app, "GET", "/numbers", {}, tmp_path / "drafts")
    text = drafted.router.read_text()
    assert "from sqlalchemy import select\n" in text
    assert "import sqlalchemy as sa\n" in text
    module = _load(drafted.router, "drafted_numbers")
    assert module.select is sqlalchemy.select  # type: ignore[attr-defined]
    assert module.sa is sqlalchemy  # type: ignore[attr-defined]
