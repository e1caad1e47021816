"""The lobby display in a real browser (Debian's Chromium) against a real `motcua serve`:
calls made through the API appear large and at their counter and are announced one
after another; a gap in `seq` fetches the snapshot again; after a server restart the
page heals by itself; the compact counter screen; the denied pages."""
from __future__ import annotations

import html
import os
import signal
import time
from datetime import UTC, datetime
from itertools import pairwise
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from server.db.database import Database
from server.engine import queue
from server.engine.broadcasts import stamp
from server.infra.settings import normalise_database_url
from tests.conftest import free_port, screenshot, seed, two_chair_office, without_areas
from tests.support.sockets import Http

TV = (1920, 1080)
ANNOUNCEMENT = "/display/demo/announcement.wav"


@pytest.fixture
def lobby(sqlite_url, servers):
    """The demo office (open all day) on one server at a port it can be restarted on."""
    tokens = seed(sqlite_url)
    server = servers(sqlite_url, port=free_port())
    admin = Http(server.url, tokens["admin"])
    counters = admin.counters()
    return server, tokens, admin, counters


class Recorder:
    """Every request and websocket the page opens, and the announcements it asked for."""

    def __init__(self, page):
        self.urls: list[str] = []
        self.audio: list[dict] = []
        self.responses: list = []
        page.on("request", self._request)
        page.on("websocket", lambda ws: self.urls.append(ws.url))
        page.on("response", lambda r: self.responses.append(r) if ANNOUNCEMENT in r.url else None)

    def _request(self, r):
        self.urls.append(r.url)
        if ANNOUNCEMENT in r.url:
            self.audio.append({k: v[0] for k, v in parse_qs(urlsplit(r.url).query).items()})

    def spoken(self) -> list[tuple[str, str, bool]]:
        """(number, counter, recall) of each announcement request, in order, repeats of one clip once."""
        out = []
        for a in self.audio:
            item = (a["number"], a["counter"], a.get("recall") == "1")
            if not out or out[-1] != item:
                out.append(item)
        return out

    def assert_local(self):
        assert self.urls
        foreign = [u for u in self.urls if not u.startswith("data:") and urlsplit(u).hostname != "127.0.0.1"]
        assert not foreign, foreign


def open_display(page_factory, server, token, size=TV, query=""):
    page = page_factory(*size)
    recorder = Recorder(page)
    page.goto(f"{server.url}/display/demo?token={token}{query}")
    page.wait_for_selector("body[data-live='true']")
    return page, recorder


def text(page, selector) -> str:
    return page.locator(selector).inner_text().strip()


def wait_text(page, selector, expected, timeout=5000):
    page.wait_for_function("([s, t]) => { const n = document.querySelector(s); return n && n.textContent.includes(t); }",
                           arg=[selector, expected], timeout=timeout)


def card(counter_label: str) -> str:
    return f".ctr[data-counter='{counter_label}'] .ctr-number"


def voice_log(page) -> list[dict]:
    return page.evaluate("() => motcuaDisplay.voice.log.map(e => ({url: e.url, start: e.start, end: e.end, outcome: e.outcome}))")


