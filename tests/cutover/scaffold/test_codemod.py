"""Each construct the scaffold translates, on its own: the view's source in, the endpoint's out;
and the untranslated ones kept under TODO(cutover) in a module that still imports."""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path

import pytest

from cutover.scaffold.codemod import ViewContext, translate_view

ROLES = {
    "request": "request",
    "jsonify": "jsonify",
    "abort": "abort",
    "url_for": "url_for",
    "g": "g",
    "current_app": "current_app",
    "db": "db",
    "Widget": "global",
    "render_template": "flask:render_template",
    "session": "flask:session",
    "make_response": "flask:make_response",
    "redirect": "flask:redirect",
}
CONTEXT = ViewContext(
    roles=ROLES,
    models=frozenset({"Widget"}),
    blueprint="widgets",
    rules={"widgets.get_widget": "/widgets/<int:widget_id>"},
    handled_codes=frozenset({410}),
)
HANDLES_404 = ViewContext(
    roles=ROLES, models=frozenset({"Widget"}), handled_codes=frozenset({404, 410})
)


def _body(statements: str, context: ViewContext = CONTEXT) -> tuple[str, list[str]]:
    source = "@bp.get('/x')\ndef view():\n" + textwrap.indent(textwrap.dedent(statements), "    ")
    translation = translate_view(source, context)
    body = translation.code.split("\n", 1)[1]
    return textwrap.dedent(body).strip(), translation.todos


@pytest.mark.parametrize(
    ("flask", "fastapi"),
    [
        pytest.param(
            'n = request.args.get("n", 10, type=int)',
            'n = flask_args(request).get("n", 10, type=int)',
            id="request.args.get",
        ),
        pytest.param("data = request.get_json()", "data = request_body.get_json()", id="get_json"),
        pytest.param(
            "data = request.get_json(silent=True)",
            "data = request_body.get_json(silent=True)",
            id="get_json-silent",
        ),
        pytest.param("data = request.json", "data = request_body.get_json()", id="request.json"),
        pytest.param(
            'return {"error": "name is required"}, 400',
            'return LegacyJSONResponse({"error": "name is required"}, status_code=400)',
            id="error-tuple",
        ),
        pytest.param("return jsonify(item)", "return LegacyJSONResponse(item)", id="jsonify"),
        pytest.param(
            "return jsonify(a=1, **rest)",
            'return LegacyJSONResponse({"a": 1, **rest})',
            id="jsonify-keywords",
        ),
        pytest.param(
            "return jsonify(a, b)", "return LegacyJSONResponse([a, b])", id="jsonify-many"
        ),
        pytest.param(
            'return jsonify(x), 201, {"Location": "/x"}',
            'return LegacyJSONResponse(x, status_code=201, headers={"Location": "/x"})',
            id="body-status-headers",
        ),
        pytest.param('return "", 204', 'return flask_response(("", 204))', id="text-status"),
        pytest.param("return thing", "return flask_response(thing)", id="any-value"),
        pytest.param("abort(404)", "abort(404)", id="abort"),
        pytest.param(
            "r = make_response(body, 201)\nr.headers['X-A'] = '1'\nreturn r",
            "r = flask_response((body, 201))\nr.headers['X-A'] = '1'\nreturn flask_response(r)",
            id="make_response",
        ),
        pytest.param(
            "return redirect('/there')",
            "return flask_response(werkzeug_redirect('/there', 302))",
            id="redirect",
        ),
        pytest.param(
            "return redirect(url_for('.get_widget', widget_id=1), code=301)",
            'return flask_response(werkzeug_redirect(_legacy_url("widgets.get_widget", '
            "widget_id=1), 301))",
            id="redirect-code",
        ),
        pytest.param(
            "name = request.form.get('name')",
            "name = request_body.form.get('name')",
            id="request.form",
        ),
        pytest.param(
            'u = url_for(".get_widget", widget_id=3)',
            'u = _legacy_url("widgets.get_widget", widget_id=3)',
            id="url_for",
        ),
        pytest.param(
            "g.seen = 1\nreturn {'seen': g.seen}",
            "request.state.seen = 1\nreturn LegacyJSONResponse({'seen': request.state.seen})",
            id="g-set-in-view",
        ),
        pytest.param(
            'key = current_app.config["KEY"]',
            'key = request.app.state.config["KEY"]',
            id="current_app.config",
        ),
        pytest.param('current_app.logger.info("x")', 'logger.info("x")', id="current_app.logger"),
        pytest.param(
            "db.session.add(w)\ndb.session.commit()",
            "db_session.add(w)\ndb_session.commit()",
            id="db.session",
        ),
        pytest.param(
            "w = Widget.query.get(1)", "w = db_session.get(Widget, 1)", id="Model.query.get"
        ),
        pytest.param(
            "w = Widget.query.get_or_404(1)",
            "w = _or_404(db_session.get(Widget, 1))",
            id="Model.query.get_or_404",
        ),
        pytest.param(
            "ws = Widget.query.filter_by(a=1).order_by(Widget.id).all()",
            "ws = db_session.scalars(select(Widget).filter_by(a=1).order_by(Widget.id)).all()",
            id="Model.query-chain-all",
        ),
        pytest.param(
            "w = Widget.query.filter(Widget.id > 1).first_or_404()",
            "w = _or_404(db_session.scalars(select(Widget).filter(Widget.id > 1)).first())",
            id="Model.query-first_or_404",
        ),
        pytest.param(
            "n = Widget.query.count()",
            "n = db_session.scalar(sa.select(sa.func.count()).select_from("
            "select(Widget).subquery()))",
            id="Model.query.count",
        ),
        pytest.param(
            "w = db.get_or_404(Widget, 1)",
            "w = _or_404(db_session.get(Widget, 1))",
            id="db.get_or_404",
        ),
        pytest.param(
            "w = db.first_or_404(db.select(Widget))",
            "w = _or_404(db_session.scalars(sa.select(Widget)).first())",
            id="db.first_or_404",
        ),
    ],
)
def test_a_construct_is_translated(flask: str, fastapi: str) -> None:
    translated, todos = _body(flask)
    assert translated == fastapi
    assert todos == []


