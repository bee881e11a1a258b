"""Noise learning: the paths that differ between two runs of the same side, and the ignore
rules they suggest, which then make a primary and a candidate that differ only there match."""

from __future__ import annotations

from typing import Any

from cutover.shadow import Answer, CompareRules, compare, noise_paths, suggested_rule
from tests.cutover.shadow.answers import json_answer


def legacy_run(clock: str, request_id: str, price: int = 10) -> Answer:
    """One run of the primary side: the same data, a fresh timestamp and request id."""
    body: dict[str, Any] = {
        "generated_at": clock,
        "items": [{"id": number, "price": price, "seen_at": clock} for number in range(3)],
        "trace": {"request_id": request_id},
    }
    headers = [
        (b"content-type", b"application/json"),
        (b"set-cookie", b"session=" + clock.encode()),
    ]
    return json_answer(body, headers=headers)


def test_noise_paths_between_two_runs_of_the_same_side() -> None:
    """The timestamp (at the top and in every item) and the request id are noise."""
    first = legacy_run("2026-01-01T00:00:00Z", "a1")
    second = legacy_run("2026-01-01T00:00:01Z", "b2")
    assert noise_paths(first, second, CompareRules()) == {
        "$.generated_at",
        "$.items[*].seen_at",
        "$.trace.request_id",
    }
    assert noise_paths(first, first, CompareRules()) == set()


def test_noise_is_uncapped() -> None:
    """Noise learning sees every differing path, whatever the cap on kept differences."""
    first = legacy_run("t1", "a")
    second = legacy_run("t2", "b")
    assert len(noise_paths(first, second, CompareRules(max_differences=1))) == 3


def test_suggested_rules_hide_the_noise_and_nothing_else() -> None:
    """With the learned rules, a candidate differing only in noise matches; one also
    differing in a price reports just the price."""
    first, second = legacy_run("t1", "a"), legacy_run("t2", "b")
    rules = CompareRules(ignore=sorted(suggested_rule(path) for path in noise_paths(first, second)))
    assert rules.ignore == ("$.generated_at", "$.items[*].seen_at", "$.trace.request_id")
    candidate = legacy_run("t3", "c")
    assert compare(first, candidate, rules).matched
    result = compare(first, legacy_run("t3", "c", price=11), rules)
    assert result.paths == {"$.items[*].price"}
    assert result.paths.isdisjoint(noise_paths(first, second))


def test_a_mismatch_made_only_of_noise_is_recognisable() -> None:
    """Without rules yet, the runner can tell noise-only mismatches by their paths."""
    first, second = legacy_run("t1", "a"), legacy_run("t2", "b")
    noise = noise_paths(first, second)
    noise_only = compare(first, legacy_run("t3", "c"))
    assert not noise_only.matched
    assert noise_only.paths <= noise
    real = compare(first, legacy_run("t3", "c", price=0))
    assert not real.paths <= noise