def test_calls_appear_large_and_at_their_counter_and_are_announced_in_turn(lobby, page_factory):
    server, tokens, admin, counters = lobby
    q1, q2, q3, q4, q5 = (counters[f"Quầy {i}"] for i in range(1, 6))
    for counter in (q1, q2, q3, q4, q5):
        admin.open_counter(counter)
    # Calls made before the page opens: they come in its first snapshot, unannounced.
    admin.issue("CT")
    admin.call_next(q3)
    tickets = [admin.issue("HT") for _ in range(3)] + [admin.issue("CT")]
    for service in ("DD", "DD", "DD", "LD", "LD"):
        admin.issue(service)
    admin.call_next(q4)
    admin.call_next(q5)
    for _ in range(4):
        admin.issue("KD")
    page, rec = open_display(page_factory, server, tokens["display"])

    # The office, every counter (idle), the waiting counts and the notice.
    assert text(page, "#office-name") == "Bộ phận Một cửa – UBND phường Hoàn Kiếm"
    page.wait_for_function("document.querySelectorAll('.ctr').length === 6")
    assert [text(page, f".ctr:nth-child({i}) .ctr-label") for i in range(1, 7)] == [f"Quầy {i}" for i in range(1, 7)]
    assert text(page, card("Quầy 1")) == "—"
    assert [text(page, card(f"Quầy {i}")) for i in (3, 4, 5, 6)] == ["2001", "3001", "4001", "—"]
    assert text(page, ".ctr[data-counter='Quầy 6'] .ctr-state") == "Đóng"
    assert text(page, ".wait[data-service='HT'] .w-name") == "Hộ tịch"
    assert text(page, ".wait[data-service='HT'] .w-count") == "3"
    assert text(page, ".wait[data-service='CT'] .w-count") == "1"
    assert (text(page, "#hero-number"), text(page, "#hero-counter-label")) == ("4001", "Quầy 5")
    assert [text(page, f".recent li:nth-child({i}) .r-number") for i in (1, 2, 3)] == ["4001", "3001", "2001"]
    assert text(page, ".wait[data-service='KD'] .w-count") == "4"
    assert page.locator("#ticker").is_visible()  # the demo office has a notice
    assert "giữ phiếu số thứ tự" in text(page, "#ticker-text")
    assert "Thứ" in text(page, "#clock-date") or "Chủ Nhật" in text(page, "#clock-date")

    # One call through the API: large, at its counter, announced.
    admin.call_next(q1)
    wait_text(page, "#hero-number", tickets[0]["number"])
    assert tickets[0]["number"] == "1001"
    assert text(page, "#hero-counter-label") == "Quầy 1"
    wait_text(page, card("Quầy 1"), "1001")
    assert text(page, ".wait[data-service='HT'] .w-count") == "2"
    assert text(page, ".recent li.newest .r-number") == "1001"
    page.wait_for_function("motcuaDisplay.voice.log.length >= 1")
    assert rec.spoken()[0] == ("1001", "1", False)
    page.wait_for_function("motcuaDisplay.voice.log[0].end !== null", timeout=15000)
    first = next(r for r in rec.responses if "number=1001" in r.url)
    assert first.status == 200 and first.headers["content-type"].startswith("audio/wav")

    # Two calls back to back: two announcements, in order, never over each other.
    admin.call_next(q2)
    admin.call_next(q1, complete_current=True)
    wait_text(page, "#hero-number", "1003")
    wait_text(page, card("Quầy 2"), "1002")
    wait_text(page, card("Quầy 1"), "1003")
    # The demo office has waiting areas: the called-in list takes the room of the two oldest calls.
    assert [text(page, f".recent li:nth-child({i}) .r-number") for i in range(1, 5)] == [
        "1003", "1002", "1001", "4001"]
    assert page.locator(".recent li").count() == 4
    # A recall is spoken again, and marked on screen.
    admin.recall(tickets[2]["id"])
    page.wait_for_selector("#hero-recall:not([hidden])")
    page.wait_for_function("motcuaDisplay.voice.log.length === 4 && motcuaDisplay.voice.log[3].end !== null",
                           timeout=30000)
    log = voice_log(page)
    assert [parse_qs(urlsplit(e["url"]).query)["number"][0] for e in log] == ["1001", "1002", "1003", "1003"]
    assert rec.spoken() == [("1001", "1", False), ("1002", "2", False), ("1003", "1", False), ("1003", "1", True)]
    assert all(e["outcome"] == "ended" for e in log), log  # the WAVs really played to their end
    for before, after in pairwise(log):
        assert after["start"] >= before["end"], log  # one at a time
    assert page.evaluate("motcuaDisplay.voice.overlaps") == 0

    assert text(page, ".wait[data-service='HT'] .w-count") == "0"
    screenshot(page, "display-lobby-1920x1080")
    fits = page.evaluate("""() => ({
        w: document.documentElement.scrollWidth <= innerWidth, h: document.documentElement.scrollHeight <= innerHeight,
        clipped: [...document.querySelectorAll('.hero-number, .hero-counter, .ctr-number, .ctr-label, .r-number, .w-count, .a-count, .a-state, .ci-number, .ci-seat')]
            .filter(n => n.scrollWidth > n.clientWidth + 1).map(n => n.textContent),
        outside: [...document.querySelectorAll('.ctr, .recent li, .wait, .area, .called-in li')]
            .filter(n => n.getBoundingClientRect().bottom > innerHeight).map(n => n.textContent)})""")
    assert fits == {"w": True, "h": True, "clipped": [], "outside": []}
    assert float(page.evaluate("getComputedStyle(document.querySelector('.hero-number')).fontSize").rstrip("px")) >= 200

    # A gap in seq (an event five ahead) asks for the snapshot, which puts the truth back.
    seq = admin.board()["seq"]
    assert page.evaluate("motcuaDisplay.state.lastSeq") == seq
    before = page.evaluate("motcuaDisplay.state.boardRequests")
    page.evaluate("s => motcuaDisplay.onEvent('queue_changed', {seq: s + 5, waiting: {HT: 99}})", seq)
    page.wait_for_function("n => motcuaDisplay.state.boardRequests === n + 1 && motcuaDisplay.state.pending === null",
                           arg=before)
    assert page.evaluate("motcuaDisplay.state.lastSeq") == seq
    assert text(page, ".wait[data-service='HT'] .w-count") == "0"
    # An old event is ignored.
    page.evaluate("s => motcuaDisplay.onEvent('queue_changed', {seq: s, waiting: {HT: 77}})", seq)
    assert text(page, ".wait[data-service='HT'] .w-count") == "0"
    assert page.evaluate("motcuaDisplay.state.boardRequests") == before + 1
    rec.assert_local()
    # No personal data: no officer's name anywhere on the page.
    body = page.locator("body").inner_text()
    assert "Nguyễn" not in body and "lan.nt" not in body


