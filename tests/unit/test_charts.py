"""The report charts (server/read/charts.py): parsed as XML, bars measured, words and escaping checked."""
from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import pytest

from server.read import charts

NS = {"s": "http://www.w3.org/2000/svg"}
SVG = "{http://www.w3.org/2000/svg}"

BY_HOUR = [{"hour": 7, "issued": 5, "served": 2}, {"hour": 8, "issued": 25, "served": 20},
           {"hour": 10, "issued": 10, "served": 0}]
WAIT = [{"key": "2026-11-20", "avg_s": 630, "median_s": 600, "p90_s": 1500},
        {"key": "2026-11-21", "avg_s": None, "median_s": None, "p90_s": None},
        {"key": "2026-11-23", "avg_s": 300, "median_s": 240, "p90_s": 900}]
SATISFACTION = [
    {"key": "HT", "label": "Hộ tịch", "levels": {"1": 1, "2": 1, "3": 2, "4": 6}, "count": 10, "share": 0.8},
    {"key": "X<1", "label": "Đất <đai> & \"nhà\"", "levels": {"1": 0, "2": 0, "3": 1, "4": 3}, "count": 4,
     "share": 1.0},
    {"key": "KD", "label": "Kinh doanh", "levels": {"1": 0, "2": 0, "3": 0, "4": 0}, "count": 0, "share": None},
]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    assert root.get("role") == "img"
    assert root.find("s:title", NS) is not None and root.find("s:title", NS).text
    assert "<script" not in svg and "href" not in svg  # standalone: nothing runs, nothing is fetched
    return root


def bars(root: ET.Element, series: str) -> list[ET.Element]:
    return [r for r in root.iter(SVG + "rect") if r.get("data-series") == series]


def texts(root: ET.Element, cls: str | None = None) -> list[str]:
    return ["".join(e.itertext()) if cls is None else (e.text or "")
            for e in root.iter(SVG + "text") if cls is None or cls in (e.get("class") or "").split()]


def height(rect: ET.Element) -> float:
    return float(rect.get("height"))


# ---------------------------------------------------------------- numbers and words

@pytest.mark.parametrize(("share", "lang", "text"), [
    (0.875, "vi", "87,5 %"), (0.875, "en", "87.5%"), (1, "vi", "100 %"), (0, "en", "0%"),
    (2 / 3, "vi", "66,7 %"), (None, "vi", "—")])
def test_percent(share, lang, text):
    assert charts.percent(share, lang) == text


def test_numbers_and_days():
    assert charts.number(1234.5, "vi", 1) == "1.234,5"
    assert charts.number(1234.5, "en", 1) == "1,234.5"
    assert charts.number(12.0, "vi", 1) == "12"
    assert charts.number(None, "vi") == "—"
    assert charts.day_label("2026-11-23", "vi") == "T2 23/11"
    assert charts.day_label("2026-11-22", "vi", year=True) == "CN 22/11/2026"
    assert charts.day_label("2026-11-28", "en") == "Sat 28/11"


# ---------------------------------------------------------------- tickets per hour

def test_hourly_bars_are_in_proportion_and_labelled():
    root = parse(charts.hourly_bars(BY_HOUR, "vi"))
    issued, served = bars(root, "issued"), bars(root, "served")
    assert [int(r.get("data-value")) for r in issued] == [5, 25, 10]
    assert [int(r.get("data-value")) for r in served] == [2, 20]  # no bar for nothing
    assert height(issued[1]) == pytest.approx(5 * height(issued[0]), rel=0.01)
    assert height(served[1]) == pytest.approx(10 * height(served[0]), rel=0.01)
    # Every bar stands on the same baseline.
    bottoms = {round(float(r.get("y")) + height(r), 1) for r in issued + served}
    assert len(bottoms) == 1
    # The missing hour 9 is on the axis too, in order.
    assert texts(root, "tick") == ["7h", "8h", "9h", "10h"]
    assert {"5", "25", "10", "2", "20"} <= set(texts(root, "value"))
    words = " ".join(texts(root))
    assert "Phát số" in words and "Đã phục vụ" in words and "Số phiếu" in words
    # Issued and served are told apart by pattern, not colour alone.
    assert issued[0].get("fill") != served[0].get("fill") and served[0].get("fill").startswith("url(#")
    en = parse(charts.hourly_bars(BY_HOUR, "en"))
    assert texts(en, "tick")[0] == "7:00" and "Issued" in " ".join(texts(en))


def test_hourly_labels_are_large_and_never_overlap():
    for width, height in ((charts.WIDTH, 320), (charts.WIDE, 280)):
        root = parse(charts.hourly_bars(BY_HOUR, "vi", width))
        assert root.get("viewBox") == f"0 0 {width} {height}"
        sizes = [float(e.get("font-size") or root.get("font-size")) for e in root.iter(SVG + "text")
                 if e.get("class") != "legend"]
        assert min(sizes) >= 14  # the pages draw it at least about as wide as its units
    for lang in ("vi", "en"):  # a whole day on the narrower chart: every other hour, apart
        root = parse(charts.hourly_bars([{"hour": h, "issued": 1, "served": 0} for h in range(24)], lang))
        ticks = [e for e in root.iter(SVG + "text") if e.get("class") == "tick"]
        xs = [float(e.get("x")) for e in ticks]
        assert 8 <= len(ticks) <= 12
        widest = max(len(e.text) for e in ticks) * 14 * 0.6
        assert min(b - a for a, b in itertools.pairwise(xs)) > widest


def test_values_are_written_only_where_they_fit():
    wide = [{"hour": h, "issued": 123456, "served": 5} for h in range(24)]
    root = parse(charts.hourly_bars(wide, "vi"))
    values = texts(root, "value")
    assert "123.456" not in values and values.count("5") == 24


