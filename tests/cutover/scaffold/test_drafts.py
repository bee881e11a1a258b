"""The measure: a stub Flask app's views, their traffic recorded through a real gateway with a state
store, each route drafted by `cutover scaffold`, the drafts served by FastAPI behind a gateway
over both, and each draft's own generated parity test run without any edit."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from cutover import Gateway
from cutover.openapi.samples import StoredSample
from cutover.scaffold import Drafted, scaffold
from cutover.scaffold.source import find_view
from tests.cutover.scaffold import stub_views
from tests.cutover.scaffold.recording import ported_app, record

pytestmark = [
    pytest.mark.anyio,
    # The legacy views use Flask-SQLAlchemy's Model.query, the 1.x API the drafts translate away.
    pytest.mark.filterwarnings("ignore::sqlalchemy.exc.LegacyAPIWarning"),
]

# Each view: None when its draft must pass its parity test with no edit, else the constructs
# the draft must leave under TODO(cutover) (and its parity test is expected to fail).
EXPECTED: dict[str, list[str] | None] = {
    "GET /widgets": None,  # request.args.get(type=int), Model.query chain .all(), jsonify(list)
    "GET /widgets/<int:widget_id>": None,  # Model.query.get_or_404, jsonify
    "POST /widgets": None,  # get_json(silent), ({"error"}, 400), db.session, url_for, 3-tuple
    "PUT /widgets/<int:widget_id>": None,  # db.session.get, abort(404), get_json(), dict return
    "DELETE /widgets/<int:widget_id>": None,  # filter_by().first(), abort(description), ("", 204)
    "GET /widgets/count": None,  # .count(), request.args.get without a default
    "GET /widgets/search": None,  # filter(...).order_by(...).all(), jsonify(**kwargs)
    "GET /widgets/by-name/<name>": None,  # db.first_or_404(db.select(...)), string converter
    "GET /widgets/<int:widget_id>/links": None,  # db.get_or_404, url_for (absolute and ".x")
    "GET /health": None,  # current_app.config, current_app.logger
    "POST /echo": None,  # g set and read in the view, get_json(), request.method
    "GET /widgets/pages/<int:number>": ["`Model.query` outside a chain"],
    "GET /whoami": ["`g.user` is set outside the view"],
    "GET /page": ["`render_template_string` (flask.render_template_string)"],
    "GET /refuse": None,  # a helper of the app calling jsonify: translated into the draft
    "GET /widgets/<int:widget_id>/summary": None,  # helpers on db.session and request: passed in
    "GET /widgets/<int:widget_id>/size": None,  # one view for GET and POST: request.method
    "POST /widgets/<int:widget_id>/size": None,
    "POST /widgets/form": None,  # request.form, make_response and its headers
    "GET /widgets/<int:widget_id>/go": None,  # redirect(url_for(...))
    "GET /visitor": ["`visitor` uses Flask's `session`"],
}


@dataclass
class Drafts:
    gateway: Gateway
    drafted: dict[str, Drafted]
    modules: dict[str, Any]  # blueprint -> the generated parity module
    flask_app: Flask
    samples: dict[str, list[StoredSample]]
    database_url: str

    def reset(self) -> None:
        with self.flask_app.app_context():
            stub_views.db.drop_all()
            stub_views.db.create_all()


@pytest.fixture
async def drafts(tmp_path: Path) -> Any:
    database_url = f"sqlite:///{tmp_path / 'widgets.db'}"
    flask_app = stub_views.create_app(database_url)
    samples = await record(flask_app, f"sqlite:///{tmp_path / 'state.db'}")
    package = tmp_path / "drafted"
    package.mkdir()
    (package / "__init__.py").write_text("")
    drafted = {
        route: scaffold(flask_app, *route.split(" ", 1), samples, package) for route in EXPECTED
    }
    sys.path.insert(0, str(tmp_path))
    try:
        routers = [importlib.import_module(f"drafted.{name}") for name in ("widgets", "service")]
        modules = {
            name: importlib.import_module(f"drafted.test_{name}_parity")
            for name in ("widgets", "service")
        }
        new_app = ported_app(flask_app, [module.router for module in routers], database_url)
        gateway = Gateway(flask_app, new_app)
        yield Drafts(gateway, drafted, modules, flask_app, samples, database_url)
        gateway.bridge.close()
        new_app.state.engine.dispose()
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == "drafted" or n.startswith("drafted.")]:
            del sys.modules[name]
        with flask_app.app_context():
            stub_views.db.engine.dispose()


def _tests_of(module: Any, method: str, function: str) -> list[Any]:
    prefix = f"test_{method.lower()}_{function}_"
    return [getattr(module, f"{prefix}{kind}") for kind in ("recorded", "edge_cases")]


async def test_every_view_made_of_translated_constructs_ports_without_an_edit(
    drafts: Drafts,
) -> None:
    outcomes: dict[str, str] = {}
    for route, expected in EXPECTED.items():
        method, rule = route.split(" ", 1)
        view = find_view(drafts.flask_app, method, rule).function
        blueprint = "widgets" if rule.startswith("/widgets") else "service"
        own_todos = _todos_of(drafts, route)
        tests = _tests_of(drafts.modules[blueprint], method, view.__name__)
        failures = []
        for test in tests:
            try:
                await test(drafts.gateway, drafts.reset)
            except AssertionError as exc:
                failures.append(str(exc))
        outcomes[route] = "no edit" if not failures and not own_todos else "needs edits"
        if expected is None:
            assert own_todos == [], route
            assert failures == [], (route, failures)
        else:
            for construct in expected:
                assert any(construct in todo for todo in own_todos), (route, own_todos)
    ported = sum(1 for outcome in outcomes.values() if outcome == "no edit")
    assert ported == sum(1 for expected in EXPECTED.values() if expected is None) == 17


def _todos_of(drafts: Drafts, route: str) -> list[str]:
    """The TODOs of this route's own function in its drafted module."""
    method, rule = route.split(" ", 1)
    text = drafts.drafted[route].router.read_text()
    decorator = f"@router.{method.lower()}("
    functions = text.split("\n\n\n")
    path = find_view(drafts.flask_app, method, rule).fastapi_path
    for chunk in functions:
        if f"{decorator}{path!r}" in chunk:
            return [
                line.strip()[len("# TODO(cutover): ") :]
                for line in chunk.splitlines()
                if "TODO(cutover)" in line
            ]
    raise AssertionError(f"no function for {route} in {text}")


