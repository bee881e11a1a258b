"""The dashboard end to end in headless Chromium (issue 12): an unauthenticated visit gets the
login page; log in, find a route, switch it to legacy with a reason and confirm; the next
request through the gateway is served by legacy and the route's history shows the change; a
forged form post without the CSRF token is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.dashboard.browser import (
    ITEM,
    TOKEN,
    chromium,
    log_in,
    missing_browser,
    served_by,
    shop_gateway,
    wait_for,
)
from tests.servers import Server

pytest.importorskip("selenium", reason="selenium is in the dev extras (.[dev]), not installed")
if (_missing := missing_browser()) is not None:
    pytest.skip(_missing, allow_module_level=True)

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with shop_gateway(tmp_path / "state.db") as running:
        yield running


@pytest.fixture
def driver() -> Iterator[WebDriver]:
    with chromium() as browser:
        yield browser


def history_rows(driver: WebDriver) -> list[str]:
    return [row.text for row in driver.find_elements(By.CSS_SELECTOR, "table.history tbody tr")]


def test_switch_a_route_to_legacy_from_the_browser(server: Server, driver: WebDriver) -> None:
    url = server.url
    driver.get(f"{url}/_cutover/route?route=GET%20/items/%7Bitem_id%7D")
    assert driver.find_element(By.ID, "token").get_attribute("type") == "password"
    assert "Log in" in driver.title
    assert served_by(url, "/items/1") == "new"  # its default: the port

    log_in(driver, url)
    cookies = {cookie["name"]: cookie for cookie in driver.get_cookies()}
    session = cookies["cutover_session"]
    assert (session["secure"], session["httpOnly"], session["sameSite"]) == (True, True, "Strict")
    assert session["path"] == "/_cutover/"
    assert TOKEN not in driver.page_source

    # Find the route: filter the table, then follow its link.
    driver.find_element(By.ID, "q").send_keys("items/")
    driver.find_element(By.CSS_SELECTOR, "form.filters button").click()
    wait_for(lambda: "q=items" in driver.current_url, "the filtered overview")
    rows = driver.find_elements(By.CSS_SELECTOR, "tr[data-route]")
    listed = [row.get_attribute("data-route") for row in rows]
    assert listed == [ITEM]
    driver.find_element(By.LINK_TEXT, ITEM).click()
    wait_for(lambda: driver.find_elements(By.ID, "switch-form"), "the route's page")
    assert driver.find_element(By.ID, "current-mode").text == "new"

    reason = "e2e: roll back to legacy"
    Select(driver.find_element(By.ID, "switch-mode")).select_by_value("legacy")
    driver.find_element(By.ID, "switch-reason").send_keys(reason)
    driver.find_element(By.ID, "switch-review").click()
    confirm = wait_for(lambda: driver.find_elements(By.ID, "confirm"), "the confirmation step")
    assert f"Switch {ITEM} from new to legacy?" in driver.page_source
    confirm[0].click()

    done = wait_for(lambda: driver.find_elements(By.ID, "done"), "the switch applied")
    assert "Switched to legacy" in done[0].text
    assert driver.find_element(By.ID, "current-mode").text == "legacy"
    wait_for(lambda: served_by(url, "/items/1") == "legacy", "the next request on legacy", 5)
    (latest, *_) = history_rows(driver)
    assert "new" in latest and "legacy" in latest and "dashboard" in latest and reason in latest

    # A form posted without the session's CSRF token (forged on the page itself) is refused.
    driver.execute_script(
        """
        const form = document.createElement("form");
        form.method = "post";
        form.action = arguments[0] + "/_cutover/switch";
        for (const [name, value] of Object.entries(arguments[1])) {
          const input = document.createElement("input");
          input.type = "hidden"; input.name = name; input.value = value;
          form.appendChild(input);
        }
        document.body.appendChild(form);
        form.submit();
        """,
        url,
        {"route": ITEM, "mode": "new", "reason": "forged", "confirm": "yes"},
    )
    wait_for(lambda: "CSRF" in driver.page_source, "the forged post refused")
    assert "403" in driver.title
    assert served_by(url, "/items/1") == "legacy"
    driver.get(f"{url}/_cutover/route?route=GET%20/items/%7Bitem_id%7D")
    assert not any("forged" in row for row in history_rows(driver))


def test_an_unauthenticated_visit_to_any_page_gets_the_login_page(
    server: Server, driver: WebDriver
) -> None:
    for page in ("/_cutover/", "/_cutover/processes", "/_cutover/route?route=GET%20/health"):
        driver.get(server.url + page)
        assert driver.find_elements(By.ID, "token"), page
    driver.find_element(By.ID, "token").send_keys("wrong token")
    driver.find_element(By.ID, "login").click()
    wait_for(lambda: "not the admin token" in driver.page_source, "the wrong token refused")
    assert "cutover_session" not in {cookie["name"] for cookie in driver.get_cookies()}
