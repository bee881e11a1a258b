"""POST/GET /api/users."""

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_models import User
from shared_models.passwords import verify_password
from tests.legacy.helpers import Account, assert_error, assert_http_date, send_json

NEW_USER = {"username": "carol", "email": "carol@example.com", "password": "s3cret", "age": 30}


def test_create_user(client: httpx.Client, db_session: Session) -> None:
    response = client.post("/api/users", json=NEW_USER)
    assert response.status_code == 201
    body = response.json()
    assert_http_date(body.pop("created_at"))
    assert body == {"age": 30, "email": "carol@example.com", "id": body["id"], "username": "carol"}
    assert response.headers["location"] == f"/api/users/{body['id']}"
    stored = db_session.scalars(select(User)).one()
    assert verify_password(stored.password_hash, "s3cret")


def test_created_user_can_be_read_back(client: httpx.Client) -> None:
    created = client.post("/api/users", json=NEW_USER).json()
    response = client.get(f"/api/users/{created['id']}")
    assert response.status_code == 200
    assert response.json() == created


def test_age_is_optional_and_non_ascii_is_kept_as_is(client: httpx.Client) -> None:
    user = {"username": "zoë", "email": "zoe@example.com", "password": "pw"}
    response = client.post("/api/users", json=user)
    assert response.status_code == 201
    assert response.json()["age"] is None
    assert '"username":"zoë"'.encode() in response.content


def test_email_domain_is_normalised(client: httpx.Client) -> None:
    user = {**NEW_USER, "email": "Carol@EXAMPLE.Com"}
    assert client.post("/api/users", json=user).json()["email"] == "Carol@example.com"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"", "application/json"),
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'"carol"', "application/json"),
        (b"42", "application/json"),
        (b"null", "application/json"),
        (b"{}", "application/json"),
        (b"[" * 100_000, "application/json"),
        (b'{"username": "\xff\xfe"}', "application/json"),
        (b'{"username": "carol"}', "text/plain"),
        (b"username=carol", "application/x-www-form-urlencoded"),
    ],
)
def test_body_that_is_not_a_json_object(
    client: httpx.Client, content: bytes, content_type: str
) -> None:
    response = client.post("/api/users", content=content, headers={"Content-Type": content_type})
    assert_error(response, 400, "No data provided")


@pytest.mark.parametrize(
    "changes",
    [
        {"username": None},
        {"username": ""},
        {"email": ""},
        {"password": None},
    ],
)
def test_missing_required_field(client: httpx.Client, changes: dict[str, Any]) -> None:
    assert_error(
        client.post("/api/users", json={**NEW_USER, **changes}), 400, "Missing required fields"
    )


def test_absent_required_field(client: httpx.Client) -> None:
    user = {"username": "carol", "password": "pw"}
    assert_error(client.post("/api/users", json=user), 400, "Missing required fields")


@pytest.mark.parametrize(
    "changes",
    [
        {"username": 123},
        {"username": ["carol"]},
        {"email": True},
        {"password": {"p": 1}},
        {"username": "nul\u0000byte"},
        {"password": "lone \ud800 surrogate"},
    ],
)
def test_invalid_field_types(client: httpx.Client, changes: dict[str, Any]) -> None:
    response = send_json(client, "POST", "/api/users", {**NEW_USER, **changes})
    assert_error(response, 400, "Invalid field types")


def test_username_longer_than_the_column(client: httpx.Client) -> None:
    too_long = {**NEW_USER, "username": "u" * 81}
    assert_error(client.post("/api/users", json=too_long), 400, "Username too long")
    assert client.post("/api/users", json={**NEW_USER, "username": "u" * 80}).status_code == 201


@pytest.mark.parametrize("email", ["no-at-sign", "a@b", "two@@example.com", "x@localhost"])
def test_invalid_email(client: httpx.Client, email: str) -> None:
    response = client.post("/api/users", json={**NEW_USER, "email": email})
    assert_error(response, 400, "Invalid email address")


@pytest.mark.parametrize("age", [-1, 151, 10**30, 30.0, "30", True, False, float("nan")])
def test_invalid_age(client: httpx.Client, age: Any) -> None:
    response = send_json(client, "POST", "/api/users", {**NEW_USER, "age": age})
    assert_error(response, 400, "Age must be an integer between 0 and 150")


@pytest.mark.parametrize("age", [0, 150])
def test_age_bounds_are_inclusive(client: httpx.Client, age: int) -> None:
    assert client.post("/api/users", json={**NEW_USER, "age": age}).json()["age"] == age


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_non_finite_age_literals(client: httpx.Client, literal: bytes) -> None:
    content = b'{"username": "carol", "email": "c@example.com", "password": "pw", "age": %s}'
    response = client.post(
        "/api/users", content=content % literal, headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "Age must be an integer between 0 and 150")


def test_username_taken(client: httpx.Client, alice: Account) -> None:
    user = {**NEW_USER, "username": alice.username}
    assert_error(client.post("/api/users", json=user), 400, "Username already exists")


def test_email_taken(client: httpx.Client, alice: Account) -> None:
    user = {**NEW_USER, "email": "alice@example.com"}
    assert_error(client.post("/api/users", json=user), 400, "Email already registered")


def test_get_unknown_user(client: httpx.Client) -> None:
    assert_error(client.get("/api/users/1"), 404, "User not found")


def test_get_user_id_beyond_the_integer_column(client: httpx.Client) -> None:
    assert_error(client.get("/api/users/99999999999999999999"), 404, "User not found")


def test_list_users_paginates_by_id(client: httpx.Client, db_session: Session) -> None:
    for name in ("u1", "u2", "u3"):
        client.post(
            "/api/users", json={"username": name, "email": f"{name}@example.com", "password": "pw"}
        )
    response = client.get("/api/users", params={"page": 2, "per_page": 2})
    assert response.status_code == 200
    body = response.json()
    assert [user["username"] for user in body.pop("users")] == ["u3"]
    assert body == {"page": 2, "pages": 2, "per_page": 2, "total": 3}


def test_list_users_defaults(client: httpx.Client, alice: Account) -> None:
    body = client.get("/api/users").json()
    assert [user["username"] for user in body["users"]] == ["alice"]
    assert (body["page"], body["per_page"], body["pages"], body["total"]) == (1, 10, 1, 1)


def test_list_users_empty(client: httpx.Client) -> None:
    expected = {"page": 1, "pages": 0, "per_page": 10, "total": 0, "users": []}
    assert client.get("/api/users").json() == expected


def test_per_page_is_capped_at_100(client: httpx.Client) -> None:
    assert client.get("/api/users", params={"per_page": 1000}).json()["per_page"] == 100


@pytest.mark.parametrize("page", ["99999999999999999999", "5"])
def test_page_past_the_end_is_empty(client: httpx.Client, alice: Account, page: str) -> None:
    response = client.get("/api/users", params={"page": page})
    assert response.status_code == 200
    assert response.json()["users"] == []
    assert response.json()["total"] == 1


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"page": "-1"},
        {"page": "abc"},
        {"page": "1.5"},
        {"page": ""},
        {"page": " 1"},
        {"per_page": "0"},
        {"per_page": "ten"},
        {"per_page": "9" * 5000},
    ],
)
def test_invalid_pagination(client: httpx.Client, params: dict[str, str]) -> None:
    assert_error(client.get("/api/users", params=params), 400, "Invalid pagination parameters")
