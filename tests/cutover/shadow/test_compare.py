"""compare(): status, the headers that matter and the body, JSON field by field with ignore and
unordered rules, other bodies by bytes; the cap, and a shape that groups alike mismatches."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest

from cutover.shadow import Answer, CompareRules, Difference, compare
from tests.cutover.shadow.answers import JSON, json_answer, text_answer


def catalogue(count: int = 10) -> dict[str, Any]:
    """A listing body like the reference app's: items with prices, tags, a meta block."""
    return {
        "items": [
            {
                "id": number,
                "name": f"item {number}",
                "price": 10 + number,
                "tags": ["red", "big"],
                "updated_at": "2026-01-01T00:00:00Z",
            }
            for number in range(count)
        ],
        "meta": {"page": 1, "generated_at": "2026-01-01T00:00:00Z"},
        "total": count,
    }


def changed(value: dict[str, Any], **edits: Any) -> dict[str, Any]:
    """A deep copy of `value`; each edit's key is a path like `items__3__price`."""
    result = copy.deepcopy(value)
    for path, new in edits.items():
        node: Any = result
        *parents, last = path.split("__")
        for step in parents:
            node = node[int(step)] if step.isdigit() else node[step]
        node[int(last) if last.isdigit() else last] = new
    return result


def paths_of(differences: tuple[Difference, ...]) -> list[str]:
    """The paths of the differences, in the order reported."""
    return [difference.path for difference in differences]


def test_identical_answers_match() -> None:
    """The same answer twice: matched, nothing to report, an empty shape."""
    answer = json_answer(catalogue())
    result = compare(answer, answer)
    assert result.matched
    assert result.differences == ()
    assert not result.truncated
    assert result.shape == ()
    assert result.paths == frozenset()
    assert result.report() == "matched"


def test_equal_values_spelled_differently_match() -> None:
    """Flask sorts keys, FastAPI keeps insertion order and spaces differ: the same JSON."""
    value = catalogue()
    flask = Answer(200, [JSON], json.dumps(value, sort_keys=True).encode())
    fastapi = Answer(200, [JSON], json.dumps(value, separators=(",", ":")).encode())
    assert flask.body != fastapi.body
    assert compare(flask, fastapi).matched


def test_one_field_differing_gives_exactly_that_path() -> None:
    """A candidate differing on purpose in one price: that path, both values, nothing else."""
    primary = catalogue()
    result = compare(json_answer(primary), json_answer(changed(primary, items__3__price=99)))
    assert not result.matched
    assert result.differences == (Difference("$.items[3].price", "changed", 13, 99),)
    assert result.shape == ("$.items[*].price changed",)
    assert result.paths == {"$.items[*].price"}
    assert result.report() == "$.items[3].price changed: 13 -> 99"


def test_status_difference_is_in_the_shape_with_both_codes() -> None:
    """A 200 against a 500 is reported, and grouped apart from a 404 against a 200."""
    result = compare(json_answer({"ok": True}), json_answer({"ok": True}, status=500))
    assert result.differences == (Difference("status", "changed", 200, 500),)
    assert result.shape == ("status 200->500",)
    other = compare(json_answer({"ok": True}, status=404), json_answer({"ok": True}))
    assert other.shape == ("status 404->200",)


def test_added_and_removed_keys() -> None:
    """A key only the candidate has is added, one only the primary has is removed."""
    result = compare(
        json_answer({"id": 1, "legacy_only": "x"}), json_answer({"id": 1, "new_only": [1]})
    )
    assert result.differences == (
        Difference("$.legacy_only", "removed", "x", None),
        Difference("$.new_only", "added", None, [1]),
    )
    assert result.shape == ("$.legacy_only removed", "$.new_only added")


def test_list_length_differences_are_added_and_removed_items() -> None:
    """Extra items at the end of a list are added (or removed), with their index."""
    longer = compare(json_answer({"a": [1, 2]}), json_answer({"a": [1, 2, 3]}))
    assert longer.differences == (Difference("$.a[2]", "added", None, 3),)
    shorter = compare(json_answer({"a": [1, 2, 3]}), json_answer({"a": [1]}))
    assert shorter.differences == (
        Difference("$.a[1]", "removed", 2, None),
        Difference("$.a[2]", "removed", 3, None),
    )
    assert shorter.shape == ("$.a[*] removed",)


