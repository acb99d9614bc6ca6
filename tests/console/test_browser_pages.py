"""The report and mall pages in a real browser (headless Chromium): a chart drawn, an order handed over."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.console.test_browser import log_in
from tests.factories import redeem


def test_the_report_page_draws_its_chart_within_the_csp(page, clock, make):
    week = make.report_week()
    log_in(page, clock, week.officer)
    page.click("nav >> text=周报")
    expect(page.locator("h1")).to_have_text("周报 2026-W48")
    bars = page.locator("#daily-chart rect.done")
    expect(bars).to_have_count(7)
    sunday = page.locator("#daily-chart g.day").last
    done, missed = sunday.locator("rect.done").bounding_box(), sunday.locator("rect.missed").bounding_box()
    assert done["height"] > missed["height"] > 0  # 3 done over 2 missed, drawn to scale
    expect(page.locator("#trend-chart polyline.rate")).to_have_count(1)
    assert page.csp_violations == []


def test_an_officer_hands_an_order_over(app, client, page, clock, make):
    scene = make.scene()
    item_id = make.item(scene.office, name="洗衣液", cost=10, stock=5)
    make.give(scene.person, 50)
    order_id = redeem(client, scene.phone, item_id).get_json()["id"]
    log_in(page, clock, scene.officer)
    page.goto("/mall/orders?status=pending")
    row = page.locator(f"#order-{order_id}")
    expect(row).to_contain_text("洗衣液")
    row.locator("form.fulfil button").click()
    expect(page).to_have_url(re.compile(r"/mall/orders\?status=pending$"))
    expect(page.locator(f"#order-{order_id}")).to_have_count(0)  # no longer pending
    page.goto("/mall/orders")
    expect(page.locator(f"#order-{order_id} .state")).to_have_text("已交付")
    assert page.csp_violations == []
