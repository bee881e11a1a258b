"""/api/notes: ownership, optimistic versions, tombstones and the sync cursor."""

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.legacy.helpers import Account, assert_error, assert_http_date, send_json


def create_note(client: httpx.Client, owner: Account, title: str = "Groceries") -> dict[str, Any]:
    response = client.post(
        "/api/notes", json={"title": title, "body": "milk"}, headers=owner.headers
    )
    assert response.status_code == 201
    return response.json()  # type: ignore[no-any-return]


def test_create_note(client: httpx.Client, alice: Account) -> None:
    response = client.post(
        "/api/notes", json={"title": "Ideas", "body": "ß"}, headers=alice.headers
    )
    assert response.status_code == 201
    note = response.json()
    assert response.headers["location"] == f"/api/notes/{note['id']}"
    assert_http_date(note.pop("created_at"))
    assert_http_date(note.pop("updated_at"))
    assert note == {"body": "ß", "deleted": False, "id": note["id"], "title": "Ideas", "version": 1}


def test_body_defaults_to_empty(client: httpx.Client, alice: Account) -> None:
    response = client.post("/api/notes", json={"title": "t"}, headers=alice.headers)
    assert response.json()["body"] == ""


def test_get_note(client: httpx.Client, alice: Account) -> None:
    note = create_note(client, alice)
    response = client.get(f"/api/notes/{note['id']}", headers=alice.headers)
    assert response.status_code == 200
    assert response.json() == note


def test_notes_need_a_token(client: httpx.Client, alice: Account) -> None:
    note = create_note(client, alice)
    assert_error(client.get("/api/notes"), 401, "Authentication required")
    assert_error(client.post("/api/notes", json={"title": "x"}), 401, "Authentication required")
    bad = {"Authorization": "Bearer nope"}
    for method in ("GET", "PUT", "DELETE"):
        response = client.request(method, f"/api/notes/{note['id']}", headers=bad)
        assert_error(response, 401, "Invalid token")


def test_someone_elses_note_is_not_found(
    client: httpx.Client, alice: Account, bob: Account
) -> None:
    note = create_note(client, alice)
    url = f"/api/notes/{note['id']}"
    assert_error(client.get(url, headers=bob.headers), 404, "Note not found")
    update = {"title": "mine", "version": 1}
    assert_error(client.put(url, json=update, headers=bob.headers), 404, "Note not found")
    assert_error(client.delete(url, headers=bob.headers), 404, "Note not found")
    assert client.get(url, headers=alice.headers).json()["title"] == "Groceries"


@pytest.mark.parametrize("note_id", ["12345", "99999999999999999999"])
def test_unknown_note(client: httpx.Client, alice: Account, note_id: str) -> None:
    url = f"/api/notes/{note_id}"
    assert_error(client.get(url, headers=alice.headers), 404, "Note not found")
    update = {"title": "x", "version": 1}
    assert_error(client.put(url, json=update, headers=alice.headers), 404, "Note not found")
    assert_error(client.delete(url, headers=alice.headers), 404, "Note not found")


@pytest.mark.parametrize("content", [b"", b"nope", b"[]", b"{}", b'"t"'])
def test_create_without_an_object(client: httpx.Client, alice: Account, content: bytes) -> None:
    headers = {**alice.headers, "Content-Type": "application/json"}
    response = client.post("/api/notes", content=content, headers=headers)
    assert_error(response, 400, "No data provided")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"body": "no title"}, "Missing required fields"),
        ({"title": ""}, "Missing required fields"),
        ({"title": None}, "Missing required fields"),
        ({"title": 5}, "Invalid field types"),
        ({"title": "t", "body": 5}, "Invalid field types"),
        ({"title": "t", "body": None}, "Invalid field types"),
        ({"title": "t\u0000"}, "Invalid field types"),
        ({"title": "t", "body": "\udfff"}, "Invalid field types"),
        ({"title": "x" * 201}, "Title too long"),
    ],
)
def test_create_invalid(
    client: httpx.Client, alice: Account, payload: dict[str, Any], message: str
) -> None:
    response = send_json(client, "POST", "/api/notes", payload, headers=alice.headers)
    assert_error(response, 400, message)


def test_title_of_200_characters_fits(client: httpx.Client, alice: Account) -> None:
    note = create_note(client, alice, title="é" * 200)
    assert note["title"] == "é" * 200


def test_update_bumps_the_version(client: httpx.Client, alice: Account) -> None:
    note = create_note(client, alice)
    url = f"/api/notes/{note['id']}"
    response = client.put(url, json={"title": "Shopping", "version": 1}, headers=alice.headers)
    assert response.status_code == 200
    updated = response.json()
    assert (updated["title"], updated["body"], updated["version"]) == ("Shopping", "milk", 2)
    assert updated["created_at"] == note["created_at"]
    body_only = client.put(url, json={"body": "eggs", "version": 2}, headers=alice.headers)
    assert (body_only.json()["title"], body_only.json()["body"]) == ("Shopping", "eggs")
    assert client.get(url, headers=alice.headers).json()["version"] == 3