@pytest.mark.parametrize(
    ("primary", "candidate"),
    [
        ("10.00", 10.0),  # Decimal as a string (Flask) against a float
        (1, "1"),
        (None, 0),
        ({"a": 1}, [1]),
        (1, 1.0),  # Python clients see an int and a float
        (1, True),
        (0, False),
    ],
)
def test_type_changes(primary: Any, candidate: Any) -> None:
    """Values of different JSON (or Python-decoded) types are a `type` difference."""
    result = compare(json_answer({"price": primary}), json_answer({"price": candidate}))
    assert result.differences == (Difference("$.price", "type", primary, candidate),)


def test_root_type_change() -> None:
    """An object where a list was is one difference at `$`."""
    result = compare(json_answer([1, 2]), json_answer({"items": [1, 2]}))
    assert result.differences == (Difference("$", "type", [1, 2], {"items": [1, 2]}),)


def test_differences_hidden_from_equality_are_found_beside_others() -> None:
    """Python holds `1 == True == 1.0` and `0.0 == -0.0`; those differ on the wire and are
    reported even when another field differs too (the walk skips subtrees that are `==`)."""
    primary = {"meta": {"count": 1, "ratio": 0.0, "flag": 1}, "items": [{"n": 1}], "x": 1}
    candidate = {"meta": {"count": True, "ratio": -0.0, "flag": 1.0}, "items": [{"n": 1}], "x": 2}
    result = compare(json_answer(primary), json_answer(candidate))
    assert sorted(paths_of(result.differences)) == [
        "$.meta.count",
        "$.meta.flag",
        "$.meta.ratio",
        "$.x",
    ]
    assert result.shape == (
        "$.meta.count type",
        "$.meta.flag type",
        "$.meta.ratio changed",
        "$.x changed",
    )


def test_nan_on_both_sides_matches() -> None:
    """NaN is never `==` in Python, but the same NaN text on both sides is the same answer."""
    body = b'{"score": NaN, "scores": [NaN, 1]}'
    assert compare(Answer(200, [JSON], body), Answer(200, [JSON], body + b" ")).matched


def test_nested_arrays_collapse_to_wildcards_in_the_shape() -> None:
    """Indexes at every level become `[*]` in the shape; the differences keep them."""
    primary = {"grid": [[{"v": 0}, {"v": 1}], [{"v": 2}, {"v": 3}]]}
    candidate = {"grid": [[{"v": 0}, {"v": 9}], [{"v": 2}, {"v": 8}]]}
    result = compare(json_answer(primary), json_answer(candidate))
    assert paths_of(result.differences) == ["$.grid[0][1].v", "$.grid[1][1].v"]
    assert result.shape == ("$.grid[*][*].v changed",)
    assert result.paths == {"$.grid[*][*].v"}


def test_odd_keys_are_quoted_in_paths() -> None:
    """A key that is not an identifier is written `['...']`, quotes and backslashes escaped."""
    result = compare(
        json_answer({"a b": 1, "it's": 1, "x.y": 1, "7": 1}),
        json_answer({"a b": 2, "it's": 2, "x.y": 2, "7": 2}),
    )
    assert paths_of(result.differences) == ["$['7']", "$['a b']", "$['it\\'s']", "$['x.y']"]


# ignore rules


@pytest.mark.parametrize(
    "rule",
    [
        "$.items[*].updated_at",
        "$.items.*.updated_at",
        "$['items'][*]['updated_at']",
        "$..updated_at",
    ],
)
def test_an_ignored_path_with_a_wildcard_hides_the_difference(rule: str) -> None:
    """Every item's `updated_at` differs; under the rule (any spelling) the answers match."""
    primary = catalogue()
    candidate = copy.deepcopy(primary)
    for item in candidate["items"]:
        item["updated_at"] = "2026-06-06T06:06:06Z"
    if rule == "$..updated_at":
        candidate["meta"]["updated_at"] = "also hidden"
        primary["meta"]["updated_at"] = "at any depth"
    assert not compare(json_answer(primary), json_answer(candidate)).matched
    assert compare(
        json_answer(primary), json_answer(candidate), CompareRules(ignore=[rule])
    ).matched


def test_an_ignore_rule_hides_only_what_it_names() -> None:
    """Beside an ignored field, a real difference is still reported, alone."""
    primary = catalogue()
    candidate = changed(primary, items__2__updated_at="later", items__2__price=0)
    rules = CompareRules(ignore=("$.items[*].updated_at",))
    result = compare(json_answer(primary), json_answer(candidate), rules)
    assert result.differences == (Difference("$.items[2].price", "changed", 12, 0),)


