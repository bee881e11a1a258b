"""The drafted FastAPI router module: the translated views of one blueprint, their path parameters
typed from the Flask converters, query and body documented, response models from the traffic."""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst
import sqlalchemy

from cutover.openapi.samples import StoredSample
from cutover.scaffold.codemod import (
    BODY,
    SESSION,
    TODO,
    HelperPort,
    Translation,
    translate_view,
)
from cutover.scaffold.models import (
    ModelSource,
    annotation,
    class_name,
    first_example,
    merged_schema,
)
from cutover.scaffold.source import LegacyView

MARKER = "# cutover-scaffold routes:"
_QUERY_TYPES = {"int": "integer", "float": "number", "str": "string"}
# Names the draft defines or imports itself, never imported from the legacy module.
_OWN = frozenset({"select", "sa", "logger", "router", "Any", "Annotated", "Request"})
# Of those, the ones the draft imports only on demand: a view using them itself asks for them.
_IMPORTED_ON_DEMAND = {"select": sqlalchemy.select, "sa": sqlalchemy}


@dataclass(slots=True)
class RouteDraft:
    """One route's translation and the models drafted from its samples."""

    view: LegacyView
    translation: Translation
    models: ModelSource
    response_model: str | None
    request_model: str | None
    error_examples: dict[int, object]
    statuses: list[int]


def draft_route(
    view: LegacyView, samples: Sequence[StoredSample], *, qualify: bool = False
) -> RouteDraft:
    """One route's draft; `qualify` names its models by method too (a view serving several)."""
    translation = translate_view(view.source, view.context)
    for name in sorted(translation.helpers_used):  # what the helpers read of the query too
        for param in view.context.ported_helpers[name].translation.query:
            if all(known.name != param.name for known in translation.query):
                translation.query.append(param)
    models = ModelSource()
    name = view.function.__name__ + (f"_{view.method.lower()}" if qualify else "")
    success = [s for s in samples if 200 <= s.status < 300]
    response_model = None
    schema = merged_schema(success, request=False)
    if schema is not None:
        example = first_example(success, request=False)
        response_model = annotation(schema, class_name(name, "response"), models, example)
    request_model = None
    body_schema = merged_schema(samples, request=True)
    if body_schema is not None and "object" in str(body_schema.get("type")):
        example = first_example(samples, request=True)
        request_model = annotation(body_schema, class_name(name, "body"), models, example)
    errors: dict[int, object] = {}
    for sample in samples:
        if sample.status >= 400 and sample.status not in errors:
            errors[sample.status] = sample.response_example
    return RouteDraft(
        view=view,
        translation=translation,
        models=models,
        response_model=response_model,
        request_model=request_model,
        error_examples=dict(sorted(errors.items())),
        statuses=sorted({s.status for s in samples}),
    )


def _signature(draft: RouteDraft) -> str:
    view, translation = draft.view, draft.translation
    typed = {param.name: param.annotation for param in view.params}
    params = [f"{name}: {typed[name]}" if name in typed else name for name in translation.params]
    params.append("request: Request")
    if "session" in translation.uses:
        params.append(f"{SESSION}: SessionDep")
    if "body" in translation.uses:
        params.append(f"{BODY}: Annotated[FlaskBody, Depends(flask_body)]")
    return ", ".join(params)


def _openapi_extra(draft: RouteDraft) -> str | None:
    parts: list[str] = []
    query = []
    for param in draft.translation.query:
        schema: dict[str, object] = {"type": _QUERY_TYPES.get(param.type or "str", "string")}
        if param.default is not None:
            try:
                schema["default"] = json.loads(param.default)
            except ValueError:
                schema["x-default"] = param.default
        query.append({"name": param.name, "in": "query", "required": False, "schema": schema})
    if query:
        parts.append(f'"parameters": {query!r}')
    if draft.request_model is not None and "{" not in draft.request_model:
        schema_call = (
            f"{draft.request_model}.model_json_schema("
            'ref_template="#/components/schemas/{model}")'
        )
        body = '"requestBody": {"content": {"application/json": {"schema": SCHEMA}}}'
        parts.append(body.replace("SCHEMA", schema_call))
    return "{" + ", ".join(parts) + "}" if parts else None


def _decorator(draft: RouteDraft) -> str:
    view = draft.view
    options = [repr(view.fastapi_path)]
    if draft.response_model is not None:
        options.append(f"response_model={draft.response_model}")
    if draft.error_examples:
        responses: dict[int, dict[str, object]] = {}
        for status, example in draft.error_examples.items():
            responses[status] = {"description": "seen in the traffic"}
            if example is not None:
                responses[status]["content"] = {"application/json": {"example": example}}
        options.append(f"responses={responses!r}")
    extra = _openapi_extra(draft)
    if extra is not None:
        options.append(f"openapi_extra={extra}")
    return f"@router.{view.method.lower()}({', '.join(options)})"


def _function(draft: RouteDraft) -> str:
    """The translated function with its FastAPI decorator and signature."""
    module = cst.parse_module(draft.translation.code)
    function = module.body[0]
    assert isinstance(function, cst.FunctionDef)
    header = cst.parse_module(f"def f({_signature(draft)}): pass\n").body[0]
    assert isinstance(header, cst.FunctionDef)
    decorator = cst.parse_expression(_decorator(draft)[1:])
    function = function.with_changes(
        params=header.params, decorators=[cst.Decorator(decorator=decorator)], returns=None
    )
    return module.with_changes(body=[function]).code


