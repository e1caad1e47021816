"""Báo cáo: the reports page at /counter/reports and the live dashboard at /counter/dashboard.

Thin pages over server/read/reports.py: `visible_offices` says which offices the signed-in
supervisor or admin may see (a city admin: any office, or "all"), `compute` gives the
figures from the ticket event log. The page is rendered here, charts are SVG drawn by
server/read/charts.py, exports are links to the API's CSV and XLSX files. The dashboard is the
same tiles and tables for today; its script (static/dashboard.js) re-reads
GET /api/v1/offices/<office>/report on office events (at most every 2 s, and every 30 s
anyway) and re-draws the hourly chart from /counter/reports/hourly.svg.

Figures read the same everywhere: durations as m:ss ("12:30", h:mm:ss past an hour),
shares as "87,5 %" (Vietnamese) or "87.5%" (English), days as "T2 23/11/2026".
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import current_app, g, render_template, request, url_for
from markupsafe import Markup, escape
from sqlalchemy import select

from counter.backoffice import report_dossiers
from counter.backoffice.blueprint import bp
from counter.backoffice.supervisor import ROLES, strings
from server.db.models import Office
from server.engine import lookups
from server.engine.errors import BadRequest, MotcuaError
from server.infra.i18n import LANGUAGES, request_language, t
from server.infra.offload import off_loop
from server.read import charts, figures, reports
from server.web import motcua
from server.web.errorpages import message
from server.web.guard import staff_page

ALL = "all"
GROUPS = ("day", "service", "procedure", "priority_group", "counter", "officer")
# The columns of every table: (field of a ROW, format, message key of its header).
COLUMNS = (
    ("issued", "int", "reports.col.issued"),
    ("served", "int", "reports.col.served"),
    ("no_show", "int", "reports.col.no_show"),
    ("cancelled", "int", "reports.col.cancelled"),
    ("priority", "int", "reports.col.priority"),
    ("wait_avg_s", "duration", "reports.col.avg"),
    ("wait_median_s", "duration", "reports.col.median"),
    ("wait_p90_s", "duration", "reports.col.p90"),
    ("within_target_share", "percent", "reports.col.on_time"),
    ("service_avg_s", "duration", "reports.col.service_time"),
    ("online_share", "percent", "reports.col.online_share"),
    ("repeat_incomplete", "int", "reports.col.repeat_incomplete"),
    ("ratings", "rating", "reports.col.satisfaction_goal"),
)
WAIT_COLUMNS = ("wait_avg_s", "wait_median_s", "wait_p90_s")
# Counters and officers issue nothing and cancel nothing: they call.
STAFF = ("counter", "officer")
STAFF_COLUMNS = (("calls", "int", "reports.col.calls"),) + tuple(
    c for c in COLUMNS if c[0] not in ("issued", "cancelled", "priority"))
# Per procedure: its visits, waits and service times, and what the visits achieved.
PROCEDURE_COLUMNS = (
    ("issued", "int", "reports.col.issued"),
    ("served", "int", "reports.col.served"),
    *(c for c in COLUMNS if c[0] in WAIT_COLUMNS),
    ("service_median_s", "duration", "reports.col.service_median"),
    ("outcomes.received", "int", "reports.col.received"),
    ("outcomes.online", "int", "reports.col.online"),
    ("outcomes.incomplete", "int", "reports.col.incomplete"),
    ("online_share", "percent", "reports.col.online_share"),
    ("counter_online_possible.count", "int", "reports.col.counter_online_possible"),
    ("repeat_incomplete", "int", "reports.col.repeat_incomplete"),
    ("ratings", "rating", "reports.col.satisfaction_goal"),
)
# Visits by outcome, per service (the "outcomes" table reads the service rows).
OUTCOMES = ("received", "returned", "online", "advice", "incomplete", "referred")
OUTCOME_COLUMNS = (
    ("served", "int", "reports.col.served"),
    *((f"outcomes.{o}", "int", f"reports.col.{o}") for o in OUTCOMES),
    ("online_share", "percent", "reports.col.online_share"),
    ("counter_online_possible.count", "int", "reports.col.counter_online_possible"),
    ("repeat_incomplete", "int", "reports.col.repeat_incomplete"),
)
# The dashboard's tables are narrower: today's essentials (its targets are tiles).
NARROW = ("cancelled", "priority", "wait_median_s", "online_share", "repeat_incomplete")


def columns_for(group: str, dashboard: bool = False) -> tuple:
    columns = {"procedure": PROCEDURE_COLUMNS, "outcomes": OUTCOME_COLUMNS}.get(group) or (
        STAFF_COLUMNS if group in STAFF else COLUMNS)
    return tuple(c for c in columns if not dashboard or c[0] not in NARROW)


# The city's targets beside the figures they measure: the column (a ROW's field), the
# report's target, and whether a figure must reach it ("min") or stay within it ("max").
GOALS = {"online_share": ("online_share", "min", "percent"), "ratings": ("satisfaction", "min", "percent"),
         "repeat_incomplete": ("repeat_incomplete", "max", "int"),
         "on_time_rate": ("dossiers_on_time", "min", "percent"), "post_share": ("post_target", "min", "percent")}


def goal_texts(targets: dict, lang: str) -> dict[str, str]:
    """Each target column's target in the page's words ("60 %", "0")."""
    fmt = formatter(lang)
    return {f: fmt(targets.get(name), kind) for f, (name, _, kind) in GOALS.items() if name in targets}


def goal_state(row: dict, f: str, targets: dict) -> str:
    """"met" or "missed" for a target column of a row; "" for other columns or nothing measured."""
    if f not in GOALS or not row or (f == "online_share" and row.get("online") == "none"):
        return ""  # a procedure that cannot be filed online is not held to the online target
    direction = GOALS[f][1]
    value, target = field(row, f), goal_target(row, f, targets)
    if isinstance(value, dict):  # a ROW's "ratings"
        value = value.get("share")
    if value is None or target is None:
        return ""
    return "met" if (value >= target if direction == "min" else value <= target) else "missed"


# Figures a row carries its own target for (a dossier row's `post_target`: each office its own).
OWN_TARGET = ("post_share",)


def goal_target(row: dict, f: str, targets: dict):
    """The target a row's figure `f` is held to: the row's own, or the report's."""
    name = GOALS[f][0]
    return row[name] if f in OWN_TARGET and row and name in row else targets.get(name)


