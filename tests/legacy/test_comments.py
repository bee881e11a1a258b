"""/api/posts/<id>/comments and /api/comments/<id>: public reading, signed-in writing, and
deletion by the comment's author only."""

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_models import Comment
from tests.legacy.helpers import Account, assert_error, assert_html, assert_http_date, send_json


def create_post(client: httpx.Client, author: Account, *, published: bool = True) -> int:
    payload = {"title": "Hello", "published": published}
    response = client.post("/api/posts", json=payload, headers=author.headers)
    assert response.status_code == 201
    return int(response.json()["id"])


def comment(client: httpx.Client, author: Account, post_id: int, body: str) -> dict[str, Any]:
    response = client.post(
        f"/api/posts/{post_id}/comments", json={"body": body}, headers=author.headers
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_create_and_list_comments(
    client: httpx.Client, alice: Account, bob: Account, db_session: Session
) -> None:
    post_id = create_post(client, alice)
    created = comment(client, bob, post_id, "Nice post ✓")
    assert_http_date(created.pop("created_at"))
    assert created == {
        "author": "bob",
        "author_id": bob.id,
        "body": "Nice post ✓",
        "id": created["id"],
        "post_id": post_id,
    }
    comment(client, alice, post_id, "Thanks")

    listed = client.get(f"/api/posts/{post_id}/comments")
    assert listed.status_code == 200
    assert listed.headers["content-type"] == "application/json"
    document = listed.json()
    assert document["total"] == 2
    assert [(c["author"], c["body"]) for c in document["comments"]] == [
        ("bob", "Nice post ✓"),
        ("alice", "Thanks"),
    ]
    assert db_session.scalars(select(Comment.body).order_by(Comment.id)).all() == [
        "Nice post ✓",
        "Thanks",
    ]


def test_listing_pages_by_limit_and_offset(client: httpx.Client, alice: Account) -> None:
    post_id = create_post(client, alice)
    for n in range(5):
        comment(client, alice, post_id, f"c{n}")
    page = client.get(f"/api/posts/{post_id}/comments?limit=2&offset=1").json()
    assert [c["body"] for c in page["comments"]] == ["c1", "c2"]
    assert page["total"] == 5
    past_the_end = client.get(f"/api/posts/{post_id}/comments?offset=2147483647").json()
    assert past_the_end == {"comments": [], "total": 5}
    # Not an integer at all: Flask's `type=int` falls back to the default.
    assert len(client.get(f"/api/posts/{post_id}/comments?limit=abc").json()["comments"]) == 5


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "limit=-1", "offset=-1", "offset=2147483648"]
)
def test_listing_refuses_a_bad_limit_or_offset(
    client: httpx.Client, alice: Account, query: str
) -> None:
    post_id = create_post(client, alice)
    response = client.get(f"/api/posts/{post_id}/comments?{query}")
    assert_error(response, 400, "Invalid limit or offset")


@pytest.mark.parametrize("post_id", ["999", "2147483648", "99999999999999999999"])
def test_comments_of_an_unknown_post(client: httpx.Client, alice: Account, post_id: str) -> None:
    assert_error(client.get(f"/api/posts/{post_id}/comments"), 404, "Post not found")
    response = client.post(
        f"/api/posts/{post_id}/comments", json={"body": "x"}, headers=alice.headers
    )
    assert_error(response, 404, "Post not found")


def test_a_draft_has_no_comments(client: httpx.Client, alice: Account) -> None:
    draft = create_post(client, alice, published=False)
    assert_error(client.get(f"/api/posts/{draft}/comments"), 404, "Post not found")
    response = client.post(
        f"/api/posts/{draft}/comments", json={"body": "x"}, headers=alice.headers
    )
    assert_error(response, 404, "Post not found")


def test_commenting_needs_a_token(client: httpx.Client, alice: Account) -> None:
    post_id = create_post(client, alice)
    url = f"/api/posts/{post_id}/comments"
    missing = client.post(url, json={"body": "x"})
    assert_error(missing, 401, "Authentication required")
    assert missing.headers["www-authenticate"] == "Bearer"
    invalid = client.post(url, json={"body": "x"}, headers={"Authorization": "Bearer nope"})
    assert_error(invalid, 401, "Invalid token")
    assert invalid.headers["www-authenticate"] == 'Bearer error="invalid_token"'


@pytest.mark.parametrize("content", [b"", b"{oops", b"[]", b"{}", b'"x"', b"[" * 100_000])
def test_commenting_without_an_object(client: httpx.Client, alice: Account, content: bytes) -> None:
    post_id = create_post(client, alice)
    headers = {**alice.headers, "Content-Type": "application/json"}
    response = client.post(f"/api/posts/{post_id}/comments", content=content, headers=headers)
    assert_error(response, 400, "No data provided")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"text": "x"}, "Missing required fields"),
        ({"body": ""}, "Missing required fields"),
        ({"body": None}, "Missing required fields"),
        ({"body": 5}, "Invalid field types"),
        ({"body": ["x"]}, "Invalid field types"),
        ({"body": "a\x00b"}, "Invalid field types"),
        ({"body": "\ud800"}, "Invalid field types"),
        ({"body": "x" * 501}, "Comment too long"),
    ],
)
def test_commenting_invalid(
    client: httpx.Client, alice: Account, payload: dict[str, Any], message: str
) -> None:
    post_id = create_post(client, alice)
    response = send_json(
        client, "POST", f"/api/posts/{post_id}/comments", payload, headers=alice.headers
    )
    assert_error(response, 400, message)


def test_a_comment_of_exactly_500_characters(client: httpx.Client, alice: Account) -> None:
    post_id = create_post(client, alice)
    assert comment(client, alice, post_id, "é" * 500)["body"] == "é" * 500


def test_only_the_author_deletes_a_comment(
    client: httpx.Client, alice: Account, bob: Account
) -> None:
    post_id = create_post(client, alice)
    comment_id = comment(client, bob, post_id, "mine")["id"]
    url = f"/api/comments/{comment_id}"

    assert_error(client.delete(url), 401, "Authentication required")
    assert_error(client.delete(url, headers=alice.headers), 403, "Forbidden")
    deleted = client.delete(url, headers=bob.headers)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_error(client.delete(url, headers=bob.headers), 404, "Comment not found")
    assert client.get(f"/api/posts/{post_id}/comments").json() == {"comments": [], "total": 0}


@pytest.mark.parametrize("comment_id", ["999", "2147483648", "99999999999999999999"])
def test_deleting_an_unknown_comment(client: httpx.Client, alice: Account, comment_id: str) -> None:
    response = client.delete(f"/api/comments/{comment_id}", headers=alice.headers)
    assert_error(response, 404, "Comment not found")


def test_deleting_a_post_deletes_its_comments(
    client: httpx.Client, alice: Account, bob: Account, db_session: Session
) -> None:
    post_id = create_post(client, alice)
    comment(client, bob, post_id, "gone with the post")
    assert client.delete(f"/api/posts/{post_id}", headers=alice.headers).status_code == 204
    db_session.expire_all()
    assert db_session.scalars(select(Comment)).all() == []


def test_methods_and_paths_no_view_handles(client: httpx.Client, alice: Account) -> None:
    post_id = create_post(client, alice)
    assert_html(client.put(f"/api/posts/{post_id}/comments"), 405)
    assert_html(client.get("/api/comments/1"), 405)
    assert_html(client.get("/api/posts/abc/comments"), 404)
