"""GET /fetch-data against a real local upstream server in each of its behaviours."""

import httpx
import pytest

from tests.legacy.helpers import assert_error
from tests.legacy.upstream import PAYLOAD, Behaviour, UpstreamServer


def test_passes_the_upstream_json_through(client: httpx.Client, upstream: UpstreamServer) -> None:
    response = client.get("/fetch-data")
    assert response.status_code == 200
    assert response.json() == PAYLOAD
    assert response.content == (
        '{"items":[1,2,3],"source":"test upstream","unicode":"zoë"}\n'.encode()
    )
    assert upstream.hits == ["/data"]


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        ("slow", "Upstream timed out"),
        ("html", "Upstream returned invalid JSON"),
        ("error", "Upstream error"),
        ("down", "Upstream unavailable"),
    ],
)
def test_upstream_failures_are_502(
    client: httpx.Client, upstream: UpstreamServer, behaviour: Behaviour, message: str
) -> None:
    upstream.set_behaviour(behaviour)
    assert_error(client.get("/fetch-data"), 502, message)
    assert upstream.hits == ([] if behaviour == "down" else ["/data"])


def test_upstream_recovers_after_being_down(client: httpx.Client, upstream: UpstreamServer) -> None:
    upstream.set_behaviour("down")
    assert client.get("/fetch-data").status_code == 502
    upstream.set_behaviour("json")
    assert client.get("/fetch-data").json() == PAYLOAD
