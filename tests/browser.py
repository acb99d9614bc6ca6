"""Real-browser fixtures shared by the console's and the app's tests (a plugin of tests/conftest.py).

Debian's Chromium driven by Playwright (Playwright's own download is not reachable here) against
a live server in a thread of the test process, so the test owns its clock and database (the
``app``, ``clock`` and ``make`` fixtures serve both). One Playwright per session; each kind of
browser is launched once per session; a failing test leaves a screenshot of its page in
``test-output/screenshots``.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.loopback import serve

CHROMIUM = os.environ.get("CONSOLE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def playwright():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (as root)")
    with sync_playwright() as playwright:
        yield playwright


def launch(playwright, *args: str):
    """Debian's Chromium, headless, with ``args`` besides the usual ones."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *args], headless=True)


@pytest.fixture(scope="session")
def browser(playwright):
    browser = launch(playwright)
    yield browser
    browser.close()


@pytest.fixture
def live_server(app):
    """The app served on a free local port from a thread; its base URL."""
    server, thread, url = serve(app, "live-server")
    yield url
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


def open_page(context, request, pytestconfig):
    """A new page of ``context`` that records CSP violations and uncaught script errors; yields it, then
    screenshots a failure and closes the context."""
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.csp_violations, page.script_errors = [], []
    page.on("pageerror", lambda error: page.script_errors.append(str(error)))
    page.on("console", lambda message: "Content Security Policy" in message.text
            and page.csp_violations.append(message.text))
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        folder = pytestconfig.rootpath / "test-output" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{request.node.name}.png"), full_page=True)
    context.close()