def test_an_index_rule_hides_one_item_only() -> None:
    """`$.items[0].price` hides the first item's price, not the second's."""
    primary = catalogue(2)
    candidate = changed(primary, items__0__price=0, items__1__price=0)
    rules = CompareRules(ignore=("$.items[0].price",))
    result = compare(json_answer(primary), json_answer(candidate), rules)
    assert paths_of(result.differences) == ["$.items[1].price"]


def test_a_member_wildcard_hides_the_children_not_the_member() -> None:
    """`$.meta.*` hides what is inside meta; a candidate without meta at all still differs."""
    primary = catalogue()
    rules = CompareRules(ignore=("$.meta.*",))
    other_meta = changed(primary, meta={"page": 2, "extra": True})
    assert compare(json_answer(primary), json_answer(other_meta), rules).matched
    without = copy.deepcopy(primary)
    del without["meta"]
    result = compare(json_answer(primary), json_answer(without), rules)
    assert result.differences == (Difference("$.meta", "removed", {}, None),)


def test_a_quoted_key_rule_is_one_key_not_a_path() -> None:
    """`$['a.b']` hides the key `a.b`, and not `b` inside `a`."""
    rules = CompareRules(ignore=("$['a.b']",))
    assert compare(json_answer({"a.b": 1}), json_answer({"a.b": 2}), rules).matched
    result = compare(json_answer({"a": {"b": 1}}), json_answer({"a": {"b": 2}}), rules)
    assert paths_of(result.differences) == ["$.a.b"]


def test_ignoring_the_root_or_the_body() -> None:
    """`$` ignores a JSON body, `body` any body; the status is still compared."""
    for rule in ("$", "body"):
        rules = CompareRules(ignore=(rule,))
        assert compare(json_answer({"a": 1}), json_answer({"b": 2}), rules).matched
    rules = CompareRules(ignore=("body",))
    assert compare(text_answer(b"one"), text_answer(b"two"), rules).matched
    result = compare(json_answer({"a": 1}), json_answer({"b": 2}, status=201), rules)
    assert result.shape == ("status 200->201",)


def test_ignoring_status_and_a_header() -> None:
    """`status` and `header:<name>` (any case) are rules too, like the paths they hide."""
    rules = CompareRules(ignore=("status", "header:Location"))
    primary = Answer(302, [(b"location", b"/a")], b"")
    candidate = Answer(303, [(b"location", b"/b")], b"")
    assert compare(primary, candidate, rules).matched
    assert not compare(primary, candidate).matched


@pytest.mark.parametrize(
    "rule", ["items", "$.", "$[x]", "$..", "$['open", "$.a[-1]", "header:", "headers:x", "$.a b"]
)
def test_a_rule_that_does_not_parse_is_refused_when_the_rules_are_built(rule: str) -> None:
    """A typo in a rule fails at configuration, not silently at comparison."""
    with pytest.raises(ValueError, match="rule"):
        CompareRules(ignore=(rule,))


def test_a_lone_string_is_one_rule() -> None:
    """`ignore="$.a"` means the rule `$.a`, not the rules `$`, `.` and `a`."""
    rules = CompareRules(ignore="$.a", unordered="$.tags")
    assert rules.ignore == ("$.a",)
    assert rules.unordered == ("$.tags",)
    assert compare(json_answer({"a": 1, "b": 1}), json_answer({"a": 2, "b": 1}), rules).matched


def test_rules_are_values() -> None:
    """Rules compare and hash by what they say, so they can key a per-route cache."""
    one = CompareRules(headers={"Location"}, ignore=["$.a"])
    two = CompareRules(headers=("location",), ignore=("$.a",))
    assert one == two
    assert hash(one) == hash(two)
    assert one.headers == {"location"}
    with pytest.raises(ValueError, match="max_differences"):
        CompareRules(max_differences=0)


# unordered lists


