"""The reports page with the dossier week worked out by hand (tests/engine/test_report_dossiers.py):
the dossier figures beside their targets (100 % on time, the office's postal share), met or not
in words, the tables by week, the two charts, the exports (CSV group and the "Hồ sơ" sheet);
the live dashboard's overdue and due today; then both in a real browser, for a person to look at."""
from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from server.db.models import Office, User
from tests.browser.test_reports_pages import SVG, sign_in, tables, text
from tests.conftest import ARTIFACTS, Api, make_app, new_token, office_data, without_areas
from tests.engine.test_report_dossiers import MARITAL, at, work_another_office, work_the_week

PAGE = "/counter/reports?from=25/11/2026&to=01/12/2026"
QUERY = "from=2026-11-25&to=2026-12-01"


@pytest.fixture
def app(sqlite_url, clock, tmp_path):
    app = make_app(sqlite_url, clock, tmp_path, without_areas(office_data(procedures=[dict(MARITAL)])))
    yield app
    app.extensions["motcua"].db.dispose()


@pytest.fixture
def worked(app, clock):
    work_the_week(app.extensions["motcua"], clock)
    clock.at = at(1, 16, month=12)
    client = app.test_client()
    sign_in(client, app, "mai.pt")  # the supervisor
    return client


def _svg(html: str, chart_id: str) -> ET.Element:
    start = html.index(f'id="{chart_id}"')
    return ET.fromstring(html[html.index("<svg", start):html.index("</svg>", start) + 6])


def test_the_dossier_figures_beside_their_targets(worked):
    r = worked.get(PAGE)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    words = text(html)
    assert "Hồ sơ và trả kết quả" in words
    # 3 on time of 6 with a date: 50 %, not the 100 %; 2 of 7 by post: 28,6 %, above the office's 25 %
    for figure in ("Trả kết quả đúng hạn 50 % Chưa đạt Chỉ tiêu: ít nhất 100 % đúng hạn 3 · trễ hạn 3 · không có ngày hẹn 1",
                   "Trả qua bưu điện 28,6 % Đạt Chỉ tiêu của đơn vị: ít nhất 25 % bưu điện 2 · tại quầy 5",
                   "Hồ sơ tiếp nhận 9 có kết quả trong kỳ: 6",
                   "Kết quả đã trả 7 tin nhắn báo có kết quả: 5",
                   "Từ lúc có kết quả đến lúc trả (trung vị) 1 ngày trung bình 1,7 ngày · 6 hồ sơ",
                   "Quá hạn chưa trả (đến lúc này) 2 đang giải quyết, chưa trả: 4 · đến hạn hôm nay: 1"):
        assert figure in words, figure
    assert 'class="tile goal missed" data-tile="dossier-on_time"' in html
    assert 'class="tile goal met" data-tile="dossier-post"' in html
    weeks = tables(html)["table-dossier_week"]
    assert weeks[0][:4] == ["Tuần", "Tiếp nhận", "Có kết quả", "Đã trả"] and weeks[1] == []  # no sub-headers
    assert "Tỷ lệ đúng hạn (chỉ tiêu 100 %)" in weeks[0] and "Tỷ lệ qua bưu điện (chỉ tiêu ≥ 25 %)" in weeks[0]
    # received, ready, handed back, on time, late, rate, post, counter, post share, days, messages
    assert weeks[2] == ["25/11 – 29/11/2026", "7", "5", "5", "2", "2", "50 %", "1", "4", "20 %", "1", "4"]
    assert weeks[3] == ["30/11 – 01/12/2026", "2", "1", "2", "1", "1", "50 %", "1", "1", "50 %", "3", "1"]
    assert weeks[4] == ["Tổng cộng", "9", "6", "7", "3", "3", "50 %", "2", "5", "28,6 %", "1", "5"]
    first = html[html.index('<tr data-key="2026-11-25"'):]
    assert first.index('class="n missed" data-field="post_share"') < first.index("</tr>")  # 20 % < 25 %
    returns = _svg(html, "chart-returns")
    bars = [(r.get("data-series"), r.get("data-value")) for r in returns.iter(f"{SVG}rect") if r.get("data-series")]
    assert bars == [("on_time", "2"), ("late", "2"), ("on_time", "1"), ("late", "1")]
    methods = _svg(html, "chart-methods")
    assert [g.get("data-key") for g in methods.iter(f"{SVG}g") if g.get("class") == "row"] == [
        "2026-11-25", "2026-11-30"]
    assert [g.get("data-value") for g in methods.iter(f"{SVG}g") if g.get("class") == "target"] == ["0.25"]
    assert "/api/v1/offices/demo/report.csv?from=2026-11-25&amp;to=2026-12-01&amp;group=dossiers" in html


