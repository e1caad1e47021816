"""The citizen's ticket status page: public JSON, citizen cancel, QR code, the ticket's own
Socket.IO room, and the page itself in a phone-sized Chromium. Every wait is bounded."""
from __future__ import annotations

import io
import re
from xml.etree import ElementTree

import PIL.Image
import PIL.ImageDraw
import pytest
import requests
import socketio
import zxingcpp
from playwright.sync_api import expect

from server.web.qrcodes import qr_svg
from tests.conftest import Api, counter_id, make_app, new_token, screenshot, seed, two_chair_office
from tests.support.sockets import TICKET_CALLED_KEYS, TICKET_CHANGED_KEYS, TIMEOUT, Http, Screen

PUBLIC = "/api/v1/public/tickets"


def token_of(ticket: dict) -> str:
    return ticket["status_url"].rsplit("/t/", 1)[1]


def decode_svg_qr(svg: bytes) -> str:
    """Draw the QR's unit squares (qrcode's SvgPath output: "Mx,yHx+1Vy+1Hxz") and read them back."""

    root = ElementTree.fromstring(svg)
    _, _, width, height = (int(float(v)) for v in root.get("viewBox").split())
    path = root.find("{http://www.w3.org/2000/svg}path").get("d")
    scale = 8
    image = PIL.Image.new("L", (width * scale, height * scale), 255)
    draw = PIL.ImageDraw.Draw(image)
    for x, y, x2, y2 in re.findall(r"M(\d+),(\d+)H(\d+)V(\d+)H\d+z", path):
        draw.rectangle([int(x) * scale, int(y) * scale, int(x2) * scale - 1, int(y2) * scale - 1], fill=0)
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1, found
    return found[0].text


# ---------------------------------------------------------------- JSON and cancel (Flask client)

def test_public_json_is_the_ticket_with_the_office_name_and_needs_no_token(client, api, state):
    first = api.issue()
    second = api.issue()
    r = client.get(f"{PUBLIC}/{token_of(second)}")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    body = r.get_json()
    staff_view = api.get(f"/tickets/{second['id']}").get_json()
    del staff_view["priority_group"], staff_view["priority_group_name"]  # staff only (issue 19)
    assert staff_view.pop("phone") is None  # staff only, masked (issue 20): none left here
    assert body == {**staff_view, "office_name": "Bộ phận Một cửa – UBND phường Hoàn Kiếm",
                    "phone_left": False, "phone_allowed": True, "near_places": 3}
    assert body["position"] == 1
    assert body["status"] == "waiting"
    # No counter is open with an officer at it: no minutes are promised (tests/engine/test_waits.py).
    assert body["estimated_wait_s"] is None and body["wait_minutes"] is None and body["no_open_counter"] is True
    assert client.get(f"{PUBLIC}/{token_of(first)}").get_json()["position"] == 0
    english = client.get(f"{PUBLIC}/{token_of(second)}", headers={"Accept-Language": "en"}).get_json()
    assert english["service_name"].startswith("Civil status") and english["office_name"].startswith("One-stop")


JUNK = ["short", "x" * 41, "bad.token.here", "%00%00%00%00%00%00%00%00%00%00", "abc%2Fdef%2Fghijk",
        "ẞẞẞẞẞẞẞẞẞẞẞẞ", "' OR 1=1 --xxxxx", "a" * 5000, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]


@pytest.mark.parametrize("junk", JUNK)
def test_bad_tokens_are_not_found_never_a_server_error(client, api, junk):
    api.issue()
    for method, path in (("GET", f"{PUBLIC}/{junk}"), ("POST", f"{PUBLIC}/{junk}/cancel"),
                         ("GET", f"/t/{junk}"), ("GET", f"/t/{junk}/qr.svg")):
        r = client.open(path, method=method)
        assert r.status_code == 404, (method, path, r.status_code)
        if path.startswith("/api/"):
            assert r.get_json()["error"] == "not_found"


def test_citizen_cancels_while_waiting_then_the_ticket_stays_cancelled(client, api, state):
    t = api.issue()
    waiting_behind = api.issue()
    r = client.post(f"{PUBLIC}/{token_of(t)}/cancel")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "cancelled" and r.get_json()["office_name"]
    again = client.post(f"{PUBLIC}/{token_of(t)}/cancel")
    assert again.status_code == 409
    assert again.get_json() == {"error": "ticket_state", "message": "Số 1001 đã hủy, không thể hủy."}
    english = client.post(f"{PUBLIC}/{token_of(t)}/cancel?lang=en").get_json()
    assert english["message"] == "Number 1001 is cancelled; it cannot be cancelled."
    # The history says who did it; the next ticket moved up.
    history = api.get(f"/tickets/{t['id']}/events").get_json()
    assert history[-1]["action"] == "cancelled" and history[-1]["actor"] == "citizen"
    assert client.get(f"{PUBLIC}/{token_of(waiting_behind)}").get_json()["position"] == 0


