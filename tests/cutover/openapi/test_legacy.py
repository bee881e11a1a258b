"""The legacy app's rules as OpenAPI operations: typed path parameters, docstrings, tags."""

from __future__ import annotations

from typing import Any

from cutover.openapi.legacy import legacy_operations, openapi_path
from tests.cutover.openapi.stub_openapi import make_legacy


def _parameter(operation: dict[str, Any]) -> dict[str, Any]:
    [parameter] = operation["parameters"]
    assert parameter["in"] == "path" and parameter["required"] is True
    return parameter


def test_paths_are_openapi_templates() -> None:
    assert openapi_path("/shop/items/<int(min=1):item_id>/<name>") == "/shop/items/{item_id}/{name}"


def test_parameters_are_typed_from_their_converters() -> None:
    paths = legacy_operations(make_legacy())
    schemas = {
        path: _parameter(operations["get"])["schema"]
        for path, operations in paths.items()
        if "get" in operations and "{" in path
    }
    assert schemas["/shop/items/{item_id}"] == {"type": "integer", "minimum": 1, "maximum": 999}
    assert schemas["/users/{user_id}"] == {"type": "integer", "minimum": 0}
    assert schemas["/shop/prices/{value}"] == {"type": "number"}  # signed: no minimum
    assert schemas["/things/{thing_id}"] == {"type": "string", "format": "uuid"}
    assert schemas["/files/{name}"] == {"type": "string", "x-cutover-converter": "path"}
    assert schemas["/codes/{code}"] == {
        "type": "string",
        "pattern": "^[^/]+$",
        "minLength": 3,
        "maxLength": 3,
    }
    assert schemas["/names/{name}"] == {
        "type": "string",
        "pattern": "^[^/]+$",
        "minLength": 2,
        "maxLength": 8,
    }
    assert schemas["/colours/{colour}"] == {"type": "string", "enum": ["red", "blue"]}


def test_summary_description_and_tags_come_from_the_view_and_blueprint() -> None:
    paths = legacy_operations(make_legacy())
    item = paths["/shop/items/{item_id}"]["get"]
    assert item["summary"] == "One item of the shop."
    assert item["description"] == "Answers 404 for an item nobody made."
    assert item["tags"] == ["shop"]
    thing = paths["/things/{thing_id}"]["get"]
    assert thing["summary"] == "thing"  # no docstring: the endpoint's name
    assert thing["tags"] == ["legacy"]  # on the app itself, not a blueprint


def test_automatic_methods_are_left_out() -> None:
    paths = legacy_operations(make_legacy())
    assert set(paths["/users/{user_id}"]) == {"get", "delete"}
    assert set(paths["/shop/items"]) == {"post"}
    assert "/static/{filename}" in paths  # Flask's own static route is a legacy route too


def test_a_plain_wsgi_app_has_no_operations() -> None:
    assert legacy_operations(object()) == {}
