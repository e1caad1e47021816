"""Charts for the reports pages: pure functions that return one standalone inline SVG each.

Nothing is fetched and nothing runs: no script, no web font, no online chart service. Text
is set in the pages' own font stack (Be Vietnam Pro, bundled) and every piece of text is
XML-escaped, so a service called "A<B" stays text. The charts read in black and white on
paper: bars are told apart by fill pattern (solid, hatched, dotted, cross-hatched) and a
legend, not by colour alone, and values are written on the bars where they fit.

`hourly_bars`, `wait_by_day` and `satisfaction_by_service` take the rows of the report
(server/read/reports.py, the "Reports API" shape); an empty report draws "Chưa có số liệu".
The small number helpers here (`number`, `percent`, `day_label`) are shared with the pages,
so a figure reads the same in a chart and in a table.
"""
from __future__ import annotations

import math
from datetime import date
from xml.sax.saxutils import escape as _xml_escape

from server.infra.i18n import t

FONT = "'Be Vietnam Pro', 'Noto Sans', 'DejaVu Sans', sans-serif"
WIDTH = 720
INK = "#1b2430"
MUTED = "#5f6b7a"
GRID = "#d5dae1"


# ---------------------------------------------------------------- numbers and words

def esc(text) -> str:
    """Text or an attribute value, safe in XML and HTML."""
    return _xml_escape(str(text), {'"': "&quot;", "'": "&#39;"})


def number(value: float | None, lang: str, digits: int = 0) -> str:
    """1.234,5 in Vietnamese, 1,234.5 in English; trailing decimal zeros are dropped."""
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}"
    if digits and "." in text:
        text = text.rstrip("0").rstrip(".")
    if lang != "en":
        text = text.translate(str.maketrans(",.", ".,"))
    return text


def percent(share: float | None, lang: str) -> str:
    """A share 0..1 as "87,5 %" (Vietnamese) or "87.5%" (English), one decimal at most."""
    if share is None:
        return "—"
    text = number(round(share * 100, 1), lang, 1)
    return f"{text}%" if lang == "en" else f"{text} %"


def weekday(day: date, lang: str) -> str:
    """T2..T7, CN in Vietnamese; Mon..Sun in English."""
    return t(f"charts.wd.{day.isoweekday() % 7}", lang)


def day_label(day: date | str, lang: str, year: bool = False) -> str:
    """"T2 23/11" (or "T2 23/11/2026" with the year)."""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    text = f"{day.day:02d}/{day.month:02d}" + (f"/{day.year}" if year else "")
    return f"{weekday(day, lang)} {text}"


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60


def _nice_max(value: float, ticks: int = 5) -> tuple[float, float]:
    """(top of the axis, step): a round step of 1, 2 or 5 × 10^k above `value`."""
    if value <= 0:
        return 1.0, 1.0
    raw = value / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        step = factor * magnitude
        if step >= raw:
            break
    if step < 1 and value >= 1:
        step = 1.0
    return step * math.ceil(value / step - 1e-9), step


def _fmt_tick(value: float, lang: str) -> str:
    return number(value, lang, 0 if float(value).is_integer() else 1)


def _fits(text: str, width: float, size: float = 11) -> bool:
    """Whether `text` fits in `width` user units at `size` (an average glyph is ~0.6 em)."""
    return len(text) * size * 0.6 <= width


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ---------------------------------------------------------------- SVG pieces

# Fills that stay distinct in black and white: name -> (pattern body, text colour on it).
def _patterns(uid: str) -> str:
    return (
        f'<pattern id="{uid}-hatch" patternUnits="userSpaceOnUse" width="6" height="6" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f6c79a"/>'
        '<rect width="2.2" height="6" fill="#8a4a12"/></pattern>'
        f'<pattern id="{uid}-dots" patternUnits="userSpaceOnUse" width="5" height="5">'
        '<rect width="5" height="5" fill="#e4e7eb"/><circle cx="2.5" cy="2.5" r="1.1" fill="#3d4652"/></pattern>'
        f'<pattern id="{uid}-cross" patternUnits="userSpaceOnUse" width="6" height="6" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#b3261e"/>'
        '<rect width="1.6" height="6" fill="#fff"/><rect width="6" height="1.6" fill="#fff"/></pattern>')


