"""The counter's citizen rating tablet in a real browser against a real `motcua serve`:
locked until the counter completes a ticket, four levels, an optional reason, a thank-you,
locked again; one rating per ticket, and only for the ticket just completed there."""
from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import requests

from server.db.database import Database
from server.engine.auth import create_token
from server.infra.settings import normalise_database_url
from tests.conftest import office_data, screenshot, seed
from tests.support.sockets import Http

ALL_DAY = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
LANDSCAPE = (1280, 800)
PORTRAIT = (800, 1280)


@pytest.fixture
def office(sqlite_url, servers):
    tokens = seed(sqlite_url, office_data(hours=ALL_DAY))
    db = Database(normalise_database_url(sqlite_url))
    with db.write() as s:
        tokens["tablet"] = create_token(s, "demo", "display", "Đánh giá quầy 1", datetime.now(UTC))
    db.dispose()
    server = servers(sqlite_url)
    staff = Http(server.url, tokens["admin"])  # at Quầy 1 and 2 in turn: a token bound to no counter
    staff.kiosk = Http(server.url, tokens["kiosk"])
    return server, tokens, staff, staff.counters()


def open_tablet(page_factory, server, token, counter, size=LANDSCAPE):
    page = page_factory(*size)
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    page.on("websocket", lambda ws: urls.append(ws.url))
    page.goto(f"{server.url}/counter/{counter}/rating?token={token}")
    page.wait_for_selector("body[data-live='1'][data-step='locked']")
    return page, urls


def serve(staff: Http, counter: int, complete: bool = True) -> dict:
    staff.kiosk.issue("HT")
    ticket = staff.call_next(counter)
    if complete:
        staff.request("POST", f"/tickets/{ticket['id']}/complete")
    return ticket


def fits(page) -> dict:
    return page.evaluate("""() => ({
        w: document.documentElement.scrollWidth <= innerWidth,
        h: document.documentElement.scrollHeight <= innerHeight,
        outside: [...document.querySelectorAll('button')]
            .filter(b => b.offsetParent && b.getBoundingClientRect().bottom > innerHeight).map(b => b.textContent.trim()),
        small: [...document.querySelectorAll('.level')]
            .filter(b => b.offsetParent && b.getBoundingClientRect().height < 150).map(b => b.textContent.trim()),
    })""")


def test_rate_the_ticket_just_served_then_locked_again(office, page_factory):
    server, tokens, staff, counters = office
    q1 = counters["Quầy 1"]
    page, urls = open_tablet(page_factory, server, tokens["tablet"], q1)
    page.clock.install()
    assert page.locator("#step-locked h1").inner_text() == "Cảm ơn quý khách"
    assert page.locator(".locked-counter").inner_text() == "Quầy 1"
    assert "Hoàn Kiếm" in page.locator("#locked-office").inner_text()
    screenshot(page, "rating-landscape-locked")

    staff.open_counter(q1)
    ticket = serve(staff, q1)
    page.wait_for_selector("#step-levels:not([hidden])")
    assert page.locator("#question").inner_text() == f"Quý khách đánh giá thế nào về việc phục vụ số {ticket['number']}?"
    assert page.locator(".level .level-name").all_inner_texts() == ["Rất hài lòng", "Hài lòng", "Bình thường", "Không hài lòng"]
    assert fits(page) == {"w": True, "h": True, "outside": [], "small": []}
    screenshot(page, "rating-landscape-open")

    page.get_by_role("button", name="Hài lòng", exact=True).click()
    page.wait_for_selector("#step-reason:not([hidden])")
    page.get_by_role("button", name="Hướng dẫn dễ hiểu").click()
    page.fill("#reason-text", "  Cán bộ hướng dẫn tận tình  ")
    assert fits(page)["outside"] == []
    screenshot(page, "rating-landscape-reason")
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_role("button", name="Gửi").click()
    assert sent.value.status == 201
    assert sent.value.request.post_data_json == {
        "ticket": ticket["id"], "level": 3, "reason": "Hướng dẫn dễ hiểu; Cán bộ hướng dẫn tận tình"}
    page.wait_for_selector("#step-thanks:not([hidden])")
    screenshot(page, "rating-landscape-thanks")
    page.clock.run_for(6000)
    page.wait_for_selector("#step-locked:not([hidden])")

    # Stored once, in the ticket's history; a second rating is refused.
    history = staff.request("GET", f"/tickets/{ticket['id']}/events").json()
    assert history[-1]["action"] == "rated" and history[-1]["data"]["level"] == 3
    again = staff.request("POST", f"/counters/{q1}/rating", expect=409, json={"ticket": ticket["id"], "level": 1})
    assert again.json()["error"] == "already_rated"
    assert staff.request("GET", f"/counters/{q1}/rating").json() == {"open": False, "ticket": None}

    # A ticket completed at another counter cannot be rated here, and this screen stays locked.
    q2 = counters["Quầy 2"]
    staff.open_counter(q2)
    elsewhere = serve(staff, q2)
    r = requests.post(f"{server.url}/api/v1/counters/{q1}/rating", timeout=5,
                      headers={"Authorization": f"Bearer {tokens['tablet']}"},
                      json={"ticket": elsewhere["id"], "level": 4})
    assert r.status_code == 409 and r.json()["error"] == "not_ratable"
    page.wait_for_timeout(300)
    assert page.locator("#step-locked").is_visible()
    foreign = [u for u in urls if not u.startswith("data:") and urlsplit(u).hostname != "127.0.0.1"]
    assert urls and not foreign, foreign