THROTTLE_MS = 2000  # the dashboard re-reads the report at most this often on events
POLL_MS = 30000     # and this often anyway, should the socket be quiet or down


# ---------------------------------------------------------------- formats

def duration(seconds: float | None) -> str:
    """12:30 (minutes:seconds), 1:02:05 past an hour; "—" when nothing was measured."""
    if seconds is None:
        return "—"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def field(row: dict, path: str):
    """row["bookings"]["no_show_rate"] for "bookings.no_show_rate"; None when absent."""
    for part in path.split("."):
        if not isinstance(row, dict):
            return None
        row = row.get(part)
    return row


def formatter(lang: str):
    """fmt(value, kind): the one way a page writes a figure (the dashboard's script mirrors it)."""
    def fmt(value, kind: str) -> str:
        if kind == "int":
            return charts.number(value or 0, lang)
        if kind == "duration":
            return duration(value)
        if kind == "percent":
            return charts.percent(value, lang)
        if kind == "rating":  # a ROW's "ratings": share of satisfied, and how many rated
            if not value or not value.get("count"):
                return "—"
            return f"{charts.percent(value.get('share'), lang)} ({charts.number(value['count'], lang)})"
        if kind == "date":
            return value.strftime("%d/%m/%Y")
        if kind == "days":  # calendar days, one decimal at most
            return charts.number(value, lang, 1)
        return "" if value is None else str(value)
    return fmt


# ---------------------------------------------------------------- the period

@dataclass(frozen=True)
class Period:
    start: date
    end: date


def quick_periods(today: date) -> list[tuple[str, Period]]:
    """Hôm nay / 7 ngày / Tháng này / Tháng trước."""
    first = today.replace(day=1)
    last_month_end = first - timedelta(days=1)
    return [("reports.today", Period(today, today)),
            ("reports.last7", Period(today - timedelta(days=6), today)),
            ("reports.this_month", Period(first, today)),
            ("reports.last_month", Period(last_month_end.replace(day=1), last_month_end))]


WRITTEN_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")


class PeriodError(ValueError):
    """A period the page cannot show; `words(lang)` says why."""

    def __init__(self, key: str, **params):
        super().__init__(key)
        self.key, self.params = key, params

    def words(self, lang: str) -> str:
        return t(self.key, lang, **self.params)


def parse_period(args, today: date) -> Period:
    """?from=&to= as 2026-11-23 or 23/11/2026, each defaulting to today (one given alone:
    that day)."""
    def day(name: str) -> date | None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return None
        try:
            written = WRITTEN_DATE.fullmatch(raw)  # as people write it: 23/11/2026
            if written:
                d, m, y = (int(part) for part in written.groups())
                return date(y, m, d)
            return date.fromisoformat(raw)
        except ValueError:
            raise PeriodError("reports.bad_date", value=raw[:20]) from None
    start, end = day("from"), day("to")
    start, end = start or end or today, end or start or today
    if start > end:
        raise PeriodError("reports.bad_period")
    if (end - start).days >= reports.PERIOD_MAX_DAYS:
        raise PeriodError("reports.too_long", n=reports.PERIOD_MAX_DAYS)
    return Period(start, end)


