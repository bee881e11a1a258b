"""A Flask view's body translated to a FastAPI endpoint on its syntax tree (libcst): the constructs
with a faithful FastAPI form are rewritten, every other one is kept and marked `TODO(cutover)`."""

from __future__ import annotations

import builtins
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
import libcst.matchers as m

TODO = "TODO(cutover)"
SESSION = "db_session"  # the endpoint's SQLAlchemy session parameter
BODY = "request_body"  # the endpoint's parameter holding the body (`FlaskBody`)
# `request` attributes a Starlette Request has with Flask's meaning.
_SAME_REQUEST_ATTRIBUTES = frozenset({"method", "headers"})
_QUERY_TERMINALS = frozenset({"all", "first", "one", "one_or_none"})
_QUERY_BUILDERS = frozenset(
    {
        "filter",
        "filter_by",
        "where",
        "order_by",
        "limit",
        "offset",
        "join",
        "outerjoin",
        "distinct",
        "group_by",
        "having",
        "options",
    }
)
_SESSION_OR_404 = {"get_or_404": "get", "first_or_404": "first", "one_or_404": "one_or_none"}


@dataclass(frozen=True, slots=True)
class QueryParam:
    """A query parameter the view reads with `request.args.get(name, default, type=...)`."""

    name: str
    default: str | None  # source code, as written in the view
    type: str | None  # source code of `type=`


@dataclass(frozen=True, slots=True)
class ViewContext:
    """What the translation knows of the view's world, read from the running Flask app."""

    roles: Mapping[str, str]  # global name -> request, jsonify, abort, url_for, g, ..., flask:X
    models: frozenset[str] = frozenset()  # globals that are Flask-SQLAlchemy models
    blueprint: str | None = None
    rules: Mapping[str, str] = field(default_factory=dict)  # endpoint -> werkzeug rule
    handled_codes: frozenset[int] = frozenset()  # statuses the legacy app has error handlers for
    flask_helpers: Mapping[str, Sequence[str]] = field(default_factory=dict)  # helper -> uses
    ported_helpers: Mapping[str, HelperPort] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HelperPort:
    """A helper of the legacy app that uses Flask, translated too: the draft defines it, with
    what it needs of the request passed in (`needs`: request, session, body)."""

    name: str
    module: str
    translation: Translation
    needs: tuple[str, ...]


@dataclass(slots=True)
class Translation:
    """The endpoint's function, what it needs and what was left for a human."""

    code: str
    params: list[str]
    uses: set[str]
    query: list[QueryParam]
    todos: list[str]
    globals_used: set[str]
    flask_names: set[str]
    url_rules: dict[str, str]
    helpers_used: set[str] = field(default_factory=set)
    form_fields: list[str] = field(default_factory=list)


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _name(value: str) -> cst.Name:
    return cst.Name(value)


def _attr(dotted: str) -> cst.BaseExpression:
    parts = dotted.split(".")
    node: cst.BaseExpression = cst.Name(parts[0])
    for part in parts[1:]:
        node = cst.Attribute(value=node, attr=cst.Name(part))
    return node


def _call(func: str | cst.BaseExpression, *args: cst.Arg) -> cst.Call:
    target = _attr(func) if isinstance(func, str) else func
    return cst.Call(func=target, args=list(args))


def _arg(value: cst.BaseExpression, keyword: str | None = None) -> cst.Arg:
    if keyword is None:
        return cst.Arg(value=value)
    return cst.Arg(
        value=value,
        keyword=cst.Name(keyword),
        equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
        ),
    )


def _clean(args: Sequence[cst.Arg]) -> list[cst.Arg]:
    """Arguments without their trailing commas, to be re-listed."""
    return [arg.with_changes(comma=cst.MaybeSentinel.DEFAULT) for arg in args]


