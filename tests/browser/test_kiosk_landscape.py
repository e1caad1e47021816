"""The kiosk's ticket screen on landscape kiosks (1920×1080 and 1366×768) at its fullest:
a printer fault (message and "In lại vé"), the wait-outside notice, a priority badge and the
no-open-counter line all at once. The ticket card must stay below the header and everything
on it, the reprint button first, must be on screen. Screenshots: test-artifacts/kiosk-landscape-*."""
from __future__ import annotations

import pytest

from tests.conftest import screenshot, seed, two_chair_office, without_procedures
from tests.support.fakeprinter import STATUS_PAPER_OUT, FakePrinter
from tests.support.sockets import Http

ALL_DAY = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
TICKET = "#screen-ticket:not([hidden])"


def layout(page) -> dict:
    """Where the header ends and the ticket card starts, and what of the card is off screen."""
    return page.evaluate("""() => {
        const box = (sel) => document.querySelector(sel).getBoundingClientRect();
        const shown = [...document.querySelectorAll('#screen-ticket .ticket > *, #screen-ticket .ticket-main > *')]
            .filter(el => el.offsetParent);
        return {
            header_bottom: box('.top').bottom, card_top: box('.ticket').top,
            off_screen: shown.filter(el => { const r = el.getBoundingClientRect();
                                             return r.top < 0 || r.bottom > innerHeight + 0.5 || r.right > innerWidth + 0.5; })
                             .map(el => el.id || el.className),
            overlapping_header: shown.filter(el => el.getBoundingClientRect().top < box('.top').bottom)
                                     .map(el => el.id || el.className),
            scroll: document.documentElement.scrollHeight - innerHeight,
        };
    }""")


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768)], ids=["1920x1080", "1366x768"])
def test_a_full_ticket_fits_a_landscape_kiosk(sqlite_url, servers, page_factory, size):
    with FakePrinter(status=STATUS_PAPER_OUT) as printer:
        data = without_procedures(two_chair_office())
        data.update(hours=ALL_DAY, kiosks=[{"name": "Kiosk sảnh", "printer": printer.url}])
        tokens = seed(sqlite_url, data)
        server = servers(sqlite_url)
        admin = Http(server.url, tokens["admin"])
        admin.issue("HT")
        admin.issue("HT")  # both chairs of area A taken: the next one waits outside
        page = page_factory(*size)
        page.goto(f"{server.url}/kiosk/demo?token={tokens['kiosk']}")
        page.wait_for_selector(".svc .svc-wait:text('Đang chờ')")
        page.locator("#priority").click()
        page.click(".group-choice[data-group=elderly]")
        page.get_by_role("button", name="Hộ tịch").click()
        page.wait_for_selector(TICKET)
        page.wait_for_selector("#ticket-print.is-failed")
        page.wait_for_selector("#ticket-reprint:not([hidden])")
        assert page.locator("#ticket-outside").is_visible()
        assert page.locator("#ticket-wait").inner_text() == "Hiện chưa có quầy phục vụ lĩnh vực này"
        name = f"kiosk-landscape-{size[0]}x{size[1]}-outside-paper-out"
        screenshot(page, name)
        found = layout(page)
        assert found["card_top"] >= found["header_bottom"], found
        assert found["overlapping_header"] == [] and found["off_screen"] == [], found
        assert found["scroll"] <= 0, found
        reprint = page.locator("#ticket-reprint").bounding_box()
        assert reprint["y"] + reprint["height"] <= size[1] and reprint["height"] >= 60
