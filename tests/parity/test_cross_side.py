"""Both sides share state: what one writes the other reads, a token works (and dies) on both."""

import httpx
import pytest

from cutover.parity import normalise, send
from tests.parity.harness import PASSWORD, H, login, user

pytestmark = pytest.mark.anyio


async def test_user_created_on_legacy_reads_the_same_on_new(
    legacy: httpx.AsyncClient, ported: httpx.AsyncClient
) -> None:
    created = await send(legacy, user("alice", age=30), {})
    assert created.status_code == 201
    old = await legacy.get("/api/users/1")
    new = await ported.get("/api/users/1")
    assert new.content == old.content == created.content
    assert normalise(new) == normalise(old)


async def test_note_edited_on_each_side_in_turn(
    legacy: httpx.AsyncClient, ported: httpx.AsyncClient
) -> None:
    tokens: dict[str, str] = {}
    await send(legacy, user("alice"), tokens)
    await send(legacy, login("alice"), tokens)
    auth = {"Authorization": f"Bearer {tokens['alice']}"}

    created = await legacy.post("/api/notes", json={"title": "draft"}, headers=auth)
    assert created.status_code == 201
    updated = await ported.put(
        "/api/notes/1", json={"version": 1, "title": "edited on new"}, headers=auth
    )
    assert updated.status_code == 200
    assert updated.json()["version"] == 2
    read_back = await legacy.get("/api/notes/1", headers=auth)
    assert read_back.content == updated.content

    stale = await legacy.put("/api/notes/1", json={"version": 1, "body": "x"}, headers=auth)
    assert stale.status_code == 409
    assert stale.json()["note"] == updated.json()
    deleted = await ported.delete("/api/notes/1", headers=auth)
    assert deleted.status_code == 204
    changes = await legacy.get("/api/notes?since=2", headers=auth)
    assert changes.json()["cursor"] == "3"
    assert [note["deleted"] for note in changes.json()["changes"]] == [True]


@pytest.mark.parametrize("issuer", ["legacy", "new"])
async def test_token_issued_on_one_side_works_and_is_revoked_on_the_other(
    issuer: str, legacy: httpx.AsyncClient, ported: httpx.AsyncClient
) -> None:
    issuing, other = (legacy, ported) if issuer == "legacy" else (ported, legacy)
    tokens: dict[str, str] = {}
    await send(issuing, user("alice"), tokens)
    minted = await send(issuing, H("POST", "/api/tokens", basic=("alice", PASSWORD)), tokens)
    auth = {"Authorization": f"Bearer {minted.json()['token']}"}

    on_other = await other.get("/profile", headers=auth)
    on_issuer = await issuing.get("/profile", headers=auth)
    assert on_other.status_code == 200
    assert on_other.content == on_issuer.content

    assert (await other.delete("/api/tokens", headers=auth)).status_code == 204
    for side in (issuing, other):
        refused = await side.get("/profile", headers=auth)
        assert refused.status_code == 401
        assert refused.json() == {"error": "Invalid token"}
        assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_post_draft_visibility_agrees_across_sides(
    legacy: httpx.AsyncClient, ported: httpx.AsyncClient
) -> None:
    tokens: dict[str, str] = {}
    for step in (user("alice"), login("alice"), user("bob"), login("bob")):
        await send(legacy, step, tokens)
    draft = await ported.post(
        "/api/posts",
        json={"title": "secret"},
        headers={"Authorization": f"Bearer {tokens['alice']}"},
    )
    assert draft.status_code == 201
    for side in (legacy, ported):
        assert (await side.get("/api/posts/1")).status_code == 404
        as_bob = await side.get(
            "/api/posts/1", headers={"Authorization": f"Bearer {tokens['bob']}"}
        )
        assert as_bob.status_code == 404
        as_alice = await side.get(
            "/api/posts/1", headers={"Authorization": f"Bearer {tokens['alice']}"}
        )
        assert as_alice.content == draft.content


async def test_native_route_reads_the_legacy_admin_session(
    legacy: httpx.AsyncClient, ported: httpx.AsyncClient
) -> None:
    await send(legacy, user("alice"), {})
    anonymous = await ported.get("/api/admin/me")
    assert anonymous.status_code == 401
    assert anonymous.json() == {"error": "Not logged in"}
    assert anonymous.headers["vary"] == "Cookie"

    login_page = await legacy.post("/admin/login", data={"username": "alice", "password": PASSWORD})
    assert login_page.status_code == 302
    cookie = legacy.cookies.get("session")
    assert cookie

    me = await ported.get("/api/admin/me", headers={"Cookie": f"session={cookie}"})
    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    assert me.headers["vary"] == "Cookie"
    assert me.content == (await ported.get("/api/users/1")).content

    tampered = cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")
    assert (
        await ported.get("/api/admin/me", headers={"Cookie": f"session={tampered}"})
    ).status_code == 401
