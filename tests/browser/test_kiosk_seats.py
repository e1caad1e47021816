"""Seats at the kiosk (docs/seating.md): the seat a ticket got, or the wait-outside notice,
on screen and on the printed ticket; free seats per area on the start screen, live.

The printed raster is decoded from a fake network printer and searched for the seat block
(`kiosk.ticket.seat_block`) drawn alone: the same dots prove the same words were printed.
"""
from __future__ import annotations

import pytest

from kiosk.ticket import seat_block
from tests.browser.test_kiosk_page import (
    ALL_DAY,
    LANDSCAPE,
    PORTRAIT,
    TICKET,
    assert_fits,
    office_with_printer,
    open_kiosk,
)
from tests.conftest import office_data, screenshot, seed, without_areas, without_procedures
from tests.printing.test_printing import contains, ticket
from tests.support.fakeprinter import FakePrinter, read_qr, received_images
from tests.support.sockets import Http

FULL = "Hết ghế – chờ bên ngoài"
OUTSIDE_VI = "Khu vực chờ đã hết chỗ ngồi. Mời quý khách chờ bên ngoài"


def watched(page_factory, failures: list[str]):
    """page_factory whose pages note every server error (5xx) they get."""
    def new(*args, **kwargs):
        page = page_factory(*args, **kwargs)
        page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 500 else None)
        return page
    return new


def tiny_office(printer_url: str | None = None) -> dict:
    """The demo office with one waiting area of two chairs, both usable, for every service."""
    data = without_procedures(office_data(code="nho", hours=ALL_DAY))
    data["areas"] = [{"code": "A", "name": "Khu chờ nhỏ", "name_en": "Small waiting area",
                      "max_share": 1.0, "min_distance_m": 0.0,
                      "seats": [{"label": "1", "x": 1.0, "y": 3.0}, {"label": "2", "x": 3.0, "y": 3.0}]}]
    for sv in data["services"]:
        sv["area"] = "A"
    if printer_url:
        data["kiosks"] = [{"name": "Kiosk sảnh", "printer": printer_url}]
    return data


def seats_text(page, service: str) -> str:
    return page.locator(f".svc[data-code={service}] .svc-seats").inner_text()


def wait_seats(page, service: str, expected: str) -> None:
    page.wait_for_function("([code, text]) => document.querySelector(`.svc[data-code=${code}] .svc-seats`)"
                           ".textContent === text", arg=[service, expected], timeout=5000)


def areas(admin: Http) -> dict:
    return {a["code"]: a for a in admin.request("GET", f"/offices/{admin.office}/areas").json()["areas"]}


@pytest.mark.parametrize("size", [PORTRAIT, LANDSCAPE], ids=["portrait", "landscape"])
def test_the_ticket_gets_a_free_seat_on_screen_and_on_paper(sqlite_url, servers, page_factory, size):
    failures: list[str] = []
    page_factory = watched(page_factory, failures)
    name = "portrait" if size == PORTRAIT else "landscape"
    with FakePrinter() as printer:
        tokens = seed(sqlite_url, office_with_printer(printer.url))
        server = servers(sqlite_url)
        admin = Http(server.url, tokens["admin"])
        page, recorder, _ = open_kiosk(page_factory, server, tokens["kiosk"], size=size)
        free = areas(admin)["A"]["free"]
        assert free > 1
        wait_seats(page, "HT", f"Còn {free} ghế trống")
        wait_seats(page, "TK", f"Còn {areas(admin)['B']['free']} ghế trống")  # its own area
        assert_fits(page)
        screenshot(page, f"kiosk-{name}-seats-start")

        with page.expect_response(lambda r: r.request.method == "POST") as reply:
            page.get_by_role("button", name="Hộ tịch").click()
        page.wait_for_selector(TICKET)
        issued = reply.value.json()
        assert issued["location"] == "inside" and issued["area"] == "A" and issued["seat"]
        assert page.locator("#ticket-seat-number").inner_text() == f"Ghế số {issued['seat']}"
        assert page.locator("#ticket-area").inner_text() == "Khu vực chờ chính"
        assert page.locator("#ticket-outside").is_hidden()
        page.wait_for_selector("#ticket-print.is-printed")
        assert_fits(page)
        screenshot(page, f"kiosk-{name}-seat-ticket")

        (image,) = received_images(printer.wait_for_cuts(1))
        printed = ticket(seat=issued["seat"], area_name="Khu vực chờ chính")
        assert contains(image, seat_block(printed, 80))
        assert read_qr(image) == issued["status_url"]
        recorder.assert_local()

        page.click("#ticket-done")
        wait_seats(page, "HT", f"Còn {free - 1} ghế trống")
        assert failures == []