def test_citizen_may_cancel_a_called_ticket_but_not_once_served_or_finished(client, api, state):
    counter = counter_id(state, "Quầy 1")
    api.post(f"/counters/{counter}/open")
    called, serving, done, absent = (api.issue() for _ in range(4))

    assert api.post(f"/counters/{counter}/call-next").get_json()["id"] == called["id"]
    r = client.post(f"{PUBLIC}/{token_of(called)}/cancel")
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"

    assert api.post(f"/counters/{counter}/call-next").get_json()["id"] == serving["id"]
    api.post(f"/tickets/{serving['id']}/start")
    r = client.post(f"{PUBLIC}/{token_of(serving)}/cancel")
    assert r.status_code == 409 and r.get_json()["error"] == "ticket_state"
    assert "đang được phục vụ" in r.get_json()["message"]

    api.post(f"/counters/{counter}/call-next", {"complete_current": True})  # serving done, `done` called
    api.post(f"/tickets/{done['id']}/complete")
    assert client.post(f"{PUBLIC}/{token_of(done)}/cancel").status_code == 409
    api.post(f"/counters/{counter}/call-next")
    api.post(f"/tickets/{absent['id']}/no-show")
    assert client.post(f"{PUBLIC}/{token_of(absent)}/cancel").status_code == 409
    # Staff still may cancel an absent ticket: only the citizen's door is narrower.
    assert api.post(f"/tickets/{absent['id']}/cancel").status_code == 200


def test_qr_svg_encodes_the_status_url_and_is_cacheable(client, api):
    t = api.issue()
    r = client.get(f"/t/{token_of(t)}/qr.svg")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    assert "public" in r.headers["Cache-Control"] and "max-age" in r.headers["Cache-Control"]
    assert r.data == qr_svg(t["status_url"])
    assert decode_svg_qr(r.data) == t["status_url"] == f"http://motcua.test/t/{token_of(t)}"


def test_status_page_is_live_and_carries_no_refresh(client, api):
    t = api.issue()
    html = client.get(f"/t/{token_of(t)}").get_data(as_text=True)
    assert "1001" in html and "Hộ tịch" in html and "Hủy số" in html and "Bật âm báo" in html
    assert "socket.io.min.js" in html and "status.js" in html
    assert '<meta http-equiv="refresh"' not in html.replace("<noscript><meta", "")
    assert "http://" not in html.replace(t["status_url"], "").replace("http://www.w3.org", "")
    english = client.get(f"/t/{token_of(t)}?lang=en").get_data(as_text=True)
    assert "Cancel my ticket" in english and "Civil status" in english


# ---------------------------------------------------------------- a real server

@pytest.fixture
def demo(sqlite_url, servers):
    tokens = seed(sqlite_url)
    return servers(sqlite_url), tokens


def test_public_socket_hears_its_own_ticket_only(demo):
    server, tokens = demo
    admin = Http(server.url, tokens["admin"])
    counters = admin.counters()
    mine = admin.issue("HT")
    citizen = Screen()
    try:
        citizen.sio.connect(server.url, auth={"ticket": token_of(mine)}, transports=["websocket"],
                            wait_timeout=TIMEOUT)
        (snapshot,) = citizen.expect("ticket")
        expected = requests.get(f"{server.url}{PUBLIC}/{token_of(mine)}", timeout=TIMEOUT).json()
        assert snapshot == expected and snapshot["status"] == "waiting"

        other = admin.issue("HT")                   # ticket_changed + queue_changed: not ours
        admin.open_counter(counters["Quầy 1"])      # counter_changed: not ours
        admin.open_counter(counters["Quầy 2"])
        admin.call_next(counters["Quầy 1"])         # ours is called
        assert admin.call_next(counters["Quầy 2"])["id"] == other["id"]  # the other one is called
        admin.request("POST", f"/tickets/{other['id']}/start")
        admin.recall(mine["id"])                    # ours again
        admin.request("POST", f"/tickets/{mine['id']}/start")

        called, recalled, started = citizen.expect("ticket_called", "ticket_called", "ticket_changed")
        assert set(called) == TICKET_CALLED_KEYS and set(started) == TICKET_CHANGED_KEYS
        assert called["id"] == recalled["id"] == started["id"] == mine["id"]
        assert called["counter_number"] == 1 and called["recall"] is False and recalled["recall"] is True
        assert started["status"] == "serving"
        assert citizen.drained() == []              # nothing else: no board, no other tickets
        assert citizen.sio.call("board", timeout=TIMEOUT) is None  # and no board on request
    finally:
        citizen.close()