def test_unordered_lists_compare_as_multisets() -> None:
    """`$.tags` in another order matches; a tag more or less is reported at `$.tags[*]`."""
    rules = CompareRules(unordered=("$.tags",))
    primary = json_answer({"tags": ["a", "b", "a"]})
    assert compare(primary, json_answer({"tags": ["b", "a", "a"]}), rules).matched
    assert not compare(primary, json_answer({"tags": ["b", "a", "a"]})).matched
    result = compare(primary, json_answer({"tags": ["b", "b", "a"]}), rules)
    assert result.differences == (
        Difference("$.tags[*]", "removed", "a", None),
        Difference("$.tags[*]", "added", None, "b"),
    )
    assert result.shape == ("$.tags[*] added", "$.tags[*] removed")


def test_unordered_lists_of_objects_with_ignored_fields() -> None:
    """Items in another order, each with its own timestamp: both rules together match."""
    primary = catalogue(4)
    candidate = copy.deepcopy(primary)
    candidate["items"].reverse()
    for item in candidate["items"]:
        item["updated_at"] = "now"
    rules = CompareRules(ignore=("$.items[*].updated_at",), unordered=("$.items",))
    assert compare(json_answer(primary), json_answer(candidate), rules).matched
    candidate["items"][0]["price"] = 0
    result = compare(json_answer(primary), json_answer(candidate), rules)
    assert [(d.path, d.kind) for d in result.differences] == [
        ("$.items[*]", "removed"),
        ("$.items[*]", "added"),
    ]
    assert result.differences[1].candidate["price"] == 0


def test_unordered_rules_with_wildcards_and_mixed_items() -> None:
    """Every item's tags unordered; scalars of several types and objects sort consistently."""
    rules = CompareRules(unordered=("$.items[*].tags", "$.mixed"))
    mixed = [None, True, 1, 1.5, -0.0, "x", {"b": 1, "a": 2}, [2, 1]]
    primary = {"items": [{"tags": ["red", "big"]}], "mixed": mixed}
    candidate = {"items": [{"tags": ["big", "red"]}], "mixed": list(reversed(mixed))}
    assert compare(json_answer(primary), json_answer(candidate), rules).matched
    candidate["mixed"] = [0.0 if item == 0 and type(item) is float else item for item in mixed]
    result = compare(json_answer(primary), json_answer(candidate), rules)
    assert result.differences == (
        Difference("$.mixed[*]", "removed", -0.0, None),
        Difference("$.mixed[*]", "added", None, 0.0),
    )


def test_an_unordered_rule_on_something_else_than_a_list_changes_nothing() -> None:
    """A rule naming an object is harmless: the object is compared as usual."""
    rules = CompareRules(unordered=("$.meta",))
    result = compare(json_answer({"meta": {"a": 1}}), json_answer({"meta": {"a": 2}}), rules)
    assert paths_of(result.differences) == ["$.meta.a"]


# headers


def with_headers(*headers: tuple[bytes, bytes]) -> Answer:
    """A 200 with no body and these headers."""
    return Answer(200, list(headers), b"")


@pytest.mark.parametrize(
    ("primary", "candidate"),
    [
        (b"application/json", b"application/json; charset=utf-8"),
        (b"text/html; charset=utf-8", b"text/html; charset=UTF8"),
        (b"text/html; charset=utf-8", b'Text/HTML;charset="utf-8"'),
        (b"text/plain; charset=latin-1", b"text/plain; charset=ISO-8859-1"),
        (b"multipart/form-data; boundary=a", b"multipart/form-data; boundary=b"),
    ],
)
def test_content_type_spellings_that_mean_the_same_match(primary: bytes, candidate: bytes) -> None:
    """Content-Type by media type and normalised charset; names in any case."""
    assert compare(
        with_headers((b"Content-Type", primary)), with_headers((b"content-type", candidate))
    ).matched


@pytest.mark.parametrize(
    ("primary", "candidate"),
    [
        (b"text/html; charset=utf-8", b"text/plain; charset=utf-8"),
        (b"text/html; charset=utf-8", b"text/html; charset=latin-1"),
        (b"text/html", b"text/html; charset=utf-8"),  # text/* has no implied charset
    ],
)
def test_content_type_differences(primary: bytes, candidate: bytes) -> None:
    """Another media type or charset is a header difference showing both raw values."""
    result = compare(
        with_headers((b"content-type", primary)), with_headers((b"content-type", candidate))
    )
    assert result.differences == (
        Difference("header:content-type", "changed", primary.decode(), candidate.decode()),
    )
    assert result.shape == ("header:content-type changed",)


