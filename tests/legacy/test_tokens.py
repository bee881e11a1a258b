"""POST/DELETE /api/tokens, GET /profile, and every way a bearer token can fail."""

import base64
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
import pytest
from sqlalchemy.orm import Session

from tests.legacy.helpers import PASSWORD, Account, assert_error, create_account

BASIC_CHALLENGE = 'Basic realm="api"'
INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"'


def test_issue_token_with_basic_credentials(client: httpx.Client, alice: Account) -> None:
    response = client.post("/api/tokens", auth=(alice.username, PASSWORD))
    assert response.status_code == 200
    body = response.json()
    assert sorted(body) == ["expires_at", "token"]
    expires_at = parsedate_to_datetime(body["expires_at"])
    assert datetime.now(UTC) < expires_at <= datetime.now(UTC) + timedelta(hours=1, minutes=1)
    profile = client.get("/profile", headers={"Authorization": f"Bearer {body['token']}"})
    assert profile.json()["username"] == "alice"


def test_each_login_gets_a_distinct_token(client: httpx.Client, alice: Account) -> None:
    first = client.post("/api/tokens", auth=(alice.username, PASSWORD)).json()["token"]
    second = client.post("/api/tokens", auth=(alice.username, PASSWORD)).json()["token"]
    assert first != second


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic " + base64.b64encode(b"alice:wrong").decode(),
        "Basic " + base64.b64encode(b"nobody:" + PASSWORD.encode()).decode(),
        "Basic " + base64.b64encode(b"alice").decode(),
        "Basic " + base64.b64encode(b":" + PASSWORD.encode()).decode(),
        "Basic " + base64.b64encode(b"al\x00ice:x").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "Basic !!!not-base64!!!",
        "Bearer something",
        "Basic",
    ],
)
def test_bad_credentials(client: httpx.Client, alice: Account, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = client.post("/api/tokens", headers=headers)
    assert_error(response, 401, "Invalid credentials")
    assert response.headers["www-authenticate"] == BASIC_CHALLENGE


def test_profile(client: httpx.Client, alice: Account) -> None:
    response = client.get("/profile", headers=alice.headers)
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["username"], body["email"]) == (alice.id, "alice", "alice@example.com")
    assert "password_hash" not in body


def test_bearer_scheme_is_case_insensitive(client: httpx.Client, alice: Account) -> None:
    response = client.get("/profile", headers={"Authorization": f"bearer {alice.token}"})
    assert response.status_code == 200


def test_profile_without_authorization(client: httpx.Client) -> None:
    response = client.get("/profile")
    assert_error(response, 401, "Authentication required")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Token abc", "Basic YWxpY2U6eA==", "Bearer not-a-real-token"],
)
def test_profile_with_a_bad_token(client: httpx.Client, alice: Account, authorization: str) -> None:
    response = client.get("/profile", headers={"Authorization": authorization})
    assert_error(response, 401, "Invalid token")
    assert response.headers["www-authenticate"] == INVALID_TOKEN_CHALLENGE


def test_expired_token(client: httpx.Client, db_session: Session) -> None:
    expired = create_account(db_session, "old", ttl_seconds=-1)
    response = client.get("/profile", headers=expired.headers)
    assert_error(response, 401, "Invalid token")
    assert response.headers["www-authenticate"] == INVALID_TOKEN_CHALLENGE


def test_revoke_token(client: httpx.Client, alice: Account) -> None:
    response = client.delete("/api/tokens", headers=alice.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert_error(client.get("/profile", headers=alice.headers), 401, "Invalid token")
    assert_error(client.delete("/api/tokens", headers=alice.headers), 401, "Invalid token")


def test_revoking_one_token_leaves_the_others(client: httpx.Client, alice: Account) -> None:
    other = client.post("/api/tokens", auth=(alice.username, PASSWORD)).json()["token"]
    assert client.delete("/api/tokens", headers=alice.headers).status_code == 204
    assert client.get("/profile", headers={"Authorization": f"Bearer {other}"}).status_code == 200


def test_revoke_without_token(client: httpx.Client) -> None:
    assert_error(client.delete("/api/tokens"), 401, "Authentication required")