@pytest.mark.parametrize("rows", [[], None, [{"hour": 8, "issued": 0, "served": 0}]])
def test_hourly_without_data_says_so(rows):
    root = parse(charts.hourly_bars(rows, "vi"))
    assert texts(root, "empty") == ["Chưa có số liệu"]
    assert not [r for r in root.iter(SVG + "rect") if r.get("data-series") or r.get("data-level")]
    assert "Chưa có số liệu" in root.find("s:title", NS).text


# ---------------------------------------------------------------- waiting per day

def test_wait_by_day_in_minutes_with_the_target_line():
    root = parse(charts.wait_by_day(WAIT, 15, "vi"))
    avg, p90 = bars(root, "avg"), bars(root, "p90")
    assert [float(r.get("data-value")) for r in avg] == [10.5, 5]
    assert [float(r.get("data-value")) for r in p90] == [25, 15]
    assert "10,5" in texts(root, "value") and "25" in texts(root, "value")
    assert texts(root, "tick") == ["T6 20/11", "T7 21/11", "T2 23/11"]  # the day without figures keeps its place
    target = next(g for g in root.iter(SVG + "g") if g.get("class") == "target")
    line = target.find("s:line", NS)
    assert line.get("stroke-dasharray")  # dashed
    # The 15-minute p90 bar reaches exactly the target line.
    assert float(p90[1].get("y")) == pytest.approx(float(line.get("y1")), abs=0.2)
    assert "Mục tiêu 15 phút" in texts(root, "target-label")
    en = parse(charts.wait_by_day(WAIT, 15, "en"))
    assert "10.5" in texts(en, "value") and texts(en, "tick")[0] == "Fri 20/11"


def test_wait_axis_reaches_the_target_when_every_wait_is_short():
    root = parse(charts.wait_by_day([{"key": "2026-11-23", "avg_s": 60, "median_s": 60, "p90_s": 120}], 15, "vi"))
    line = next(g for g in root.iter(SVG + "g") if g.get("class") == "target").find("s:line", NS)
    top = min(float(r.get("y")) for r in bars(root, "p90"))
    assert float(line.get("y1")) < top  # the target is drawn, above the 2-minute bar


def test_wait_without_measured_days_says_so():
    root = parse(charts.wait_by_day([{"key": "2026-11-23", "avg_s": None, "median_s": None, "p90_s": None}],
                                    15, "en"))
    assert texts(root, "empty") == ["No figures yet"]


# ---------------------------------------------------------------- satisfaction per service

def segments(root: ET.Element, key: str) -> list[ET.Element]:
    row = next(g for g in root.iter(SVG + "g") if g.get("class") == "row" and g.get("data-key") == key)
    return [r for r in row.iter(SVG + "rect")]


def test_satisfaction_bars_fill_the_width_in_level_order():
    svg = charts.satisfaction_by_service(SATISFACTION, "vi")
    root = parse(svg)
    ht = segments(root, "HT")
    assert [r.get("data-level") for r in ht] == ["4", "3", "2", "1"]
    widths = [float(r.get("width")) for r in ht]
    assert widths[0] == pytest.approx(6 * widths[2], rel=0.02) and widths[2] == pytest.approx(widths[3], rel=0.02)
    # 100 %: every service's bar is as wide as the others, whatever its count.
    other = segments(root, "X<1")
    assert sum(widths) == pytest.approx(sum(float(r.get("width")) for r in other), abs=0.5)
    assert [r.get("data-level") for r in other] == ["4", "3"]  # levels nobody gave take no room
    assert "60 %" in texts(root, "value") and "75 %" in texts(root, "value")
    assert {"10 lượt", "4 lượt"} <= set(texts(root, "count"))
    assert "chưa có đánh giá" in texts(root, "none")
    # Four distinct fills, for black and white paper.
    assert len({r.get("fill") for r in ht}) == 4


def test_text_is_escaped():
    svg = charts.satisfaction_by_service(SATISFACTION, "vi")
    assert "<đai>" not in svg and "Đất &lt;đai&gt; &amp;" in svg
    assert 'data-key="X&lt;1"' in svg
    root = parse(svg)  # still well-formed XML
    labels = ["".join(e.itertext()) for e in root.iter(SVG + "text") if e.get("class") == "label"]
    assert any(label.startswith('Đất <đai> & "nhà"') for label in labels)
    assert re.search(r"<rect[^>]*data-level=\"4\"", svg)


def test_a_long_service_name_is_shortened_on_the_chart_but_whole_in_its_title():
    name = "Chứng thực bản sao từ bản chính, chữ ký và hợp đồng giao dịch"
    root = parse(charts.satisfaction_by_service(
        [{"key": "CT", "label": name, "levels": {"4": 1}, "count": 1, "share": 1.0}], "vi"))
    label = next(e for e in root.iter(SVG + "text") if e.get("class") == "label")
    assert label.find("s:title", NS).text == name
    assert label.find("s:title", NS).tail.endswith("…") and len(label.find("s:title", NS).tail) <= 26


def test_satisfaction_without_ratings_says_so():
    root = parse(charts.satisfaction_by_service(SATISFACTION[2:], "vi"))
    assert texts(root, "empty") == ["Chưa có số liệu"]


def test_each_chart_has_its_own_ids():
    """Three charts on one page: pattern ids must not collide."""
    page = (charts.hourly_bars(BY_HOUR, "vi") + charts.wait_by_day(WAIT, 15, "vi")
            + charts.satisfaction_by_service(SATISFACTION, "vi"))
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
