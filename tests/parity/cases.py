"""The request sequences replayed on both sides; adding an endpoint's cases is one list here."""

from tests.parity.harness import Case, H, login, user

JSON_CT = {"Content-Type": "application/json"}
FORM_CT = {"Content-Type": "application/x-www-form-urlencoded"}
HUGE = "99999999999999999999"
BAD_AGES: list[object] = [True, "5", 5.0, -1, 151, 10**30, [], {}, ""]


def raw(method: str, path: str, body: str | bytes, **kw: object) -> Case:
    """A body sent as written, labelled JSON: for malformed JSON, NaN, surrogates, NUL."""
    return H(method, path, content=body, headers=JSON_CT, **kw)  # type: ignore[arg-type]


# The port answers Flask's strict-slash redirect itself on a route of its own, so behind the
# gateway the new side serves it whatever the mode (the app alone, test_parity, compares it).
STATS_REDIRECT = "only the port has the slashless route: behind the gateway it answers both runs"

MAIN = [
    H("GET", "/api/hello"),
    H("HEAD", "/api/hello"),
    H("OPTIONS", "/api/hello"),
    H("DELETE", "/api/hello"),
    H("GET", "/api/hello/"),
    H("GET", "/api/nowhere"),
    H("GET", "/api/stats/"),
    H("GET", "/api/stats", one_side=STATS_REDIRECT),
    H("GET", "/api/stats?a=1&b=%C3%A9", one_side=STATS_REDIRECT),
    user("alice"),
    H("GET", "/api/stats/"),
]

USERS = [
    user("alice", age=30),
    H("GET", "/api/users/1"),
    H("GET", "/api/users/2"),
    H("GET", f"/api/users/{HUGE}"),
    H("GET", "/api/users/2147483648"),
    H("GET", "/api/users/abc"),
    H("GET", "/api/users/-1"),
    H("GET", "/api/users/1/"),
    H("PUT", "/api/users/1"),
    H("DELETE", "/api/users"),
    user("alice"),
    H(
        "POST",
        "/api/users",
        json={"username": "other", "email": "ALICE@example.com", "password": "x"},
    ),
    H(
        "POST",
        "/api/users",
        json={"username": "other", "email": "alice@EXAMPLE.COM", "password": "x"},
    ),
    user("zoë", age=0),
    H("POST", "/api/users", json={"username": "Bob", "email": "Bob@Example.COM", "password": "p"}),
    # no data
    H("POST", "/api/users"),
    H("POST", "/api/users", content=b'{"username": "x"}'),
    H("POST", "/api/users", content=b'{"username": "x"}', headers={"Content-Type": "text/plain"}),
    H("POST", "/api/users", data={"username": "x", "email": "x@example.com", "password": "p"}),
    raw("POST", "/api/users", "{not json"),
    raw("POST", "/api/users", b'{"username": "\xff"}'),
    raw("POST", "/api/users", "[]"),
    raw("POST", "/api/users", "{}"),
    raw("POST", "/api/users", '"text"'),
    raw("POST", "/api/users", "null"),
    H("POST", "/api/users", content=b"", headers={"Content-Type": "application/vnd.api+json"}),
    H(
        "POST",
        "/api/users",
        content=b'{"username":"v","email":"v@example.com","password":"p"}',
        headers={"Content-Type": "application/vnd.api+json; charset=utf-8"},
    ),
    # missing
    H("POST", "/api/users", json={"email": "x@example.com", "password": "p"}),
    H("POST", "/api/users", json={"username": "", "email": "x@example.com", "password": "p"}),
    H("POST", "/api/users", json={"username": "x", "email": "x@example.com", "password": None}),
    H("POST", "/api/users", json={"username": 5, "email": "", "password": "p"}),
    # types
    H("POST", "/api/users", json={"username": 5, "email": "x@example.com", "password": "p"}),
    H("POST", "/api/users", json={"username": "x", "email": 5, "password": "p"}),
    H("POST", "/api/users", json={"username": "x", "email": "x@example.com", "password": ["p"]}),
    H("POST", "/api/users", json={"username": True, "email": "bad", "password": "p"}),
    H("POST", "/api/users", json={"username": "a\x00b", "email": "x@example.com", "password": "p"}),
    raw("POST", "/api/users", '{"username":"\\ud800","email":"x@example.com","password":"p"}'),
    H("POST", "/api/users", json={"username": "x" * 81, "email": "x@example.com", "password": "p"}),
    H("POST", "/api/users", json={"username": "x" * 81, "email": "bad", "password": "p"}),
    H(
        "POST",
        "/api/users",
        json={"username": "x" * 80, "email": "x80@example.com", "password": "p"},
    ),
    # email
    H("POST", "/api/users", json={"username": "x", "email": "not-an-email", "password": "p"}),
    H("POST", "/api/users", json={"username": "x", "email": " x@example.com", "password": "p"}),
    H("POST", "/api/users", json={"username": "x", "email": "X <x@example.com>", "password": "p"}),
    H("POST", "/api/users", json={"username": "x", "email": "x@localhost", "password": "p"}),
    H("POST", "/api/users", json={"username": "x", "email": "x\x00@example.com", "password": "p"}),
    H("POST", "/api/users", json={"username": "x", "email": "bad", "password": "p", "age": -1}),
    # age
    *[
        H(
            "POST",
            "/api/users",
            json={"username": "y", "email": "y@example.com", "password": "p", "age": age},
        )
        for age in BAD_AGES
    ],
    raw("POST", "/api/users", '{"username":"y","email":"y@example.com","password":"p","age":NaN}'),
    H(
        "POST",
        "/api/users",
        json={
            "username": "y",
            "email": "y@example.com",
            "password": "p",
            "age": None,
            "extra": "ignored",
        },
    ),
    # listing
    H("GET", "/api/users"),
    H("GET", "/api/users?page=2&per_page=2"),
    H("GET", "/api/users?page=99&per_page=2"),
    H("GET", f"/api/users?page={HUGE}"),
    H("GET", "/api/users?per_page=1000"),
    *[
        H("GET", f"/api/users?{query}")
        for query in (
            "page=0",
            "per_page=0",
            "page=abc",
            "page=",
            "per_page=",
            "page=-1",
            "page=+1",
            "page=1.0",
            "page=%EF%BC%91",
            "page=1&page=x",
            "page=x&page=1",
            "page= 1",
        )
    ],
]

