"""/items: JSON or form creation, exact decimal prices, skip/limit listing."""

from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from shared_models import Item
from tests.legacy.helpers import assert_error, send_json


def test_create_item_from_json(client: httpx.Client) -> None:
    payload = {"name": "Widget", "price": "9.99", "tags": ["tools", "új"], "is_available": False}
    response = client.post("/items", json=payload)
    assert response.status_code == 201
    item_id = response.json()["id"]
    assert response.headers["location"] == f"/items/{item_id}"
    expected = (
        f'{{"id":{item_id},"is_available":false,"name":"Widget","price":"9.99",'
        '"tags":["tools","új"]}\n'
    )
    assert response.content == expected.encode()


def test_defaults(client: httpx.Client) -> None:
    item = client.post("/items", json={"name": "Gizmo", "price": 5}).json()
    assert (item["price"], item["is_available"], item["tags"]) == ("5.00", True, [])


@pytest.mark.parametrize(
    ("price", "stored"),
    [
        (9.99, "9.99"),
        (0, "0.00"),
        ("0.5", "0.50"),
        (1e2, "100.00"),
        ("9999999999.99", "9999999999.99"),
    ],
)
def test_price_is_kept_exactly(client: httpx.Client, price: Any, stored: str) -> None:
    response = client.post("/items", json={"name": "n", "price": price})
    assert response.status_code == 201
    assert response.json()["price"] == stored
    assert client.get(f"/items/{response.json()['id']}").json()["price"] == stored


def test_create_item_from_form(client: httpx.Client) -> None:
    form = {"name": "Gadget", "price": "24.50", "is_available": "false", "tags": ["a", "b"]}
    response = client.post("/items", data=form)
    assert response.status_code == 201
    item = response.json()
    assert (item["name"], item["price"], item["is_available"], item["tags"]) == (
        "Gadget",
        "24.50",
        False,
        ["a", "b"],
    )


def test_form_is_available_true_and_default(client: httpx.Client) -> None:
    assert client.post("/items", data={"name": "a", "price": "1", "is_available": "true"}).json()[
        "is_available"
    ]
    assert client.post("/items", data={"name": "b", "price": "1"}).json()["is_available"] is True


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"", "application/json"),
        (b"{bad", "application/json"),
        (b"[]", "application/json"),
        (b"{}", "application/json"),
        (b"", "application/x-www-form-urlencoded"),
        (b'{"name": "x", "price": 1}', "text/plain"),
    ],
)
def test_no_data(client: httpx.Client, content: bytes, content_type: str) -> None:
    response = client.post("/items", content=content, headers={"Content-Type": content_type})
    assert_error(response, 400, "No data provided")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"price": "1"}, "Missing required fields"),
        ({"name": "n"}, "Missing required fields"),
        ({"name": "", "price": "1"}, "Missing required fields"),
        ({"name": "n", "price": ""}, "Missing required fields"),
        ({"name": 7, "price": "1"}, "Invalid field types"),
        ({"name": "n", "price": "1", "is_available": "yes"}, "Invalid field types"),
        ({"name": "n", "price": "1", "is_available": 1}, "Invalid field types"),
        ({"name": "n", "price": "1", "tags": "a"}, "Invalid field types"),
        ({"name": "n", "price": "1", "tags": [1]}, "Invalid field types"),
        ({"name": "n", "price": "1", "tags": ["\u0000"]}, "Invalid field types"),
        ({"name": "n" * 201, "price": "1"}, "Name too long"),
        ({"name": "n", "price": "-1"}, "Invalid price"),
        ({"name": "n", "price": -0.01}, "Invalid price"),
        ({"name": "n", "price": "1.999"}, "Invalid price"),
        ({"name": "n", "price": 0.001}, "Invalid price"),
        ({"name": "n", "price": "1e999"}, "Invalid price"),
        ({"name": "n", "price": "1e2"}, "Invalid price"),
        ({"name": "n", "price": "NaN"}, "Invalid price"),
        ({"name": "n", "price": "Infinity"}, "Invalid price"),
        ({"name": "n", "price": float("nan")}, "Invalid price"),
        ({"name": "n", "price": float("inf")}, "Invalid price"),
        ({"name": "n", "price": "10000000000"}, "Invalid price"),
        ({"name": "n", "price": 10**30}, "Invalid price"),
        ({"name": "n", "price": " 1"}, "Invalid price"),
        ({"name": "n", "price": "abc"}, "Invalid price"),
        ({"name": "n", "price": True}, "Invalid price"),
        ({"name": "n", "price": [1]}, "Invalid price"),
    ],
)
def test_create_invalid(client: httpx.Client, payload: dict[str, Any], message: str) -> None:
    assert_error(send_json(client, "POST", "/items", payload), 400, message)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "n"}, "Missing required fields"),
        ({"name": "n", "price": "1", "is_available": "True"}, "Invalid field types"),
        ({"name": "n", "price": "1e999"}, "Invalid price"),
        ({"name": "n", "price": "nan"}, "Invalid price"),
    ],
)
def test_create_invalid_form(client: httpx.Client, form: dict[str, str], message: str) -> None:
    assert_error(client.post("/items", data=form), 400, message)


def test_non_utf8_form_bytes_stay_percent_encoded(client: httpx.Client) -> None:
    response = client.post(
        "/items",
        content=b"name=%FF&price=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 201
    assert response.json()["name"] == "%FF"


def test_get_item_echoes_q(client: httpx.Client) -> None:
    item = client.post("/items", json={"name": "W", "price": "1.5"}).json()
    assert client.get(f"/items/{item['id']}", params={"q": "find me"}).json() == {
        **item,
        "q": "find me",
    }
    assert client.get(f"/items/{item['id']}").json()["q"] is None


@pytest.mark.parametrize("item_id", ["1", "99999999999999999999"])
def test_unknown_item(client: httpx.Client, item_id: str) -> None:
    assert_error(client.get(f"/items/{item_id}"), 404, "Item not found")


@pytest.fixture
def five_items(db_session: Session) -> list[int]:
    items = [Item(name=f"i{n}", price=Decimal(n)) for n in range(5)]
    db_session.add_all(items)
    db_session.commit()
    return [item.id for item in items]


def test_list_items(client: httpx.Client, five_items: list[int]) -> None:
    response = client.get("/items")
    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == five_items
    window = client.get("/items", params={"skip": 1, "limit": 2}).json()
    assert [item["name"] for item in window] == ["i1", "i2"]


def test_list_items_edges(client: httpx.Client, five_items: list[int]) -> None:
    assert client.get("/items", params={"limit": 0}).json() == []
    assert client.get("/items", params={"skip": 5}).json() == []
    assert client.get("/items", params={"skip": "99999999999999999999"}).json() == []
    assert len(client.get("/items", params={"limit": 10**6}).json()) == 5


def test_limit_is_capped_at_100(client: httpx.Client, db_session: Session) -> None:
    db_session.add_all(Item(name=f"i{n}", price=Decimal(1)) for n in range(101))
    db_session.commit()
    assert len(client.get("/items", params={"limit": 1000}).json()) == 100


@pytest.mark.parametrize(
    "params", [{"skip": "-1"}, {"limit": "-5"}, {"skip": "a"}, {"limit": "1.0"}, {"limit": ""}]
)
def test_invalid_skip_or_limit(client: httpx.Client, params: dict[str, str]) -> None:
    assert_error(client.get("/items", params=params), 400, "Invalid skip or limit")