SOLID = "#1f4e79"   # dark blue: near black on paper


def _fill(uid: str, kind: str) -> str:
    return {"solid": SOLID, "green": "#1e6b3a"}.get(kind) or f"url(#{uid}-{kind})"


def _svg(uid: str, kind: str, height: float, title: str, body: list[str], width: float = WIDTH,
         extra: str = "") -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}{extra}" role="img" '
            f'aria-labelledby="{uid}-title" viewBox="0 0 {width:g} {height:g}" width="{width:g}" '
            f'height="{height:g}" font-family="{esc(FONT)}" font-size="12" fill="{INK}">'
            f'<title id="{uid}-title">{esc(title)}</title><defs>{_patterns(uid)}</defs>'
            + "".join(body) + "</svg>")


EMPTY_WIDTH, EMPTY_HEIGHT = 480, 80


def _empty(uid: str, kind: str, title: str, lang: str) -> str:
    """A small frame saying there is nothing to draw (pages keep it at its own size)."""
    words = t("charts.empty", lang)
    frame = (f'<rect class="frame" x="0.5" y="0.5" width="{EMPTY_WIDTH - 1}" height="{EMPTY_HEIGHT - 1}" '
             f'fill="none" stroke="{GRID}" stroke-dasharray="4 3"/>')
    text = (f'<text class="empty" x="{EMPTY_WIDTH / 2:g}" y="{EMPTY_HEIGHT / 2 + 6:g}" text-anchor="middle" '
            f'font-size="16" fill="{MUTED}">{esc(words)}</text>')
    return _svg(uid, kind, EMPTY_HEIGHT, f"{title}: {words}", [frame, text], EMPTY_WIDTH, " chart-empty")


def _legend(uid: str, items: list[tuple[str, str]], y: float, x: float = 0, size: float = 12) -> list[str]:
    """Swatches with their words, left to right from x."""
    out = ['<g class="legend">']
    for fill_kind, words in items:
        out.append(f'<rect x="{x:g}" y="{y - 10:g}" width="14" height="12" fill="{_fill(uid, fill_kind)}" '
                   f'stroke="{INK}" stroke-width="0.6"/>')
        out.append(f'<text x="{x + 19:g}" y="{y:g}" font-size="{size:g}">{esc(words)}</text>')
        x += 19 + len(words) * size * 0.6 + 18
    out.append("</g>")
    return out


def _label_on(x: float, y: float, text: str, size: float = 11, anchor: str = "middle",
              fill: str = INK, cls: str = "value", halo: str = "#fff") -> str:
    """A value over a bar: a halo keeps it legible on any fill and on paper."""
    return (f'<text class="{cls}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size:g}" '
            f'font-weight="600" fill="{fill}" stroke="{halo}" stroke-width="3" paint-order="stroke" '
            f'stroke-linejoin="round">{esc(text)}</text>')


def _y_axis(top: float, bottom: float, left: float, right: float, ymax: float, step: float,
            lang: str, caption: str, size: float = 11) -> list[str]:
    out = ['<g class="axis y">']
    tick = 0.0
    while tick <= ymax + 1e-9:
        y = bottom - (bottom - top) * tick / ymax
        out.append(f'<line x1="{left:g}" x2="{right:g}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}" '
                   'stroke-width="1"/>')
        out.append(f'<text x="{left - 6:g}" y="{y + size / 3:.1f}" text-anchor="end" font-size="{size:g}" '
                   f'fill="{MUTED}">{esc(_fmt_tick(tick, lang))}</text>')
        tick += step
    out.append(f'<text class="caption" x="2" y="{top - 12:g}" font-size="{size:g}" '
               f'fill="{MUTED}">{esc(caption)}</text>')
    out.append(f'<line x1="{left:g}" x2="{right:g}" y1="{bottom:g}" y2="{bottom:g}" stroke="{INK}" '
               'stroke-width="1.2"/>')
    out.append("</g>")
    return out


