"""A kiosk everyone can use (issue 19, item 4), in Chromium against a real `motcua serve`:
the large-text mode on every screen at 1080×1920, 1920×1080 and 1366×768 with the printer
banner (nothing cut off or overlapping, every text at least 7:1 against its background),
the mode ending when the citizen leaves, and the read-aloud button asking the server for
the words of the screen shown, in the kiosk's language. Screenshots: /tmp/shots-access/."""
from __future__ import annotations

import io
import json
import wave
from array import array
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from tests.browser.test_kiosk_page import ALL_DAY
from tests.conftest import office_data, seed
from tests.support.fakeprinter import STATUS_PAPER_OUT, FakePrinter
from tests.support.sockets import Http

SHOTS = Path("/tmp/shots-access")
SIZES = [(1080, 1920), (1920, 1080), (1366, 768)]
START = "#screen-start:not([hidden])"
PROCEDURES = "#screen-procedures:not([hidden])"
ONLINE = "#screen-online:not([hidden])"
TICKET = "#screen-ticket:not([hidden])"
LOOKUP = "#screen-lookup:not([hidden])"
SPEECH = "/kiosk/demo/speech.wav"


@pytest.fixture
def kiosk(sqlite_url, servers, espeak):
    """The demo office with its catalogue and seats, open all day; its kiosk's printer is
    out of paper (the banner on the start screen, the fault on the ticket: the fullest screens)."""
    with FakePrinter(status=STATUS_PAPER_OUT) as printer:
        data = office_data(hours=ALL_DAY, kiosks=[{"name": "Kiosk sảnh", "printer": printer.url}])
        tokens = seed(sqlite_url, data)
        yield servers(sqlite_url, env={"MOTCUA_PRINTER_WATCH_S": "1"}), tokens


def open_kiosk(page_factory, server, tokens, size, banner=True):
    page = page_factory(*size)
    page.goto(f"{server.url}/kiosk/demo?token={tokens['kiosk']}")
    page.wait_for_selector(".svc .svc-wait:text('Đang chờ')")
    if banner:
        page.locator("#printer-down").wait_for(state="visible", timeout=15000)
    return page


def shoot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.wait_for_timeout(150)  # the button's pressed look, the fonts
    page.screenshot(path=str(SHOTS / f"{name}.png"))


# What the citizen sees of the page: every visible element of the header, the screen shown
# and the footer. Cut off: past the window's edge (or its scrolling box's), or its text
# wider or taller than its box. Overlapping: two boxes that cross, neither inside the other.
LAYOUT = """() => {
  const seen = (el) => el.offsetParent !== null && getComputedStyle(el).visibility !== 'hidden';
  const name = (el) => (el.id ? '#' + el.id : el.className || el.tagName) + ' «' + el.textContent.trim().slice(0, 40) + '»';
  const screen = document.querySelector('.screen:not([hidden])');
  const roots = [document.querySelector('.top'), screen, document.querySelector('.bottom'),
                 document.querySelector('#printer-down')].filter(r => r && seen(r));
  const all = roots.flatMap(r => [r, ...r.querySelectorAll('*')]).filter(seen);
  const scroller = (el) => { for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowY; if (o === 'auto' || o === 'scroll') return p; } return null; };
  // The page never scrolls, nor does the screen shown (only a long list inside it may).
  const problems = {cut: [], overflow: [], overlap: [],
                    scroll: Math.max(document.documentElement.scrollHeight - innerHeight,
                                     screen.scrollHeight - screen.clientHeight)};
  for (const el of all) {
    const r = el.getBoundingClientRect();
    if (r.width < 2 || r.height < 2) continue;  // nothing, or kept for screen readers only
    const box = scroller(el);
    const b = box ? box.getBoundingClientRect() : {top: 0, left: 0, bottom: innerHeight, right: innerWidth};
    const inside = box ? (r.bottom > b.top && r.top < b.bottom) : true;  // scrolled out of view is fine
    if (inside && (r.left < b.left - 0.5 || r.right > b.right + 0.5 || (!box && (r.top < -0.5 || r.bottom > innerHeight + 0.5))))
      problems.cut.push(name(el));
    const s = getComputedStyle(el);
    const clips = s.overflowX !== 'visible' || el.tagName === 'BUTTON';
    if (clips && s.overflowY !== 'auto' && s.overflowY !== 'scroll' && el.textContent.trim() &&
        (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1))
      problems.overflow.push(name(el));
  }
  // What shows of a box: the part inside the box that scrolls it (a long list scrolls by design).
  const shown = (el) => { const r = el.getBoundingClientRect(), box = scroller(el);
    if (!box) return r; const b = box.getBoundingClientRect();
    const top = Math.max(r.top, b.top), bottom = Math.min(r.bottom, b.bottom);
    return {left: r.left, right: r.right, top, bottom, width: r.width, height: Math.max(0, bottom - top)}; };
  const blocks = all.filter(el => el.matches('button, h1, h2, p, .priority, .svc, .proc, .ticket, .qr-box, .clock, .access, .langs, .cards > *, dl, ul'));
  for (let i = 0; i < blocks.length; i++) for (let j = i + 1; j < blocks.length; j++) {
    const a = blocks[i], c = blocks[j];
    if (a.contains(c) || c.contains(a)) continue;
    const p = shown(a), q = shown(c);
    if (!p.width || !q.width || !p.height || !q.height) continue;
    const x = Math.min(p.right, q.right) - Math.max(p.left, q.left), y = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
    if (x > 1 && y > 1) problems.overlap.push(name(a) + ' × ' + name(c));
  }
  return problems;
}"""

