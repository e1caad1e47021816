"""A report as a download: CSV of one grouping and an Excel workbook of them all, with the
headers in the reader's language (server/read/reports.py makes the report)."""
from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from server.engine.errors import BadRequest
from server.engine.visits import OUTCOMES
from server.infra.i18n import t
from server.read.reports import CHANNELS, GROUPS


# (header key, how to read the value from a row, number format in Excel)
def _channel(channel: str):
    return lambda r: r["channels"][channel]


def _outcome(outcome: str):
    return lambda r: r["outcomes"][outcome]


COLUMNS = (
    ("issued", lambda r: r["issued"], "0"), ("transferred_in", lambda r: r["transferred_in"], "0"),
    ("transferred_out", lambda r: r["transferred_out"], "0"), ("served", lambda r: r["served"], "0"),
    ("no_show", lambda r: r["no_show"], "0"), ("cancelled", lambda r: r["cancelled"], "0"),
    ("unserved", lambda r: r["unserved"], "0"), ("calls", lambda r: r["calls"], "0"),
    ("wait_avg", lambda r: _minutes(r["wait_avg_s"]), "0.0"),
    ("wait_median", lambda r: _minutes(r["wait_median_s"]), "0.0"),
    ("wait_p90", lambda r: _minutes(r["wait_p90_s"]), "0.0"),
    ("within_target", lambda r: r["within_target_share"], "0.0%"),
    ("service_avg", lambda r: _minutes(r["service_avg_s"]), "0.0"),
    *((f"channel_{c}", _channel(c), "0") for c in CHANNELS),
    ("priority", lambda r: r["priority"], "0"),
    ("booked", lambda r: r["bookings"]["booked"], "0"),
    ("booking_no_show_rate", lambda r: r["bookings"]["no_show_rate"], "0.0%"),
    ("ratings", lambda r: r["ratings"]["count"], "0"),
    ("satisfied", lambda r: r["ratings"]["share"], "0.0%"),
    ("service_median", lambda r: _minutes(r["service_median_s"]), "0.0"),
    *((f"outcome_{o}", _outcome(o), "0") for o in OUTCOMES),
    ("online_share", lambda r: r["online_share"], "0.0%"),
    ("counter_online_possible", lambda r: r["counter_online_possible"]["count"], "0"),
    ("counter_online_possible_share", lambda r: r["counter_online_possible"]["share"], "0.0%"),
    ("repeat_incomplete", lambda r: r["repeat_incomplete"], "0"),
)


# A spreadsheet reads a text cell beginning with one of these as a formula (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value):
    """A value as both exports write it: numbers stay numbers (a negative one too), and a
    text (a name someone typed) that a spreadsheet would run as a formula gets a leading
    quote, so it shows as the text it is."""
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


# The groupings a report can be exported by: the roll-ups' and the priority groups'
# (server/read/report_groups.py).
EXPORTED = (*GROUPS, "priority_group")


def _groups(report: dict) -> list[str]:
    return [g for g in EXPORTED if f"by_{g}" in report]


def headers(group: str, lang: str) -> list[str]:
    return [t(f"report_export.group.{group}", lang)] + [t(f"report_export.col.{key}", lang) for key, _, _ in COLUMNS]


def table(report: dict, group: str, lang: str) -> list[list]:
    """The rows of one grouping and a last row of totals, as plain values."""
    rows = [[row["label"], *(read(row) for _, read, _ in COLUMNS)] for row in report[f"by_{group}"]]
    rows.append([t("report_export.total", lang), *(read(report["totals"]) for _, read, _ in COLUMNS)])
    return rows