def _grouped(uid: str, groups: list[tuple[str, list[tuple[str, str, float | None, str, str]]]],
             ymax: float, top: float, bottom: float, left: float, right: float,
             label_every: int = 1, size: float = 11) -> list[str]:
    """Groups of bars side by side. Each group: (x label, [(series, fill kind, value,
    value text, hover text)]). A bar carries data-series and data-value for tests and tools."""
    out = []
    width = (right - left) / len(groups)
    per = max(len(g[1]) for g in groups)
    bar = min(width * 0.8 / per, 30)
    for i, (label, bars) in enumerate(groups):
        centre = left + width * (i + 0.5)
        x = centre - bar * len(bars) / 2
        out.append(f'<g class="group" data-key="{esc(label)}">')
        for series, kind, value, text, hover in bars:
            if value is not None and value > 0:
                h = (bottom - top) * value / ymax
                out.append(f'<rect class="column {esc(series)}" data-series="{esc(series)}" data-value="{value:g}" '
                           f'x="{x:.1f}" y="{bottom - h:.1f}" width="{bar - 1:.1f}" height="{h:.1f}" '
                           f'fill="{_fill(uid, kind)}" stroke="{INK}" stroke-width="0.6">'
                           f'<title>{esc(hover)}</title></rect>')
                if _fits(text, bar + 4, size):
                    out.append(_label_on(x + (bar - 1) / 2, bottom - h - 4, text, size))
            x += bar
        if i % label_every == 0:
            out.append(f'<text class="tick" x="{centre:.1f}" y="{bottom + size + 5:g}" text-anchor="middle" '
                       f'font-size="{size:g}">{esc(label)}</text>')
        out.append("</g>")
    return out


# ---------------------------------------------------------------- the three charts

# The hourly chart's text, in the chart's own units: the pages draw it at least about as wide
# as these units (the dashboard: WIDE, across the page), so labels read at 13-14 px or more.
HOURLY_TEXT = 14
WIDE = 1080


def hourly_bars(by_hour: list[dict], lang: str, width: float = WIDTH) -> str:
    """Tickets issued and served per hour of the day, side by side (issued solid, served
    hatched). `by_hour`: [{"hour": 7, "issued": n, "served": n}, ...] (server/read/reports.py
    gives the office's opening hours); hours between the first and last row that are
    missing count as zero. `width`: WIDTH on the reports page, WIDE on the dashboard."""
    uid, title = "ch-hourly", t("charts.hourly.title", lang)
    rows = {int(r["hour"]): r for r in by_hour or []}
    if not rows or not any((r.get("issued") or 0) or (r.get("served") or 0) for r in rows.values()):
        return _empty(uid, "hourly", title, lang)
    hours = range(min(rows), max(rows) + 1)
    size = HOURLY_TEXT
    top, left, right, height = 50, 52, width - 10, 320 if width <= WIDTH else 280  # wide: the tables stay near
    bottom = height - 2 * size - 20
    peak = max(max(r.get("issued") or 0, r.get("served") or 0) for r in rows.values())
    ymax, step = _nice_max(peak)
    issued_w, served_w = t("charts.hourly.issued", lang), t("charts.hourly.served", lang)
    groups = []
    for hour in hours:
        row = rows.get(hour, {})
        label = t("charts.hour", lang, h=hour)
        issued, served = row.get("issued") or 0, row.get("served") or 0
        groups.append((label, [
            ("issued", "solid", issued, number(issued, lang), f"{label}: {issued_w} {number(issued, lang)}"),
            ("served", "hatch", served, number(served, lang), f"{label}: {served_w} {number(served, lang)}")]))
    longest = max(len(label) for label, _ in groups) * size * 0.6 + 8  # "23h" with room on both sides
    every = math.ceil(longest / ((right - left) / len(groups)))
    body = _legend(uid, [("solid", issued_w), ("hatch", served_w)], 18, left, size)
    body += _y_axis(top, bottom, left, right, ymax, step, lang, t("charts.hourly.axis", lang), size)
    body += _grouped(uid, groups, ymax, top, bottom, left, right, label_every=every, size=size)
    body.append(f'<text class="caption" x="{(left + right) / 2:g}" y="{height - 6}" text-anchor="middle" '
                f'font-size="{size:g}" fill="{MUTED}">{esc(t("charts.hourly.x", lang))}</text>')
    return _svg(uid, "hourly", height, title, body, width)