@pytest.mark.parametrize(
    ("flask", "todo"),
    [
        pytest.param("return {'user': g.user}", "`g.user` is set outside the view", id="g"),
        pytest.param(
            "return render_template('x.html')",
            "`render_template` (flask.render_template)",
            id="tpl",
        ),
        pytest.param("f = request.files['f']", "`request.files`", id="request.files"),
        pytest.param("q = Widget.query", "`Model.query` outside a chain", id="query-var"),
        pytest.param("p = Widget.query.paginate()", "`Model.query` outside a chain", id="paginate"),
        pytest.param("app = current_app.name", "`current_app.name`", id="current_app.name"),
        pytest.param("u = url_for('nowhere')", "`url_for` with an endpoint unknown", id="url_for"),
        pytest.param("abort(410)", "answers 410 with its own error handler", id="handled-abort"),
        pytest.param("return", "a bare `return`", id="bare-return"),
    ],
)
def test_an_untranslated_construct_is_kept_under_a_todo(flask: str, todo: str) -> None:
    translated, todos = _body(flask, HANDLES_404)
    assert any(todo in text for text in todos), todos
    assert f"# TODO(cutover): {todos[0]}" in translated
    kept = next(
        part
        for part in (
            "g.user",
            "render_template",
            "request.files",
            "Widget.query",
            "current_app.name",
            "url_for('nowhere')",
            "abort(410)",
            "return",
        )
        if part in flask
    )
    assert kept in translated  # the code stays in place


def test_a_404_the_legacy_app_handles_itself_is_flagged() -> None:
    translated, todos = _body("w = Widget.query.get_or_404(1)", HANDLES_404)
    assert todos == [
        "the legacy app answers 404 with its own error handler; the port answers Werkzeug's page"
    ]
    assert translated.endswith("w = _or_404(db_session.get(Widget, 1))")


def test_other_decorators_are_left_out_and_named() -> None:
    source = "@bp.get('/x')\n@login_required\ndef view():\n    return {}\n"
    translation = translate_view(source, CONTEXT)
    assert translation.code.startswith("# TODO(cutover): decorator `@login_required` was left out")
    assert "@" not in translation.code.split("\n", 1)[1]