def test_the_display_heals_itself_after_a_server_restart(lobby, page_factory, sqlite_url, servers):
    server, tokens, admin, counters = lobby
    q1 = counters["Quầy 1"]
    admin.open_counter(q1)
    first = admin.issue("HT")
    second = admin.issue("HT")
    page, rec = open_display(page_factory, server, tokens["display"])
    admin.call_next(q1)
    wait_text(page, card("Quầy 1"), first["number"])
    assert not page.locator("#offline").is_visible()

    # The server dies (SIGKILL: SIGTERM would wait on the open websocket).
    os.killpg(server.proc.pid, signal.SIGKILL)
    server.proc.wait(10)
    page.wait_for_selector("#offline", state="visible", timeout=5000)
    assert text(page, "#offline") == "Mất kết nối — đang kết nối lại…"
    screenshot(page, "display-offline-1920x1080")

    # While nobody serves, the queue moves on: the next ticket is called straight in the database.
    db = Database(normalise_database_url(sqlite_url))
    try:
        with db.write() as s:
            out = queue.call_next(s, q1, actor="test:restart", now=datetime.now(UTC),
                                   complete_current=True)
            stamp(s, out.events)
    finally:
        db.dispose()
    assert out.ticket.number == second["number"]

    started = time.monotonic()
    again = servers(sqlite_url, port=server.port)
    assert again.url == server.url
    page.wait_for_selector("body[data-live='true']", timeout=10000)
    wait_text(page, card("Quầy 1"), second["number"], timeout=10000)
    wait_text(page, "#hero-number", second["number"], timeout=1000)
    assert time.monotonic() - started < 10
    assert not page.locator("#offline").is_visible()
    assert text(page, ".wait[data-service='HT'] .w-count") == "0"
    assert page.evaluate("motcuaDisplay.state.lastSeq") == Http(again.url, tokens["display"]).board()["seq"]

    # And events flow again: a recall on the new server is shown and announced.
    Http(again.url, tokens["admin"]).recall(out.ticket.id)
    page.wait_for_selector("#hero-recall:not([hidden])")
    page.wait_for_function("n => motcuaDisplay.voice.log.some(e => e.url.includes('number=' + n) && e.url.includes('recall=1'))",
                           arg=second["number"])
    rec.assert_local()