def wait_by_day(rows: list[dict], target_minutes: float | None, lang: str) -> str:
    """Average (solid) and 90th percentile (hatched) waiting time per day in minutes, with
    the target as a dashed line. `rows`: [{"key": "2026-11-23", "avg_s", "median_s", "p90_s"}];
    a day with nothing measured has no bars."""
    uid, title = "ch-wait", t("charts.wait.title", lang)
    days = [(r["key"], _minutes(r.get("avg_s")), _minutes(r.get("p90_s"))) for r in rows or []]
    if not any(v is not None for _, avg, p90 in days for v in (avg, p90)):
        return _empty(uid, "wait", title, lang)
    top, bottom, left, right, height = 44, 262, 46, WIDTH - 10, 300
    peak = max([v for _, avg, p90 in days for v in (avg, p90) if v is not None] + [target_minutes or 0])
    ymax, step = _nice_max(peak * 1.08)
    avg_w, p90_w = t("charts.wait.avg", lang), t("charts.wait.p90", lang)
    unit = t("charts.minutes_short", lang)
    groups = []
    for key, avg, p90 in days:
        label = day_label(key, lang)

        def bar(series, kind, value, words, label=label):
            text = number(value, lang, 1) if value is not None else "—"
            return (series, kind, value, text, f"{label}: {words} {text} {unit}")
        groups.append((label, [bar("avg", "solid", avg, avg_w), bar("p90", "hatch", p90, p90_w)]))
    every = max(1, math.ceil(len(groups) / 12))  # a month: every third day's date
    items = [("solid", avg_w), ("hatch", p90_w)]
    body = _legend(uid, items, 16, left)
    body += _y_axis(top, bottom, left, right, ymax, step, lang, t("charts.wait.axis", lang))
    body += _grouped(uid, groups, ymax, top, bottom, left, right, label_every=every)
    if target_minutes:
        y = bottom - (bottom - top) * target_minutes / ymax
        words = t("charts.wait.target", lang, n=number(target_minutes, lang, 1))
        body.append(f'<g class="target" data-value="{target_minutes:g}">'
                    f'<line x1="{left:g}" x2="{right:g}" y1="{y:.1f}" y2="{y:.1f}" stroke="#b3261e" '
                    'stroke-width="2" stroke-dasharray="7 4"/>'
                    + _label_on(right - 2, y - 5, words, 11, "end", "#8a1c14", "target-label") + "</g>")
        # the legend names the line too
        x = left + sum(19 + len(w) * 7.2 + 18 for _, w in items)
        body.append(f'<line x1="{x:g}" x2="{x + 22:g}" y1="12" y2="12" stroke="#b3261e" stroke-width="2" '
                    f'stroke-dasharray="7 4"/><text x="{x + 28:g}" y="16">{esc(words)}</text>')
    return _svg(uid, "wait", height, title, body)


LEVELS = (("4", "green"), ("3", "hatch"), ("2", "dots"), ("1", "cross"))