class _Frame:
    """The TODOs of one statement, attached to it as comments when it is left."""

    def __init__(self) -> None:
        self.todos: list[str] = []
        # node id -> (TODO, the Flask name to import for it), unless a later rewrite consumes it
        self.pending: dict[int, tuple[str, str | None]] = {}


class _ViewTransformer(cst.CSTTransformer):
    def __init__(
        self, context: ViewContext, locals_: set[str], g_assigned: set[str], *, helper: bool
    ) -> None:
        super().__init__()
        self.helper = helper  # a helper's returns are values, not views' answers
        self.context = context
        self.locals = locals_
        self.g_assigned = g_assigned
        self.frames: list[_Frame] = []
        self.uses: set[str] = set()
        self.query: list[QueryParam] = []
        self.todos: list[str] = []
        self.globals_used: set[str] = set()
        self.helpers_used: set[str] = set()
        self.form_fields: list[str] = []  # the names read with request.form.get
        self.flask_names: set[str] = set()
        self.url_rules: dict[str, str] = {}
        self._keep: list[cst.CSTNode] = []  # nodes whose id() is a key in a frame's pending
        self._not_names: set[int] = set()  # ids of attribute and keyword names

    # -- bookkeeping --------------------------------------------------------------------------

    def role(self, node: cst.BaseExpression) -> str | None:
        if isinstance(node, cst.Name) and node.value not in self.locals:
            return self.context.roles.get(node.value)
        return None

    def todo(self, text: str) -> None:
        if self.frames:
            self.frames[-1].todos.append(text)
        else:  # pragma: no cover - every expression is inside a statement
            self.todos.append(text)

    def pending(self, node: cst.CSTNode, text: str, flask_name: str | None = None) -> None:
        self._keep.append(node)
        if self.frames:
            self.frames[-1].pending[id(node)] = (text, flask_name)

    def consume(self, node: cst.CSTNode) -> None:
        if self.frames:
            self.frames[-1].pending.pop(id(node), None)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._not_names.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._not_names.add(id(node.keyword))

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.SimpleStatementLine | cst.BaseCompoundStatement):
            self.frames.append(_Frame())
        return super().on_visit(node)

    def on_leave(self, original_node: Any, updated_node: Any) -> Any:
        result = super().on_leave(original_node, updated_node)
        if isinstance(original_node, cst.SimpleStatementLine | cst.BaseCompoundStatement):
            frame = self.frames.pop()
            todos = frame.todos + [text for text, _ in frame.pending.values()]
            self.flask_names.update(name for _, name in frame.pending.values() if name)
            if todos and isinstance(result, cst.SimpleStatementLine | cst.BaseCompoundStatement):
                unique = list(dict.fromkeys(todos))
                self.todos.extend(unique)
                comments = [
                    cst.EmptyLine(comment=cst.Comment(f"# {TODO}: {text}")) for text in unique
                ]
                result = result.with_changes(leading_lines=[*result.leading_lines, *comments])
        return result

    # -- names -------------------------------------------------------------------------------

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        name = original_node.value
        if name in self.locals or id(original_node) in self._not_names:
            return updated_node
        role = self.context.roles.get(name)
        if role is not None and role.startswith("flask:"):
            self.pending(
                updated_node, f"`{name}` (flask.{role[6:]}) has no FastAPI translation here", name
            )
        elif name in self.context.ported_helpers:
            self.helpers_used.add(name)
        elif role == "global":
            self.globals_used.add(name)
            uses = self.context.flask_helpers.get(name)
            if uses:
                self.todo(
                    f"`{name}` uses Flask's {', '.join(sorted(uses))}: it needs a Flask "
                    "context; port it or inline it"
                )
        return updated_node

    # -- attributes --------------------------------------------------------------------------

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.BaseExpression:
        role = self.role(original_node.value)
        attr = original_node.attr.value
        if role == "request":
            return self._request_attribute(updated_node, attr)
        if role == "g":
            if attr in self.g_assigned:
                self.uses.add("request")
                return _attr(f"request.state.{attr}")
            self.todo(f"`g.{attr}` is set outside the view (a before_request hook or decorator)")
            self.flask_names.add("g")
            return updated_node
        if role == "current_app":
            if attr == "config":
                self.uses.add("request")
                return _attr("request.app.state.config")
            if attr == "logger":
                self.uses.add("logger")
                return _name("logger")
            self.todo(f"`current_app.{attr}` has no FastAPI translation here")
            self.flask_names.add("current_app")
            return updated_node
        if role == "db":
            if attr == "session":
                self.uses.add("session")
                return _name(SESSION)
            if attr in _SESSION_OR_404 or attr == "paginate":
                self.pending(updated_node, f"`db.{attr}` has no FastAPI translation here")
                return updated_node
            import sqlalchemy

            if hasattr(sqlalchemy, attr):
                self.uses.add("sa")
                return _attr(f"sa.{attr}")
            self.todo(f"`db.{attr}` has no FastAPI translation here")
            return updated_node
        if attr == "query" and self._is_model(original_node.value):
            self.pending(
                updated_node,
                "`Model.query` outside a chain ending in .all(), .first(), .one(), "
                ".one_or_none(), .get(), .count() or ..._or_404()",
            )
        return updated_node

    def _is_model(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Name) and node.value in self.context.models

    def _request_attribute(self, node: cst.Attribute, attr: str) -> cst.BaseExpression:
        if attr in _SAME_REQUEST_ATTRIBUTES:
            self.uses.add("request")
            return node
        if attr == "args":
            self.uses.update({"request", "flask_args"})
            return _call("flask_args", _arg(_name("request")))
        if attr == "path":
            self.uses.add("request")
            return _attr("request.url.path")
        if attr == "json":
            self.uses.add("body")
            return _call(f"{BODY}.get_json")
        if attr in ("get_json", "is_json", "form", "data"):
            self.uses.add("body")
            return _attr(f"{BODY}.{attr}")
        self.todo(f"`request.{attr}` has no FastAPI translation here")
        self.flask_names.add("request")
        return node

    # -- calls -------------------------------------------------------------------------------

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = original_node.func
        role = self.role(func)
        if isinstance(func, cst.Name) and func.value not in self.locals:
            helper = self.context.ported_helpers.get(func.value)
            if helper is not None:
                return self._helper_call(updated_node, helper)
        if role == "jsonify":
            return self._jsonify(updated_node)
        if role == "flask:make_response" and not any(
            a.star or a.keyword for a in updated_node.args
        ):
            self.consume(updated_node.func)
            return self._runtime(self._tuple(updated_node.args))
        if role == "flask:redirect":
            redirected = self._redirect(updated_node)
            if redirected is not None:
                self.consume(updated_node.func)
                return redirected
        if role == "abort":
            return self._abort(updated_node)
        if role == "url_for":
            return self._url_for(updated_node)
        if isinstance(func, cst.Attribute):
            owner = self.role(func.value)
            method = func.attr.value
            if isinstance(func.value, cst.Attribute) and self.role(func.value.value) == "request":
                self._note_query_param(original_node)
            if owner == "db" and method in _SESSION_OR_404:
                return self._db_or_404(updated_node, method)
            rewritten = self._query_chain(updated_node)
            if rewritten is not None:
                return rewritten
        return updated_node

    def _helper_call(self, node: cst.Call, helper: HelperPort) -> cst.BaseExpression:
        """A ported helper, given what it needs of the request as keywords."""
        extra = []
        for need in helper.needs:
            self.uses.add(need)
            name = {"request": "request", "session": SESSION, "body": BODY}[need]
            extra.append(_arg(_name(name), name))
        return node.with_changes(args=[*_clean(node.args), *extra]) if extra else node

    @staticmethod
    def _tuple(args: Sequence[cst.Arg]) -> cst.BaseExpression:
        """`make_response`'s arguments as the return value they stand for."""
        if len(args) == 1:
            return args[0].value
        return cst.Tuple(elements=[cst.Element(value=a.value) for a in args])

    def _redirect(self, node: cst.Call) -> cst.BaseExpression | None:
        """`redirect(location, code=302)` as Werkzeug answers it; another option: untranslated."""
        location = node.args[0] if node.args and node.args[0].keyword is None else None
        code: cst.BaseExpression = cst.Integer("302")
        for position, arg in enumerate(node.args[1:]):
            keyword = arg.keyword.value if arg.keyword is not None else None
            if keyword == "code" or (keyword is None and position == 0):
                code = arg.value
            else:
                return None
        if location is None or location.star:
            return None
        self.uses.add("werkzeug_redirect")
        return _call("werkzeug_redirect", _arg(location.value), _arg(code))

    def _jsonify(self, node: cst.Call) -> cst.BaseExpression:
        self.uses.add("LegacyJSONResponse")
        positional = [a for a in node.args if a.keyword is None and not a.star]
        keywords = [a for a in node.args if a.keyword is not None]
        if any(a.star == "*" for a in node.args) or (positional and keywords):
            self.todo("`jsonify` with unpacked or mixed arguments")
            return _call("LegacyJSONResponse", *_clean(node.args))
        if keywords or any(a.star == "**" for a in node.args):
            elements: list[cst.BaseDictElement] = []
            for arg in node.args:
                if arg.star == "**":
                    elements.append(cst.StarredDictElement(value=arg.value))
                else:
                    assert arg.keyword is not None
                    key = cst.SimpleString(repr(arg.keyword.value).replace("'", '"'))
                    elements.append(cst.DictElement(key=key, value=arg.value))
            return _call("LegacyJSONResponse", _arg(cst.Dict(elements=elements)))
        if len(positional) == 1:
            return _call("LegacyJSONResponse", _arg(positional[0].value))
        if not positional:
            return _call("LegacyJSONResponse", _arg(_name("None")))
        listed = cst.List(elements=[cst.Element(value=a.value) for a in positional])
        return _call("LegacyJSONResponse", _arg(listed))

    def _or_404(self) -> None:
        self.uses.add("or_404")
        if 404 in self.context.handled_codes:
            self.todo(
                "the legacy app answers 404 with its own error handler; the port answers "
                "Werkzeug's page"
            )

    def _abort(self, node: cst.Call) -> cst.BaseExpression:
        self.uses.add("abort")
        if node.args and isinstance(node.args[0].value, cst.Integer):
            code = int(node.args[0].value.value)
            if code in self.context.handled_codes:
                self.todo(
                    f"the legacy app answers {code} with its own error handler; the port "
                    "answers Werkzeug's page"
                )
        return node

    def _url_for(self, node: cst.Call) -> cst.BaseExpression:
        if not node.args or not isinstance(node.args[0].value, cst.SimpleString):
            self.todo("`url_for` of an endpoint named at run time")
            self.flask_names.add("url_for")
            return node
        endpoint = str(node.args[0].value.evaluated_value)
        if endpoint.startswith(".") and self.context.blueprint:
            endpoint = f"{self.context.blueprint}{endpoint}"
        rule = self.context.rules.get(endpoint)
        special = [a for a in node.args[1:] if a.keyword and a.keyword.value.startswith("_")]
        if rule is None or special or any(a.star for a in node.args):
            what = "an endpoint unknown to the app" if rule is None else "_external/_anchor/..."
            self.todo(f"`url_for` with {what}")
            self.flask_names.add("url_for")
            return node
        self.uses.add("url_for")
        self.url_rules[endpoint] = rule
        first = _arg(cst.SimpleString(f'"{endpoint}"'))
        return _call("_legacy_url", first, *_clean(node.args[1:]))

    def _note_query_param(self, node: cst.Call) -> None:
        func = node.func
        if not (
            isinstance(func, cst.Attribute)
            and func.attr.value == "get"
            and isinstance(func.value, cst.Attribute)
            and func.value.attr.value in ("args", "form")
            and node.args
            and isinstance(node.args[0].value, cst.SimpleString)
        ):
            return
        name = str(node.args[0].value.evaluated_value)
        if func.value.attr.value == "form":
            if name not in self.form_fields:
                self.form_fields.append(name)
            return
        default: str | None = None
        type_: str | None = None
        for position, arg in enumerate(node.args[1:]):
            keyword = arg.keyword.value if arg.keyword is not None else None
            if keyword == "default" or (keyword is None and position == 0):
                default = _code(arg.value)
            elif keyword == "type" or (keyword is None and position == 1):
                type_ = _code(arg.value)
        if all(q.name != name for q in self.query):
            self.query.append(QueryParam(name, default, type_))

    def _db_or_404(self, node: cst.Call, method: str) -> cst.BaseExpression:
        assert isinstance(node.func, cst.Attribute)
        self.consume(node.func)
        self.uses.add("session")
        self._or_404()
        if method == "get_or_404":
            looked_up = _call(f"{SESSION}.get", *_clean(node.args[:2]))
        else:
            scalars = _call(f"{SESSION}.scalars", *_clean(node.args[:1]))
            looked_up = _call(cst.Attribute(value=scalars, attr=cst.Name(_SESSION_OR_404[method])))
        return _call("_or_404", _arg(looked_up))

    def _query_chain(self, node: cst.Call) -> cst.BaseExpression | None:
        """`Model.query.<builders>.<terminal>()` as a session call on `select(Model)...`."""
        assert isinstance(node.func, cst.Attribute)
        terminal = node.func.attr.value
        steps: list[tuple[str, Sequence[cst.Arg]]] = []
        receiver: cst.BaseExpression = node.func.value
        while isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute):
            steps.append((receiver.func.attr.value, receiver.args))
            receiver = receiver.func.value
        if not (
            isinstance(receiver, cst.Attribute)
            and receiver.attr.value == "query"
            and self._is_model(receiver.value)
        ):
            return None
        assert isinstance(receiver.value, cst.Name)
        model = receiver.value
        if any(step not in _QUERY_BUILDERS for step, _ in steps):
            return None  # the pending TODO on `Model.query` stays
        statement: cst.BaseExpression = _call("select", _arg(model))
        for step, args in reversed(steps):
            statement = _call(cst.Attribute(value=statement, attr=cst.Name(step)), *_clean(args))
        self.uses.update({"session", "select"})
        wrapped: cst.BaseExpression
        if terminal in ("get", "get_or_404") and not steps:
            wrapped = _call(f"{SESSION}.get", _arg(model), *_clean(node.args[:1]))
            if terminal == "get_or_404":
                self._or_404()
                wrapped = _call("_or_404", _arg(wrapped))
        elif terminal in _QUERY_TERMINALS or terminal in ("first_or_404", "one_or_404"):
            method = _SESSION_OR_404.get(terminal, terminal)
            scalars = _call(f"{SESSION}.scalars", _arg(statement))
            wrapped = _call(cst.Attribute(value=scalars, attr=cst.Name(method)))
            if terminal.endswith("_or_404"):
                self._or_404()
                wrapped = _call("_or_404", _arg(wrapped))
        elif terminal == "count":
            self.uses.add("sa")
            counted = _call(
                cst.Attribute(
                    value=_call("sa.select", _arg(_call("sa.func.count"))),
                    attr=cst.Name("select_from"),
                ),
                _arg(_call(cst.Attribute(value=statement, attr=cst.Name("subquery")))),
            )
            wrapped = _call(f"{SESSION}.scalar", _arg(counted))
        else:
            return None
        self.consume(receiver)
        return wrapped

    # -- returns -----------------------------------------------------------------------------

    def leave_Return(
        self, original_node: cst.Return, updated_node: cst.Return
    ) -> cst.Return | cst.RemovalSentinel:
        value = updated_node.value
        if self.helper:
            if value is not None and self._answers(value):
                return updated_node.with_changes(value=self._response(value))
            return updated_node
        if value is None:
            self.todo("a bare `return`: Flask refuses a view returning None")
            return updated_node
        return updated_node.with_changes(value=self._response(value))

    @staticmethod
    def _answers(value: cst.BaseExpression) -> bool:
        """Whether a helper returns an answer: a `jsonify` result, alone or with a status."""
        first = (
            value.elements[0].value if isinstance(value, cst.Tuple) and value.elements else value
        )
        return m.matches(first, m.Call(func=m.Name("LegacyJSONResponse")))

    def _response(self, value: cst.BaseExpression) -> cst.BaseExpression:
        body = value
        status: cst.BaseExpression | None = None
        headers: cst.BaseExpression | None = None
        if isinstance(value, cst.Tuple) and len(value.elements) in (2, 3):
            parts = [element.value for element in value.elements]
            if any(isinstance(e, cst.StarredElement) for e in value.elements):
                return self._runtime(value)
            body = parts[0]
            if len(parts) == 3:
                status, headers = parts[1], parts[2]
            elif isinstance(parts[1], cst.Integer):
                status = parts[1]
            elif isinstance(parts[1], cst.Dict):
                headers = parts[1]
            else:
                return self._runtime(value)
        if isinstance(body, cst.Dict | cst.List):
            self.uses.add("LegacyJSONResponse")
            body = _call("LegacyJSONResponse", _arg(body))
        if m.matches(body, m.Call(func=m.Name("LegacyJSONResponse"))):
            assert isinstance(body, cst.Call)
            extra = []
            if status is not None:
                extra.append(_arg(status, "status_code"))
            if headers is not None:
                extra.append(_arg(headers, "headers"))
            return body.with_changes(args=[*_clean(body.args), *extra]) if extra else body
        return self._runtime(value)

    def _runtime(self, value: cst.BaseExpression) -> cst.BaseExpression:
        self.uses.add("flask_response")
        if isinstance(value, cst.Tuple) and not value.lpar:
            value = value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        return _call("flask_response", _arg(value))