@pytest.mark.parametrize("auth", [{"ticket": "not-a-real-ticket-token"}, {"ticket": "x"},
                                  {"ticket": 12345}, {"ticket": None}, {"ticket": "a" * 500}])
def test_public_socket_refuses_a_bad_ticket_token(demo, auth):
    server, _ = demo
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, auth=auth, transports=["websocket"], wait_timeout=TIMEOUT)
    client.disconnect()


# ---------------------------------------------------------------- the page in a phone

def test_phone_sees_its_number_called_live_and_can_cancel_with_confirmation(demo, page_factory):

    server, tokens = demo
    admin = Http(server.url, tokens["admin"])
    counters = admin.counters()
    ahead = admin.issue("HT")
    mine = admin.issue("HT", priority=False)
    later = admin.issue("HT")

    page = page_factory(width=390, height=844)
    page.goto(f"{server.url}/t/{token_of(mine)}", timeout=TIMEOUT * 1000)
    expect(page.locator("#number")).to_have_text(mine["number"])
    expect(page.locator("#state")).to_have_text("Đang chờ")
    expect(page.locator("#ahead")).to_have_text("1")
    # Every counter closed: no minutes, and why (tests/engine/test_waits.py).
    expect(page.locator("#wait-fact")).to_be_hidden()
    expect(page.locator("#no-counter")).to_contain_text("Hiện chưa có quầy phục vụ lĩnh vực này")
    expect(page.locator("#updated")).to_contain_text("Cập nhật lúc")
    expect(page.locator("#called")).to_be_hidden()
    page.get_by_role("button", name="Bật âm báo").click()
    expect(page.locator("#sound-ready")).to_be_visible()
    screenshot(page, "status-waiting")

    admin.open_counter(counters["Quầy 1"])
    assert admin.call_next(counters["Quầy 1"])["id"] == ahead["id"]
    assert admin.call_next(counters["Quầy 1"], complete_current=True)["id"] == mine["id"]
    banner = page.locator("#called")
    expect(banner).to_be_visible(timeout=TIMEOUT * 1000)  # no reload: over the socket
    expect(page.locator("#invite")).to_have_text("Mời quý khách đến quầy số 1")
    expect(page.locator("#counter-label")).to_be_hidden()  # "Quầy 1" again would say nothing more
    expect(page.get_by_role("button", name="Hủy số")).to_be_hidden()  # called: expected at the counter
    expect(page.locator("#state")).to_have_text("Đã được gọi")
    page.wait_for_timeout(2600)  # let the flash animation end before the picture
    screenshot(page, "status-called")
    assert page.locator("#status").get_attribute("data-rings") == "1"  # once, not again on re-read
    assert page.locator("#status").get_attribute("data-sound") == "played"
    admin.recall(mine["id"])
    expect(page.locator("#status")).to_have_attribute("data-rings", "2")

    # Cancelling takes two taps; "no" keeps the ticket.
    other = page_factory(width=390, height=844)
    other.goto(f"{server.url}/t/{token_of(later)}", timeout=TIMEOUT * 1000)
    other.get_by_role("button", name="Hủy số").click()
    expect(other.locator("#confirm")).to_be_visible()
    screenshot(other, "status-cancel-confirm")
    other.get_by_role("button", name="Không, giữ số").click()
    expect(other.locator("#confirm")).to_be_hidden()
    assert admin.request("GET", f"/tickets/{later['id']}").json()["status"] == "waiting"
    other.get_by_role("button", name="Hủy số").click()
    other.get_by_role("button", name="Có, hủy số").click()
    expect(other.locator("#state")).to_have_text("Đã hủy")
    expect(other.locator("#note")).to_contain_text("Số này đã hủy")
    expect(other.get_by_role("button", name="Hủy số")).to_be_hidden()
    assert admin.request("GET", f"/tickets/{later['id']}").json()["status"] == "cancelled"
    screenshot(other, "status-cancelled")

    # The QR code the kiosk shows, as a browser draws it, reads back as the status link.


    qr = page_factory(width=400, height=400)
    qr.set_content(f'<img src="{server.url}/t/{token_of(mine)}/qr.svg" style="width:300px">')
    qr.wait_for_function("document.images[0].complete && document.images[0].naturalWidth > 0")
    found = zxingcpp.read_barcodes(PIL.Image.open(io.BytesIO(qr.screenshot())))
    assert [f.text for f in found] == [f"{server.url}/t/{token_of(mine)}"]


# ---------------------------------------------------------------- seats (docs/seating.md)

OUTSIDE_VI = "Khu vực chờ đã hết chỗ. Mời quý khách chờ bên ngoài; trang này sẽ báo khi có ghế."


