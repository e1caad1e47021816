"""Hồ sơ và trả kết quả: the dossier part of the reports page and of the live dashboard.

The figures are the report's `dossiers` block (server/read/report_dossiers.py); the tiles and
tables are the template's (backoffice/_report_dossiers.html, and the shared table macro), the
charts SVG drawn by server/read/charts.py. Targets: 100 % on time (the city's, beside its
others in the report's `targets`) and the office's own postal share (each row carries its
`post_target`: an office's, or the city's formed from them)."""
from __future__ import annotations

from server.read import charts

# The tables' columns: (field of a dossier ROW, format, message key of its header).
COLUMNS = (
    ("received", "int", "report_dossiers.th.received"),
    ("ready", "int", "report_dossiers.th.ready"),
    ("handed_back", "int", "report_dossiers.th.handed_back"),
    ("on_time", "int", "report_dossiers.th.on_time"),
    ("late", "int", "report_dossiers.th.late"),
    ("on_time_rate", "percent", "report_dossiers.th.on_time_rate"),
    ("post", "int", "report_dossiers.th.post"),
    ("counter", "int", "report_dossiers.th.counter"),
    ("post_share", "percent", "report_dossiers.th.post_share"),
    ("days_median", "days", "report_dossiers.th.days_median"),
    ("messages", "int", "report_dossiers.th.messages"),
)
# Per office (a city's report): each its own postal target, and its open dossiers past their date.
OFFICE_COLUMNS = (*(("post_share", "percent", "report_dossiers.th.post_share_own") if c[0] == "post_share" else c
                    for c in COLUMNS),
                  ("post_target", "percent", "report_dossiers.th.post_target"),
                  ("overdue", "int", "report_dossiers.th.overdue"))


def page_parts(data: dict, lang: str) -> dict:
    """What the reports page adds for dossiers: the block, its tables and its two charts."""
    block = data.get("dossiers")
    if not block:
        return {"dossiers": None, "dossier_tables": [], "dossier_charts": {}}
    tables = [("dossier_week", block["by_week"], COLUMNS)]
    if "by_office" in block:
        tables.append(("dossier_office", block["by_office"], OFFICE_COLUMNS))
    methods = block.get("by_office") or block["by_week"]
    return {
        "dossiers": block,
        "dossier_tables": tables,
        "dossier_charts": {
            "returns": charts.returns_by_week(block["by_week"], lang),
            "methods": charts.return_methods(methods, None if "by_office" in block else block["targets"]["post_share"],
                                             lang),
        },
    }


def csv_groups(data: dict) -> list[str]:
    """The dossier groupings the CSV export offers (server/read/exports.py DOSSIER_GROUPS)."""
    block = data.get("dossiers") or {}
    return ["dossiers"] + (["dossiers_office"] if "by_office" in block else []) if block else []


def targets_with(targets: dict, data: dict) -> dict:
    """The report's targets and the postal one the dossier columns' headers name."""
    block = data.get("dossiers")
    return {**targets, "post_target": block["targets"]["post_share"]} if block else targets
