"""Shadow evidence in the shared database: written by every process as deltas, summed when read,
grouped, bounded by count and age, and stored without a credential in it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from cutover import Gateway
from cutover.control.store import StateStore
from cutover.control.tables import (
    shadow_counts_table,
    shadow_exemplars_table,
    shadow_groups_table,
    shadow_noise_table,
)
from cutover.shadow.evidence import EvidenceStore
from tests.cutover.shadow.evidence_helpers import close, get, raw_tables, shadowed
from tests.cutover.shadow.stub_evidence import BOOM, PRICE, SLOW, STAMPED, shadowing

pytestmark = pytest.mark.anyio

LONG_AGO = datetime.now(UTC) - timedelta(days=30)


@pytest.fixture
def store(state_url: str) -> Iterator[StateStore]:
    store = StateStore(state_url)
    store.create_tables()
    yield store
    store.dispose()


@pytest.fixture
def gateways(store: StateStore) -> Iterator[tuple[Gateway, Gateway]]:
    """Two gateway processes' worth of state on one store."""
    pair = (shadowing(str(store.url)), shadowing(str(store.url)))
    yield pair
    for gateway in pair:
        close(gateway)


async def test_two_processes_evidence_is_summed(
    gateways: tuple[Gateway, Gateway], store: StateStore
) -> None:
    for gateway in gateways:
        await shadowed(gateway, "/price/1", "/price/2", "/stamped", "/slow", "/boom")
    evidence = EvidenceStore(store)
    since = datetime.now(UTC) - timedelta(minutes=5)
    price = evidence.counts(PRICE, since)
    assert (price.compared, price.mismatched, price.matched) == (4, 4, 0)
    stamped = evidence.counts(STAMPED, since)
    assert (stamped.noise_only, stamped.mismatched, stamped.noise_runs) == (2, 0, 2)
    assert evidence.counts(SLOW, since).timeout == 2
    assert evidence.counts(BOOM, since).candidate_error == 2
    assert evidence.counts(PRICE, datetime.now(UTC) + timedelta(minutes=1)).compared == 0
    [group] = evidence.groups(PRICE)
    assert (group.shape, group.count) == (("$.price changed",), 4)
    assert 1 <= len(group.exemplars) <= 3
    assert "$.price changed: 10 -> 11" in group.exemplars[0].report
    [noise] = evidence.noise(STAMPED)
    assert (noise.path, noise.seen, noise.runs, noise.rate) == ("$.at", 2, 2, 1.0)
    assert noise.suggested_ignore == "$.at"
    with store.engine.connect() as connection:
        writers = connection.execute(
            select(func.count(func.distinct(shadow_counts_table.c.process_id)))
        ).scalar_one()
    assert writers == 2


async def test_a_round_without_news_writes_nothing(
    gateways: tuple[Gateway, Gateway], store: StateStore
) -> None:
    gateway = gateways[0]
    await shadowed(gateway, "/price/1")
    assert gateway.evidence.collect() is None  # nothing new since the last round
    await shadowed(gateway, "/price/1")
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(shadow_counts_table.c.compared).where(shadow_counts_table.c.route == PRICE)
        ).scalars()
        assert sorted(rows) == [1, 1]  # two delta rows, not a running total
    assert EvidenceStore(store).groups(PRICE)[0].count == 2


async def test_exemplars_are_bounded_per_group_and_per_route(store: StateStore) -> None:
    gateway = shadowing(str(store.url), evidence_max_exemplars=4)
    try:
        for n in range(5):
            await shadowed(gateway, f"/price/{n}")
        for n in range(100, 106):
            await shadowed(gateway, f"/price/{n}")
        groups = EvidenceStore(store).groups(PRICE)
    finally:
        close(gateway)
    assert [(group.shape, group.count) for group in groups] == [
        (("$.name changed", "$.price changed"), 6),
        (("$.price changed",), 5),
    ]
    kept = [len(group.exemplars) for group in groups]
    assert kept == [3, 1]  # the newest 3 of the group, 4 for the whole route
    assert [x.request["path"] for x in groups[0].exemplars] == [
        "/price/105",
        "/price/104",
        "/price/103",
    ]