def test_query_parameters_are_typed_from_the_view() -> None:
    source = (
        "@bp.get('/x')\ndef view():\n"
        "    a = request.args.get('a', 10, type=int)\n"
        "    b = request.args.get('b')\n"
        "    c = request.args.get('c', default='z')\n"
        "    return {}\n"
    )
    query = translate_view(source, CONTEXT).query
    assert [(q.name, q.default, q.type) for q in query] == [
        ("a", "10", "int"),
        ("b", None, None),
        ("c", "'z'", None),
    ]


def test_a_local_name_shadowing_a_flask_one_is_left_alone() -> None:
    translated, todos = _body("request = {'a': 1}\nreturn request.args")
    assert translated == "request = {'a': 1}\nreturn flask_response(request.args)"
    assert todos == []


def test_a_draft_with_untranslated_constructs_still_imports(tmp_path: Path) -> None:
    """The whole scaffold on a stub Flask app whose view is mostly beyond translation."""
    from flask import Flask

    from cutover.scaffold import scaffold

    module = tmp_path / "untranslatable_views.py"
    module.write_text(
        textwrap.dedent(
            """
            import json as encoding

            from flask import Blueprint, g, render_template_string, request, session

            bp = Blueprint("odd", __name__)

            def needs_login(view):
                return view

            @bp.post("/odd/<path:rest>")
            @needs_login
            def odd(rest):
                g.user.visits += 1
                session["seen"] = True
                upload = request.files["f"]
                text = encoding.dumps(rest)
                return render_template_string("{{ r }}", r=text + upload.filename)
            """
        )
    )
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        import untranslatable_views

        app = Flask("odd")
        app.register_blueprint(untranslatable_views.bp)
        drafted = scaffold(app, "POST", "/odd/<path:rest>", {}, tmp_path / "out")
        text = drafted.router.read_text()
        for construct in ("g.user", "session", "request.files", "render_template_string"):
            assert any(construct in todo for todo in drafted.todos), (construct, drafted.todos)
        assert "decorator `@needs_login` was left out" in text
        assert "'/odd/{rest:path}'" in text
        assert "import json as encoding\n" in text  # a module is imported, not re-exported
        spec = importlib.util.spec_from_file_location("odd_draft", drafted.router)
        assert spec is not None and spec.loader is not None
        imported = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(imported)  # imports, TODOs and all
        assert [route.path for route in imported.router.routes] == ["/odd/{rest:path}"]
        compile(drafted.parity.read_text(), str(drafted.parity), "exec")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("untranslatable_views", None)


def test_a_helper_of_the_app_is_translated_with_what_it_needs_passed_in() -> None:
    from cutover.scaffold.codemod import port_helper

    source = (
        "def widget_or_none(widget_id: int, *, strict: bool = False) -> 'Widget | None':\n"
        "    if request.args.get('fresh'):\n"
        "        db.session.expire_all()\n"
        "    return db.session.get(Widget, widget_id)\n"
    )
    helper = port_helper("widget_or_none", "app.lookup", source, CONTEXT)
    assert helper is not None
    assert helper.needs == ("request", "session")
    assert helper.translation.code.splitlines()[0] == (
        "def widget_or_none(widget_id, *, strict=False, request, db_session):"
    )
    assert "return db_session.get(Widget, widget_id)" in helper.translation.code  # a value

    context = ViewContext(
        roles={**ROLES, "widget_or_none": "global"}, ported_helpers={"widget_or_none": helper}
    )
    translated, todos = _body("return {'found': widget_or_none(3) is not None}", context)
    assert translated == (
        "return LegacyJSONResponse({'found': widget_or_none(3, request=request, "
        "db_session=db_session) is not None})"
    )
    assert todos == []


def test_a_helper_answering_with_jsonify_answers_as_flask_would() -> None:
    from cutover.scaffold.codemod import port_helper

    source = "def json_error(message, status):\n    return jsonify(error=message), status\n"
    helper = port_helper("json_error", "app.errors", source, CONTEXT)
    assert helper is not None and helper.needs == ()
    assert 'return flask_response((LegacyJSONResponse({"error": message}), status))' in (
        helper.translation.code
    )


def test_a_helper_beyond_translation_is_not_ported() -> None:
    from cutover.scaffold.codemod import port_helper

    source = "def who():\n    return session['user']\n"
    assert port_helper("who", "app.auth", source, CONTEXT) is None
