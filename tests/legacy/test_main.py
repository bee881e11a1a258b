"""Greeting, stats, and the Werkzeug behaviour for URLs and methods no view handles."""

from decimal import Decimal

import httpx
from sqlalchemy.orm import Session

from shared_models import Item, Post
from tests.legacy.helpers import Account, assert_html


def test_hello_is_compact_sorted_json_with_trailing_newline(client: httpx.Client) -> None:
    response = client.get("/api/hello")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == b'{"message":"Hello, World!"}\n'


def test_stats_on_empty_database(client: httpx.Client) -> None:
    response = client.get("/api/stats/")
    assert response.status_code == 200
    assert response.content == b'{"items":0,"posts":0,"users":0}\n'


def test_stats_count_only_published_posts(
    client: httpx.Client, db_session: Session, alice: Account, bob: Account
) -> None:
    db_session.add_all(
        [
            Post(author_id=alice.id, title="out", published=True),
            Post(author_id=alice.id, title="draft", published=False),
            Post(author_id=bob.id, title="also out", published=True),
            Item(name="Widget", price=Decimal("1.00")),
        ]
    )
    db_session.commit()
    assert client.get("/api/stats/").json() == {"items": 1, "posts": 2, "users": 2}


def test_stats_without_trailing_slash_is_a_permanent_redirect(client: httpx.Client) -> None:
    response = client.get("/api/stats", params={"x": "1"})
    assert response.status_code == 308
    assert response.headers["location"].endswith("/api/stats/?x=1")
    assert response.headers["content-type"] == "text/html; charset=utf-8"


def test_unknown_url_is_werkzeug_html_404(client: httpx.Client) -> None:
    assert_html(client.get("/api/nothing-here"), 404)


def test_unhandled_method_is_werkzeug_html_405_with_allow(client: httpx.Client) -> None:
    response = client.delete("/api/hello")
    assert_html(response, 405)
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_negative_id_does_not_match_the_int_converter(client: httpx.Client) -> None:
    assert_html(client.get("/api/users/-1"), 404)


def test_id_with_more_digits_than_python_converts_is_html_404(client: httpx.Client) -> None:
    assert_html(client.get("/api/users/" + "9" * 5000), 404)