def satisfaction_by_service(rows: list[dict], lang: str, target: float | None = None) -> str:
    """One 100 % bar per service, split by rating level (4 "rất hài lòng" at the left, 1 at
    the right), each part's share written on it where it fits, the count of ratings at the
    end; `target` (a share: the city's 90 %) a dashed line the satisfied parts should reach.
    `rows`: [{"key", "label", "levels": {"1": n, ...}, "count", "share"}]."""
    uid, title = "ch-sat", t("charts.satisfaction.title", lang)
    rows = list(rows or [])
    if not any((r.get("count") or 0) for r in rows):
        return _empty(uid, "satisfaction", title, lang)
    left, right, top, row_h = 190, WIDTH - 92, 40, 32
    height = top + row_h * len(rows) + 28
    axis_y = top + row_h * len(rows)
    body = _legend(uid, [(kind, t(f"rating.level.{level}", lang)) for level, kind in LEVELS], 16, 0)
    body.append('<g class="axis x">')  # under the bars
    body += _percent_axis(left, right, top, axis_y, lang)
    body.append("</g>")
    for i, row in enumerate(rows):
        y = top + i * row_h
        count = row.get("count") or 0
        label = str(row.get("label") or row.get("key") or "")
        body.append(f'<g class="row" data-key="{esc(row.get("key", ""))}" data-count="{count}">')
        body.append(f'<text class="label" x="{left - 8}" y="{y + 16}" text-anchor="end">'
                    f'<title>{esc(label)}</title>{esc(_short(label, 26))}</text>')
        if not count:
            body.append(f'<text class="none" x="{left}" y="{y + 16}" fill="{MUTED}" font-style="italic">'
                        f'{esc(t("charts.satisfaction.none", lang))}</text>')
        x = float(left)
        for level, kind in LEVELS if count else ():
            n = (row.get("levels") or {}).get(level) or 0
            if not n:
                continue
            w = (right - left) * n / count
            share = percent(n / count, lang)
            words = t(f"rating.level.{level}", lang)
            body.append(f'<rect class="seg l{level}" data-level="{level}" data-value="{n}" x="{x:.1f}" '
                        f'y="{y + 2}" width="{w:.1f}" height="{row_h - 8}" fill="{_fill(uid, kind)}" '
                        f'stroke="#fff" stroke-width="1"><title>{esc(label)} – {esc(words)}: {n} ({share})'
                        '</title></rect>')
            if _fits(share, w - 4):
                dark = kind in ("green", "cross")  # white words on the dark fills
                body.append(_label_on(x + w / 2, y + 19, share, fill="#fff" if dark else INK,
                                      halo="#1b2430" if dark else "#fff"))
            x += w
        if count:
            body.append(f'<text class="count" x="{right + 8}" y="{y + 16}" font-weight="600">'
                        f'{esc(t("charts.satisfaction.count", lang, n=number(count, lang)))}</text>')
        body.append("</g>")
    body += _share_target(target, left, right, top, axis_y, lang)
    return _svg(uid, "satisfaction", height, title, body)


TARGET_INK = "#b3261e"


def _share_target(target: float | None, left: float, right: float, top: float, bottom: float,
                  lang: str) -> list[str]:
    """A target share as a dashed upright line over 100 % bars, named at its foot."""
    if target is None:
        return []
    x = left + (right - left) * target
    words = t("charts.target_share", lang, v=percent(target, lang))
    return [f'<g class="target" data-value="{target:g}"><line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 6:g}" '
            f'y2="{bottom + 2:g}" stroke="{TARGET_INK}" stroke-width="2" stroke-dasharray="7 4"/>'
            + _label_on(x, top - 9, words, 11, "middle", "#8a1c14", "target-label") + "</g>"]


def _percent_axis(left: float, right: float, top: float, axis_y: float, lang: str) -> list[str]:
    """The dashed gridlines and labels 0-100 % under a chart of 100 % bars."""
    out = []
    for tick in (0, 0.25, 0.5, 0.75, 1):
        x = left + (right - left) * tick
        out.append(f'<line x1="{x:g}" x2="{x:g}" y1="{top - 2}" y2="{axis_y - 2}" stroke="{GRID}" '
                   f'stroke-dasharray="2 3"/><text x="{x:g}" y="{axis_y + 12}" text-anchor="middle" '
                   f'font-size="11" fill="{MUTED}">{esc(percent(tick, lang))}</text>')
    return out


ONLINE = (("online", "green"), ("received", "hatch"))