TOKENS = [
    user("alice"),
    user("zoë"),
    H("POST", "/api/tokens"),
    H("POST", "/api/tokens", basic=("alice", "wrong")),
    H("POST", "/api/tokens", basic=("nobody", "correct horse")),
    H("POST", "/api/tokens", basic=("", "correct horse")),
    H("POST", "/api/tokens", headers={"Authorization": "Basic !!!notbase64"}),
    H("POST", "/api/tokens", headers={"Authorization": "Basic YWxpY2U="}),
    H("POST", "/api/tokens", headers={"Authorization": "Bearer abc"}),
    H("GET", "/api/tokens"),
    login("zoë"),
    H("GET", "/profile", bearer="zoë"),
    login("alice"),
    H("GET", "/profile", bearer="alice"),
    H("GET", "/profile"),
    H("GET", "/profile", headers={"Authorization": ""}),
    H("GET", "/profile", headers={"Authorization": "Bearer"}),
    H("GET", "/profile", headers={"Authorization": "Bearer    "}),
    H("GET", "/profile", headers={"Authorization": "Bearer not-a-token"}),
    H("GET", "/profile", headers={"Authorization": "Basic YWxpY2U6Y29ycmVjdCBob3JzZQ=="}),
    H("GET", "/profile", headers={"Authorization": "Token abc"}),
    H("DELETE", "/api/tokens"),
    H("DELETE", "/api/tokens", headers={"Authorization": "Bearer nope"}),
    H("DELETE", "/api/tokens", bearer="alice"),
    H("GET", "/profile", bearer="alice"),
    H("DELETE", "/api/tokens", bearer="alice"),
    H("GET", "/profile", bearer="zoë"),
]

