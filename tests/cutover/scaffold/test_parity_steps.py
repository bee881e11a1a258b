"""The drafted parity steps from what the store keeps: the shadow's exemplars replayed as they
came (path, query, body; credentials not kept, so not sent), cut or binary bodies left out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cutover.scaffold.parity import exemplar_steps
from cutover.shadow.evidence import StoredExemplar


def _exemplar(request: dict[str, Any]) -> StoredExemplar:
    answer = {"status": 200, "headers": [], "body": {"size": 0, "truncated": False, "text": ""}}
    return StoredExemplar(
        id=1,
        at=datetime(2026, 12, 1, tzinfo=UTC),
        request=request,
        primary=answer,
        candidate=answer,
        comparison={},
        report="",
    )


def test_exemplars_are_replayed_as_they_came() -> None:
    json_body = {
        "size": 15,
        "truncated": False,
        "text": '{"name": "cog", "password": "[redacted]"}',
    }
    form_body = {"size": 5, "truncated": False, "text": "a=1&b=2"}
    steps = exemplar_steps(
        [
            _exemplar(
                {
                    "method": "GET",
                    "path": "/widgets/7",
                    "query": "format=long",
                    "headers": [["authorization", "Bearer [redacted]"]],
                    "body": {"size": 0, "truncated": False, "text": ""},
                }
            ),
            _exemplar(
                {
                    "method": "POST",
                    "path": "/widgets",
                    "query": "",
                    "headers": [["content-type", "application/json"]],
                    "body": json_body,
                }
            ),
            _exemplar(
                {
                    "method": "POST",
                    "path": "/form",
                    "query": "",
                    "headers": [["Content-Type", "application/x-www-form-urlencoded"]],
                    "body": form_body,
                }
            ),
            _exemplar(
                {
                    "method": "POST",
                    "path": "/big",
                    "query": "",
                    "headers": [],
                    "body": {"size": 99999999, "truncated": True, "text": "{"},
                }
            ),
        ]
    )
    assert steps == [
        "Step('GET', '/widgets/7?format=long')",
        "Step('POST', '/widgets', json={'name': 'cog', 'password': '[redacted]'})",
        "Step('POST', '/form', content='a=1&b=2', "
        "headers={'Content-Type': 'application/x-www-form-urlencoded'})",
    ]