def _locals(function: cst.FunctionDef) -> set[str]:
    """Every name the function binds (parameters, assignments, loops, imports...)."""
    found: set[str] = set()

    class Collector(cst.CSTVisitor):
        def visit_Param(self, node: cst.Param) -> None:
            found.add(node.name.value)

        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            self._targets(node.target)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            self._targets(node.target)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            self._targets(node.target)

        def visit_For(self, node: cst.For) -> None:
            self._targets(node.target)

        def visit_CompFor(self, node: cst.CompFor) -> None:
            self._targets(node.target)

        def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
            self._targets(node.target)

        def visit_AsName(self, node: cst.AsName) -> None:
            self._targets(node.name)

        def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
            if node.name is not None:
                self._targets(node.name.name)

        def _targets(self, node: cst.BaseExpression) -> None:
            if isinstance(node, cst.Name):
                found.add(node.value)
            elif isinstance(node, cst.Tuple | cst.List):
                for element in node.elements:
                    self._targets(element.value)
            elif isinstance(node, cst.StarredElement):
                self._targets(node.value)

    function.body.visit(Collector())
    for param in function.params.params:
        found.add(param.name.value)
    return found


def _g_assigned(function: cst.FunctionDef, context: ViewContext) -> set[str]:
    """The `g.name` attributes the view itself assigns (so `request.state` can hold them)."""
    g_names = {name for name, role in context.roles.items() if role == "g"}
    found: set[str] = set()
    for target in m.findall(function, m.AssignTarget(target=m.Attribute(value=m.Name()))):
        assert isinstance(target, cst.AssignTarget) and isinstance(target.target, cst.Attribute)
        owner = target.target.value
        if isinstance(owner, cst.Name) and owner.value in g_names:
            found.add(target.target.attr.value)
    return found