NOTE = "/api/notes"
NOTES = [
    user("alice"),
    login("alice"),
    user("bob"),
    login("bob"),
    H("GET", NOTE),
    H("GET", NOTE, bearer="alice"),
    H("POST", NOTE, json={"title": "t"}),
    H("POST", NOTE, json={"title": "First", "body": "héllo ✓"}, bearer="alice"),
    H("POST", NOTE, json={"title": "Second"}, bearer="alice"),
    H("POST", NOTE, json={"title": "Bob's"}, bearer="bob"),
    H("POST", NOTE, bearer="alice"),
    raw("POST", NOTE, "{", bearer="alice"),
    raw("POST", NOTE, "{}", bearer="alice"),
    H("POST", NOTE, data={"title": "form"}, bearer="alice"),
    H("POST", NOTE, json={"body": "x"}, bearer="alice"),
    H("POST", NOTE, json={"title": ""}, bearer="alice"),
    H("POST", NOTE, json={"title": None, "body": 5}, bearer="alice"),
    H("POST", NOTE, json={"title": 5}, bearer="alice"),
    H("POST", NOTE, json={"title": "t", "body": None}, bearer="alice"),
    H("POST", NOTE, json={"title": "t", "body": ["x"]}, bearer="alice"),
    H("POST", NOTE, json={"title": "x" * 201}, bearer="alice"),
    H("POST", NOTE, json={"title": "x" * 201, "body": 5}, bearer="alice"),
    H("POST", NOTE, json={"title": "x" * 200}, bearer="alice"),
    H("GET", f"{NOTE}/1", bearer="alice"),
    H("GET", f"{NOTE}/1", bearer="bob"),
    H("GET", f"{NOTE}/1"),
    H("GET", f"{NOTE}/999", bearer="alice"),
    H("GET", f"{NOTE}/{HUGE}", bearer="alice"),
    H("GET", f"{NOTE}/abc", bearer="alice"),
    H("GET", f"{NOTE}?since=0", bearer="alice"),
    *[
        H("GET", f"{NOTE}?since={since}", bearer="alice")
        for since in ("1", "2", "99", HUGE, "-1", "x", "", "1.5", "2147483647", "2147483646")
    ],
    H("PUT", f"{NOTE}/1", json={"version": 1, "title": "First!"}, bearer="alice"),
    H("PUT", f"{NOTE}/1", json={"version": 1, "title": "stale"}, bearer="alice"),
    H("PUT", f"{NOTE}/1", json={"version": 2, "body": "only body"}, bearer="alice"),
    H("PUT", f"{NOTE}/1", json={"title": "no version"}, bearer="alice"),
    H("PUT", f"{NOTE}/1", json={"version": True}, bearer="alice"),
    H("PUT", f"{NOTE}/1", json={"version": "3"}, bearer="alice"),
    H("PUT", f"{NOTE}/1", json={"version": 3.0}, bearer="alice"),
    H("PUT", f"{NOTE}/1", json={"version": 3, "title": None}, bearer="alice"),
    H("PUT", f"{NOTE}/1", json={"version": 3, "title": ""}, bearer="alice"),
    H("PUT", f"{NOTE}/1", json={"version": 3, "body": None}, bearer="alice"),
    H("PUT", f"{NOTE}/1", json={"version": 3, "title": "x" * 201}, bearer="alice"),
    H("PUT", f"{NOTE}/1", json={"version": 3, "title": 7, "body": "x"}, bearer="alice"),
    H("PUT", f"{NOTE}/1", json={"version": 10**30}, bearer="alice"),
    H("PUT", f"{NOTE}/1", bearer="alice"),
    H("PUT", f"{NOTE}/999", bearer="alice"),
    H("PUT", f"{NOTE}/1", json={"version": 3}, bearer="bob"),
    H("PUT", f"{NOTE}/1", json={"version": 3}),
    H("PUT", f"{NOTE}/1", json={"version": 3}),
    H("DELETE", f"{NOTE}/1", bearer="bob"),
    H("DELETE", f"{NOTE}/1", bearer="alice"),
    H("DELETE", f"{NOTE}/1", bearer="alice"),
    H("GET", f"{NOTE}/1", bearer="alice"),
    H("PUT", f"{NOTE}/1", json={"version": 4}, bearer="alice"),
    H("GET", f"{NOTE}?since=2", bearer="alice"),
    H("GET", NOTE, bearer="bob"),
    H("PATCH", f"{NOTE}/1", bearer="alice"),
]

