"""Parity of the drafted `comments` port with its Flask views, made by `cutover scaffold` from the
traffic the gateway saw (redacted) and edge cases; `gateway` and `reset` come from conftest."""

# cutover-scaffold routes: GET /api/posts/<int:post_id>/comments; POST /api/posts/<int:post_id>/comments; DELETE /api/comments/<int:comment_id>  # noqa: E501

from collections.abc import Callable

import pytest

from cutover import Gateway
from cutover.parity import Step, assert_parity

pytestmark = pytest.mark.anyio


LIST_COMMENTS_GET_RECORDED = [
    Step(
        "POST",
        "/api/posts",
        json={"title": "Cutover notes", "body": "Porting comments", "published": True},
    ),
    Step("GET", "/api/posts/999999/comments"),
    Step("GET", "/api/posts/1/comments"),
]


async def test_get_list_comments_recorded(gateway: Gateway, reset: Callable[[], object]) -> None:
    await assert_parity(gateway, LIST_COMMENTS_GET_RECORDED, reset=reset)


LIST_COMMENTS_GET_EDGE_CASES = [
    Step(
        "POST",
        "/api/posts",
        json={"title": "Cutover notes", "body": "Porting comments", "published": True},
    ),
    Step("GET", "/api/posts/999999/comments"),
    Step("GET", "/api/posts/1/comments?limit=not-a-number"),
    Step("GET", "/api/posts/1/comments?limit=2"),
    Step("GET", "/api/posts/1/comments?offset=not-a-number"),
    Step("GET", "/api/posts/1/comments?offset=2"),
]


async def test_get_list_comments_edge_cases(gateway: Gateway, reset: Callable[[], object]) -> None:
    await assert_parity(gateway, LIST_COMMENTS_GET_EDGE_CASES, reset=reset)


CREATE_COMMENT_POST_RECORDED = [
    Step(
        "POST",
        "/api/posts",
        json={"title": "Cutover notes", "body": "Porting comments", "published": True},
    ),
    Step("POST", "/api/posts/1/comments", json={"body": "Nice write-up"}),
    Step("POST", "/api/posts/1/comments", json={"body": "Thanks!"}),
    Step("POST", "/api/posts/1/comments", json={"text": "wrong field"}),
    Step("POST", "/api/posts/1/comments", json={"body": "Still here"}),
]


async def test_post_create_comment_recorded(gateway: Gateway, reset: Callable[[], object]) -> None:
    await assert_parity(gateway, CREATE_COMMENT_POST_RECORDED, reset=reset)


CREATE_COMMENT_POST_EDGE_CASES = [
    Step(
        "POST",
        "/api/posts",
        json={"title": "Cutover notes", "body": "Porting comments", "published": True},
    ),
    Step("POST", "/api/posts/1/comments"),
    Step(
        "POST", "/api/posts/1/comments", content="{", headers={"Content-Type": "application/json"}
    ),
    Step("POST", "/api/posts/1/comments", json={"body": 12345}),
    Step("POST", "/api/posts/999999/comments"),
]


async def test_post_create_comment_edge_cases(
    gateway: Gateway, reset: Callable[[], object]
) -> None:
    await assert_parity(gateway, CREATE_COMMENT_POST_EDGE_CASES, reset=reset)


DELETE_COMMENT_DELETE_RECORDED = [
    Step("DELETE", "/api/comments/1"),
    Step("DELETE", "/api/comments/999999"),
]


async def test_delete_delete_comment_recorded(
    gateway: Gateway, reset: Callable[[], object]
) -> None:
    await assert_parity(gateway, DELETE_COMMENT_DELETE_RECORDED, reset=reset)


DELETE_COMMENT_DELETE_EDGE_CASES = [
    Step("DELETE", "/api/comments/999999"),
]


async def test_delete_delete_comment_edge_cases(
    gateway: Gateway, reset: Callable[[], object]
) -> None:
    await assert_parity(gateway, DELETE_COMMENT_DELETE_EDGE_CASES, reset=reset)


# cutover-scaffold digest: 25a2c83522f3a1c2
