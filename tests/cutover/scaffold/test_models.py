"""The models drafted from the samples: required where every sample had the field, optional where
it was sometimes absent, nested objects and lists typed, names Python cannot spell aliased, and
the examples as the sampler kept them (redacted)."""

from __future__ import annotations

import types
from typing import Any

from pydantic import BaseModel

from cutover.openapi.infer import infer
from cutover.openapi.samples import StoredSample
from cutover.scaffold.models import ModelSource, annotation, class_name, merged_schema
from cutover.shadow.redact import redact_json


def _sample(response: Any, status: int = 200, request: Any = None) -> StoredSample:
    return StoredSample(
        route="GET /x",
        status=status,
        content_type="application/json",
        response_schema=infer(response),
        response_example=redact_json(response),
        request_content_type=None,
        request_schema=infer(request) if request is not None else None,
        request_example=redact_json(request) if request is not None else None,
    )


def _models(samples: list[StoredSample], name: str = "Thing") -> tuple[str, dict[str, Any]]:
    source = ModelSource()
    schema = merged_schema(samples, request=False)
    assert schema is not None
    top = annotation(schema, name, source, samples[0].response_example)
    code = "from typing import Any\n\nfrom pydantic import BaseModel, ConfigDict, Field\n\n\n"
    module = types.ModuleType("drafted_models")
    # Compiled without this file's `from __future__ import annotations`, as a drafted module is.
    exec(compile(code + source.code, "m.py", "exec", dont_inherit=True), module.__dict__)
    return top, module.__dict__


def test_a_field_sometimes_absent_is_optional_and_one_always_there_required() -> None:
    top, namespace = _models(
        [_sample({"id": 1, "name": "a", "colour": "red"}), _sample({"id": 2, "name": "b"})]
    )
    assert top == "Thing"
    model: type[BaseModel] = namespace["Thing"]
    assert model.model_fields["id"].is_required()
    assert model.model_fields["name"].annotation is str
    assert not model.model_fields["colour"].is_required()
    assert model.model_validate({"id": 3, "name": "c"}).colour is None  # type: ignore[attr-defined]


def test_nested_objects_lists_and_awkward_names() -> None:
    top, namespace = _models(
        [_sample([{"id": 1, "owner": {"login": "x"}, "class": "a", "tags": ["t"], "x-y": 1.5}])],
        name="Widget",
    )
    assert top == "list[WidgetItem]"
    item: type[BaseModel] = namespace["WidgetItem"]
    owner: type[BaseModel] = namespace["WidgetItemOwner"]
    assert item.model_fields["owner"].annotation is owner
    assert item.model_fields["class_"].alias == "class"
    assert item.model_fields["x_y"].alias == "x-y"
    assert item.model_fields["tags"].annotation == list[str]


def test_the_examples_are_the_redacted_ones() -> None:
    _, namespace = _models([_sample({"user": "ann", "api_token": "s3cr3t"})])
    examples = namespace["Thing"].model_json_schema()["examples"]
    assert examples == [{"api_token": "[redacted]", "user": "ann"}]
    assert "s3cr3t" not in repr(namespace["Thing"].model_json_schema())


def test_class_names_are_made_of_the_view_and_the_part() -> None:
    assert class_name("get_widget", "response") == "GetWidgetResponse"
    assert class_name("2fa", "body") == "M2faBody"
