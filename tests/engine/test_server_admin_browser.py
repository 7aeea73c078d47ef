"""The admin page in a real headless browser (Debian's chromium driven by Playwright): it
loads the workflows, an event posted over HTTP shows in the live feed (the page says `live` only
once nothing posted after can be missed), and a run's step states appear when it is clicked,
moving on while it runs. Waits are for conditions with generous deadlines: chromium on a loaded
machine is slow, and the runs table is redrawn while the test looks at it."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from tests.engine.serve_support import running_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="needs chromium (apt-get install chromium; .ci/run installs it)"
)
EXAMPLES = Path(__file__).resolve().parents[2] / "workflows"


def test_admin_page_feed_and_run_states(tmp_path: Path) -> None:
    folder = tmp_path / "workflows"
    shutil.copytree(EXAMPLES, folder)
    with running_server(folder) as server, playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(server.url + "/")
            page.wait_for_selector("#workflows td:text-is('policyChange')", timeout=10_000)
            page.wait_for_selector("#status:text-is('live')", timeout=10_000)
            r = httpx.post(f"{server.url}/events/policyChangeSuggested", json={"policyId": "P-77"})
            (run_id,) = r.json()["runs"]
            page.wait_for_selector(
                "#feed li.success:has-text('Policy P-77 passed')", timeout=10_000
            )
            # a locator, not an element handle: the row is redrawn when the run ends, and a
            # handle taken before that was detached by the time it was clicked
            page.locator(f"tr.run[data-run='{run_id}']").click(timeout=10_000)
            page.wait_for_selector("#steps tr[data-step='check'] td.succeeded", timeout=10_000)
            page.wait_for_selector("#steps tr[data-step='revertPolicy'] td.skipped", timeout=10_000)
            assert page.text_content("#run-id") == run_id
        finally:
            browser.close()