def test_a_full_area_sends_the_citizen_outside_and_the_count_follows_live(sqlite_url, servers, page_factory):
    failures: list[str] = []
    page_factory = watched(page_factory, failures)
    with FakePrinter() as printer:
        tokens = seed(sqlite_url, tiny_office(printer.url))
        server = servers(sqlite_url)
        admin = Http(server.url, tokens["admin"], office="nho")
        page, recorder, _ = open_kiosk(page_factory, server, tokens["kiosk"], office="nho")
        wait_seats(page, "HT", "Còn 2 ghế trống")
        assert seats_text(page, "KD") == "Còn 2 ghế trống"  # one area for every service

        first = admin.issue("HT")
        assert first["location"] == "inside" and first["seat"] in ("1", "2")
        wait_seats(page, "CT", "Còn 1 ghế trống")
        page.click(".lang[data-lang=en]")
        wait_seats(page, "CT", "1 seat free")
        page.click(".lang[data-lang=vi]")
        admin.issue("CT")
        wait_seats(page, "HT", FULL)
        assert "is-full" in page.locator(".svc[data-code=HT] .svc-seats").get_attribute("class")
        screenshot(page, "kiosk-portrait-seats-full")

        page.wait_for_timeout(1600)  # the language taps count as taps
        with page.expect_response(lambda r: r.request.method == "POST") as reply:
            page.get_by_role("button", name="Kinh doanh").click()
        page.wait_for_selector(TICKET)
        outside = reply.value.json()
        assert (outside["location"], outside["seat"]) == ("outside", None)
        assert page.locator("#ticket-outside").is_visible()
        assert page.locator("#ticket-seat").is_hidden()
        assert page.locator("#ticket-outside").inner_text().startswith("Mời quý khách chờ bên ngoài")
        assert OUTSIDE_VI in page.locator("#ticket-outside").inner_text()
        page.wait_for_selector("#ticket-print.is-printed")
        assert_fits(page)
        screenshot(page, "kiosk-portrait-outside-ticket")

        (image,) = received_images(printer.wait_for_cuts(1))
        assert contains(image, seat_block(ticket(location="outside"), 80))

        # A seat frees while the ticket is still on screen: the citizen is called in to it.
        counters = admin.counters()
        admin.open_counter(counters["Quầy 1"])
        admin.call_next(counters["Quầy 1"])  # the first ticket goes to the desk, its seat frees
        page.wait_for_selector("#ticket-seat:not([hidden])")
        assert page.locator("#ticket-seat-number").inner_text() == f"Ghế số {first['seat']}"
        assert page.locator("#ticket-area").inner_text() == "Khu chờ nhỏ"
        assert page.locator("#ticket-outside").is_hidden()
        recorder.assert_local()

        # In English, on a landscape kiosk.
        page = page_factory(*LANDSCAPE)
        page.goto(f"{server.url}/kiosk/nho?token={tokens['kiosk']}")
        page.wait_for_selector(".svc[data-code=HT] .svc-seats:text('Hết ghế')")
        page.click(".lang[data-lang=en]")
        wait_seats(page, "HT", "No seat free – wait outside")
        page.wait_for_timeout(1600)
        page.get_by_role("button", name="Household business registration").click()
        page.wait_for_selector(TICKET)
        assert page.locator("#ticket-outside").inner_text().startswith("Please wait outside")
        page.wait_for_function("document.getElementById('ticket-qr').complete")
        screenshot(page, "kiosk-landscape-outside-ticket-en")
        assert_fits(page)
        assert failures == []


def test_offices_without_areas_show_no_seats(sqlite_url, servers, page_factory):
    failures: list[str] = []
    page_factory = watched(page_factory, failures)
    tokens = seed(sqlite_url, without_procedures(without_areas(office_data(hours=ALL_DAY))))
    server = servers(sqlite_url)
    page, recorder, _ = open_kiosk(page_factory, server, tokens["kiosk"])
    page.wait_for_timeout(300)
    assert page.locator(".svc-seats:visible").count() == 0
    page.click(".svc[data-code=HT]")
    page.wait_for_selector(TICKET)
    assert page.locator("#ticket-seat").is_hidden() and page.locator("#ticket-outside").is_hidden()
    recorder.assert_local()
    assert failures == []


# Loses the first `area_changed` the kiosk's socket receives, on the wire: socket.io-client
# hands every packet of an event to Socket.onevent.
LOSE_AREA_CHANGED = """() => {
    const s = motcuaKiosk.live.socket, onevent = s.onevent.bind(s);
    window.lost = [];
    s.onevent = (packet) => {
        if (packet.data[0] === 'area_changed' && !window.lost.length) { window.lost.push(packet.data[1].seq); return; }
        onevent(packet);
    };
}"""


def test_a_lost_event_makes_the_kiosk_read_the_board_again(sqlite_url, servers, page_factory):
    """The kiosk follows the office's seq as the lobby display does (server/static/js/live.js):
    an event lost on the wire leaves a gap that the next event reveals; the kiosk then asks
    for the board and shows what the lost event said (here, an area's free seats)."""
    tokens = seed(sqlite_url, tiny_office())
    server = servers(sqlite_url)
    admin = Http(server.url, tokens["admin"], office="nho")
    page, recorder, _ = open_kiosk(page_factory, server, tokens["kiosk"], office="nho")
    wait_seats(page, "HT", "Còn 2 ghế trống")
    assert page.evaluate("motcuaKiosk.live.state.boardRequests") == 0
    page.evaluate(LOSE_AREA_CHANGED)

    admin.issue("HT")  # takes a seat: its area_changed is lost
    page.wait_for_function("window.lost.length === 1")
    admin.open_counter(admin.counters()["Quầy 1"])  # a later event, one seq too far ahead
    wait_seats(page, "HT", "Còn 1 ghế trống")
    board = admin.board()
    assert page.evaluate("motcuaKiosk.live.state.boardRequests") == 1
    assert page.evaluate("motcuaKiosk.live.state.lastSeq") == board["seq"]
    assert page.evaluate("motcuaKiosk.state.waiting") == board["waiting"]
    # An old event arriving late is dropped: the seats stay as the board says.
    page.evaluate("s => motcuaKiosk.live.receive('area_changed', {seq: s, code: 'A', capacity: 2, used: 0, free: 2, outside: 0})",
                  board["seq"])
    assert seats_text(page, "HT") == "Còn 1 ghế trống"
    screenshot(page, "kiosk-after-gap")
    recorder.assert_local()