# Every visible text against the first solid background behind it (WCAG 2 contrast ratio).
CONTRAST = """() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
      .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ground = (el) => { for (let p = el; p; p = p.parentElement) {
      const c = rgb(getComputedStyle(p).backgroundColor); if (c.length === 3 || c[3] === 1) return c.slice(0, 3); }
      return rgb(getComputedStyle(document.body).backgroundColor).slice(0, 3); };
  const out = [];
  document.querySelectorAll('body *').forEach(el => {
    if (el.offsetParent === null || el.closest('[hidden]') || getComputedStyle(el).visibility === 'hidden') return;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) return;
    const r = el.getBoundingClientRect();
    if (r.width < 2 || r.height < 2 || r.bottom < 0 || r.top > innerHeight) return;
    const fg = lum(rgb(getComputedStyle(el).color)), bg = lum(ground(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    out.push({text: el.textContent.trim().slice(0, 40), ratio: Math.round(ratio * 10) / 10});
  });
  return out;
}"""


def check(page, name: str, found: dict) -> None:
    """Shoots the screen and notes what is wrong with it in `found` (asserted empty at the end,
    so one run shows every screen's problems)."""
    shoot(page, name)
    problems = {k: v for k, v in page.evaluate(LAYOUT).items() if v}
    if not (page.locator("#access-large").is_visible() and page.locator("#access-read").is_visible()):
        problems["buttons"] = "not on this screen"
    texts = page.evaluate(CONTRAST)
    low = [t for t in texts if t["ratio"] < 7]
    if low or not texts:
        problems["contrast"] = low or "no text"
    if problems:
        found[name] = problems


def tap(page, selector: str) -> None:
    """A citizen's tap: a new screen ignores taps for its first moments (kiosk.js SCREEN_GUARD_MS)."""
    page.wait_for_timeout(700)
    page.click(selector)


def large_on(page) -> None:
    if page.locator("#access-large[aria-pressed='true']").count() == 0:
        page.click("#access-large")
    page.wait_for_selector("body.access-large")