def translate_view(source: str, context: ViewContext, *, helper: bool = False) -> Translation:
    """Translate the view function in `source` (its decorators included) for FastAPI; with
    `helper`, a function the views call (its returns are left alone unless `jsonify`)."""
    module = cst.parse_module(textwrap.dedent(source))
    functions = [node for node in module.body if isinstance(node, cst.FunctionDef)]
    if not functions:
        raise ValueError("no function definition in the view's source")
    function = functions[0]
    local_names = _locals(function) - set(dir(builtins))
    transformer = _ViewTransformer(
        context, local_names, _g_assigned(function, context), helper=helper
    )
    body = function.body.visit(transformer)
    assert isinstance(body, cst.BaseSuite)
    for decorator in function.decorators:
        if not _is_route_decorator(decorator.decorator):
            transformer.todos.insert(0, f"decorator `@{_code(decorator.decorator)}` was left out")
    params = [param.name.value for param in function.params.params]
    if function.asynchronous is not None:
        transformer.todos.insert(0, "an async Flask view")
    translated = function.with_changes(body=body, decorators=[], asynchronous=None)
    if transformer.todos:
        header = [
            cst.EmptyLine(comment=cst.Comment(f"# {TODO}: {text}"))
            for text in transformer.todos
            if text.startswith(("decorator", "an async"))
        ]
        translated = translated.with_changes(leading_lines=header)
    return Translation(
        code=_code(translated),
        params=params,
        uses=transformer.uses,
        query=transformer.query,
        todos=transformer.todos,
        globals_used=transformer.globals_used,
        flask_names=transformer.flask_names,
        url_rules=transformer.url_rules,
        helpers_used=transformer.helpers_used,
        form_fields=transformer.form_fields,
    )