CONFTEST = """
import os

import pytest

from cutover import Gateway
from drafted import service, widgets
from tests.cutover.scaffold import stub_views
from tests.cutover.scaffold.recording import ported_app

@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="session")
def flask_app():
    app = stub_views.create_app(os.environ["DRAFTS_DATABASE_URL"])
    yield app
    with app.app_context():
        stub_views.db.engine.dispose()


@pytest.fixture(scope="session")
def gateway(flask_app):
    new = ported_app(flask_app, [widgets.router, service.router], os.environ["DRAFTS_DATABASE_URL"])
    gateway = Gateway(flask_app, new)
    yield gateway
    gateway.bridge.close()
    new.state.engine.dispose()


@pytest.fixture
def reset(flask_app):
    def empty():
        with flask_app.app_context():
            stub_views.db.drop_all()
            stub_views.db.create_all()

    return empty
"""


async def test_the_drafted_parity_module_runs_at_once_under_pytest(drafts: Drafts) -> None:
    """As a team would run it: pytest on the drafted module, the fixtures from a conftest."""
    folder = drafts.drafted["GET /widgets"].parity.parent
    (folder / "conftest.py").write_text(CONFTEST)
    root = Path(__file__).resolve().parents[3]
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), str(folder.parent)]),
        "DRAFTS_DATABASE_URL": drafts.database_url,
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_widgets_parity.py"],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Every widgets route passes but the one left with a TODO (both of its tests).
    assert "2 failed, 28 passed" in result.stdout, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    failed = {line.split("::")[1].split()[0] for line in lines if line.startswith("FAILED")}
    assert failed == {"test_get_widget_page_recorded", "test_get_widget_page_edge_cases"}


async def test_the_drafted_routes_document_what_the_traffic_showed(drafts: Drafts) -> None:
    new_app = drafts.gateway.new
    assert new_app is not None
    document = new_app.openapi()
    listing = document["paths"]["/widgets"]["get"]
    assert {p["name"]: p["schema"] for p in listing["parameters"]} == {
        "limit": {"type": "integer", "default": 10},
        "offset": {"type": "integer", "default": 0},
    }
    item = document["components"]["schemas"]["ListWidgetsResponseItem"]
    assert item["required"] == ["colour", "id", "name", "size"]
    created = document["paths"]["/widgets"]["post"]
    body = created["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["name"]  # colour and size were sometimes absent
    assert set(body["properties"]) == {"name", "colour", "size"}
    assert created["responses"]["400"]["content"]["application/json"]["example"] == {
        "error": "a JSON object is required"
    }
    openapi_spec_validator = pytest.importorskip("openapi_spec_validator")
    openapi_spec_validator.validate(document)