def test_the_exports_carry_the_dossier_figures(app, worked):
    admin = Api(app.test_client(), new_token(app.extensions["motcua"], "admin"))
    r = admin.get(f"/offices/demo/report.csv?{QUERY}&group=dossiers")
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8").lstrip("\ufeff"))))
    assert rows[0] == ["Tuần", "Hồ sơ tiếp nhận", "Có kết quả", "Đã trả kết quả", "Trả đúng hạn", "Trả trễ hạn",
                       "Không có ngày hẹn", "Tỷ lệ trả đúng hạn", "Trả tại quầy", "Trả qua bưu điện",
                       "Tỷ lệ trả qua bưu điện", "Chỉ tiêu trả qua bưu điện",
                       "Số ngày từ có kết quả đến trả (trung vị)", "Số ngày từ có kết quả đến trả (trung bình)",
                       "Số hồ sơ tính số ngày", "Tin nhắn báo có kết quả", "Chưa trả cuối kỳ",
                       "Quá hạn chưa trả cuối kỳ", "Đến hạn hôm nay"]
    assert rows[1] == ["25/11 – 29/11/2026", "7", "5", "5", "2", "2", "1", "0.5", "4", "1", "0.2", "0.25", "1",
                       "1.0", "4", "4", "", "", ""]
    assert rows[-1] == ["Tổng cộng", "9", "6", "7", "3", "3", "1", "0.5", "5", "2", "0.2857", "0.25", "1",
                        "1.67", "6", "5", "4", "2", "1"]
    assert admin.get(f"/offices/demo/report.csv?{QUERY}&group=dossiers_office").status_code == 400  # one office

    book = load_workbook(io.BytesIO(admin.get(f"/offices/demo/report.xlsx?{QUERY}").data))
    assert book.sheetnames[-2:] == ["Hồ sơ", "Tin nhắn"]
    sheet = book["Hồ sơ"]
    assert sheet["A3"].value == "Tuần" and sheet["B3"].value == "Hồ sơ tiếp nhận"
    heads = [c.value for c in sheet[3]]
    rate, share = heads.index("Tỷ lệ trả đúng hạn") + 1, heads.index("Tỷ lệ trả qua bưu điện") + 1
    assert [sheet.cell(row=i, column=1).value for i in (4, 5, 6)] == ["25/11 – 29/11/2026", "30/11 – 01/12/2026",
                                                                      "Tổng cộng"]
    assert sheet.cell(row=6, column=rate).value == 0.5 and sheet.cell(row=6, column=rate).number_format == "0.0%"
    assert sheet.cell(row=6, column=share).value == pytest.approx(2 / 7)
    english = admin.client.get(f"/api/v1/offices/demo/report.csv?{QUERY}&group=dossiers",
                               headers={**admin.headers(), "Accept-Language": "en"})
    assert english.data.decode("utf-8").lstrip("\ufeff").startswith("Week,Dossiers received,Results ready")


def _serve(page, client, change=None):
    def serve(route):
        url = urlsplit(route.request.url)
        got = client.get(url.path + (f"?{url.query}" if url.query else ""))
        body = got.data
        if change and url.path == "/api/v1/offices/demo/report":
            body = json.dumps(change(got.get_json())).encode()
        route.fulfill(status=got.status_code, body=body, content_type=got.content_type)
    page.route("http://motcua.test/**", serve)


def test_the_page_in_a_browser(worked, page_factory):
    page = page_factory(1366, 768)
    _serve(page, worked)
    page.goto(f"http://motcua.test{PAGE}")
    block = page.locator("#dossiers")
    assert block.locator("[data-tile=dossier-on_time] .state").inner_text() == "Chưa đạt"
    assert block.locator("[data-tile=dossier-post] .state").inner_text() == "Đạt"
    ARTIFACTS.mkdir(exist_ok=True)
    block.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "report-dossiers-viewport.png"))
    block.screenshot(path=str(ARTIFACTS / "report-dossiers-tiles.png"))
    page.locator("#chart-returns").screenshot(path=str(ARTIFACTS / "report-dossiers-returns-chart.png"))
    page.locator("#chart-methods").screenshot(path=str(ARTIFACTS / "report-dossiers-methods-chart.png"))
    page.locator("section[data-group=dossier_week]").screenshot(path=str(ARTIFACTS / "report-dossiers-weeks.png"))
    page.screenshot(path=str(ARTIFACTS / "report-dossiers-full.png"), full_page=True)


def test_the_dashboard_shows_overdue_and_due_today(worked, page_factory):
    """Today's dossiers on the dashboard; its next read (here: nothing overdue any more, every
    result on time) turns the warning off and the on-time target to met."""
    page = page_factory(1366, 768)

    def settled(report):
        report["dossiers"]["totals"].update(overdue=0, due_today=3, on_time_rate=1.0)
        return report
    page.clock.install()
    _serve(page, worked, settled)
    page.goto("http://motcua.test/counter/dashboard")
    block = page.locator("#dossiers")
    overdue = block.locator("[data-tile=dossier-overdue]")
    assert overdue.locator("[data-field=overdue]").inner_text() == "2" and "alert" in overdue.get_attribute("class")
    assert block.locator("[data-tile=dossier-due_today] [data-field=due_today]").inner_text() == "1"
    block.screenshot(path=str(ARTIFACTS / "dashboard-dossiers.png"))
    page.clock.run_for(31_000)  # the dashboard's poll
    page.wait_for_function("document.querySelector('#dossiers [data-field=due_today]').textContent === '3'")
    assert overdue.locator("[data-field=overdue]").inner_text() == "0"
    assert "alert" not in overdue.get_attribute("class").split()
    assert block.locator("[data-tile=dossier-on_time] .state").inner_text() == "Đạt"