def _is_route_decorator(node: cst.BaseExpression) -> bool:
    return m.matches(
        node,
        m.Call(
            func=m.Attribute(
                attr=m.Name("route")
                | m.Name("get")
                | m.Name("post")
                | m.Name("put")
                | m.Name("patch")
                | m.Name("delete")
            )
        ),
    )


_NEEDS = (("request", "request"), ("session", SESSION), ("body", BODY))


def port_helper(name: str, module: str, source: str, context: ViewContext) -> HelperPort | None:
    """The helper translated like a view, when all of it translates: its annotations dropped
    (they may name Flask types) and what it needs of the request added as keyword parameters."""
    translation = translate_view(source, context, helper=True)
    if translation.todos or translation.helpers_used:
        return None
    needs = tuple(need for need, _ in _NEEDS if need in translation.uses)
    function = cst.parse_module(translation.code).body[0]
    assert isinstance(function, cst.FunctionDef)
    params = function.params

    def bare(param: cst.Param) -> cst.Param:
        if param.default is None:
            return param.with_changes(annotation=None)
        return param.with_changes(annotation=None, equal=_arg(param.default, "x").equal)

    star_arg = params.star_arg
    if isinstance(star_arg, cst.Param):
        star_arg = bare(star_arg)
    extra = [cst.Param(name=cst.Name(keyword)) for need, keyword in _NEEDS if need in needs]
    if extra and not isinstance(star_arg, cst.Param | cst.ParamStar):
        star_arg = cst.ParamStar()
    star_kwarg = bare(params.star_kwarg) if params.star_kwarg is not None else None
    function = function.with_changes(
        params=params.with_changes(
            posonly_params=[bare(p) for p in params.posonly_params],
            params=[bare(p) for p in params.params],
            star_arg=star_arg,
            kwonly_params=[*(bare(p) for p in params.kwonly_params), *extra],
            star_kwarg=star_kwarg,
        ),
        returns=None,
    )
    translation.code = _code(function)
    return HelperPort(name=name, module=module, translation=translation, needs=needs)