async def test_evidence_older_than_the_retention_is_pruned(store: StateStore) -> None:
    gateway = shadowing(str(store.url), evidence_retention=24 * 3600)
    try:
        await shadowed(gateway, "/price/1", "/stamped")
        with store.engine.begin() as connection:
            for table, column in (
                (shadow_counts_table, "at"),
                (shadow_exemplars_table, "at"),
                (shadow_groups_table, "last_seen"),
                (shadow_noise_table, "last_seen"),
            ):
                connection.execute(update(table).values({column: LONG_AGO}))
        gateway.evidence.prune_interval = 0  # prune on the next round that writes
        await shadowed(gateway, "/price/100")
    finally:
        close(gateway)
    evidence = EvidenceStore(store)
    assert [group.shape for group in evidence.groups(PRICE)] == [
        ("$.name changed", "$.price changed")
    ]
    assert evidence.noise(STAMPED) == []
    assert evidence.totals() == {PRICE: evidence.counts(PRICE, LONG_AGO)}
    assert evidence.counts(PRICE, LONG_AGO).compared == 1


async def test_no_credential_is_ever_stored_or_logged(
    store: StateStore, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = shadowing(str(store.url))
    headers = {
        "authorization": "Bearer s3cret-bearer",
        "cookie": "session=s3cret-session; theme=dark",
        "x-api-key": "s3cret-key",
    }
    try:
        with caplog.at_level(logging.DEBUG, logger="cutover"):
            await shadowed(gateway, "/secret?access_token=s3cret-query&page=2", headers=headers)
            await shadowed(gateway, "/price/1?password=s3cret-pw", headers=headers)
            await shadowed(gateway, "/boom?token=s3cret-boom", headers=headers)
    finally:
        close(gateway)
    tables = raw_tables(str(store.url))
    dump = repr(tables)
    assert tables["cutover_shadow_exemplars"], "the mismatches were stored"
    assert "s3cret" not in dump
    cutover_logs = [r.getMessage() for r in caplog.records if r.name.startswith("cutover")]
    assert any("raised RuntimeError" in message for message in cutover_logs)
    assert "s3cret" not in repr(cutover_logs)
    assert "[redacted]" in dump
    [secret_group] = EvidenceStore(store).groups("GET /secret")
    exemplar = secret_group.exemplars[0]
    headers_kept = dict(exemplar.request["headers"])
    assert headers_kept["cookie"] == "session=[redacted]; theme=[redacted]"
    assert headers_kept["authorization"] == "Bearer [redacted]"
    assert "page=2" in exemplar.request["query"]
    assert '"password": "[redacted]"' in exemplar.primary["body"]["text"]
    set_cookie = [v for n, v in exemplar.candidate["headers"] if n.lower() == "set-cookie"]
    assert set_cookie and set_cookie[0].startswith("sid=[redacted]")


async def test_the_diffs_api_shows_every_process_evidence(
    gateways: tuple[Gateway, Gateway], state_url: str
) -> None:
    writer, _ = gateways
    await shadowed(writer, "/price/1", "/stamped")
    reader = shadowing(state_url, admin_token="t0ken")
    auth = {"authorization": "Bearer t0ken"}
    try:
        refused = await get(reader, "/_cutover/api/diffs")
        everything = await get(reader, "/_cutover/api/diffs", headers=auth)
        one = await get(reader, "/_cutover/api/diffs?route=GET%20/price/{n}", headers=auth)
        wrong = await get(reader, "/_cutover/api/diffs?route=nonsense", headers=auth)
    finally:
        close(reader)
    assert refused.status_code == 401
    assert everything.status_code == 200
    routes = everything.json()["routes"]
    assert set(routes) == {PRICE, STAMPED}
    assert routes[STAMPED]["noise"][0]["suggested_ignore"] == "$.at"
    assert routes[STAMPED]["match_rate"] == 1.0
    assert list(one.json()["routes"]) == [PRICE]
    price = one.json()["routes"][PRICE]
    assert (price["counts"]["mismatched"], price["match_rate"]) == (1, 0.0)
    assert price["groups"][0]["exemplars"][0]["report"] == "$.price changed: 10 -> 11"
    assert wrong.status_code == 400
