"""The dashboard through the gateway in-process (httpx ASGITransport): login, cookie
attributes, the login page for every unauthenticated visit, CSRF on every form, a switch with
its confirmation and reason, escaping, and no dashboard without a token or a state store."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from cutover import Gateway
from cutover.control.modes import Mode, RouteMode
from tests.cutover.lifespan import running
from tests.cutover.stub_routing_apps import make_legacy, make_new

pytestmark = pytest.mark.anyio

TOKEN = "dashboard-admin-token-0123"
ITEM = "GET /items/{item_id}"
PAGES = ["/_cutover/", "/_cutover/route?route=GET%20/items/%7Bitem_id%7D", "/_cutover/processes"]


def gateway_on(state_url: str, token: str | None = TOKEN) -> Gateway:
    return Gateway(
        make_legacy(),
        make_new(),
        state_url=state_url,
        admin_token=token,
        served_by_header=True,
        access_log=False,
        state_poll_interval=0.1,
        publish_interval=0.2,
    )


@pytest.fixture
def state_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


@asynccontextmanager
async def client_of(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    """A client over https (the session cookie is Secure), the gateway started."""
    async with running(gateway):
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
            yield client


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden {name!r} in the page"
    return found[1]


async def log_in(client: httpx.AsyncClient, token: str = TOKEN) -> httpx.Response:
    page = await client.get("/_cutover/")
    return await client.post(
        "/_cutover/login",
        data={"csrf": hidden(page.text, "csrf"), "token": token, "next": "/_cutover/"},
    )


async def test_every_page_shows_the_login_page_until_logged_in(state_url: str) -> None:
    async with client_of(gateway_on(state_url)) as client:
        for page in PAGES:
            answer = await client.get(page)
            assert answer.status_code == 401
            assert 'name="token"' in answer.text and "Log in" in answer.text
            assert TOKEN not in answer.text
        refused = await client.post("/_cutover/switch", data={"route": ITEM, "mode": "legacy"})
        assert refused.status_code == 401 and 'name="token"' in refused.text


async def test_login_sets_a_secure_httponly_strict_cookie_on_the_prefix(state_url: str) -> None:
    async with client_of(gateway_on(state_url)) as client:
        login_page = await client.get("/_cutover/")
        nonce_cookie = login_page.headers["set-cookie"]
        assert nonce_cookie.startswith("cutover_login=")
        answer = await log_in(client)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/_cutover/"
        session = next(
            value
            for value in answer.headers.get_list("set-cookie")
            if value.startswith("cutover_session=")
        )
        attributes = session.split("; ")
        assert {"Secure", "HttpOnly", "SameSite=Strict", "Path=/_cutover/"} <= set(attributes)
        assert TOKEN not in session
        overview = await client.get("/_cutover/")
        assert overview.status_code == 200
        assert "Migration overview" in overview.text and ITEM in overview.text
        for header in ("content-security-policy", "x-frame-options"):
            assert header in overview.headers
        assert overview.headers["cache-control"] == "no-store"
        assert TOKEN not in overview.text


async def test_a_wrong_token_or_a_login_without_its_nonce_is_refused(state_url: str) -> None:
    async with client_of(gateway_on(state_url)) as client:
        wrong = await log_in(client, "not-the-token")
        assert wrong.status_code == 401 and "not the admin token" in wrong.text
        assert "cutover_session" not in client.cookies
        client.cookies.clear()
        forged = await client.post(
            "/_cutover/login", data={"csrf": "guess", "token": TOKEN, "next": "/_cutover/"}
        )
        assert forged.status_code == 403
        assert "cutover_session" not in client.cookies


async def test_login_goes_back_only_to_a_page_of_the_dashboard(state_url: str) -> None:
    async with client_of(gateway_on(state_url)) as client:
        for target, expected in [
            ("/_cutover/processes", "/_cutover/processes"),
            ("https://evil.example/", "/_cutover/"),
            ("/_cutover//evil.example", "/_cutover/"),
            ("/elsewhere", "/_cutover/"),
        ]:
            page = await client.get("/_cutover/")
            answer = await client.post(
                "/_cutover/login",
                data={"csrf": hidden(page.text, "csrf"), "token": TOKEN, "next": target},
            )
            assert answer.headers["location"] == expected
            client.cookies.clear()


async def test_a_post_without_the_sessions_csrf_token_is_forbidden(state_url: str) -> None:
    gateway = gateway_on(state_url)
    async with client_of(gateway) as client:
        await log_in(client)
        form = {"route": ITEM, "mode": "legacy", "reason": "forged", "confirm": "yes"}
        for extra in ({}, {"csrf": ""}, {"csrf": "not-it"}):
            answer = await client.post("/_cutover/switch", data={**form, **extra})
            assert answer.status_code == 403
        logout = await client.post("/_cutover/logout")
        assert logout.status_code == 403
        assert gateway.control.store is not None
        assert gateway.control.store.history(ITEM) == []


async def test_a_switch_is_confirmed_then_applied_with_its_reason(state_url: str) -> None:
    gateway = gateway_on(state_url)
    async with client_of(gateway) as client:
        await log_in(client)
        page = await client.get("/_cutover/route", params={"route": ITEM})
        assert page.status_code == 200
        csrf = hidden(page.text, "csrf")
        form = {"csrf": csrf, "route": ITEM, "mode": "canary", "percent": "25"}
        no_reason = await client.post("/_cutover/switch", data={**form, "reason": "  "})
        assert no_reason.status_code == 400 and "reason is needed" in no_reason.text
        reason = "try <script>alert(1)</script>"
        confirm = await client.post("/_cutover/switch", data={**form, "reason": reason})
        assert confirm.status_code == 200
        assert f"Switch {ITEM} from new to canary 25%?" in confirm.text
        assert "<script>alert" not in confirm.text  # escaped
        store = gateway.control.store
        assert store is not None and store.history(ITEM) == []  # nothing before the confirm
        done = await client.post(
            "/_cutover/switch", data={**form, "reason": reason, "confirm": "yes"}
        )
        assert done.status_code == 303
        (change,) = store.history(ITEM)
        assert (change.after, change.actor, change.reason) == (
            RouteMode(Mode.CANARY, 25),
            "dashboard",
            reason,
        )
        after = await client.get(done.headers["location"])
        assert "Switched to canary 25% (version 1)." in after.text
        assert "try &lt;script&gt;alert(1)&lt;/script&gt;" in after.text
        assert "<script>alert" not in after.text
        fragment = await client.get("/_cutover/route", params={"route": ITEM, "fragment": "1"})
        assert fragment.headers["x-cutover-fragment"] == "1"
        assert "<html" not in fragment.text and "dashboard" in fragment.text


async def test_a_refused_switch_is_shown_on_the_routes_page(state_url: str) -> None:
    async with client_of(gateway_on(state_url)) as client:
        await log_in(client)
        page = await client.get("/_cutover/route", params={"route": ITEM})
        form = {"csrf": hidden(page.text, "csrf"), "route": ITEM, "reason": "r", "confirm": "yes"}
        for mode, percent in [("sideways", ""), ("canary", "x"), ("canary", "250")]:
            answer = await client.post(
                "/_cutover/switch", data={**form, "mode": mode, "percent": percent}
            )
            assert answer.status_code == 400, (mode, percent)
        missing = await client.post(
            "/_cutover/switch", data={**form, "route": "GET /nowhere", "mode": "legacy"}
        )
        assert missing.status_code == 404


async def test_overview_lists_sorts_and_filters_without_js(state_url: str) -> None:
    async with client_of(gateway_on(state_url)) as client:
        await log_in(client)
        for _ in range(3):
            await client.get("/items/1")
        await asyncio.sleep(0.6)  # published by the gateway's writer
        listed = await client.get("/_cutover/", params={"sort": "requests", "order": "desc"})
        routes = re.findall(r'<tr data-route="([^"]+)"', listed.text)
        assert routes[0] == ITEM
        filtered = await client.get("/_cutover/", params={"q": "tickets"})
        found = re.findall(r'<tr data-route="([^"]+)"', filtered.text)
        assert "GET /tickets" in found and all("tickets" in route for route in found)
        legacy_only = await client.get("/_cutover/", params={"mode": "legacy-only"})
        assert all(
            not route.startswith("GET /items")
            for route in re.findall(r'<tr data-route="([^"]+)"', legacy_only.text)
        )
        processes = await client.get("/_cutover/processes")
        assert processes.status_code == 200 and "current" in processes.text
        logout = await client.post("/_cutover/logout", data={"csrf": hidden(listed.text, "csrf")})
        assert logout.status_code == 303
        assert (await client.get("/_cutover/")).status_code == 401


async def test_assets_are_served_by_the_gateway_itself(state_url: str) -> None:
    async with client_of(gateway_on(state_url)) as client:
        css = await client.get("/_cutover/static/dashboard.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        js = await client.get("/_cutover/static/dashboard.js")
        assert js.status_code == 200 and "fragment" in js.text
        assert (await client.get("/_cutover/static/nothing.js")).status_code == 404
        page = (await client.get("/_cutover/")).text
        assert "http://" not in page and "https://" not in page  # nothing from outside


@pytest.mark.parametrize("token", [None, ""])
async def test_no_dashboard_without_a_token(state_url: str, token: Any) -> None:
    async with client_of(gateway_on(state_url, token)) as client:
        assert (await client.get("/_cutover/")).status_code == 404
        assert (await client.get("/_cutover/login")).status_code == 404


async def test_no_dashboard_without_a_state_store() -> None:
    gateway = Gateway(make_legacy(), make_new(), admin_token=TOKEN, access_log=False)
    async with client_of(gateway) as client:
        assert (await client.get("/_cutover/")).status_code == 404


async def test_a_promotion_is_started_and_stopped_with_confirmations(state_url: str) -> None:
    gateway = gateway_on(state_url)
    async with client_of(gateway) as client:
        await log_in(client)
        page = await client.get("/_cutover/route", params={"route": ITEM})
        assert 'id="promote-start-form"' in page.text
        form = {"csrf": hidden(page.text, "csrf"), "route": ITEM, "action": "start"}
        form |= {"steps": "5,50,100", "interval": "30", "reason": "canary from the dashboard"}
        bad = await client.post("/_cutover/promote", data={**form, "steps": "50,5"})
        assert bad.status_code == 400
        confirm = await client.post("/_cutover/promote", data=form)
        assert f"Promote {ITEM} through canary 5,50,100 %" in confirm.text
        started = await client.post("/_cutover/promote", data={**form, "confirm": "yes"})
        assert started.status_code == 303
        store = gateway.control.store
        assert store is not None
        (change,) = store.history(ITEM)
        assert (change.after, change.actor) == (RouteMode(Mode.CANARY, 5), "dashboard")
        page = await client.get(started.headers["location"])
        assert "running" in page.text and 'id="promote-stop-form"' in page.text
        stop = {"csrf": form["csrf"], "route": ITEM, "action": "stop", "reason": "enough"}
        assert "Stop the promotion" in (await client.post("/_cutover/promote", data=stop)).text
        stopped = await client.post("/_cutover/promote", data={**stop, "confirm": "yes"})
        assert stopped.status_code == 303
        page = await client.get(stopped.headers["location"])
        assert "cancelled" in page.text and 'id="promote-start-form"' in page.text
        forged = await client.post("/_cutover/promote", data={**form, "csrf": "x"})
        assert forged.status_code == 403


async def test_other_paths_one_level_under_the_prefix_stay_fastapis(state_url: str) -> None:
    async with client_of(gateway_on(state_url)) as client:
        redoc = await client.get("/_cutover/redoc")  # FastAPI's ReDoc, relocated there
        assert redoc.status_code == 200 and "redoc" in redoc.text.lower()
        assert (await client.get("/_cutover/not-a-page")).status_code == 404
        assert (await client.get("/_cutover/healthz")).status_code == 200