def test_location_differences() -> None:
    """Location changed, added or removed, each its own kind in the shape."""
    one, two = (b"location", b"/items/1"), (b"Location", b"/items/2")
    assert compare(with_headers(one), with_headers(two)).shape == ("header:location changed",)
    assert compare(with_headers(), with_headers(one)).differences == (
        Difference("header:location", "added", None, "/items/1"),
    )
    assert compare(with_headers(one), with_headers()).shape == ("header:location removed",)


def test_set_cookie_compares_names_not_values() -> None:
    """Session values differ on every request; the cookie names must agree."""
    primary = with_headers((b"set-cookie", b"session=abc; Path=/"), (b"set-cookie", b"theme=1"))
    same_names = with_headers((b"Set-Cookie", b"theme=2"), (b"Set-Cookie", b"session=xyz; Secure"))
    assert compare(primary, same_names).matched
    other = with_headers((b"set-cookie", b"sid=abc; Path=/"))
    result = compare(primary, other)
    assert result.differences == (
        Difference("header:set-cookie", "changed", ["session", "theme"], ["sid"]),
    )
    assert compare(primary, with_headers()).differences == (
        Difference("header:set-cookie", "changed", ["session", "theme"], []),
    )


def test_set_cookie_values_when_asked_are_compared_redacted() -> None:
    """With `set-cookie` among the headers whole values count, shown without the secrets."""
    rules = CompareRules(headers={"set-cookie"})
    primary = with_headers((b"set-cookie", b"session=abc; Path=/"))
    candidate = with_headers((b"set-cookie", b"session=abc; Path=/app"))
    result = compare(primary, candidate, rules)
    assert result.differences == (
        Difference(
            "header:set-cookie",
            "changed",
            "session=[redacted]; Path=/",
            "session=[redacted]; Path=/app",
        ),
    )
    assert compare(primary, primary, rules).matched


def test_list_headers_compare_as_sets() -> None:
    """Allow and Cache-Control in another order, spacing or case mean the same."""
    assert compare(
        with_headers((b"allow", b"GET, HEAD, OPTIONS"), (b"cache-control", b"no-cache, max-age=0")),
        with_headers((b"Allow", b"OPTIONS,GET, HEAD"), (b"Cache-Control", b"Max-Age=0,no-cache")),
    ).matched
    result = compare(with_headers((b"allow", b"GET, HEAD")), with_headers((b"allow", b"GET")))
    assert result.differences == (Difference("header:allow", "changed", "GET, HEAD", "GET"),)


def test_www_authenticate_is_compared() -> None:
    """The challenge of a 401 is part of the answer a client sees."""
    primary = Answer(401, [(b"www-authenticate", b'Bearer realm="api"')], b"")
    candidate = Answer(401, [(b"www-authenticate", b"Basic")], b"")
    assert compare(primary, candidate).shape == ("header:www-authenticate changed",)


def test_headers_that_do_not_matter_are_not_compared_and_the_set_is_configurable() -> None:
    """Date and Server differ on every answer; a team can add ETag or drop Location."""
    primary = with_headers((b"date", b"Mon"), (b"server", b"gunicorn"), (b"etag", b'"1"'))
    candidate = with_headers((b"date", b"Tue"), (b"server", b"uvicorn"), (b"etag", b'"2"'))
    assert compare(primary, candidate).matched
    rules = CompareRules(headers={"content-type", "ETag"}, cookie_names=False)
    assert compare(primary, candidate, rules).shape == ("header:etag changed",)
    no_location = CompareRules(headers={"content-type"})
    assert compare(
        with_headers((b"location", b"/a")), with_headers((b"location", b"/b")), no_location
    ).matched


def test_a_secret_header_when_compared_shows_no_credential() -> None:
    """A team comparing Authorization (unusual) sees the scheme, never the credential."""
    rules = CompareRules(headers={"authorization", "x-api-key"})
    result = compare(
        with_headers((b"authorization", b"Bearer one"), (b"x-api-key", b"k1")),
        with_headers((b"authorization", b"Basic two"), (b"x-api-key", b"k2")),
        rules,
    )
    assert result.differences == (
        Difference("header:authorization", "changed", "Bearer [redacted]", "Basic [redacted]"),
        Difference("header:x-api-key", "changed", "[redacted]", "[redacted]"),
    )


# bodies that are not JSON, and invalid JSON