def online_by_procedure(rows: list[dict], target: float | None, lang: str) -> str:
    """Per procedure, its dossiers (visits ending `received` or `online`) as one 100 % bar:
    filed online (solid, at the left) and received at the counter (hatched), with the city's
    target share as a dashed line. Procedures that cannot be filed online are marked.
    `rows`: the report's `by_procedure`."""
    uid, title = "ch-online", t("charts.online.title", lang)
    rows = [r for r in rows or [] if (r["outcomes"]["online"] + r["outcomes"]["received"])]
    if not rows:
        return _empty(uid, "online", title, lang)
    left, right, top, row_h = 230, WIDTH - 92, 58, 32
    axis_y = top + row_h * len(rows)
    body = _legend(uid, [(kind, t(f"charts.online.{name}", lang)) for name, kind in ONLINE], 16, 0)
    body += _percent_axis(left, right, top, axis_y, lang)
    for i, row in enumerate(rows):
        y = top + i * row_h
        filed = row["outcomes"]["online"] + row["outcomes"]["received"]
        label = str(row.get("label") or row.get("key") or "")
        offline = row.get("online") == "none"
        body.append(f'<g class="row" data-key="{esc(row.get("key", ""))}" data-count="{filed}">'
                    f'<text class="label" x="{left - 8}" y="{y + 16}" text-anchor="end"><title>{esc(label)}</title>'
                    f'{esc(_short(label, 30))}</text>')
        x = float(left)
        for name, kind in ONLINE:
            n = row["outcomes"][name]
            if not n:
                continue
            w = (right - left) * n / filed
            share = percent(n / filed, lang)
            body.append(f'<rect class="seg {name}" data-value="{n}" x="{x:.1f}" y="{y + 2}" width="{w:.1f}" '
                        f'height="{row_h - 8}" fill="{_fill(uid, kind)}" stroke="#fff" stroke-width="1">'
                        f'<title>{esc(label)} – {esc(t(f"charts.online.{name}", lang))}: {n} ({share})</title></rect>')
            if _fits(share, w - 4):
                dark = kind == "green"
                body.append(_label_on(x + w / 2, y + 19, share, fill="#fff" if dark else INK,
                                      halo=INK if dark else "#fff"))
            x += w
        count = t("charts.online.count", lang, n=number(filed, lang)) + (" *" if offline else "")
        body.append(f'<text class="count" x="{right + 8}" y="{y + 16}" font-weight="600">{esc(count)}</text></g>')
    body += _share_target(target, left, right, top, axis_y, lang)
    height = axis_y + 28
    if any(r.get("online") == "none" for r in rows):  # "*": a procedure that cannot be filed online
        body.append(f'<text class="note" x="{right + 8}" y="{height + 2}" text-anchor="end" font-size="11" '
                    f'fill="{MUTED}">{esc(t("charts.online.offline", lang))}</text>')
        height += 16
    return _svg(uid, "online", height, title, body)


# ---------------------------------------------------------------- dossiers (server/read/report_dossiers.py)

def returns_by_week(rows: list[dict], lang: str) -> str:
    """Results handed back per week of the period: on time (solid green) and late (cross-hatched
    red) side by side. `rows`: the dossier block's `by_week` ({"label", "on_time", "late"})."""
    uid, title = "ch-returns", t("report_dossiers.chart.returns", lang)
    rows = list(rows or [])
    if not any(r.get("on_time") or r.get("late") for r in rows):
        return _empty(uid, "returns", title, lang)
    top, bottom, left, right, height = 44, 240, 46, WIDTH - 10, 278
    ymax, step = _nice_max(max(max(r.get("on_time") or 0, r.get("late") or 0) for r in rows) * 1.1)
    on_w, late_w = t("report_dossiers.chart.on_time", lang), t("report_dossiers.chart.late", lang)
    groups = []
    for r in rows:
        label = str(r.get("label") or r.get("key") or "")
        groups.append((label, [
            ("on_time", "green", r.get("on_time") or 0, number(r.get("on_time") or 0, lang),
             f"{label}: {on_w} {number(r.get('on_time') or 0, lang)}"),
            ("late", "cross", r.get("late") or 0, number(r.get("late") or 0, lang),
             f"{label}: {late_w} {number(r.get('late') or 0, lang)}")]))
    every = max(1, math.ceil(len(groups) * 150 / (right - left)))  # "23/11 – 29/11/2026" needs ~150 units
    body = _legend(uid, [("green", on_w), ("cross", late_w)], 16, left)
    body += _y_axis(top, bottom, left, right, ymax, step, lang, t("report_dossiers.chart.axis", lang))
    body += _grouped(uid, groups, ymax, top, bottom, left, right, label_every=every)
    return _svg(uid, "returns", height, title, body)


