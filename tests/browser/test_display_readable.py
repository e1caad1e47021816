"""The lobby TV read from 3 m: the "VỪA GỌI" history in large figures with strong contrast
(no grey on navy, also for numbers already served), and long service names that wrap or
shrink instead of being cut. Screenshots: test-artifacts/display-readable-*."""
from __future__ import annotations

import pytest

from tests.conftest import office_data, screenshot, seed, without_areas
from tests.support.sockets import Http

ALL_DAY = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
LONG = "Lao động – Thương binh và Xã hội, Bảo trợ xã hội, Trẻ em và Bình đẳng giới"

# WCAG relative luminance and contrast, from the computed colours (rgb(...) strings).
CONTRAST_JS = """(el) => {
    const rgb = (s) => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
    const lum = ([r, g, b]) => { const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
                                 return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
    let bg = el, color = getComputedStyle(el).color;
    while (bg && getComputedStyle(bg).backgroundColor.match(/rgba\\(.*, 0\\)|transparent/)) bg = bg.parentElement;
    const [a, b] = [lum(rgb(color)), lum(rgb(getComputedStyle(bg).backgroundColor))];
    return {ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05), px: parseFloat(getComputedStyle(el).fontSize)};
}"""


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720)], ids=["1920x1080", "1280x720"])
def test_recent_calls_and_long_service_names_are_readable(sqlite_url, servers, page_factory, size):
    data = without_areas(office_data(hours=ALL_DAY))
    data["services"][3]["name"] = LONG  # the fourth service, Lao động
    tokens = seed(sqlite_url, data)
    server = servers(sqlite_url)
    admin = Http(server.url, tokens["admin"])
    counters = admin.counters()
    q1 = counters["Quầy 1"]
    admin.open_counter(q1)
    for _ in range(4):
        admin.issue("HT")
    for _ in range(4):  # three served and done ("gone" in the history), the last one at the counter
        called = admin.call_next(q1, complete_current=True)
    assert called["status"] == "called"
    page = page_factory(*size)
    page.goto(f"{server.url}/display/demo?token={tokens['display']}")
    page.wait_for_selector("body[data-live='true']")
    page.wait_for_selector("#recent li.gone")
    page.evaluate("document.fonts.ready")
    page.wait_for_timeout(300)
    screenshot(page, f"display-readable-{size[0]}x{size[1]}")

    height = size[1]
    for selector in ("#recent li .r-number", "#recent li .r-counter", "#recent li.gone .r-number",
                     "#recent li.gone .r-counter"):
        for found in page.locator(selector).evaluate_all(f"els => els.map({CONTRAST_JS})"):
            assert found["ratio"] >= 7, (selector, found)  # WCAG AAA for normal text
    numbers = page.locator("#recent li .r-number").evaluate_all(f"els => els.map({CONTRAST_JS})")
    assert min(n["px"] for n in numbers) >= 0.05 * height  # about 5 cm tall letters on a 43-inch TV

    cells = page.locator("#waiting .w-name").evaluate_all("""els => els.map(e => ({
        text: e.textContent, cut: e.scrollHeight > e.clientHeight + 1 || e.scrollWidth > e.clientWidth + 1,
        px: parseFloat(getComputedStyle(e).fontSize)}))""")
    assert any(c["text"] == LONG for c in cells)
    assert [c for c in cells if c["cut"]] == []
    assert min(c["px"] for c in cells) >= 0.016 * height