def test_non_json_bodies_compare_by_bytes() -> None:
    """An HTML body: equal bytes match, different bytes give sizes and the first offset."""
    page = b"<html><body>Hello, world</body></html>"
    assert compare(text_answer(page, b"text/html"), text_answer(page, b"text/html")).matched
    result = compare(text_answer(page, b"text/html"), text_answer(page[:12] + b"Bye</body>"))
    body = result.differences[-1]
    assert body == Difference("body", "changed", len(page), 22, offset=12)
    size = len(page)
    assert body.describe() == f"body changed: {size} bytes -> 22 bytes, first difference at byte 12"
    assert "body changed" in result.shape


def test_a_prefix_differs_at_the_end_of_the_shorter_body() -> None:
    """When one body starts with the other, the offset is the shorter one's length."""
    long_body = b"x" * 10_000
    result = compare(text_answer(long_body), text_answer(long_body + b"y"))
    assert result.differences == (Difference("body", "changed", 10_000, 10_001, offset=10_000),)
    late = compare(text_answer(long_body), text_answer(long_body[:-1] + b"z"))
    assert late.differences[0].offset == 9_999


def test_text_that_happens_to_parse_as_json_is_compared_as_text() -> None:
    """`text/plain` bodies `1` and `1.0` are different bytes, not two JSON numbers."""
    result = compare(text_answer(b"1"), text_answer(b"1.0"))
    assert result.differences == (Difference("body", "changed", 1, 3, offset=1),)


def test_without_content_type_bodies_that_parse_are_compared_as_json() -> None:
    """No Content-Type on either side: JSON found by parsing, else bytes."""
    assert compare(Answer(200, [], b'{"a": 1}'), Answer(200, [], b'{"a":1}')).matched
    result = compare(Answer(200, [], b'{"a": 1}'), Answer(200, [], b"not json"))
    assert [d.path for d in result.differences] == ["body"]
    assert result.differences[0].kind == "changed"


def test_problem_json_is_json() -> None:
    """`application/problem+json` (RFC 9457) bodies are compared field by field."""
    header = [(b"content-type", b"application/problem+json")]
    result = compare(
        json_answer({"title": "Not Found", "status": 404}, headers=header),
        json_answer({"status": 404, "title": "Missing"}, headers=header),
    )
    assert paths_of(result.differences) == ["$.title"]


def test_invalid_json_on_one_side_is_a_body_type_difference() -> None:
    """Declared JSON that does not parse: one `body` difference naming the parse error."""
    result = compare(json_answer({"a": 1}), Answer(200, [JSON], b"<html>500</html>"))
    assert len(result.differences) == 1
    difference = result.differences[0]
    assert (difference.path, difference.kind, difference.primary) == ("body", "type", "JSON")
    assert difference.candidate.startswith("invalid JSON: Expecting value")
    assert result.shape == ("body type",)
    reverse = compare(Answer(200, [JSON], b"{"), json_answer({"a": 1}))
    assert reverse.differences[0].candidate == "JSON"


def test_invalid_json_on_both_sides_compares_bytes() -> None:
    """Two broken JSON bodies: the bytes decide."""
    assert compare(Answer(200, [JSON], b"{oops"), Answer(200, [JSON], b"{oops")).matched
    result = compare(Answer(200, [JSON], b"{oops"), Answer(200, [JSON], b"{oops!"))
    assert result.differences == (Difference("body", "changed", 5, 6, offset=5),)


def test_json_nested_deeper_than_the_parser_goes_is_compared_by_bytes() -> None:
    """A pathological body neither crashes the comparison nor claims a match."""
    deep = b"[" * 100_000 + b"]" * 100_000
    result = compare(Answer(200, [JSON], deep), Answer(200, [JSON], deep + b" "))
    assert [d.path for d in result.differences] == ["body"]


def test_empty_bodies() -> None:
    """HEAD answers: nothing on either side matches; JSON on one side only differs."""
    assert compare(Answer(200, [JSON], b""), Answer(200, [JSON], b"")).matched
    result = compare(Answer(200, [JSON], b""), json_answer({}))
    assert result.shape == ("body type",)


# the cap, and the shape


