"""The console's browser page: a desktop context in the browser's language (see tests/browser.py)."""
from __future__ import annotations

import pytest

from tests.browser import open_page


@pytest.fixture
def browser_locale() -> str:
    """The browser's language (Accept-Language); override for English pages."""
    return "zh-CN"


@pytest.fixture
def page(browser, live_server, browser_locale, request, pytestconfig):
    yield from open_page(browser.new_context(base_url=live_server, locale=browser_locale), request, pytestconfig)
