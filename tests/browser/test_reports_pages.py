"""The reports page (/counter/reports) and the live dashboard (/counter/dashboard).

First the page's own work against a report of known figures (how figures, days and names
are written, the period, the links), then in a real browser against a real `motcua serve`
with tickets issued, called and completed through the API: real figures on the page, the
print layout, an officer refused, and the dashboard following a completion without a reload.
"""
from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from datetime import date
from html import unescape
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

import counter.backoffice.reports as pages
from server.db.models import Office, User
from server.engine import accounts, queue
from server.engine.offices import import_office
from tests.conftest import (
    ARTIFACTS,
    office_data,
    screenshot,
    seed,
    without_areas,
)
from tests.support.sockets import Http

SVG = "{http://www.w3.org/2000/svg}"


# ---------------------------------------------------------------- a report of known figures

def row(issued, served, *, no_show=0, cancelled=0, wait=(600.0, 540.0, 1200.0), within=0.8,
        service=(300.0, 280.0), ratings=(10, 8), levels=None, priority=1):
    waits = served + no_show
    return {
        "issued": issued, "transferred_in": 0, "transferred_out": 0, "served": served, "no_show": no_show,
        "cancelled": cancelled, "unserved": issued - served - no_show - cancelled, "calls": waits, "waits": waits,
        "wait_avg_s": wait[0], "wait_median_s": wait[1], "wait_p90_s": wait[2],
        "within_target": round(waits * (within or 0)), "within_target_share": within,
        "service_avg_s": service[0], "service_median_s": service[1],
        "channels": {"kiosk": issued - 3, "booking": 2, "counter": 1, "api": 0}, "priority": priority,
        "bookings": {"booked": 8, "checked_in": 6, "no_show": 2, "no_show_rate": 0.25},
        "ratings": {"count": ratings[0], "satisfied": ratings[1],
                    "share": ratings[1] / ratings[0] if ratings[0] else None,
                    "levels": levels or {"1": 1, "2": 1, "3": 3, "4": 5}},
    }


NOTHING = {"wait": (None, None, None), "within": None, "service": (None, None), "ratings": (0, 0),
           "levels": {"1": 0, "2": 0, "3": 0, "4": 0}}
REPORT = {
    "office": {"code": "demo", "name": "UBND phường Hoàn Kiếm"}, "offices": ["demo"],
    "from": "2026-11-21", "to": "2026-11-23", "target_wait_minutes": 15, "generated_at": "2026-11-23T02:00:00Z",
    "totals": row(1234, 1100, no_show=40, cancelled=12, wait=(755.4, 600.0, 3725.0), within=0.875,
                  service=(410.0, 380.0), ratings=(120, 105), priority=37),
    "by_day": [dict(row(700, 650), key="2026-11-21", label="T7 21/11/2026"),
               dict(row(0, 0, **NOTHING), key="2026-11-22", label="CN 22/11/2026"),
               dict(row(534, 450), key="2026-11-23", label="T2 23/11/2026")],
    "by_service": [dict(row(900, 800), key="HT", label="Hộ tịch"),
                   dict(row(334, 300), key="X<Y", label="Chứng thực <script>alert(1)</script>")],
    "by_counter": [dict(row(600, 550), key="demo/Quầy 1", label="Quầy 1"),
                   dict(row(634, 550), key="demo/Quầy 2", label="Quầy 2")],
    "by_officer": [],
    "by_hour": [{"hour": 8, "issued": 600, "served": 500}, {"hour": 9, "issued": 634, "served": 600}],
    "wait_by_day": [{"key": "2026-11-21", "avg_s": 700.0, "median_s": 650.0, "p90_s": 1300.0},
                    {"key": "2026-11-22", "avg_s": None, "median_s": None, "p90_s": None},
                    {"key": "2026-11-23", "avg_s": 800.0, "median_s": 700.0, "p90_s": 1500.0}],
    "satisfaction_by_service": [
        {"key": "HT", "label": "Hộ tịch", "levels": {"1": 5, "2": 10, "3": 40, "4": 45}, "count": 100, "share": 0.85},
        {"key": "X<Y", "label": "Chứng thực <script>alert(1)</script>", "levels": {"1": 0, "2": 0, "3": 10, "4": 10},
         "count": 20, "share": 1.0}],
}


