"""Make docs/dashboard-overview.png and docs/dashboard-route.png: the stub shop gateway
(tests/dashboard/stub_gateway.py) under uvicorn, some traffic, a route put in shadow from the
dashboard with a port differing in a field, and headless Chromium once the evidence is in.

    .venv/bin/python docs/screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.dashboard.browser import (  # noqa: E402
    ITEM,
    chromium,
    full_page_screenshot,
    log_in,
    missing_browser,
    served_by,
    shop_gateway,
    switch_in_browser,
    wait_for,
)

TRAFFIC = {
    "/items": 40,
    "/items/1": 12,
    "/users/1": 30,
    "/users/2": 30,
    "/orders": 25,
    "/reports/weekly": 8,
    "/health": 60,
}


def get(url: str, times: int = 1) -> None:
    for _ in range(times):
        with urllib.request.urlopen(url, timeout=10) as answer:
            answer.read()


def main() -> int:
    if (missing := missing_browser()) is not None:
        print(f"cannot take screenshots: {missing}", file=sys.stderr)
        return 1
    from selenium.webdriver.common.by import By

    scratch = tempfile.TemporaryDirectory()
    with scratch, shop_gateway(Path(scratch.name) / "state.db") as server:
        url = server.url
        for path, times in TRAFFIC.items():
            get(url + path, times)
        with chromium() as driver:
            log_in(driver, url)
            switch_in_browser(driver, url, ITEM, "shadow", "prove the port on live reads")
            wait_for(lambda: served_by(url, "/items/1") == "legacy", "the shadow mode applied")
            for index in range(40):  # enough for the 10 % noise sample to learn `served_at`
                get(f"{url}/items/{index % 3 + 1}")
            route_page = f"{url}/_cutover/route?route=GET%20/items/%7Bitem_id%7D"

            def evidence_in() -> bool:
                driver.get(route_page)
                found = driver.find_elements(By.CSS_SELECTOR, "article.group, table.noise")
                return len(found) >= 2

            wait_for(evidence_in, "the shadow evidence published", 20)
            full_page_screenshot(driver, ROOT / "docs" / "dashboard-route.png")
            driver.get(f"{url}/_cutover/?sort=requests&order=desc")
            full_page_screenshot(driver, ROOT / "docs" / "dashboard-overview.png")
    print("wrote docs/dashboard-overview.png and docs/dashboard-route.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
