"""JSON-path rules: each spelling, wildcards at any level, descent, and the round trip from a
reported path to the ignore rule that hides it."""

from __future__ import annotations

from typing import Any

import pytest

from cutover.shadow import CompareRules, collapse, compare, suggested_rule
from tests.cutover.shadow.answers import json_answer, text_answer


def hides(rule: str, primary: Any, candidate: Any) -> bool:
    """Whether two bodies that differ match once `rule` is ignored."""
    assert not compare(json_answer(primary), json_answer(candidate)).matched
    return compare(
        json_answer(primary), json_answer(candidate), CompareRules(ignore=(rule,))
    ).matched


def test_descent_finds_a_key_at_any_depth_through_lists() -> None:
    """`$..etag` hides every `etag`, at the top, in objects and in lists of lists."""
    primary = {"etag": 1, "a": {"etag": 1, "b": [[{"etag": 1}]]}}
    candidate = {"etag": 2, "a": {"etag": 2, "b": [[{"etag": 2}]]}}
    assert hides("$..etag", primary, candidate)
    assert not hides("$..etag", {"etag": 1, "x": 1}, {"etag": 2, "x": 2})


def test_descent_below_a_named_member() -> None:
    """`$.meta..id` hides ids under meta only."""
    assert hides("$.meta..id", {"meta": {"a": [{"id": 1}]}}, {"meta": {"a": [{"id": 2}]}})
    assert not hides("$.meta..id", {"meta": {}, "id": 1}, {"meta": {}, "id": 2})


def test_wildcards_match_members_and_items_alike() -> None:
    """`.*` and `[*]` both mean any child, of an object or of a list."""
    assert hides("$.*", {"a": 1, "b": [1]}, {"a": 2, "b": [2]})
    assert hides("$[*].v", [{"v": 1}, {"v": 1}], [{"v": 2}, {"v": 3}])
    assert hides("$.m[*]", {"m": {"x": 1}}, {"m": {"x": 2}})
    assert hides("$..*", {"a": {"b": 1}}, {"a": {"b": 2}})


def test_index_and_key_rules_are_not_confused() -> None:
    """`[0]` names a list index, `['0']` an object key spelled with a digit."""
    assert hides("$.a[0]", {"a": [1, 2]}, {"a": [3, 2]})
    assert not hides("$['a']['0']", {"a": [1]}, {"a": [3]})
    assert hides("$.a['0']", {"a": {"0": 1}}, {"a": {"0": 3}})
    assert not hides("$.a[0]", {"a": {"0": 1}}, {"a": {"0": 3}})


def test_ignored_items_are_removed_from_their_list() -> None:
    """An ignored item leaves its list: a list with it and one without can match."""
    assert hides("$.a[*].secret_bit", {"a": [{"secret_bit": 1}]}, {"a": [{"secret_bit": 2}]})
    rules = CompareRules(ignore=("$.a[0]",))
    assert compare(json_answer({"a": [0, 1]}), json_answer({"a": [9, 1]}), rules).matched


def test_rules_on_documents_with_many_keys() -> None:
    """Rules stay right on documents whose keys are data (the matcher's memo is bounded)."""
    primary = {f"k{number}": {"at": 1, "v": number} for number in range(60_000)}
    candidate = {key: {"at": 2, "v": value["v"]} for key, value in primary.items()}
    rules = CompareRules(ignore=("$.*.at",))
    assert compare(json_answer(primary), json_answer(candidate), rules).matched


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        ("$.items[3].price", "$.items[*].price"),
        ("$.grid[0][12].v", "$.grid[*][*].v"),
        ("$['a b'][2]['it\\'s']", "$['a b'][*]['it\\'s']"),
        ('$["x"]', "$.x"),
        ("$.tags[*]", "$.tags[*]"),
        ("$", "$"),
        ("status", "status"),
        ("body", "body"),
        ("header:Location", "header:location"),
    ],
)
def test_suggested_rule(path: str, rule: str) -> None:
    """The rule for a reported path: indexes as `[*]`, written canonically."""
    assert suggested_rule(path) == rule


def test_suggested_rule_refuses_what_is_not_a_path() -> None:
    """Neither a JSON path nor status, body or a header: ValueError."""
    for path in ("price", "$.a[", "header:"):
        with pytest.raises(ValueError, match="rule"):
            suggested_rule(path)


def test_collapse_leaves_non_json_paths_alone() -> None:
    """`status`, headers and `body` are their own groups."""
    assert collapse("header:x[1]") == "header:x[1]"
    assert collapse("$.a[10]['b[2]']") == "$.a[*]['b[2]']"
    assert collapse("$.plain") == "$.plain"


def test_every_reported_path_gives_a_rule_that_hides_it() -> None:
    """Paste each suggested rule: the same two answers then match."""
    primary = {"a b": [{"it's": 1}], "n": [[1]], "x.y": {"7": True}, "tags": ["a"]}
    candidate = {"a b": [{"it's": 2}], "n": [[2]], "x.y": {"7": False}, "tags": ["b"]}
    one, two = json_answer(primary), json_answer(candidate, status=201)
    rules = CompareRules(unordered=("$.tags",), headers={"location"})
    one = type(one)(one.status, [*one.headers, (b"location", b"/1")], one.body)
    result = compare(one, two, rules)
    assert len(result.paths) == 6
    ignoring = CompareRules(
        unordered=("$.tags",),
        headers={"location"},
        ignore=[suggested_rule(path) for path in result.paths],
    )
    assert compare(one, two, ignoring).matched
    body_rule = CompareRules(ignore=[suggested_rule("body")])
    assert compare(text_answer(b"a"), text_answer(b"b"), body_rule).matched