POST = "/api/posts"
POSTS = [
    user("alice"),
    login("alice"),
    user("bob"),
    login("bob"),
    H("POST", POST, json={"title": "Hello", "body": "world", "published": True}, bearer="alice"),
    H("POST", POST, json={"title": "Draft"}, bearer="alice"),
    H("POST", POST, json={"title": "Bob's", "published": True}, bearer="bob"),
    H("POST", POST, json={"title": "x"}),
    H("POST", POST, json={"title": "x"}, headers={"Authorization": "Bearer nope"}),
    H("POST", POST, bearer="alice"),
    raw("POST", POST, "[1]", bearer="alice"),
    H("POST", POST, json={"body": "b"}, bearer="alice"),
    H("POST", POST, json={"title": 5}, bearer="alice"),
    H("POST", POST, json={"title": "t", "published": "yes"}, bearer="alice"),
    H("POST", POST, json={"title": "t", "published": 1}, bearer="alice"),
    H("POST", POST, json={"title": "t", "published": None}, bearer="alice"),
    H("POST", POST, json={"title": "x" * 201, "published": "no"}, bearer="alice"),
    H("POST", POST, json={"title": "x" * 201}, bearer="alice"),
    H("GET", POST),
    H("GET", POST, bearer="alice"),
    H("GET", POST, bearer="bob"),
    H("GET", POST, headers={"Authorization": "Bearer nope"}),
    H("GET", f"{POST}?per_page=1&page=2"),
    H("GET", f"{POST}?per_page=x"),
    H("GET", f"{POST}/2"),
    H("GET", f"{POST}/2", bearer="bob"),
    H("GET", f"{POST}/2", bearer="alice"),
    H("GET", f"{POST}/1"),
    H("GET", f"{POST}/{HUGE}"),
    H("PUT", f"{POST}/1", json={"title": "Hijack"}, bearer="bob"),
    H("PUT", f"{POST}/2", json={"title": "Hijack"}, bearer="bob"),
    H("PUT", f"{POST}/1", json={"title": "Hijack"}),
    H("PUT", f"{POST}/1", bearer="alice"),
    H("PUT", f"{POST}/1", json={"title": None}, bearer="alice"),
    H("PUT", f"{POST}/1", json={"published": "no"}, bearer="alice"),
    H("PUT", f"{POST}/1", json={"title": "x" * 201}, bearer="alice"),
    H("PUT", f"{POST}/1", json={"body": 1}, bearer="alice"),
    H("PUT", f"{POST}/2", json={"published": True}, bearer="alice"),
    H("PUT", f"{POST}/1", json={"title": "Renamed ✓", "body": ""}, bearer="alice"),
    H("PUT", f"{POST}/999", json={"title": "t"}, bearer="alice"),
    H("GET", POST),
    H("DELETE", f"{POST}/1", bearer="bob"),
    H("DELETE", f"{POST}/1"),
    H("DELETE", f"{POST}/1", bearer="alice"),
    H("DELETE", f"{POST}/1", bearer="alice"),
    H("GET", f"{POST}/1"),
    H("GET", "/api/stats/"),
]