def test_a_city_sees_each_office_against_its_own_postal_target(app, clock, page_factory):
    """Two offices (tests/engine/test_report_dossiers.py): the demo (25 %) posts 2 of 7, above its
    target; "other" (40 %) 1 of 3, below; the city 3 of 10 against 29,5 %."""
    state = app.extensions["motcua"]
    work_the_week(state, clock)
    work_another_office(state, clock)
    clock.at = at(1, 16, month=12)
    with state.db.write() as s:
        s.scalar(select(User).join(Office, Office.id == User.office_id)
                 .where(Office.code == "demo", User.username == "admin")).city_wide = True
    client = app.test_client()
    sign_in(client, app, "admin")
    html = client.get(PAGE + "&office=all").get_data(as_text=True)
    words = text(html)
    assert "Trả qua bưu điện 30 % Đạt Chỉ tiêu chung: ít nhất 29,5 % (theo chỉ tiêu từng đơn vị)" in words
    assert "Số đơn vị đạt chỉ tiêu của mình: 1/2." in words
    offices = tables(html)["table-dossier_office"]
    assert offices[0][0] == "Đơn vị" and offices[0][-2:] == ["Chỉ tiêu bưu điện của đơn vị", "Quá hạn chưa trả"]
    demo, other = offices[2], offices[3]  # by name; the share by post is the 9th figure
    assert (demo[0], demo[9], demo[-2], demo[-1]) == ("Bộ phận Một cửa – UBND phường Hoàn Kiếm", "28,6 %", "25 %", "2")
    assert (other[0], other[9], other[-2], other[-1]) == ("UBND phường Khác", "33,3 %", "40 %", "1")
    assert offices[4][0] == "Tổng cộng" and (offices[4][9], offices[4][-2]) == ("30 %", "29,5 %")
    # each row's share by post against its own target: only "other" misses it
    office_rows = html[html.index('id="table-dossier_office"'):]
    assert office_rows.count('class="n missed" data-field="post_share"') == 1
    assert office_rows.count('class="n met" data-field="post_share"') == 2  # the demo, and the city's total
    assert f"report.csv?{QUERY.replace('&', '&amp;')}&amp;group=dossiers_office" in html
    city = Api(app.test_client(), new_token(state, "admin", "admin"))  # the city-wide admin
    rows = list(csv.reader(io.StringIO(city.get(f"/offices/all/report.csv?{QUERY}&group=dossiers_office")
                                       .data.decode("utf-8").lstrip("\ufeff"))))
    assert [r[0] for r in rows] == ["Đơn vị", "Bộ phận Một cửa – UBND phường Hoàn Kiếm", "UBND phường Khác", "Tổng cộng"]
    target = rows[0].index("Chỉ tiêu trả qua bưu điện")
    assert [r[target] for r in rows[1:]] == ["0.25", "0.4", "0.295"]
    sheet = load_workbook(io.BytesIO(city.get(f"/offices/all/report.xlsx?{QUERY}").data))["Hồ sơ"]
    firsts = [sheet.cell(row=i, column=1).value for i in range(3, sheet.max_row + 1)]
    assert firsts == ["Tuần", "25/11 – 29/11/2026", "30/11 – 01/12/2026", "Tổng cộng", None,
                      "Đơn vị", "Bộ phận Một cửa – UBND phường Hoàn Kiếm", "UBND phường Khác", "Tổng cộng"]
    methods = _svg(html, "chart-methods")  # per office, each with its own target on its bar
    assert [g.get("data-key") for g in methods.iter(f"{SVG}g") if g.get("class") == "row"] == ["demo", "other"]
    assert [ln.get("data-value") for ln in methods.iter(f"{SVG}line") if ln.get("class") == "own-target"] == [
        "0.25", "0.4"]
    page = page_factory(1366, 768)
    _serve(page, client)
    page.goto(f"http://motcua.test{PAGE}&office=all")
    page.locator("#dossiers").scroll_into_view_if_needed()
    page.locator("#dossiers").screenshot(path=str(ARTIFACTS / "report-dossiers-city-tiles.png"))
    page.locator("#chart-methods").screenshot(path=str(ARTIFACTS / "report-dossiers-city-methods.png"))
    page.locator("section[data-group=dossier_office]").screenshot(path=str(ARTIFACTS / "report-dossiers-city-offices.png"))