def test_seat_words_are_on_the_page_in_both_languages(sqlite_url, clock, tmp_path):

    app = make_app(sqlite_url, clock, tmp_path, two_chair_office())
    try:
        client = app.test_client()
        api = Api(client, new_token(app.extensions["motcua"], "admin", "admin"))
        inside, _, outside = (api.issue() for _ in range(3))
        assert outside["location"] == "outside"
        page = client.get(f"/t/{token_of(outside)}").get_data(as_text=True)
        assert OUTSIDE_VI in page and 'id="seat" hidden' in page
        english = client.get(f"/t/{token_of(outside)}?lang=en").get_data(as_text=True)
        assert "The waiting area is full. Please wait outside" in english
        seated = client.get(f"/t/{token_of(inside)}?lang=vi").get_data(as_text=True)  # the cookie says en now
        assert f"Ghế số {inside['seat']}" in seated and 'id="outside" role="status" hidden' in seated
        assert f"Seat {inside['seat']}" in client.get(f"/t/{token_of(inside)}?lang=en").get_data(as_text=True)
    finally:
        app.extensions["motcua"].db.dispose()


def test_phone_waiting_outside_is_called_in_live_when_a_seat_frees(two_chairs, page_factory):

    server, tokens, admin, counters = two_chairs
    q1 = counters["Quầy 1"]
    admin.open_counter(q1)
    first, second, third = (admin.issue("HT") for _ in range(3))
    assert third["location"] == "outside"

    seated = page_factory(width=390, height=844)
    seated.goto(f"{server.url}/t/{token_of(first)}", timeout=TIMEOUT * 1000)
    expect(seated.locator("#seat")).to_have_text(f"Ghế số {first['seat']}")
    expect(seated.locator("#outside")).to_be_hidden()
    screenshot(seated, "status-seat")

    page = page_factory(width=390, height=844)
    page.goto(f"{server.url}/t/{token_of(third)}", timeout=TIMEOUT * 1000)
    expect(page.locator("#outside")).to_have_text(OUTSIDE_VI)
    expect(page.locator("#seat")).to_be_hidden()
    expect(page.locator("#seated")).to_be_hidden()
    page.get_by_role("button", name="Bật âm báo").click()
    expect(page.locator("#sound-ready")).to_be_visible()
    screenshot(page, "status-outside")

    # The first is called to a counter; their seat goes to the third, whose phone hears it.
    admin.call_next(q1)
    expect(seated.locator("#called")).to_be_visible(timeout=TIMEOUT * 1000)
    banner = page.locator("#seated")
    expect(banner).to_be_visible(timeout=TIMEOUT * 1000)  # no reload: over the socket
    seat = first["seat"]
    expect(page.locator("#seated-invite")).to_have_text(f"Mời vào khu vực chờ, ghế số {seat}")
    assert page.locator("#seated-invite .seat-no").inner_text() == seat
    expect(page.locator("#outside")).to_be_hidden()
    expect(page.locator("#seat")).to_have_text(f"Ghế số {seat}")
    expect(page.locator("#state")).to_have_text("Đang chờ")
    expect(page.locator("#status")).to_have_attribute("data-rings", "1")
    assert page.locator("#status").get_attribute("data-sound") == "played"
    page.wait_for_timeout(2600)  # let the flash end before the picture
    screenshot(page, "status-called-in")

    # The page re-reads its ticket (queue_moved, every 60 s, or when shown again): the message stays, no second ring.
    with page.expect_response(lambda r: PUBLIC in r.url, timeout=TIMEOUT * 1000):
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_timeout(300)
    expect(banner).to_be_visible()
    assert page.locator("#status").get_attribute("data-rings") == "1"

    # A rule change takes the seat while no other is free: the outside notice, and a ring.
    admin.request("PUT", "/offices/demo/areas/A", json={"out_of_service": [seat]})
    expect(page.locator("#outside")).to_be_visible(timeout=TIMEOUT * 1000)
    expect(banner).to_be_hidden()
    expect(page.locator("#seat")).to_be_hidden()
    expect(page.locator("#status")).to_have_attribute("data-rings", "2")
    # The chair is back: called in again.
    admin.request("PUT", "/offices/demo/areas/A", json={"out_of_service": []})
    expect(banner).to_be_visible(timeout=TIMEOUT * 1000)
    expect(page.locator("#status")).to_have_attribute("data-rings", "3")
    # A reload shows the seat, not the event's banner.
    page.reload()
    expect(page.locator("#seat")).to_have_text(f"Ghế số {seat}")
    expect(banner).to_be_hidden()

    # Called to a counter at last: the counter's banner replaces the seat.
    admin.call_next(q1, complete_current=True)
    admin.call_next(q1, complete_current=True)
    expect(page.locator("#called")).to_be_visible(timeout=TIMEOUT * 1000)
    expect(page.locator("#seat")).to_be_hidden()
    expect(banner).to_be_hidden()
