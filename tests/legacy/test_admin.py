"""The HTML admin behind Flask's signed session cookie."""

import httpx
import pytest
from sqlalchemy.orm import Session

from shared_models import Post, User
from tests.legacy.helpers import PASSWORD, Account


def log_in(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    return client.post("/admin/login", data={"username": username, "password": password})


def test_admin_without_session_redirects_to_login(client: httpx.Client) -> None:
    response = client.get("/admin")
    assert response.status_code == 302
    assert response.headers["location"] == "/admin/login"
    assert "set-cookie" not in response.headers


def test_login_form(client: httpx.Client) -> None:
    response = client.get("/admin/login")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert '<form method="post" action="/admin/login">' in response.text
    assert 'class="error"' not in response.text


def test_login_sets_a_signed_session_and_shows_own_posts(
    client: httpx.Client, db_session: Session, alice: Account, bob: Account
) -> None:
    db_session.add_all(
        [
            Post(author_id=alice.id, title="Alice <draft>", published=False),
            Post(author_id=bob.id, title="Bob post", published=True),
        ]
    )
    db_session.commit()
    response = log_in(client, "alice")
    assert response.status_code == 302
    assert response.headers["location"] == "/admin"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie

    page = client.get("/admin")
    assert page.status_code == 200
    assert "Posts by alice" in page.text
    assert "Alice &lt;draft&gt;" in page.text
    assert "<td>draft</td>" in page.text
    assert "Bob post" not in page.text


def test_dashboard_without_posts(client: httpx.Client, alice: Account) -> None:
    log_in(client, "alice")
    assert "No posts yet." in client.get("/admin").text


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "wrong"), ("nobody", PASSWORD), ("", ""), ("al\u0000ice", PASSWORD)],
)
def test_bad_login_shows_the_form_with_an_error(
    client: httpx.Client, alice: Account, username: str, password: str
) -> None:
    response = log_in(client, username, password)
    assert response.status_code == 200
    assert '<p class="error">Invalid username or password</p>' in response.text
    assert "set-cookie" not in response.headers
    assert client.get("/admin").status_code == 302


def test_login_without_form_fields(client: httpx.Client) -> None:
    response = client.post("/admin/login")
    assert response.status_code == 200
    assert "Invalid username or password" in response.text


def test_logout_ends_the_session(client: httpx.Client, alice: Account) -> None:
    log_in(client, "alice")
    response = client.post("/admin/logout")
    assert response.status_code == 302
    assert response.headers["location"] == "/admin/login"
    assert client.get("/admin").status_code == 302


def test_forged_session_cookie_is_ignored(client: httpx.Client, alice: Account) -> None:
    client.cookies.set("session", "eyJ1c2VyX2lkIjoxfQ.forged.signature")
    response = client.get("/admin")
    assert response.status_code == 302
    assert response.headers["location"] == "/admin/login"


def test_session_of_a_deleted_user_is_dropped(
    client: httpx.Client, db_session: Session, alice: Account
) -> None:
    log_in(client, "alice")
    db_session.delete(db_session.get_one(User, alice.id))
    db_session.commit()
    response = client.get("/admin")
    assert response.status_code == 302
    assert "session=;" in response.headers["set-cookie"]


def test_admin_get_logout_is_405(client: httpx.Client) -> None:
    assert client.get("/admin/logout").status_code == 405
