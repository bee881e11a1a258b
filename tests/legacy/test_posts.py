"""/api/posts: public listing, drafts for their author, and author-only edits."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from shared_models import Post
from tests.legacy.helpers import Account, assert_error, assert_http_date, send_json


def create_post(
    client: httpx.Client, author: Account, title: str = "Hello", *, published: bool = True
) -> dict[str, Any]:
    payload = {"title": title, "body": "text", "published": published}
    response = client.post("/api/posts", json=payload, headers=author.headers)
    assert response.status_code == 201
    return response.json()  # type: ignore[no-any-return]


def test_create_post(client: httpx.Client, alice: Account) -> None:
    response = client.post("/api/posts", json={"title": "Hi", "body": "b"}, headers=alice.headers)
    assert response.status_code == 201
    post = response.json()
    assert response.headers["location"] == f"/api/posts/{post['id']}"
    assert_http_date(post.pop("created_at"))
    assert_http_date(post.pop("updated_at"))
    assert post == {
        "author": "alice",
        "author_id": alice.id,
        "body": "b",
        "id": post["id"],
        "published": False,
        "title": "Hi",
    }


def test_create_needs_a_token(client: httpx.Client) -> None:
    assert_error(client.post("/api/posts", json={"title": "x"}), 401, "Authentication required")
    response = client.post("/api/posts", json={"title": "x"}, headers={"Authorization": "Bearer x"})
    assert_error(response, 401, "Invalid token")


@pytest.mark.parametrize("content", [b"", b"{oops", b"[]", b"{}", b"1"])
def test_create_without_an_object(client: httpx.Client, alice: Account, content: bytes) -> None:
    headers = {**alice.headers, "Content-Type": "application/json"}
    response = client.post("/api/posts", content=content, headers=headers)
    assert_error(response, 400, "No data provided")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"body": "b"}, "Missing required fields"),
        ({"title": ""}, "Missing required fields"),
        ({"title": 1}, "Invalid field types"),
        ({"title": "t", "body": []}, "Invalid field types"),
        ({"title": "t", "published": "true"}, "Invalid field types"),
        ({"title": "t", "published": 1}, "Invalid field types"),
        ({"title": "t", "published": None}, "Invalid field types"),
        ({"title": "\u0000"}, "Invalid field types"),
        ({"title": "t" * 201}, "Title too long"),
    ],
)
def test_create_invalid(
    client: httpx.Client, alice: Account, payload: dict[str, Any], message: str
) -> None:
    response = send_json(client, "POST", "/api/posts", payload, headers=alice.headers)
    assert_error(response, 400, message)


def test_listing_shows_published_newest_first(
    client: httpx.Client, db_session: Session, alice: Account, bob: Account
) -> None:
    now = datetime.now(UTC)
    db_session.add_all(
        [
            Post(author_id=alice.id, title="old", published=True, created_at=now - timedelta(1)),
            Post(author_id=bob.id, title="tie-first", published=True, created_at=now),
            Post(author_id=alice.id, title="tie-second", published=True, created_at=now),
            Post(author_id=alice.id, title="draft", published=False, created_at=now),
        ]
    )
    db_session.commit()
    body = client.get("/api/posts").json()
    assert [post["title"] for post in body.pop("posts")] == ["tie-second", "tie-first", "old"]
    assert body == {"page": 1, "pages": 1, "per_page": 10, "total": 3}


def test_author_also_sees_own_drafts(client: httpx.Client, alice: Account, bob: Account) -> None:
    create_post(client, alice, "alice draft", published=False)
    create_post(client, bob, "bob draft", published=False)
    create_post(client, bob, "bob public")
    titles = [
        post["title"] for post in client.get("/api/posts", headers=alice.headers).json()["posts"]
    ]
    assert titles == ["bob public", "alice draft"]


def test_invalid_bearer_on_listing_is_anonymous(client: httpx.Client, alice: Account) -> None:
    create_post(client, alice, "draft", published=False)
    response = client.get("/api/posts", headers={"Authorization": "Bearer forged"})
    assert response.status_code == 200
    assert response.json()["posts"] == []


def test_listing_pages(client: httpx.Client, alice: Account) -> None:
    for n in range(3):
        create_post(client, alice, f"p{n}")
    body = client.get("/api/posts", params={"page": 2, "per_page": 2}).json()
    assert [post["title"] for post in body["posts"]] == ["p0"]
    assert (body["pages"], body["total"]) == (2, 3)
    far = client.get("/api/posts", params={"page": "99999999999999999999"}).json()
    assert far["posts"] == []


@pytest.mark.parametrize("params", [{"page": "0"}, {"per_page": "x"}, {"page": "-2"}])
def test_listing_invalid_pagination(client: httpx.Client, params: dict[str, str]) -> None:
    assert_error(client.get("/api/posts", params=params), 400, "Invalid pagination parameters")


def test_get_post(client: httpx.Client, alice: Account) -> None:
    post = create_post(client, alice)
    response = client.get(f"/api/posts/{post['id']}")
    assert response.status_code == 200
    assert response.json() == post


def test_draft_is_visible_to_its_author_only(
    client: httpx.Client, alice: Account, bob: Account
) -> None:
    draft = create_post(client, alice, published=False)
    url = f"/api/posts/{draft['id']}"
    assert client.get(url, headers=alice.headers).json() == draft
    assert_error(client.get(url), 404, "Post not found")
    assert_error(client.get(url, headers=bob.headers), 404, "Post not found")


@pytest.mark.parametrize("post_id", ["404", "99999999999999999999"])
def test_unknown_post(client: httpx.Client, alice: Account, post_id: str) -> None:
    url = f"/api/posts/{post_id}"
    assert_error(client.get(url), 404, "Post not found")
    assert_error(client.put(url, json={"title": "x"}, headers=alice.headers), 404, "Post not found")
    assert_error(client.delete(url, headers=alice.headers), 404, "Post not found")


def test_update_post(client: httpx.Client, alice: Account) -> None:
    post = create_post(client, alice, published=False)
    url = f"/api/posts/{post['id']}"
    response = client.put(url, json={"published": True}, headers=alice.headers)
    assert response.status_code == 200
    updated = response.json()
    assert (updated["title"], updated["body"], updated["published"]) == ("Hello", "text", True)
    renamed = client.put(url, json={"title": "Renamed", "body": ""}, headers=alice.headers).json()
    assert (renamed["title"], renamed["body"], renamed["published"]) == ("Renamed", "", True)
    assert client.get(url).json() == renamed


def test_only_the_author_may_edit(client: httpx.Client, alice: Account, bob: Account) -> None:
    post = create_post(client, alice)
    url = f"/api/posts/{post['id']}"
    assert_error(client.put(url, json={"title": "mine"}, headers=bob.headers), 403, "Forbidden")
    assert_error(client.delete(url, headers=bob.headers), 403, "Forbidden")
    assert client.get(url).json()["title"] == "Hello"


def test_someone_elses_draft_is_not_found_for_edits(
    client: httpx.Client, alice: Account, bob: Account
) -> None:
    draft = create_post(client, alice, published=False)
    url = f"/api/posts/{draft['id']}"
    assert_error(client.put(url, json={"title": "x"}, headers=bob.headers), 404, "Post not found")
    assert_error(client.delete(url, headers=bob.headers), 404, "Post not found")


def test_edits_need_a_token(client: httpx.Client, alice: Account) -> None:
    post = create_post(client, alice)
    url = f"/api/posts/{post['id']}"
    assert_error(client.put(url, json={"title": "x"}), 401, "Authentication required")
    assert_error(client.delete(url, headers={"Authorization": "Bearer x"}), 401, "Invalid token")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "No data provided"),
        ([], "No data provided"),
        ({"title": ""}, "Missing required fields"),
        ({"title": None}, "Missing required fields"),
        ({"body": 3}, "Invalid field types"),
        ({"published": "yes"}, "Invalid field types"),
        ({"title": "t" * 201}, "Title too long"),
    ],
)
def test_update_invalid(client: httpx.Client, alice: Account, payload: Any, message: str) -> None:
    post = create_post(client, alice)
    response = client.put(f"/api/posts/{post['id']}", json=payload, headers=alice.headers)
    assert_error(response, 400, message)


def test_delete_post(client: httpx.Client, alice: Account) -> None:
    post = create_post(client, alice)
    url = f"/api/posts/{post['id']}"
    response = client.delete(url, headers=alice.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert_error(client.get(url), 404, "Post not found")
