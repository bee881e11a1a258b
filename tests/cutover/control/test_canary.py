"""Canary assignment: sticky per client, the same in every interpreter, and honest in weight."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cutover.control.canary import BUCKETS, bucket, canary_key, parse_keys
from cutover.control.modes import Mode, RouteMode


def scope(headers: list[tuple[bytes, bytes]], client: str = "10.0.0.1") -> dict[str, object]:
    return {"type": "http", "headers": headers, "client": (client, 5000)}


@pytest.mark.parametrize("percent", [1, 10, 50, 90])
def test_ten_thousand_keys_split_as_configured_within_one_point(percent: float) -> None:
    threshold = RouteMode(Mode.CANARY, percent).threshold
    on_new = sum(bucket(f"token-{n}".encode()) < threshold for n in range(10_000))
    assert abs(on_new / 10_000 * 100 - percent) <= 1


def test_a_client_keeps_its_side_however_often_it_asks() -> None:
    threshold = RouteMode(Mode.CANARY, 10).threshold
    for n in range(200):
        key = f"client-{n}".encode()
        first = bucket(key) < threshold
        assert all((bucket(key) < threshold) is first for _ in range(20))


def test_buckets_are_the_same_in_another_interpreter() -> None:
    keys = [f"k{n}" for n in range(50)]
    code = (
        f"from cutover.control.canary import bucket;print([bucket(k.encode()) for k in {keys!r}])"
    )
    # A fresh interpreter has its own hash seed: blake2b must not depend on it.
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345"},
    )
    assert result.stdout.strip() == str([bucket(k.encode()) for k in keys])
    assert all(0 <= bucket(k.encode()) < BUCKETS for k in keys)


def test_the_first_key_a_request_carries_wins() -> None:
    keys = parse_keys("bearer,cookie:sid,header:X-User,client")
    both = scope([(b"authorization", b"Bearer abc"), (b"cookie", b"a=1; sid=s1")])
    assert canary_key(both, keys) == b"bearer:abc"
    cookie_only = scope([(b"cookie", b"a=1; sid=s1")])
    assert canary_key(cookie_only, keys) == b"cookie:s1"
    header_only = scope([(b"x-user", b"u7")])
    assert canary_key(header_only, keys) == b"header:u7"
    assert canary_key(scope([]), keys) == b"client:10.0.0.1"


def test_a_basic_credential_is_not_a_bearer_key() -> None:
    keys = parse_keys("bearer")
    request = scope([(b"authorization", b"Basic dXNlcjpwYXNz")], client="10.9.9.9")
    assert canary_key(request, keys) == b"client:10.9.9.9"


@pytest.mark.parametrize("spec", ["", "cookie", "header:", "token", "bearer:x"])
def test_a_bad_key_spec_is_refused_with_the_forms_it_takes(spec: str) -> None:
    with pytest.raises(ValueError, match=r"bearer|at least one"):
        parse_keys(spec)