@pytest.mark.parametrize("size", [(1280, 720), (800, 480)])
def test_compact_mode_shows_one_counters_number(lobby, page_factory, size):
    server, tokens, admin, counters = lobby
    q2 = counters["Quầy 2"]
    admin.open_counter(q2)
    ticket = admin.issue("HT")
    page, rec = open_display(page_factory, server, tokens["display"], size=size, query=f"&counter={q2}")
    assert text(page, "#compact-label") == "Quầy 2"
    assert text(page, "#compact-number") == "—"
    admin.call_next(q2)
    wait_text(page, "#compact-number", ticket["number"])
    assert text(page, "#compact-caption") == "Đang phục vụ"
    # Just that counter: no lobby board, no other counters, no announcements.
    assert page.locator(".ctr, #hero, #recent, #announcer").count() == 0
    fits = page.evaluate("""() => [...document.querySelectorAll('.compact-label, .compact-number')]
        .every(n => n.scrollWidth <= n.clientWidth + 1 && n.getBoundingClientRect().bottom <= innerHeight)""")
    assert fits
    size_px = float(page.evaluate("getComputedStyle(document.getElementById('compact-number')).fontSize").rstrip("px"))
    assert size_px >= 0.35 * size[1]  # the number fills the screen
    screenshot(page, f"display-compact-{size[0]}x{size[1]}")
    assert not [a for a in rec.audio]
    rec.assert_local()


def test_denied_pages_say_how_to_make_a_display_token(lobby):
    server, tokens, _admin, counters = lobby

    def get(path):
        r = requests.get(f"{server.url}{path}", timeout=5)
        assert r.headers["Cache-Control"] == "no-store" and r.headers["Referrer-Policy"] == "no-referrer"
        return r

    for path, status, words in [
        ("/display/demo", 401, "Màn hình chờ cần mã thiết bị"),
        ("/display/demo?token=x", 401, "không đúng hoặc đã bị thu hồi"),
        ("/display/demo?token=" + "A" * 40, 401, "không đúng hoặc đã bị thu hồi"),
        (f"/display/demo?token={tokens['kiosk']}", 403, "không phải mã màn hình chờ của đơn vị 'demo'"),
        (f"/display/demo?token={tokens['admin']}", 403, "không phải mã màn hình chờ"),
        (f"/display/other?token={tokens['display']}", 403, "không phải mã màn hình chờ của đơn vị 'other'"),
    ]:
        r = get(path)
        assert r.status_code == status, path
        office = urlsplit(path).path.split("/")[2]
        page = html.unescape(r.text)
        assert words in page, (path, page)
        assert f'motcua token create --office {office} --role display --name "Màn hình sảnh"' in page, page
        assert tokens["display"] not in page and tokens["kiosk"] not in page
    for path in ["/display/bad code!", f"/display/demo?token={tokens['display']}&counter=99999",
                 f"/display/demo?token={tokens['display']}&counter=abc"]:
        r = get(path)
        assert r.status_code == 404, path
        assert "motcua token create" not in r.text
    ok = get(f"/display/demo?token={tokens['display']}&counter={counters['Quầy 3']}")
    assert ok.status_code == 200 and "Quầy 3" in ok.text


# ---------------------------------------------------------------- waiting areas (docs/seating.md)

def area_card(code: str) -> str:
    return f".area[data-area='{code}']"


