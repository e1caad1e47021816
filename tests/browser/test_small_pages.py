"""Small pages from issue 14: the status page once called (no "Hủy số", "Quầy 1" said once),
a status link that names no ticket (a page that explains, 404), the home page (the lobby
display is not "coming soon"), and the kiosk's needs-a-token page (its command box in the
bundled font, so Vietnamese diacritics stay whole). Screenshots: test-artifacts/small-*."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from server.engine import counterdesk, queue
from tests.conftest import counter_id, screenshot, seed

ACTOR = "test:pages"


def token_of(ticket: dict) -> str:
    return ticket["status_url"].rsplit("/t/", 1)[1]


# ---------------------------------------------------------------- Flask client

def test_a_called_ticket_offers_no_cancel_and_names_the_counter_once(client, api, state):
    mine = api.issue()
    q1 = counter_id(state, "Quầy 1")
    state.perform(counterdesk.set_counter, q1, "open", actor=ACTOR)
    state.perform(queue.call_next, q1, actor=ACTOR)
    page = client.get(f"/t/{token_of(mine)}").get_data(as_text=True)
    assert 'id="cancel-box" hidden' in page
    assert 'id="counter-label" hidden' in page  # "Mời quý khách đến quầy số 1" says it already
    waiting = api.issue()
    page = client.get(f"/t/{token_of(waiting)}").get_data(as_text=True)
    assert 'id="cancel-box" >' in page or 'id="cancel-box">' in page  # still offered while waiting


@pytest.mark.parametrize("path", ["/t/aaaaaaaaaaaaaaaaaaaaaa", "/t/short", "/t/bad.token.here%20x"])
def test_a_status_link_that_names_no_ticket_explains_what_to_do(client, path):
    r = client.get(path)
    assert r.status_code == 404
    page = r.get_data(as_text=True)
    assert "Không tìm thấy số thứ tự này" in page
    assert "Quét lại mã QR" in page and "hỏi cán bộ tại quầy" in page
    assert "404 Không tìm thấy." not in page
    english = client.get(path + "?lang=en").get_data(as_text=True)
    assert "This ticket cannot be found" in english and "Scan the QR code" in english
    # The API keeps its JSON error.
    api = client.get("/api/v1/public/tickets/" + path.rsplit("/", 1)[1])
    assert api.status_code == 404 and api.get_json()["error"] == "not_found"


def test_the_home_page_lists_the_lobby_display_as_working(client):
    page = client.get("/").get_data(as_text=True)
    assert "sắp có" not in page and "coming soon" not in page
    assert "/display/demo" in page and "(cần mã màn hình chờ trong địa chỉ)" in page
    assert "(cần mã máy lấy số trong địa chỉ)" in page


# ---------------------------------------------------------------- in a browser

@pytest.fixture
def server_and_tokens(sqlite_url, servers):
    tokens = seed(sqlite_url)
    return servers(sqlite_url), tokens


def test_small_pages_in_a_browser(server_and_tokens, page_factory):

    server, tokens = server_and_tokens
    phone = page_factory(width=390, height=844)
    response = phone.goto(f"{server.url}/t/aaaaaaaaaaaaaaaaaaaaaaaa")
    assert response.status == 404
    expect(phone.locator("h1")).to_have_text("Không tìm thấy số thứ tự này")
    screenshot(phone, "small-ticket-missing")

    desk = page_factory(width=1280, height=800)
    desk.goto(server.url + "/")
    expect(desk.get_by_text("(cần mã màn hình chờ trong địa chỉ)")).to_be_visible()
    screenshot(desk, "small-home")

    desk.goto(server.url + "/kiosk/demo")
    code = desk.locator(".device-denied pre code").first
    expect(code).to_contain_text('"Máy lấy số sảnh"')
    font = code.evaluate("el => getComputedStyle(el).fontFamily")
    assert font.startswith('"Be Vietnam Pro"'), font
    # The bundled font has every glyph of the words (no fallback that stacks marks apart).
    desk.wait_for_function("document.fonts.status === 'loaded'")
    assert desk.evaluate("document.fonts.check('16px \"Be Vietnam Pro\"', 'Máy lấy số sảnh MÃ')")
    screenshot(desk, "small-kiosk-needs-token")