ITEMS = [
    H("POST", "/items", json={"name": "Widget", "price": 9.99, "tags": ["a", "ü"]}),
    H("POST", "/items", json={"name": "Gadget", "price": "24.5", "is_available": False}),
    H("POST", "/items", json={"name": "Free", "price": 0}),
    H(
        "POST",
        "/items",
        data={"name": "Form", "price": "3.10", "is_available": "false", "tags": ["x", "y"]},
    ),
    H("POST", "/items", data={"name": "Multi", "price": "1"}, files={"f": ("f.txt", b"data")}),
    H("POST", "/items", files={"f": ("f.txt", b"data")}),
    H("POST", "/items", data={"name": "x" * 500_001, "price": "1"}, files={"f": ("f", b"")}),
    H("POST", "/items", data={"name": "x" * 500_001, "price": "1"}),
    H("POST", "/items", data={f"field{n}": "v" for n in range(1_001)}, files={"f": ("f", b"")}),
    H("POST", "/items", content=b"name=%FF%zz+a&price=1&tags=%E2%9C%93&tags=", headers=FORM_CT),
    H("POST", "/items", data={"name": "Form", "price": "1", "is_available": "yes"}),
    H("POST", "/items", data={"name": "", "price": "1"}),
    H("POST", "/items", content=b"name=Raw&price=2&tags=", headers=FORM_CT),
    H("POST", "/items"),
    raw("POST", "/items", "{}"),
    raw("POST", "/items", "nope"),
    H("POST", "/items", json={"price": 1}),
    H("POST", "/items", json={"name": "x", "price": None}),
    H("POST", "/items", json={"name": "x", "price": ""}),
    H("POST", "/items", json={"name": 5, "price": 1}),
    H("POST", "/items", json={"name": "x", "price": 1, "is_available": "true"}),
    H("POST", "/items", json={"name": "x", "price": 1, "tags": "a"}),
    H("POST", "/items", json={"name": "x", "price": 1, "tags": [1]}),
    H("POST", "/items", json={"name": "x", "price": 1, "tags": None}),
    H("POST", "/items", json={"name": "x" * 201, "price": "bad"}),
    *[
        H("POST", "/items", json={"name": "p", "price": price})
        for price in (
            "9.999",
            -1,
            "abc",
            True,
            "1e2",
            10**10,
            9999999999.99,
            1e-5,
            "01.50",
            " 1",
            "\u0661",
            [1],
            0.1,
        )
    ],
    raw("POST", "/items", '{"name":"n","price":NaN}'),
    raw("POST", "/items", '{"name":"n","price":Infinity}'),
    raw("POST", "/items", '{"name":"n","price":1e400}'),
    H("GET", "/items/1"),
    H("GET", "/items/1?q=h%C3%A9"),
    H("GET", "/items/1?q="),
    H("GET", "/items/1?q=a&q=b"),
    H("GET", "/items/999"),
    H("GET", f"/items/{HUGE}"),
    H("GET", "/items/x"),
    H(
        "GET",
        "/items/%D9%A1",
        one_side="only Flask's converter matches the path: behind the gateway legacy answers both",
        standalone_differs="Werkzeug's int converter matches any Unicode digit (`\\d+`), so "
        "Flask serves item 1 for ARABIC-INDIC DIGIT ONE; the ports keep Starlette's `{id:int}` "
        "([0-9]+) and answer 404 (the gateway hands such paths to Flask)",
    ),
    H("GET", "/items/01"),
    H("GET", "/items/1?q=%00%ff%zz"),
    raw(
        "POST",
        "/items",
        "[" * 100_000,
    ),
    H("GET", "/items"),
    *[
        H("GET", f"/items?{query}")
        for query in (
            "skip=1&limit=2",
            "limit=0",
            "skip=100",
            f"skip={HUGE}",
            "limit=1000",
            "skip=-1",
            "limit=x",
            "skip=",
            "skip=1&skip=x",
        )
    ],
    H("DELETE", "/items/1"),
]

FETCH = [
    H("GET", "/fetch-data"),
    H("GET", "/fetch-data", upstream="html"),
    H("GET", "/fetch-data", upstream="error"),
    H("GET", "/fetch-data", upstream="slow"),
    H("GET", "/fetch-data", upstream="down"),
    H("GET", "/fetch-data", upstream="json"),
    H("POST", "/fetch-data"),
]

CASES: dict[str, list[Case]] = {
    "main": MAIN,
    "users": USERS,
    "tokens": TOKENS,
    "notes": NOTES,
    "posts": POSTS,
    "items": ITEMS,
    "fetch-data": FETCH,
}