@pytest.fixture
def known(monkeypatch):
    """The page computes nothing itself: it shows what server/read/figures.py returns. Here that
    is REPORT (as asked: the same office, the asked period)."""
    asked = []

    def compute(s, office_ids, start, end, *, now=None, lang="vi"):
        asked.append((office_ids, start, end, lang))
        return copy.deepcopy(REPORT)
    monkeypatch.setattr(pages.figures, "compute", compute)
    return asked


def sign_in(client, app, username: str) -> None:
    """A session as the office's user, as the login form leaves it (no slow password hash)."""
    state = app.extensions["motcua"]
    with state.db.read() as s:
        user_id = s.scalar(select(User.id).join(Office, Office.id == User.office_id)
                           .where(Office.code == "demo", User.username == username))
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], state.perform(accounts.open_session, user_id).session_id)


class Cells(HTMLParser):
    """Every table of the page as {table id: [[cell text, ...] per row]}."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.table = self.cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.table = self.tables.setdefault(attrs.get("id", ""), [])
        elif tag == "tr" and self.table is not None:
            self.table.append([])
        elif tag in ("td", "th") and self.table is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.table[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "table":
            self.table = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    parser = Cells()
    parser.feed(html)
    return parser.tables


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_page_writes_figures_the_vietnamese_way(app, client, known):
    sign_in(client, app, "mai.pt")
    r = client.get("/counter/reports?from=21/11/2026&to=2026-11-23")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    html = r.get_data(as_text=True)
    assert known[-1][1:] == (date(2026, 11, 21), date(2026, 11, 23), "vi")
    words = text(html)
    assert "UBND phường Hoàn Kiếm" in words
    assert "Từ T7 21/11/2026 đến T2 23/11/2026" in words
    assert "lập lúc 09:00 23/11/2026" in words  # generated_at in Hanoi time
    for figure in ("1.234", "1.100", "87,5 %", "12:35", "1:02:05", "6:50", "120 lượt đánh giá", "25 %",
                   "không đến 2 · đã đến lấy số 6", "998 trên 1.140 phiếu"):
        assert figure in words, figure
    got = tables(html)
    day = got["table-day"]
    assert day[2][:3] == ["T7 21/11/2026", "700", "650"]
    assert day[3][0] == "CN 22/11/2026" and day[3][6:9] == ["—", "—", "—"]  # nothing measured: a dash
    assert day[-1][0] == "Tổng cộng" and day[-1][1] == "1.234" and day[-1][-1] == "87,5 % (120)"
    assert got["table-service"][2][0] == "Hộ tịch" and got["table-service"][2][9] == "80 %"
    assert got["table-officer"][2] == ["Chưa có số liệu"]
    # Names are text, never markup, in the tables and in the charts.
    assert "<script>alert(1)</script>" not in html
    assert "Chứng thực &lt;script&gt;alert(1)&lt;/script&gt;" in html
    svgs = re.findall(r"<svg.*?</svg>", html, re.DOTALL)
    assert len(svgs) == 4  # hourly, waits, satisfaction, online filing
    for svg in svgs:
        assert ET.fromstring(svg).get("role") == "img"


def test_the_period_the_office_and_the_links(app, client, known):
    sign_in(client, app, "mai.pt")
    html = client.get("/counter/reports").get_data(as_text=True)
    assert known[-1][1:3] == (date(2026, 11, 23), date(2026, 11, 23))  # today, in Hanoi
    assert 'name="from" value="23/11/2026"' in html and "Ngày T2 23/11/2026" in text(html)
    assert '<select name="office"' not in html  # a supervisor sees only their own office
    for group in ("day", "service", "counter", "officer"):
        assert f"/api/v1/offices/demo/report.csv?from=2026-11-23&amp;to=2026-11-23&amp;group={group}" in html
    assert "/api/v1/offices/demo/report.xlsx?from=2026-11-23&amp;to=2026-11-23" in html
    quick = dict(re.findall(r'<a href="\?from=([-\d]+&amp;to=[-\d]+)"[^>]*>([^<]+)</a>', html)[i][::-1]
                 for i in range(4))
    assert quick == {"Hôm nay": "2026-11-23&amp;to=2026-11-23", "7 ngày": "2026-11-17&amp;to=2026-11-23",
                     "Tháng này": "2026-11-01&amp;to=2026-11-23", "Tháng trước": "2026-10-01&amp;to=2026-10-31"}
    assert re.search(r'<a href="\?from=2026-11-23&amp;to=2026-11-23" aria-current="true">Hôm nay', html)
    assert 'href="/counter/dashboard"' in html and 'id="print"' in html


def test_english_figures(app, client, known):
    sign_in(client, app, "mai.pt")
    html = client.get("/counter/reports?lang=en&from=2026-11-21&to=2026-11-23").get_data(as_text=True)
    words = text(html)
    for figure in ("1,234", "87.5%", "From Sat 21/11/2026 to Mon 23/11/2026", "Total", "Average wait"):
        assert figure in words, figure
    assert known[-1][3] == "en"


@pytest.mark.parametrize(("query", "says"), [
    ("from=31/02/2026", "Ngày '31/02/2026' không đúng"),
    ("from=hôm qua", "Ngày 'hôm qua' không đúng"),
    ("from=2026-11-23&to=2026-11-01", "Ngày bắt đầu phải trước"),
])
def test_a_wrong_period_is_explained_and_today_shown(app, client, known, query, says):
    sign_in(client, app, "mai.pt")
    r = client.get(f"/counter/reports?{query}")
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert says in text(html) and 'role="alert"' in html
    assert known[-1][1:3] == (date(2026, 11, 23), date(2026, 11, 23))


def test_parse_period_and_quick_periods():
    today = date(2026, 1, 15)
    assert pages.parse_period({}, today) == pages.Period(today, today)
    assert pages.parse_period({"from": "2/1/2026"}, today) == pages.Period(date(2026, 1, 2), date(2026, 1, 2))
    assert pages.parse_period({"to": "2026-01-10"}, today) == pages.Period(date(2026, 1, 10), date(2026, 1, 10))
    assert pages.parse_period({"from": "01/12/2025", "to": "15/01/2026"}, today).start == date(2025, 12, 1)
    for bad in ({"from": "2026-13-01"}, {"from": "1/2"}, {"from": "2026-01-10", "to": "2026-01-09"}):
        with pytest.raises(pages.PeriodError):
            pages.parse_period(bad, today)
    quick = dict(pages.quick_periods(today))
    assert quick["reports.last_month"] == pages.Period(date(2025, 12, 1), date(2025, 12, 31))
    assert quick["reports.last7"] == pages.Period(date(2026, 1, 9), today)


def test_durations_and_formats():
    fmt = pages.formatter("vi")
    assert [pages.duration(s) for s in (None, 0, 59.6, 750, 3725)] == ["—", "0:00", "1:00", "12:30", "1:02:05"]
    assert fmt({"count": 8, "share": 0.875}, "rating") == "87,5 % (8)"
    assert fmt({"count": 0, "share": None}, "rating") == "—"
    assert pages.formatter("en")(0.5, "percent") == "50%"
    assert pages.field({"a": {"b": 2}}, "a.b") == 2 and pages.field({"a": None}, "a.b") is None


def test_who_may_see_reports(app, client, known):
    assert client.get("/counter/reports").status_code == 302  # no session: the login form
    sign_in(client, app, "lan.nt")
    for path in ("/counter/reports", "/counter/dashboard", "/counter/reports/hourly.svg"):
        r = client.get(path)
        assert r.status_code == 403, path
        assert "Chỉ giám sát viên và quản trị viên được xem báo cáo." in r.get_data(as_text=True)
    assert not known  # nothing was computed for them
    sign_in(client, app, "mai.pt")
    assert client.get("/counter/reports?office=all").status_code == 403  # not a city admin
    assert client.get("/counter/reports?office=nowhere").status_code in (403, 404)


def test_the_hourly_chart_alone(app, client, known):
    sign_in(client, app, "mai.pt")
    r = client.get("/counter/reports/hourly.svg")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    root = ET.fromstring(r.get_data(as_text=True))
    assert [c.get("data-value") for c in root.iter(SVG + "rect") if c.get("data-series") == "issued"] == ["600", "634"]


def test_the_dashboard_shows_today(app, client, known):
    sign_in(client, app, "mai.pt")
    r = client.get("/counter/dashboard")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert known[-1][1:3] == (date(2026, 11, 23), date(2026, 11, 23))
    assert "cập nhật lúc 09:00:00" in text(html) and "T2 23/11/2026" in text(html)
    got = tables(html)
    assert set(got) == {"table-service", "table-counter"}
    assert got["table-counter"][0][:3] == ["Quầy", "Lượt gọi", "Đã phục vụ"]
    assert got["table-counter"][3][:3] == ["Quầy 2", "550", "550"]  # counters: calls, served
    assert '"report": "/api/v1/offices/demo/report"' in html


def test_a_city_admin_picks_an_office_or_all(app, client, clock):
    """The real computation: a city-wide admin sees every office, one at a time or together."""
    state = app.extensions["motcua"]
    with state.db.write() as s:
        import_office(s, without_areas(office_data(code="other", name="UBND phường Khác")), now=clock.now())
        s.scalar(select(User).join(Office, Office.id == User.office_id)
                 .where(Office.code == "demo", User.username == "admin")).city_wide = True
    for office, service in (("demo", "HT"), ("demo", "CT"), ("other", "HT")):
        state.perform(queue.issue, office, service, priority=False, channel="kiosk", actor="test:kiosk")
    sign_in(client, app, "admin")
    html = client.get("/counter/reports?office=all").get_data(as_text=True)
    assert re.findall(r'<option value="([^"]+)"', html) == ["all", "demo", "other"]  # by name: "Bộ…", "UBND…"
    assert '<option value="all" selected>Tất cả đơn vị</option>' in html
    got = tables(html)
    offices = {r[0]: r[1] for r in got["table-office"][2:-1]}
    assert offices == {"UBND phường Khác": "1", "Bộ phận Một cửa – UBND phường Hoàn Kiếm": "2"}, offices
    assert got["table-office"][-1][:2] == ["Tổng cộng", "3"]
    assert "/api/v1/offices/all/report.csv?from=2026-11-23&amp;to=2026-11-23&amp;group=office" in html
    assert "Được gọi đúng hạn" in text(html)  # offices may have different targets
    assert "Tất cả đơn vị" in text(html.split('class="rp-filter')[0])  # the page's header
    other = client.get("/counter/reports?office=other").get_data(as_text=True)
    assert "UBND phường Khác" in text(other.split('class="rp-filter')[0])
    assert 'id="table-office"' not in other and tables(other)["table-day"][-1][:2] == ["Tổng cộng", "1"]
    assert client.get("/counter/reports?office=nowhere").status_code == 404
    sign_in(client, app, "mai.pt")  # a supervisor of demo: nothing else
    assert client.get("/counter/reports?office=other").status_code == 403


# ---------------------------------------------------------------- a real server, a real browser

def _log_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/counter/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _full_page(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def office(sqlite_url, servers):
    """A real server with the demo office (open all day) and the API as the officer lan.nt
    (`staff`, who works only at the counter they take; `staff.admin` works anywhere) and the
    kiosk (`kiosk`)."""
    tokens = seed(sqlite_url)  # the demo file's passwords: mai.pt / demo-mai, lan.nt / demo-lan
    server = servers(sqlite_url)
    staff, kiosk = Http(server.url, tokens["officer"]), Http(server.url, tokens["kiosk"])
    staff.admin = Http(server.url, tokens["admin"])
    return server, staff, kiosk, staff.counters()


def label_sizes(page) -> list[float]:
    """The size on screen, in CSS pixels, of every label of the hourly chart."""
    return page.evaluate("""() => {
        const svg = document.querySelector('#hourly svg');
        const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        return [...svg.querySelectorAll('text')].map(
            e => parseFloat(getComputedStyle(e).fontSize) * scale);
    }""")


def tile(page, name: str) -> str:
    return page.inner_text(f".tile[data-tile={name}] .value").strip()


def test_reports_page_with_real_figures_and_its_print_layout(office, page_factory):
    server, staff, kiosk, counters = office
    q1, q2 = counters["Quầy 1"], counters["Quầy 3"]
    staff.request("POST", f"/counters/{q1}/take")  # lan.nt sits at Quầy 1; nobody at Quầy 3
    at = {q1: staff, q2: staff.admin}  # the admin's token works Quầy 3
    for counter in (q1, q2):
        at[counter].open_counter(counter)
    issued = [kiosk.issue(sv) for sv in ("HT", "HT", "CT", "HT", "CT")]
    served = []
    for counter in (q1, q2, q1):
        ticket = at[counter].call_next(counter)
        at[counter].request("POST", f"/tickets/{ticket['id']}/complete")
        served.append(ticket)
    staff.admin.request("POST", f"/tickets/{issued[-1]['id']}/cancel")
    staff.request("POST", f"/counters/{q1}/rating", expect=201, json={"ticket": served[-1]["id"], "level": 4})

    page = page_factory(1366, 768)
    _log_in(page, server.url, "mai.pt", "demo-mai")
    page.goto(f"{server.url}/counter/reports")
    assert tile(page, "issued") == "5"
    assert tile(page, "served") == "3"
    assert tile(page, "cancelled") == "1"
    assert tile(page, "satisfaction") == "100 %"
    assert "1 lượt đánh giá" in page.inner_text(".tile[data-tile=satisfaction]")
    services = {r.locator("th").inner_text(): r.locator("td").first.inner_text()
                for r in page.locator("#table-service tbody tr").all()}
    assert services.get("Hộ tịch") == "3" and services.get("Chứng thực") == "2", services
    by_counter = {r.locator("th").inner_text(): [td.inner_text() for td in r.locator("td").all()[:2]]
                  for r in page.locator("#table-counter tbody tr").all()}
    assert by_counter == {"Quầy 1": ["2", "2"], "Quầy 3": ["1", "1"]}, by_counter  # calls, served
    assert page.locator("#table-counter tfoot td").nth(1).inner_text() == "3"
    by_officer = {r.locator("th").inner_text(): r.locator("td").nth(1).inner_text()
                  for r in page.locator("#table-officer tbody tr").all()}
    assert by_officer == {"Nguyễn Thị Lan": "2"}, by_officer
    assert page.locator("#chart-hourly svg[role=img] rect[data-series=issued]").count() >= 1
    assert page.locator("#chart-satisfaction svg .row").count() >= 1
    fonts = page.evaluate("getComputedStyle(document.querySelector('#chart-hourly svg text')).fontFamily")
    assert "Be Vietnam Pro" in fonts
    screenshot(page, "reports-1366x768")
    _full_page(page, "reports-full")

    # Every export link answers with a file, over the page's own session.
    for link in page.locator(".rp-exports a").all():
        href = link.get_attribute("href")
        r = page.request.get(f"{server.url}{href}")
        assert r.status == 200, (href, r.status, r.text()[:200])
        kind = r.headers["content-type"]
        assert ("csv" in kind) if ".csv" in href else ("spreadsheet" in kind), (href, kind)

    # Quick periods: "7 ngày" keeps today's tickets.
    page.click(".quick a:text('7 ngày')")
    page.wait_for_load_state()
    assert tile(page, "issued") == "5" and "đến" in page.inner_text("#period")

    # Paper: no navigation, no form, the header still says what and when.
    page.emulate_media(media="print")
    assert not page.locator("body > header.bar").is_visible()
    assert not page.locator(".rp-nav").is_visible() and not page.locator(".rp-filter").is_visible()
    assert not page.locator(".rp-exports").is_visible()
    assert page.locator(".rp-head .office").is_visible() and page.locator(".rp-head .generated").is_visible()
    assert page.locator("#chart-hourly svg rect[data-series=issued]").first.is_visible()
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    _full_page(page, "reports-print")
    page.emulate_media(media="screen")

    # An officer is refused, in Vietnamese.
    other = page_factory(1280, 800)
    _log_in(other, server.url, "lan.nt", "demo-lan")
    for path in ("/counter/reports", "/counter/dashboard"):
        response = other.goto(f"{server.url}{path}")
        assert response.status == 403
        assert "Chỉ giám sát viên và quản trị viên được xem báo cáo" in other.inner_text("main")


def test_dashboard_follows_a_completion_live(office, page_factory):
    server, staff, kiosk, counters = office
    q1 = counters["Quầy 1"]
    staff.request("POST", f"/counters/{q1}/take")
    staff.open_counter(q1)
    kiosk.issue("HT")
    kiosk.issue("HT")
    first = staff.call_next(q1)

    page = page_factory(1366, 768)
    _log_in(page, server.url, "mai.pt", "demo-mai")
    page.goto(f"{server.url}/counter/supervisor")  # the wall links to the dashboard
    page.click(".sv-status a:text('Số liệu hôm nay')")
    page.wait_for_load_state()
    assert page.url.endswith("/counter/dashboard")
    assert tile(page, "issued") == "2" and tile(page, "served") == "0"
    updated, day = page.inner_text("#updated"), page.inner_text("#day")
    assert re.fullmatch(r"cập nhật lúc \d\d:\d\d:\d\d", updated)
    assert re.fullmatch(r"(T[2-7]|CN) \d\d/\d\d/20\d\d", day)
    page.wait_for_function("document.getElementById('offline').hidden")  # the socket is up
    page.evaluate("window.notReloaded = true")
    page.wait_for_timeout(2200)  # past the connect's own refresh

    staff.request("POST", f"/tickets/{first['id']}/complete")
    page.wait_for_function("document.querySelector('.tile[data-tile=served] .value').textContent.trim() === '1'",
                           timeout=8000)
    assert page.evaluate("window.notReloaded === true")
    # The script writes figures as the server does.
    assert page.inner_text("#day") == day and tile(page, "on_time") == "100 %"
    assert re.fullmatch(r"0:0\d", page.inner_text(".tile[data-tile=service] .value [data-field]"))
    row = page.locator("#table-counter tbody tr[data-key$='Quầy 1']")
    assert row.locator("td").nth(1).inner_text() == "1"
    assert page.locator("#hourly svg rect[data-series=served]").count() == 1
    assert page.inner_text("#updated").startswith("cập nhật lúc ")
    screenshot(page, "dashboard-1366x768")
    # The demo office opens around the clock: the chart shows the busy hours, not 0h-23h,
    # and its labels read at 12 px or more, here and on a narrower screen.
    hours = page.eval_on_selector_all("#hourly svg text.tick", "els => els.map(e => e.textContent)")
    assert 1 <= len(hours) <= 3 and all(re.fullmatch(r"\d{1,2}h", h) for h in hours), hours
    for width in (1366, 1120):
        page.set_viewport_size({"width": width, "height": 768})
        assert min(label_sizes(page)) >= 12, (width, label_sizes(page))
    page.set_viewport_size({"width": 1366, "height": 768})
    _full_page(page, "dashboard-1366-full")

    # A burst of events costs at most one report read per 2 s.
    reads = []
    page.on("request", lambda r: reads.append(r.url) if "/report" in r.url and "svg" not in r.url else None)
    for _ in range(6):
        kiosk.issue("CT")
    page.wait_for_function("document.querySelector('.tile[data-tile=issued] .value').textContent.trim() === '8'",
                           timeout=8000)
    page.wait_for_timeout(2500)
    assert 1 <= len(reads) <= 3, reads

    page.emulate_media(media="print")
    assert not page.locator("body > header.bar").is_visible() and not page.locator(".rp-nav").is_visible()
    screenshot(page, "dashboard-print")