def render_router(blueprint: str, drafts: Sequence[RouteDraft]) -> str:
    """The whole router module for these routes of one blueprint."""
    uses: set[str] = set()
    imported: dict[str, set[str]] = {}
    url_rules: dict[str, str] = {}
    flask_names: set[str] = set()
    helpers: dict[str, HelperPort] = {}
    for draft in drafts:
        for name in sorted(draft.translation.helpers_used):
            helpers.setdefault(name, draft.view.context.ported_helpers[name])
    parts = [(d.view.module, d.view.function.__globals__, d.translation) for d in drafts]
    parts += [
        (helper.module, vars(sys.modules[helper.module]), helper.translation)
        for helper in helpers.values()
    ]
    modules: set[str] = set()
    for module_name, namespace, translation in parts:
        uses |= translation.uses
        uses |= {
            name
            for name, value in _IMPORTED_ON_DEMAND.items()
            if name in translation.globals_used and namespace.get(name) is value
        }
        for name in translation.globals_used - _OWN - helpers.keys():
            value = namespace.get(name)
            if isinstance(value, types.ModuleType):  # `import json` in the view's module
                alias = "" if value.__name__ == name else f" as {name}"
                modules.add(f"import {value.__name__}{alias}")
            else:
                imported.setdefault(module_name, set()).add(name)
        url_rules.update(translation.url_rules)
        flask_names |= translation.flask_names
    models = "\n\n\n".join(d.models.code for d in drafts if d.models.classes)
    annotated = bool(uses & {"body", "session"})
    typing = ["Annotated", "Any"] if annotated else ["Any"]
    header = [
        f'"""Draft FastAPI port of the `{blueprint}` blueprint, made by `cutover scaffold` from '
        "the Flask views",
        "and the traffic the gateway saw. Review each TODO(cutover). The app provides "
        "`app.state.sessionmaker`",
        "(SQLAlchemy sessions on the legacy database) and `app.state.config` (the legacy config), "
        "and installs",
        '`cutover.compat.install_legacy_errors` with `LegacyJSONResponse` as its default class."""',
        "",
        MARKER + " " + "; ".join(f"{d.view.method} {d.view.rule}" for d in drafts),
        "",
    ]
    stdlib = [
        *sorted(modules),
        "import logging" if "logger" in uses and "import logging" not in modules else None,
        "import uuid"
        if any(p.converter == "uuid" for d in drafts for p in d.view.params)
        else None,
        "from collections.abc import Iterator" if "session" in uses else None,
        f"from typing import {', '.join(typing)}",
    ]
    depends = ", Depends" if annotated else ""
    third = [
        "import sqlalchemy as sa" if "sa" in uses else None,
        f"from fastapi import APIRouter{depends}, Request",
        f"from flask import {', '.join(sorted(flask_names))}  # {TODO}: untranslated uses"
        if flask_names
        else None,
        "from pydantic import BaseModel, ConfigDict, Field" if models else None,
        "from sqlalchemy import select" if "select" in uses else None,
        "from sqlalchemy.orm import Session" if "session" in uses else None,
        "from werkzeug.exceptions import abort" if uses & {"abort", "or_404"} else None,
        "from werkzeug.routing import Map, Rule" if url_rules else None,
    ]
    compat = sorted(
        {"LegacyJSONResponse", "flask_response", "flask_args", "werkzeug_redirect"} & uses
        | ({"FlaskBody", "flask_body"} if "body" in uses else set())
    )
    own = [f"from cutover.compat import {', '.join(compat)}" if compat else None]
    own += [
        f"from {module} import {', '.join(sorted(names))}"
        for module, names in sorted(imported.items())
    ]
    lines = list(header)
    for group in (stdlib, third, own):
        kept = [line for line in group if line is not None]
        if kept:
            lines += [*kept, ""]
    lines += [f'router = APIRouter(tags=["{blueprint}"])']
    if "logger" in uses:
        lines.append("logger = logging.getLogger(__name__)")
    if "session" in uses:
        lines += [
            "",
            "",
            "def get_session(request: Request) -> Iterator[Session]:",
            '    """A session of the app\'s sessionmaker (Flask-SQLAlchemy\'s `db.session` in the '
            'legacy view)."""',
            "    with request.app.state.sessionmaker() as session:",
            "        yield session",
            "",
            "",
            "SessionDep = Annotated[Session, Depends(get_session)]",
        ]
    if "or_404" in uses:
        lines += [
            "",
            "",
            "def _or_404(value: Any) -> Any:",
            '    """Flask-SQLAlchemy\'s *_or_404: the value, else Werkzeug\'s 404."""',
            "    if value is None:",
            "        abort(404)",
            "    return value",
        ]
    if url_rules:
        rules = ", ".join(
            f"Rule({rule!r}, endpoint={endpoint!r})" for endpoint, rule in sorted(url_rules.items())
        )
        lines += [
            "",
            "",
            f'_LEGACY_URLS = Map([{rules}]).bind("localhost")',
            "",
            "",
            "def _legacy_url(endpoint: str, **values: Any) -> str:",
            '    """Flask\'s `url_for` for the legacy rules the views link to."""',
            "    return _LEGACY_URLS.build(endpoint, values)",
        ]
    if models:
        lines += ["", "", models]
    for helper in helpers.values():
        lines += [
            "",
            "",
            f"# {helper.name}, from {helper.module}, translated too",
            helper.translation.code.strip(),
        ]
    for draft in drafts:
        lines += ["", "", _function(draft).rstrip()]
    text = "\n".join(lines)
    while "\n\n\n\n" in text:
        text = text.replace("\n\n\n\n", "\n\n\n")
    return text.strip() + "\n"