@pytest.mark.parametrize("size", SIZES, ids=["1080x1920", "1920x1080", "1366x768"])
def test_large_text_fits_every_screen_and_reads_at_7_to_1(kiosk, page_factory, size):
    server, tokens = kiosk
    page = open_kiosk(page_factory, server, tokens, size)
    tag = f"{size[0]}x{size[1]}"
    found: dict = {}
    shoot(page, f"{tag}-0-start-normal")
    assert page.locator("#access-large").inner_text().strip() == "Chữ lớn"
    large_on(page)
    assert page.locator("#access-large").get_attribute("aria-pressed") == "true"
    check(page, f"{tag}-1-start", found)

    page.click("#priority")  # the priority step: which group (kiosk/static/groups.js)
    page.click(".group-choice[data-group=elderly]")
    page.wait_for_selector("body.priority-on")
    check(page, f"{tag}-2-priority", found)

    page.click(".svc[data-code=HT]")  # the service's procedures
    page.wait_for_selector(PROCEDURES)
    page.wait_for_selector("#proc-list .proc")
    check(page, f"{tag}-3-procedures", found)

    tap(page, "#proc-list .proc[data-code='1.001193']")  # filed online too: said first
    page.wait_for_selector(ONLINE)
    check(page, f"{tag}-4-online", found)
    tap(page, "#online-take")
    page.wait_for_selector(TICKET)
    page.wait_for_selector("#ticket-print.is-failed")
    assert page.locator("#ticket-priority").is_visible() and page.locator("#ticket-docs").is_visible()
    check(page, f"{tag}-5-ticket", found)

    tap(page, "#ticket-done")
    page.wait_for_selector(START)
    assert page.locator("body.access-large").count() == 0  # the citizen left: the mode too
    large_on(page)
    tap(page, "#lookup-open")
    page.wait_for_selector(LOOKUP)
    check(page, f"{tag}-6-lookup", found)
    page.click(".lang[data-lang='en']")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.locator("#access-large").inner_text().strip() == "Large text"
    check(page, f"{tag}-7-lookup-en", found)

    # Lan sits down at Quầy 1 (Hộ tịch, Chứng thực): those buttons show the queue and the seats.
    officer = Http(server.url, tokens["officer"])
    q1 = officer.counters()["Quầy 1"]
    officer.request("POST", f"/counters/{q1}/take")
    officer.open_counter(q1)
    tap(page, "#look-back")
    page.wait_for_selector(START)
    page.wait_for_selector(".svc[data-code=CT]:not(.is-unserved) .svc-seats:not(:empty)")
    check(page, f"{tag}-8-start-served-en", found)
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)


def test_the_mode_ends_after_a_minute_without_a_touch(kiosk, page_factory):
    server, tokens = kiosk
    page = open_kiosk(page_factory, server, tokens, (1080, 1920), banner=False)
    large_on(page)
    page.click("#access-read")
    page.wait_for_function("motcuaAccess.voice.log.length === 1")
    # Nothing else changed (start screen, Vietnamese): the mode alone makes the kiosk reset.
    page.evaluate("motcuaKiosk.state.lastTouch = Date.now() - 61000")
    page.wait_for_selector("body:not(.access-large)", timeout=5000)
    assert page.locator("#access-large").get_attribute("aria-pressed") == "false"
    assert page.locator("#access-read").get_attribute("aria-pressed") == "false"
    assert page.evaluate("motcuaAccess.audio.paused") is True
    assert page.evaluate("motcuaAccess.voice.log[0].outcome") == "stopped"


class Heard:
    """The speech the page asked for: the query of each request and the words of each reply."""

    def __init__(self, page):
        self.asked: list[dict] = []
        self.replies: list = []
        page.on("request", lambda r: self.asked.append(
            {k: v[0] for k, v in parse_qs(urlsplit(r.url).query).items()}) if SPEECH in r.url else None)
        page.on("response", lambda r: self.replies.append(r) if SPEECH in r.url else None)

    def words(self, i: int) -> str:
        return unquote(self.replies[i].headers["x-motcua-phrase"])


def wav_seconds(data: bytes) -> tuple[float, int]:
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
        samples = array("h", w.readframes(w.getnframes()))
    rms = int((sum(x * x for x in samples) / max(1, len(samples))) ** 0.5)
    return len(samples) / 22050, rms


def wait_heard(page, heard: Heard, n: int) -> None:
    page.wait_for_function("n => motcuaAccess.voice.log.length >= n", arg=n, timeout=10000)
    for _ in range(100):
        if len(heard.replies) >= n:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{len(heard.replies)} replies, wanted {n}")