def test_the_cap_keeps_the_first_differences_and_says_so() -> None:
    """60 differing fields, cap 50: the first 50 in path order, truncated, full shape."""
    primary = {f"f{number:02d}": number for number in range(60)}
    candidate = {key: value + 1 for key, value in primary.items()}
    result = compare(json_answer(primary), json_answer(candidate))
    assert len(result.differences) == 50
    assert result.truncated
    assert result.differences[0].path == "$.f00"
    assert result.differences[-1].path == "$.f49"
    assert len(result.shape) == 60
    assert result.report().endswith("... more differences (the first 50 shown)")
    small = compare(json_answer(primary), json_answer(candidate), CompareRules(max_differences=3))
    assert paths_of(small.differences) == ["$.f00", "$.f01", "$.f02"]
    assert small.shape == result.shape


def test_the_cap_counts_status_headers_and_body_together() -> None:
    """With a cap of 1 the status is kept; the body's difference is in the shape only."""
    rules = CompareRules(max_differences=1)
    result = compare(json_answer({"a": 1}), json_answer({"a": 2}, status=500), rules)
    assert paths_of(result.differences) == ["status"]
    assert result.truncated
    assert result.shape == ("$.a changed", "status 200->500")


def test_a_body_made_of_ever_new_keys_stops_collecting_groups() -> None:
    """Keys made of data (ids) would give one group each; past the limit the walk stops."""
    primary = {f"user-{number}": number for number in range(1500)}
    candidate = {key: -value - 1 for key, value in primary.items()}
    result = compare(json_answer(primary), json_answer(candidate))
    assert not result.matched
    assert result.truncated
    assert len(result.paths) == 1000


def test_the_shape_is_deterministic() -> None:
    """The same kind of mismatch on other items, in other key orders, groups together."""
    base = catalogue(20)
    first = compare(
        json_answer(base), json_answer(changed(base, items__3__price=0, total=99, meta__page=2))
    )
    second = compare(
        json_answer(base, sort_keys=True),
        json_answer(changed(base, items__17__price=5, total=-1, meta__page=7)),
    )
    expected = ("$.items[*].price changed", "$.meta.page changed", "$.total changed")
    assert first.shape == expected
    assert second.shape == expected
    assert first.shape_id == second.shape_id
    assert len(first.shape_id) == 16
    again = compare(json_answer(base), json_answer(changed(base, items__3__price=0, total=99)))
    assert again.shape_id != first.shape_id
    matched = compare(json_answer(base), json_answer(base))
    assert matched.shape_id == hashlib.sha256(b"").hexdigest()[:16]


def test_differences_serialise_and_read() -> None:
    """`to_json` for storage, `describe` for a developer, `group` for grouping."""
    difference = Difference("$.items[3].price", "changed", 13, 99)
    assert difference.to_json() == {
        "path": "$.items[3].price",
        "kind": "changed",
        "primary": 13,
        "candidate": 99,
    }
    assert difference.group == "$.items[*].price"
    assert Difference("$.a", "removed", [1], None).describe() == "$.a removed (was [1])"
    assert Difference("$.a", "added", None, "x" * 500).describe().endswith("xxx...")
    body = Difference("body", "changed", 3, 4, offset=1)
    assert body.to_json()["offset"] == 1


def test_a_comparison_serialises_for_storage() -> None:
    """`Comparison.to_json` is plain JSON: matched, truncated, shape, its id, differences."""
    result = compare(json_answer({"a": 1, "token": "x"}), json_answer({"a": 2, "token": "y"}))
    document = json.loads(json.dumps(result.to_json()))
    assert document == {
        "matched": False,
        "truncated": False,
        "shape": ["$.a changed", "$.token changed"],
        "shape_id": result.shape_id,
        "differences": [
            {"path": "$.a", "kind": "changed", "primary": 1, "candidate": 2},
            {
                "path": "$.token",
                "kind": "changed",
                "primary": "[redacted]",
                "candidate": "[redacted]",
            },
        ],
    }


def test_answer_from_asgi_messages() -> None:
    """The answer an ASGI app sent, from the messages a runner recorded."""
    answer = Answer.from_asgi(
        [
            {"type": "http.response.start", "status": 201, "headers": [(b"a", b"1")]},
            {"type": "http.response.body", "body": b"he", "more_body": True},
            {"type": "http.response.body", "body": b"llo"},
        ]
    )
    assert answer == Answer(201, [(b"a", b"1")], b"hello")
    assert answer.header_values() == {"a": ["1"]}
    with pytest.raises(ValueError, match=r"http\.response\.start"):
        Answer.from_asgi([{"type": "http.response.body", "body": b"x"}])