def test_portrait_english_and_the_next_completion_hands_the_screen_over(office, page_factory):
    server, tokens, staff, counters = office
    q2 = counters["Quầy 2"]
    page, _ = open_tablet(page_factory, server, tokens["display"], q2, size=PORTRAIT)
    staff.open_counter(q2)
    ticket = serve(staff, q2)
    page.wait_for_selector("#step-levels:not([hidden])")
    assert fits(page) == {"w": True, "h": True, "outside": [], "small": []}
    screenshot(page, "rating-portrait-open")
    page.click(".lang[data-lang=en]")
    assert page.locator("#question").inner_text() == f"How satisfied are you with the service for number {ticket['number']}?"
    page.get_by_role("button", name="Dissatisfied").click()
    page.wait_for_selector("#step-reason:not([hidden])")
    assert page.locator(".chip").first.inner_text() == "Long wait"
    screenshot(page, "rating-portrait-reason-en")
    # The officer completes the next citizen before this one sends: the screen is now theirs,
    # back in Vietnamese, and the first ticket can no longer be rated.
    nxt = serve(staff, q2)
    page.wait_for_function(f"document.querySelector('#question').innerText.includes('{nxt['number']}')")
    assert "Quý khách đánh giá" in page.locator("#question").inner_text()
    r = requests.post(f"{server.url}/api/v1/counters/{q2}/rating", timeout=5,
                      headers={"Authorization": f"Bearer {tokens['display']}"},
                      json={"ticket": ticket["id"], "level": 1})
    assert r.status_code == 409 and r.json()["error"] == "not_ratable"


def test_without_a_display_token_the_page_says_how_to_get_one(office):
    server, tokens, _, counters = office
    q1 = counters["Quầy 1"]
    for query, status, words in [("", 401, "cần mã thiết bị"), ("?token=not-a-real-token-at-all", 401, "không đúng"),
                                 (f"?token={tokens['kiosk']}", 403, "không dùng được"),
                                 (f"?token={tokens['officer']}", 403, "không dùng được")]:
        r = requests.get(f"{server.url}/counter/{q1}/rating{query}", timeout=5)
        assert r.status_code == status, query
        assert words in r.text and "--role display" in r.text
        assert tokens["kiosk"] not in r.text and tokens["officer"] not in r.text
    r = requests.get(f"{server.url}/counter/999999/rating?token={tokens['tablet']}", timeout=5)
    assert r.status_code == 404 and "--role display" in r.text
    r = requests.get(f"{server.url}/counter/{q1}/rating?token={tokens['tablet']}", timeout=5)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