def test_read_aloud_says_each_screen_and_the_ticket(kiosk, page_factory):
    server, tokens = kiosk
    page = open_kiosk(page_factory, server, tokens, (1080, 1920), banner=False)
    heard = Heard(page)
    hosts: set = set()
    page.on("request", lambda r: hosts.add(urlsplit(r.url).hostname))
    page.click("#access-read")
    wait_heard(page, heard, 1)
    assert heard.asked[0] == {"token": tokens["kiosk"], "lang": "vi", "screen": "start"}
    reply = heard.replies[0]
    assert reply.status == 200 and reply.headers["content-type"] == "audio/wav"
    seconds, rms = wav_seconds(reply.body())
    assert seconds > 10 and rms > 300
    words = heard.words(0)
    assert words.startswith("Mời chọn lĩnh vực cần giải quyết. Các lĩnh vực: Hộ tịch; Chứng thực;")
    assert "dưới sáu tuổi" in words  # numbers in Vietnamese words
    page.wait_for_function("!motcuaAccess.audio.paused && motcuaAccess.audio.currentTime > 0.3", timeout=10000)
    assert page.locator("#access-read").inner_text().strip() == "Dừng đọc"

    # English: the same screen again, in English.
    page.click(".lang[data-lang='en']")
    wait_heard(page, heard, 2)
    assert heard.asked[1]["lang"] == "en" and heard.words(1).startswith("Please choose the service you need.")
    assert heard.asked[0] != heard.asked[1] and page.evaluate("motcuaAccess.voice.log[0].outcome") == "stopped"
    page.click(".lang[data-lang='vi']")
    wait_heard(page, heard, 3)

    # While it is on, each new screen is read: the procedures, then the ticket.
    page.click(".svc[data-code=HT]")
    page.wait_for_selector(PROCEDURES)
    wait_heard(page, heard, 4)
    assert heard.asked[3]["screen"] == "procedures" and heard.asked[3]["service"] == "HT"
    assert heard.words(3).startswith("Hộ tịch. Quý khách cần làm thủ tục gì? Các thủ tục: Đăng ký khai sinh;")
    tap(page, "#proc-list .proc[data-code='1.000656']")
    page.wait_for_selector(ONLINE)
    wait_heard(page, heard, 5)
    assert heard.asked[4]["procedure"] == "1.000656" and "Đăng ký khai tử." in heard.words(4)
    tap(page, "#online-take")
    page.wait_for_selector(TICKET)
    wait_heard(page, heard, 6)
    number = page.locator("#ticket-number").inner_text()
    ticket_id = page.evaluate("motcuaKiosk.state.ticket.id")
    assert heard.asked[5]["screen"] == "ticket" and heard.asked[5]["ticket"] == str(ticket_id)
    assert number == "1001"
    said = heard.words(5)
    assert said.startswith("Số thứ tự của bạn là: một nghìn không trăm linh một. Lĩnh vực: Hộ tịch.")
    assert "Giấy tờ cần mang: Tờ khai đăng ký khai tử" in said
    assert said.endswith("Xin nhắc lại, số của bạn là: một nghìn không trăm linh một.")
    seconds, _ = wav_seconds(heard.replies[5].body())
    assert seconds > 20  # longer than the ticket's own countdown (20 s with documents)...
    # ...so the ticket stays until the words end.
    page.wait_for_function("s => motcuaKiosk.state.backAt - Date.now() > s * 1000", arg=seconds, timeout=10000)
    tap(page, "#ticket-done")
    page.wait_for_selector(START)
    assert page.locator("#access-read").get_attribute("aria-pressed") == "false"
    page.wait_for_timeout(600)
    assert len(heard.asked) == 6  # the start screen is not read to the next citizen
    assert hosts == {"127.0.0.1"}  # the voice is made on our own server, offline


def test_read_aloud_on_the_check_in_screen_and_its_message(kiosk, page_factory):
    server, tokens = kiosk
    page = open_kiosk(page_factory, server, tokens, (1920, 1080), banner=False)
    heard = Heard(page)
    page.click("#access-read")
    wait_heard(page, heard, 1)
    tap(page, "#checkin-open")
    page.wait_for_selector("#screen-checkin:not([hidden])")
    wait_heard(page, heard, 2)
    assert heard.asked[1]["screen"] == "checkin" and heard.words(1).startswith("Nhập mã lịch hẹn.")
    for ch in "ZZZZ22":  # no booking has this code
        page.click(f".key[data-key='{ch}']")
    page.click("#checkin-submit")
    page.wait_for_selector("#screen-message:not([hidden])")
    wait_heard(page, heard, 3)
    assert heard.asked[2]["screen"] == "message" and heard.asked[2]["title"] == "checkin.not_found_title"
    assert heard.words(2).startswith("Không tìm thấy mã lịch hẹn. Xin đọc thông báo trên màn hình")
    # Back at the start after the message, still the same citizen: the start screen is read again.
    tap(page, "#message-done")
    page.wait_for_selector(START)
    wait_heard(page, heard, 4)
    assert heard.asked[3]["screen"] == "start"