def to_csv(report: dict, group: str, lang: str) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the Vietnamese headers right. The
    groupings of tickets, and the dossiers' (`DOSSIER_GROUPS`)."""
    dossier_groups = _dossier_groups(report) + (["messages"] if "messages" in report else [])
    if group not in _groups(report) and group not in dossier_groups:
        raise BadRequest("invalid_field", field="group", reason="|".join(_groups(report) + dossier_groups))
    out = io.StringIO()
    writer = csv.writer(out)
    if group == "messages":
        head, rows = message_headers(lang), message_table(report, lang)
    elif group in dossier_groups:
        head, rows = dossier_headers(group, lang), dossier_table(report, group, lang)
    else:
        head, rows = headers(group, lang), table(report, group, lang)
    writer.writerow([cell(v) for v in head])
    for row in rows:
        writer.writerow(["" if v is None else round(v, 4) if isinstance(v, float) else v for v in map(cell, row)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(report: dict, lang: str) -> bytes:
    """One sheet per grouping, headers in the page's language, numbers as numbers."""
    book = Workbook()
    book.remove(book.active)
    period_text = t("report_export.period", lang, start=report["from"], end=report["to"])
    title = report["office"]["name"] if report["office"] else t("report_export.all_offices", lang)
    for group in _groups(report):
        sheet = book.create_sheet(t(f"report_export.sheet.{group}", lang)[:31])
        _append(sheet, [title])
        _append(sheet, [period_text])
        for c in _append(sheet, headers(group, lang)):
            c.font = Font(bold=True)
        for values in table(report, group, lang):
            row = _append(sheet, values)
            for c, (_, _, fmt) in zip(row[1:], COLUMNS, strict=True):
                c.number_format = fmt
        sheet[1][0].font = Font(bold=True, size=13)
        sheet.column_dimensions["A"].width = 32
        sheet.freeze_panes = "B4"
    if "dossiers" in report:
        _dossier_sheet(book.create_sheet(t("report_dossiers.sheet", lang)[:31]), report, title, period_text, lang)
    if "messages" in report:
        sheet = book.create_sheet(t("report_messages.sheet", lang)[:31])
        for values in ([title], [period_text], message_headers(lang), *message_table(report, lang)):
            _append(sheet, values)
        sheet.column_dimensions["A"].width = 28
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _append(sheet, values: list) -> tuple:
    """A row of the sheet; every text cell is stored as text, never as a formula."""
    sheet.append([cell(v) for v in values])
    row = sheet[sheet.max_row]
    for c in row:
        if isinstance(c.value, str):
            c.data_type = "s"
    return row


# ---------------------------------------------------------------- dossier figures (server/read/report_dossiers.py)

# (header key under report_dossiers.col, the row's field, number format in Excel)
DOSSIER_COLUMNS = (
    ("received", "0"), ("ready", "0"), ("handed_back", "0"), ("on_time", "0"), ("late", "0"),
    ("undated", "0"), ("on_time_rate", "0.0%"), ("counter", "0"), ("post", "0"), ("post_share", "0.0%"),
    ("post_target", "0.0%"), ("days_median", "0"), ("days_mean", "0.0"), ("days_measured", "0"),
    ("messages", "0"), ("open", "0"), ("overdue", "0"), ("due_today", "0"),
)
# CSV groupings: the weeks of the period (every report), the offices (a city's).
DOSSIER_GROUPS = {"dossiers": "by_week", "dossiers_office": "by_office"}


def _dossier_groups(report: dict) -> list[str]:
    return [g for g, rows in DOSSIER_GROUPS.items() if rows in report.get("dossiers", {})]


def dossier_headers(group: str, lang: str) -> list[str]:
    return [t(f"report_dossiers.group.{group}", lang)] + [
        t(f"report_dossiers.col.{key}", lang) for key, _ in DOSSIER_COLUMNS]


def dossier_table(report: dict, group: str, lang: str) -> list[list]:
    """The rows of the weeks (or the offices) and a last row of totals, as plain values; a
    figure of the period's end only (open, overdue) is empty in a week's row."""
    figures = report["dossiers"]
    rows = [[row["label"], *(_dossier_value(row, key) for key, _ in DOSSIER_COLUMNS)]
            for row in figures[DOSSIER_GROUPS[group]]]
    rows.append([t("report_export.total", lang), *(_dossier_value(figures["totals"], key)
                                                   for key, _ in DOSSIER_COLUMNS)])
    return rows


def _dossier_value(row: dict, key: str):
    value = row.get(key)
    return round(value, 2) if key == "days_mean" and value is not None else value


def _dossier_sheet(sheet, report: dict, title: str, period_text: str, lang: str) -> None:
    """The "Hồ sơ" sheet: the weeks' table, then (a city's) the offices'."""
    _append(sheet, [title])
    _append(sheet, [period_text])
    for group in _dossier_groups(report):
        if sheet.max_row > 2:
            _append(sheet, [])
        for c in _append(sheet, dossier_headers(group, lang)):
            c.font = Font(bold=True)
        for values in dossier_table(report, group, lang):
            for c, (_, fmt) in zip(_append(sheet, values)[1:], DOSSIER_COLUMNS, strict=True):
                c.number_format = fmt
    sheet[1][0].font = Font(bold=True, size=13)
    sheet.column_dimensions["A"].width = 32
    sheet.freeze_panes = "B4"


# ---------------------------------------------------------------- messages (server/read/outbox.py)

MESSAGE_COLUMNS = ("label", "via", "sent", "dead")


def message_headers(lang: str) -> list[str]:
    return [t(f"report_messages.col.{key}", lang) for key in MESSAGE_COLUMNS]


def message_table(report: dict, lang: str) -> list[list]:
    """A row per kind and channel, and the totals."""
    block = report["messages"]
    rows = [[row[k] for k in MESSAGE_COLUMNS] for row in block["by_kind"]]
    rows.append([t("report_export.total", lang), None, block["totals"]["sent"], block["totals"]["dead"]])
    return rows


# ---------------------------------------------------------------- plain lists (the post hand-over)

def table_csv(columns: tuple[tuple[str, str], ...], rows: list[dict]) -> bytes:
    """A list as CSV: (key, header) columns, UTF-8 with a byte-order mark for Excel."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([header for _, header in columns])
    for row in rows:
        writer.writerow(["" if row[key] is None else cell(row[key]) for key, _ in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def table_xlsx(columns: tuple[tuple[str, str], ...], rows: list[dict], title: str) -> bytes:
    """A list as one Excel sheet under a title; texts (phone numbers with their leading 0)
    stay texts."""
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31].replace("/", "-")
    sheet[_append(sheet, [title])[0].coordinate].font = Font(bold=True, size=13)
    for c in _append(sheet, [header for _, header in columns]):
        c.font = Font(bold=True)
    for row in rows:
        _append(sheet, [row[key] for key, _ in columns])
    for letter, width in zip("ABCDEF", (26, 24, 14, 48, 36, 9), strict=False):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