def test_stale_version_is_a_conflict_with_the_current_note(
    client: httpx.Client, alice: Account
) -> None:
    note = create_note(client, alice)
    url = f"/api/notes/{note['id']}"
    current = client.put(url, json={"title": "v2", "version": 1}, headers=alice.headers).json()
    response = client.put(url, json={"title": "lost", "version": 1}, headers=alice.headers)
    assert response.status_code == 409
    assert response.json() == {"error": "Version conflict", "note": current}
    assert client.get(url, headers=alice.headers).json()["title"] == "v2"


def test_huge_version_is_a_conflict(client: httpx.Client, alice: Account) -> None:
    note = create_note(client, alice)
    payload = {"title": "x", "version": 10**30}
    response = client.put(f"/api/notes/{note['id']}", json=payload, headers=alice.headers)
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"title": "x"}, "Missing version"),
        ({"title": "x", "version": "1"}, "Missing version"),
        ({"title": "x", "version": True}, "Missing version"),
        ({"title": "x", "version": 1.0}, "Missing version"),
        ({"title": "x", "version": None}, "Missing version"),
        ({"title": "", "version": 1}, "Missing required fields"),
        ({"title": ["x"], "version": 1}, "Invalid field types"),
        ({"body": 1, "version": 1}, "Invalid field types"),
        ({"title": "x" * 201, "version": 1}, "Title too long"),
    ],
)
def test_update_invalid(
    client: httpx.Client, alice: Account, payload: dict[str, Any], message: str
) -> None:
    note = create_note(client, alice)
    response = client.put(f"/api/notes/{note['id']}", json=payload, headers=alice.headers)
    assert_error(response, 400, message)


@pytest.mark.parametrize("content", [b"", b"{", b"[1]", b"{}"])
def test_update_without_an_object(client: httpx.Client, alice: Account, content: bytes) -> None:
    note = create_note(client, alice)
    headers = {**alice.headers, "Content-Type": "application/json"}
    response = client.put(f"/api/notes/{note['id']}", content=content, headers=headers)
    assert_error(response, 400, "No data provided")


def test_delete_leaves_a_tombstone(client: httpx.Client, alice: Account) -> None:
    note = create_note(client, alice)
    url = f"/api/notes/{note['id']}"
    response = client.delete(url, headers=alice.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["content-type"] == "text/html; charset=utf-8"  # Flask's default
    assert_error(client.get(url, headers=alice.headers), 404, "Note not found")
    assert_error(client.delete(url, headers=alice.headers), 404, "Note not found")
    update = {"title": "back", "version": 2}
    assert_error(client.put(url, json=update, headers=alice.headers), 404, "Note not found")
    [tombstone] = client.get("/api/notes", headers=alice.headers).json()["changes"]
    assert (tombstone["id"], tombstone["deleted"], tombstone["version"]) == (note["id"], True, 2)


def test_changes_in_change_order_with_cursor(client: httpx.Client, alice: Account) -> None:
    first = create_note(client, alice, "first")
    second = create_note(client, alice, "second")
    client.put(
        f"/api/notes/{first['id']}", json={"title": "first!", "version": 1}, headers=alice.headers
    )

    everything = client.get("/api/notes", headers=alice.headers).json()
    assert [(n["id"], n["title"]) for n in everything["changes"]] == [
        (second["id"], "second"),
        (first["id"], "first!"),
    ]
    assert everything["cursor"] == "3"

    since_one = client.get("/api/notes", params={"since": "1"}, headers=alice.headers).json()
    assert [n["title"] for n in since_one["changes"]] == ["second", "first!"]
    caught_up = client.get("/api/notes", params={"since": "3"}, headers=alice.headers).json()
    assert caught_up == {"changes": [], "cursor": "3"}


def test_changes_are_per_user(client: httpx.Client, alice: Account, bob: Account) -> None:
    create_note(client, alice)
    assert client.get("/api/notes", headers=bob.headers).json() == {"changes": [], "cursor": "0"}


def test_cursor_beyond_any_change(client: httpx.Client, alice: Account) -> None:
    create_note(client, alice)
    huge = "99999999999999999999"
    response = client.get("/api/notes", params={"since": huge}, headers=alice.headers)
    assert response.json() == {"changes": [], "cursor": huge}


@pytest.mark.parametrize("since", ["-1", "abc", "1.0", "", "9" * 5000])
def test_invalid_cursor(client: httpx.Client, alice: Account, since: str) -> None:
    response = client.get("/api/notes", params={"since": since}, headers=alice.headers)
    assert_error(response, 400, "Invalid cursor")


def test_concurrent_updates_of_one_version_let_exactly_one_win(
    client: httpx.Client, alice: Account
) -> None:
    note = create_note(client, alice)
    url = f"/api/notes/{note['id']}"
    writers = 4
    start = threading.Barrier(writers)

    def update(n: int) -> int:
        start.wait()
        payload = {"title": f"writer {n}", "version": 1}
        return client.put(url, json=payload, headers=alice.headers).status_code

    with ThreadPoolExecutor(writers) as pool:
        statuses = sorted(pool.map(update, range(writers)))
    assert statuses == [200] + [409] * (writers - 1)
    final = client.get(url, headers=alice.headers).json()
    assert final["version"] == 2
    changes = client.get("/api/notes", headers=alice.headers).json()
    assert changes["cursor"] == "2"