METHODS = (("post", "solid"), ("counter", "hatch"))


def return_methods(rows: list[dict], target: float | None, lang: str) -> str:
    """Per row (a week, or an office), the results handed back as one 100 % bar: by post
    (solid, at the left) and at the counter (hatched), with the postal target share as a
    dashed line; without one (a city's offices), each row's own `post_target` on its bar.
    `rows`: {"key", "label", "post", "counter", "post_target"}."""
    uid, title = "ch-methods", t("report_dossiers.chart.methods", lang)
    rows = [r for r in rows or [] if (r.get("post") or 0) + (r.get("counter") or 0)]
    if not rows:
        return _empty(uid, "methods", title, lang)
    left, right, top, row_h = 190, WIDTH - 92, 58, 32
    axis_y = top + row_h * len(rows)
    body = _legend(uid, [(kind, t(f"report_dossiers.chart.{name}", lang)) for name, kind in METHODS], 16, 0)
    body += _percent_axis(left, right, top, axis_y, lang)
    for i, row in enumerate(rows):
        y = top + i * row_h
        handed = row["post"] + row["counter"]
        label = str(row.get("label") or row.get("key") or "")
        body.append(f'<g class="row" data-key="{esc(row.get("key", ""))}" data-count="{handed}">'
                    f'<text class="label" x="{left - 8}" y="{y + 16}" text-anchor="end"><title>{esc(label)}</title>'
                    f'{esc(_short(label, 26))}</text>')
        x = float(left)
        for name, kind in METHODS:
            n = row[name]
            if not n:
                continue
            w = (right - left) * n / handed
            share = percent(n / handed, lang)
            body.append(f'<rect class="seg {name}" data-value="{n}" x="{x:.1f}" y="{y + 2}" width="{w:.1f}" '
                        f'height="{row_h - 8}" fill="{_fill(uid, kind)}" stroke="#fff" stroke-width="1">'
                        f'<title>{esc(label)} – {esc(t(f"report_dossiers.chart.{name}", lang))}: {n} ({share})'
                        '</title></rect>')
            if _fits(share, w - 4):
                dark = kind == "solid"
                body.append(_label_on(x + w / 2, y + 19, share, fill="#fff" if dark else INK,
                                      halo=INK if dark else "#fff"))
            x += w
        own = row.get("post_target") if target is None else None  # an office's own target, on its bar
        if own is not None:
            x = left + (right - left) * own
            body.append(f'<line class="own-target" data-value="{own:g}" x1="{x:.1f}" x2="{x:.1f}" y1="{y - 1}" '
                        f'y2="{y + row_h - 3}" stroke="{TARGET_INK}" stroke-width="2.5" stroke-dasharray="4 2"/>')
        body.append(f'<text class="count" x="{right + 8}" y="{y + 16}" font-weight="600">'
                    f'{esc(t("report_dossiers.chart.count", lang, n=number(handed, lang)))}</text></g>')
    body += _share_target(target, left, right, top, axis_y, lang)
    height = axis_y + 28
    if target is None and any(r.get("post_target") is not None for r in rows):
        body.append(f'<text class="note" x="{left}" y="{height + 2}" font-size="11" fill="#8a1c14">'
                    f'{esc(t("report_dossiers.chart.own_target", lang))}</text>')
        height += 16
    return _svg(uid, "methods", height, title, body)