def test_the_display_shows_seats_in_use_and_lists_the_numbers_called_in_live(two_chairs, page_factory):
    server, tokens, admin, counters = two_chairs
    q1 = counters["Quầy 1"]
    admin.open_counter(q1)
    page, rec = open_display(page_factory, server, tokens["display"])
    board = admin.board()
    assert [(a["code"], a["capacity"], a["used"]) for a in board["areas"]] == [("A", 2, 0), ("B", board["areas"][1]["capacity"], 0)]
    b_capacity = board["areas"][1]["capacity"]

    # Each area: its name, seats in use out of those allowed, and what that means.
    assert page.locator("body.seating").count() == 1
    assert text(page, f"{area_card('A')} .a-name") == "Khu vực chờ chính"
    assert text(page, f"{area_card('A')} .a-count") == "0/2"
    assert text(page, f"{area_card('A')} .a-state") == "Còn 2 chỗ trống"
    assert text(page, f"{area_card('B')} .a-count") == f"0/{b_capacity}"
    assert page.locator("#called-in-box .box-title").text_content() == "Mời vào khu vực chờ"  # upper-cased by CSS
    assert text(page, "#called-in") == "Chưa có số nào"

    # Two citizens sit down, the third waits outside: live, without a reload.
    first, second, third = (admin.issue("HT") for _ in range(3))
    assert (first["location"], second["location"], third["location"]) == ("inside", "inside", "outside")
    assert third["seat"] is None and first["seat"] in ("1", "2")
    wait_text(page, f"{area_card('A')} .a-count", "2/2")
    wait_text(page, f"{area_card('A')} .a-state", "1 người chờ ngoài")
    assert page.locator(f"{area_card('A')}.full").count() == 1
    assert text(page, f"{area_card('B')} .a-count") == f"0/{b_capacity}"

    # The first is called to a counter: the seat frees and the third is called in to it.
    admin.call_next(q1)
    wait_text(page, "#hero-number", first["number"])
    called_in = f"#called-in li[data-number='{third['number']}']"
    page.wait_for_selector(called_in, timeout=5000)
    seat = admin.request("GET", f"/tickets/{third['id']}").json()["seat"]
    assert seat == first["seat"]
    assert text(page, f"{called_in} .ci-number") == third["number"]
    assert text(page, f"{called_in} .ci-seat") == f"→ ghế {seat}"
    assert page.locator("#called-in li.newest").get_attribute("data-number") == third["number"]
    wait_text(page, f"{area_card('A')} .a-state", "Hết chỗ")
    assert text(page, f"{area_card('A')} .a-count") == "2/2"
    assert admin.board()["called_in"][0]["number"] == third["number"]
    page.wait_for_timeout(3000)  # let the flash end before the picture
    screenshot(page, "display-seating-1920x1080")
    fits = page.evaluate("""() => ({
        h: document.documentElement.scrollHeight <= innerHeight,
        clipped: [...document.querySelectorAll('.ctr-number, .ctr-label, .r-number, .w-count, .a-count, .a-name, .a-state, .ci-number, .ci-seat')]
            .filter(n => n.scrollWidth > n.clientWidth + 1).map(n => n.textContent),
        outside: [...document.querySelectorAll('.ctr, .recent li, .wait, .area, .called-in li')]
            .filter(n => n.getBoundingClientRect().bottom > innerHeight).map(n => n.textContent)})""")
    assert fits == {"h": True, "clipped": [], "outside": []}

    # A fresh page draws the same from the snapshot alone.
    again, _ = open_display(page_factory, server, tokens["display"], size=(1280, 720))
    again.wait_for_selector(called_in)
    assert text(again, f"{area_card('A')} .a-count") == "2/2"
    screenshot(again, "display-seating-1280x720")

    # Called to a counter, the number leaves the list.
    admin.call_next(q1, complete_current=True)   # the second
    admin.call_next(q1, complete_current=True)   # the third
    wait_text(page, "#hero-number", third["number"])
    page.wait_for_selector(called_in, state="detached", timeout=5000)
    wait_text(page, "#called-in", "Chưa có số nào")
    wait_text(page, f"{area_card('A')} .a-count", "0/2")
    assert not [a for a in rec.audio if a["number"] not in (first["number"], second["number"], third["number"])]
    rec.assert_local()


def test_an_office_without_areas_shows_nothing_about_seats(sqlite_url, servers, page_factory):
    tokens = seed(sqlite_url, without_areas(two_chair_office()))
    server = servers(sqlite_url)
    admin = Http(server.url, tokens["admin"])
    admin.open_counter(admin.counters()["Quầy 1"])
    ticket = admin.issue("HT")
    assert (ticket["location"], ticket["seat"]) == ("inside", None)
    page, rec = open_display(page_factory, server, tokens["display"])
    admin.call_next(admin.counters()["Quầy 1"])
    wait_text(page, "#hero-number", ticket["number"])
    assert page.locator("body.seating").count() == 0
    assert not page.locator("#areas").is_visible() and not page.locator("#called-in-box").is_visible()
    assert "ghế" not in page.locator("body").inner_text().lower()
    rec.assert_local()