def period_words(period: Period, lang: str) -> str:
    if period.start == period.end:
        return t("reports.period_day", lang, day=charts.day_label(period.start, lang, year=True))
    return t("reports.period", lang, start=charts.day_label(period.start, lang, year=True),
             end=charts.day_label(period.end, lang, year=True))


# ---------------------------------------------------------------- shared by both pages

def _language() -> str:
    lang = request_language()
    return lang if lang in LANGUAGES else "vi"


def _refusal(e: MotcuaError, lang: str):
    return render_template("error.html", status=e.status, message=message(e.code, e.params, lang)), e.status


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@dataclass
class Report:
    """What a page shows: the figures, which office ("all" too) and period, and around them."""
    data: dict
    code: str
    period: Period
    today: date
    timezone: ZoneInfo
    choices: list[tuple[str, str]]
    error: str | None = None


def _choices(s, principal, lang: str) -> list[tuple[str, str]]:
    """The offices a city admin may pick (with "all" first); nobody else picks."""
    if not principal.city_wide:
        return []
    offices = s.execute(select(Office.code, Office.name, Office.name_en).order_by(Office.name)).all()
    return [(ALL, t("reports.all_offices", lang))] + [
        (code, name_en if lang == "en" and name_en else name) for code, name, name_en in offices]


def load(principal, lang: str, *, today_only: bool = False) -> Report:
    """The report the query string asks for (?office=&from=&to=); a bad period is reported
    in `error` and today's figures are shown instead. Raises Forbidden / NotFound for an
    office the person may not see."""
    state = motcua()
    now = state.clock.now()
    with state.db.read() as s:
        tz = ZoneInfo(lookups.office_info(s, principal.office_id).timezone)
        today = now.astimezone(tz).date()
        error = None
        try:
            period = Period(today, today) if today_only else parse_period(request.args, today)
        except PeriodError as e:
            error, period = e.words(lang), Period(today, today)
        code = (None if today_only else request.args.get("office")) or principal.office_code
        offices = reports.visible_offices(s, principal, code)
        if code != ALL:
            code = offices[0].code
        ids = [o.id for o in offices]
        try:  # off the event loop: a city's year is seconds of work (server/infra/offload.py)
            data = off_loop(figures.made, state.db, ids, period.start, period.end, now=now, lang=lang)
        except BadRequest as e:  # whatever else the computation refuses: today's figures instead
            error, period = message(e.code, e.params, lang), Period(today, today)
            data = off_loop(figures.made, state.db, ids, today, today, now=now, lang=lang)
        choices = [] if today_only else _choices(s, principal, lang)
    return Report(data, code, period, today, tz, choices, error)


def _at(report: Report) -> datetime:
    """When the figures were computed, in the office's time."""
    raw = report.data.get("generated_at")
    return (datetime.fromisoformat(raw) if raw else motcua().clock.now()).astimezone(report.timezone)


def _generated(report: Report, lang: str) -> str:
    """"Lập lúc 09:00 23/11/2026"."""
    return t("reports.generated", lang, time=_at(report).strftime("%H:%M %d/%m/%Y"))


def _office_label(office: dict | None, lang: str) -> str:
    if not office:
        return t("reports.all_offices", lang)
    return (office.get("name_en") if lang == "en" else None) or office.get("name") or office.get("code", "")


def rich(lang: str):
    """rich(key, **parts): a sentence with figures in it ("{n}/{m} phiếu"), each figure a
    piece of markup (a <b data-field>), the words around them escaped."""
    def words(key: str, **parts) -> Markup:
        return Markup(escape(t(key, lang))).format(**{k: Markup(v) for k, v in parts.items()})
    return words


def labeller(lang: str):
    """label_for(group)(row): days in the page's words ("T2 23/11/2026"), others as named."""
    def label_for(group: str):
        if group == "day":
            return lambda row: charts.day_label(row["key"], lang, year=True)
        return lambda row: row.get("label") or row.get("key") or ""
    return label_for


def _links(here: str) -> list[tuple[str, str]]:
    links = [("reports", url_for("backoffice.reports_page"), "reports.reports_link"),
             ("dashboard", url_for("backoffice.dashboard"), "reports.dashboard_link"),
             ("supervisor", url_for("backoffice.supervisor"), "reports.supervisor_link"),
             ("dossiers", url_for("backoffice.dossiers_page"), "dossier_page.link"),
             ("home", url_for("counter.home") + "?pick=1", "reports.back")]
    return [(href, key) for name, href, key in links if name != here]


def _page(*, today_only: bool):
    """(the report, the page's language, None), or (None, _, the refusal): the error page
    for a refused report. The pages are staff pages (`staff_page`)."""
    lang = _language()
    try:
        return load(g.principal, lang, today_only=today_only), lang, None
    except MotcuaError as e:
        return None, lang, _refusal(e, lang)


