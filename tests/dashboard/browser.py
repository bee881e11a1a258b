"""Headless Chromium for the dashboard's end-to-end test and screenshots: Debian's `chromium`
and `chromium-driver` (installed by `make test` where apt can), driven by Selenium, with the
stub shop gateway (tests/dashboard/stub_gateway.py) under uvicorn on loopback."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.servers import Server, serve_uvicorn

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
APP = "tests.dashboard.stub_gateway:gateway"
TOKEN = "e2e-dashboard-token-4f1c9a"
ITEM = "GET /items/{item_id}"


def missing_browser() -> str | None:
    """Why the browser cannot run here, or None."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not path.exists():
            return f"{path} is missing (apt-get install {package}; `make test` tries as root)"
    return None


@contextmanager
def shop_gateway(state_db: Path) -> Iterator[Server]:
    env = {
        "CUTOVER_DASHBOARD_STATE_URL": f"sqlite:///{state_db}",
        "CUTOVER_DASHBOARD_TOKEN": TOKEN,
    }
    with serve_uvicorn(APP, env=env) as server:
        yield server


@contextmanager
def chromium(width: int = 1360, height: int = 1000) -> Iterator[WebDriver]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in a container has no user namespace sandbox
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={width},{height}",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
    ):
        options.add_argument(argument)
    service = Service(executable_path=str(CHROMEDRIVER), log_output=subprocess.DEVNULL)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def log_in(driver: WebDriver, url: str, token: str = TOKEN) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{url}/_cutover/")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "login").click()
    wait_for(lambda: "Migration overview" in driver.page_source, "the overview after login")


def served_by(url: str, path: str) -> str:
    with urllib.request.urlopen(f"{url}{path}", timeout=10) as answer:
        return str(answer.headers["x-cutover-served-by"])


def wait_for(done: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = done()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not seen within {timeout:g} s: {what}")
        time.sleep(0.1)


def switch_in_browser(
    driver: WebDriver, url: str, route: str, mode: str, reason: str, percent: str = ""
) -> None:
    """Switch `route` from its page as a person would: choose, give the reason, confirm."""
    from urllib.parse import quote

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver.get(f"{url}/_cutover/route?route={quote(route)}")
    Select(driver.find_element(By.ID, "switch-mode")).select_by_value(mode)
    if percent:
        field = driver.find_element(By.ID, "switch-percent")
        field.clear()
        field.send_keys(percent)
    driver.find_element(By.ID, "switch-reason").send_keys(reason)
    driver.find_element(By.ID, "switch-review").click()
    wait_for(lambda: driver.find_elements(By.ID, "confirm"), "the confirmation step")[0].click()
    wait_for(lambda: driver.find_elements(By.ID, "done"), f"{route} switched to {mode}")


def full_page_screenshot(driver: WebDriver, path: Path) -> None:
    """The whole document as a PNG, beyond the window's height (Chromium's DevTools)."""
    import base64

    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})  # type: ignore[attr-defined]
    size = metrics["cssContentSize"]
    shot = driver.execute_cdp_cmd(  # type: ignore[attr-defined]
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        },
    )
    path.write_bytes(base64.b64decode(shot["data"]))
