"""`cutover scaffold` from the shell: a draft for one route, the "port next" list, an edited
draft never overwritten, and the install hint when libcst is missing."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cutover.cli import main
from tests.cutover.scaffold import stub_views
from tests.cutover.scaffold.recording import record

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.filterwarnings("ignore::sqlalchemy.exc.LegacyAPIWarning"),
]

APP_MODULE = """
from cutover import Gateway
from tests.cutover.scaffold import stub_views

flask_app = stub_views.create_app({database!r})
gateway = Gateway(flask_app)
"""


@pytest.fixture
async def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A gateway module in the working directory and the state store its traffic went to."""
    database = f"sqlite:///{tmp_path / 'widgets.db'}"
    state_url = f"sqlite:///{tmp_path / 'state.db'}"
    flask_app = stub_views.create_app(database)
    await record(flask_app, state_url)
    with flask_app.app_context():
        stub_views.db.engine.dispose()
    (tmp_path / "stub_gateway.py").write_text(APP_MODULE.format(database=database))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CUTOVER_STATE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    yield state_url
    module = sys.modules.pop("stub_gateway", None)
    if module is not None:
        module.gateway.bridge.close()
        with module.flask_app.app_context():
            stub_views.db.engine.dispose()


async def test_list_ranks_ready_routes_first_then_by_traffic(
    recorded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["scaffold", "--list", "--app", "stub_gateway:gateway", "--state-url", recorded])
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = [line.split() for line in out.splitlines()[1:] if line[:1].isdigit()]
    ready = [row[-1] for row in rows]
    assert ready == sorted(ready, reverse=True)  # every "yes" before the first "no"
    by_route = {f"{row[1]} {row[2]}": row for row in rows}
    assert by_route["POST /widgets"][-1] == "yes"
    assert int(by_route["POST /widgets"][4]) == 4  # requests over the window
    assert int(by_route["POST /widgets"][5]) >= 2  # samples kept (per status)
    assert by_route["GET /whoami"][-1] == "no"
    assert "GET /whoami: `g.user` is set outside the view" in out
    first_no = next(i for i, row in enumerate(rows) if row[-1] == "no")
    yes_requests = [int(row[4]) for row in rows[:first_no]]
    assert yes_requests == sorted(yes_requests, reverse=True)


async def test_a_route_is_drafted_and_an_edited_draft_is_never_overwritten(
    recorded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["scaffold", "GET", "/widgets/{widget_id}", "--app", "stub_gateway:gateway"]
    argv += ["--state-url", recorded, "--out", "drafts", "--tests-out", "tests_drafts"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "drafted GET /widgets/{widget_id} (2 traffic samples)" in out
    assert "every construct translated: no TODO(cutover)" in out
    router = tmp_path / "drafts" / "widgets.py"
    assert "def get_widget(widget_id: int, request: Request, db_session: SessionDep):" in (
        router.read_text()
    )
    assert (tmp_path / "tests_drafts" / "test_widgets_parity.py").exists()

    # A second route of the blueprint joins the same module.
    assert main(["scaffold", "POST", "/widgets", *argv[3:]]) == 0
    text = router.read_text()
    assert "def get_widget(" in text and "def create_widget(" in text

    router.write_text(text.replace("def get_widget(", "def get_widget_edited("))
    assert main(argv) == 2
    assert "was edited since it was drafted: pass --force" in capsys.readouterr().err
    assert "get_widget_edited" in router.read_text()
    assert main([*argv, "--force"]) == 0
    assert "get_widget_edited" not in router.read_text()


async def test_a_module_not_drafted_is_never_replaced(
    recorded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "drafts").mkdir()
    (tmp_path / "drafts" / "widgets.py").write_text("router = 'a team's own module'\n")
    argv = ["scaffold", "GET", "/widgets", "--app", "stub_gateway:gateway", "--out", "drafts"]
    assert main(argv) == 2
    assert "is not a draft of cutover scaffold" in capsys.readouterr().err
    assert (tmp_path / "drafts" / "widgets.py").read_text() == "router = 'a team's own module'\n"


async def test_an_unknown_route_is_refused(
    recorded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["scaffold", "GET", "/nowhere", "--app", "stub_gateway:gateway", "--out", "drafts"]
    assert main(argv) == 2
    assert "the legacy app has no route GET /nowhere" in capsys.readouterr().err


def test_without_libcst_the_command_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "libcst", None)  # `import libcst` raises ImportError
    assert main(["scaffold", "--list"]) == 2
    assert "pip install 'cutover[scaffold]'" in capsys.readouterr().err


async def test_a_flask_app_will_do_and_no_store_means_no_traffic(
    recorded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scaffold", "--list", "--app", "stub_gateway:flask_app"]) == 0
    out, err = capsys.readouterr()
    assert "no state store, so no traffic to learn from" in err
    rows = [line.split() for line in out.splitlines() if line[:1].isdigit()]
    assert {row[4] for row in rows} == {"0"} and {row[5] for row in rows} == {"0"}
    assert all(row[-1] == "no" for row in rows)  # nothing sampled: no draft is whole yet