# ---------------------------------------------------------------- the reports page

@bp.get("/reports")
@staff_page(ROLES, "reports.denied")
def reports_page():
    report, lang, refused = _page(today_only=False)
    if refused:
        return refused
    data, code, period = report.data, report.code, report.period
    target = data.get("target_wait_minutes")
    query = {"from": period.start.isoformat(), "to": period.end.isoformat()}
    api = f"/api/v1/offices/{code}"
    groups = (("office",) if code == ALL else ()) + GROUPS
    targets = report_dossiers.targets_with(data.get("targets") or {}, data)

    def quick_href(p: Period) -> str:
        return "?" + urlencode({**({"office": code} if report.choices else {}),
                                "from": p.start.isoformat(), "to": p.end.isoformat()})
    response = current_app.make_response((render_template(
        "backoffice/reports.html",
        data=data, fmt=formatter(lang), field=field, rich=rich(lang), label_for=labeller(lang),
        wait_columns=WAIT_COLUMNS,
        tables=[(group, data.get(f"by_{group}") or [], columns_for(group)) for group in groups]
        + [("outcomes", data.get("by_service") or [], columns_for("outcomes"))],
        targets=targets, goals=goal_texts(targets, lang), goal_state=goal_state, goal_target=goal_target,
        **report_dossiers.page_parts(data, lang),
        target=target, error=report.error, code=code, choices=report.choices, period=period,
        period_text=period_words(period, lang), generated=_generated(report, lang),
        office_label=_office_label(data.get("office"), lang),
        quick=[(key, p, quick_href(p)) for key, p in quick_periods(report.today)],
        csv=[(group, f"{api}/report.csv?" + urlencode({**query, "group": group})) for group in groups],
        dossier_csv=[(group, f"{api}/report.csv?" + urlencode({**query, "group": group}))
                     for group in report_dossiers.csv_groups(data)],
        xlsx=f"{api}/report.xlsx?" + urlencode(query),
        charts_svg={
            "hourly": charts.hourly_bars(data.get("by_hour") or [], lang),
            "wait": charts.wait_by_day(data.get("wait_by_day") or [], target, lang),
            "satisfaction": charts.satisfaction_by_service(data.get("satisfaction_by_service") or [], lang,
                                                           targets.get("satisfaction")),
            "online": charts.online_by_procedure(data.get("by_procedure") or [], targets.get("online_share"), lang),
        },
        links=_links("reports")), 400 if report.error else 200))
    return _no_store(response)


@bp.get("/reports/hourly.svg")
@staff_page(ROLES, "reports.denied")
def hourly_svg():
    """The tickets-per-hour chart alone (the dashboard re-draws it): same query as the page."""
    report, lang, refused = _page(today_only=False)
    if refused:
        return refused
    if report.error:
        return _refusal(BadRequest("bad_request"), lang)
    width = charts.WIDE if request.args.get("layout") == "wide" else charts.WIDTH
    response = current_app.make_response(charts.hourly_bars(report.data.get("by_hour") or [], lang, width))
    response.mimetype = "image/svg+xml"
    return _no_store(response)


# ---------------------------------------------------------------- the live dashboard

@bp.get("/dashboard")
@staff_page(ROLES, "reports.denied")
def dashboard():
    report, lang, refused = _page(today_only=True)
    if refused:
        return refused
    data = report.data
    config = {
        "lang": lang,
        "timezone": str(report.timezone),
        "report": f"/api/v1/offices/{report.code}/report",
        "chart": url_for("backoffice.hourly_svg", layout="wide"),
        "home": url_for("counter.home"),
        "throttle_ms": THROTTLE_MS,
        "poll_ms": POLL_MS,
        "t": strings(lang, ("reports.dashboard.", "reports.goal.", "charts.wd.")),
    }
    targets = report_dossiers.targets_with(data.get("targets") or {}, data)
    response = current_app.make_response(render_template(
        "backoffice/dashboard.html", config=config, data=data, fmt=formatter(lang), field=field,
        targets=targets, goals=goal_texts(targets, lang), goal_state=goal_state, goal_target=goal_target,
        rich=rich(lang), label_for=labeller(lang),
        columns={group: columns_for(group, dashboard=True) for group in ("service", "counter")},
        wait_columns=WAIT_COLUMNS,
        target=data.get("target_wait_minutes"),
        office_label=_office_label(data.get("office"), lang),
        day_text=charts.day_label(report.today, lang, year=True), generated_time=_at(report).strftime("%H:%M:%S"),
        hourly=charts.hourly_bars(data.get("by_hour") or [], lang, charts.WIDE), links=_links("dashboard")))
    return _no_store(response)
