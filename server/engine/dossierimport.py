"""Importing the one-stop system's CSV export into the dossier register (`motcua dossier
import FILE.csv --office CODE`, and the upload on the staff page for admins).

The file is read and checked whole before anything is written: every bad row is named by
its line number and the reason, and if there is one, nothing is written at all. Each good
row then goes through the register's own `put` (server/engine/dossiers.py), in the one
transaction of the use case, so an import of the same file twice changes nothing.

Columns are found by their headers (docs/dossiers.md lists them): Vietnamese or English,
any case, with or without diacritics; unknown columns (the citizen's name, address...) are
ignored and named in the result. UTF-8 with or without a byte-order mark; comma, semicolon
or tab separated (whichever the header line uses). Dates as dd/mm/yyyy or ISO.
"""
from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Dossier
from server.engine import dossiers, lookups
from server.engine.directory import OfficeInfo
from server.engine.errors import BadRequest
from server.infra.i18n import catalogue, t

MAX_BYTES = 2 * 1024 * 1024  # a busy district's export of a month fits; the upload route allows this much
MAX_ROWS = 10_000
MAX_PROBLEMS = 200
LOOK_UP_CHUNK = 500  # named in the reply; the count says how many there were in all

# The register's field for each header, written without diacritics, in lower case.
HEADERS = {
    "code": ("ma ho so", "so ho so", "ma bien nhan", "so bien nhan", "ma so ho so", "code", "receipt code",
             "receipt_code", "dossier", "dossier code"),
    "procedure": ("ma thu tuc", "ma tthc", "ma thu tuc hanh chinh", "procedure", "procedure code",
                  "procedure_code"),
    "received_at": ("ngay tiep nhan", "ngay nhan", "thoi gian tiep nhan", "ngay nop", "received_at", "received",
                    "received at", "received on"),
    "due_on": ("ngay hen tra", "ngay hen tra ket qua", "han tra", "han giai quyet", "due_on", "due", "due date",
               "due on", "appointed date"),
    "status": ("trang thai", "tinh trang", "trang thai ho so", "status"),
    "phone": ("so dien thoai", "dien thoai", "sdt", "so dt", "dien thoai lien he", "phone", "phone number",
              "mobile"),
    "items": ("so luong", "so luong ho so", "so ban", "items", "quantity", "count"),
}
_FIELD_OF = {name: key for key, names in HEADERS.items() for name in names}

# Status words as the one-stop systems write them (besides the register's own codes and the
# words of messages.toml's [dossier.status]), without diacritics.
STATUS_WORDS = {
    "moi tiep nhan": dossiers.RECEIVED, "tiep nhan": dossiers.RECEIVED, "da tiep nhan": dossiers.RECEIVED,
    "cho xu ly": dossiers.RECEIVED,
    "dang xu ly": dossiers.PROCESSING, "dang giai quyet": dossiers.PROCESSING, "dang thu ly": dossiers.PROCESSING,
    "da giai quyet": dossiers.READY, "co ket qua": dossiers.READY, "da co ket qua": dossiers.READY,
    "cho tra ket qua": dossiers.READY, "cho tra": dossiers.READY,
    "da tra": dossiers.RETURNED, "da tra ket qua": dossiers.RETURNED, "tra ket qua": dossiers.RETURNED,
    "da gui buu dien": dossiers.POSTED, "da gui qua buu dien": dossiers.POSTED, "gui buu dien": dossiers.POSTED,
    "da gui buu chinh": dossiers.POSTED,
    "buu dien da giao": dossiers.DELIVERED, "da giao": dossiers.DELIVERED, "da phat": dossiers.DELIVERED,
    "rut ho so": dossiers.WITHDRAWN, "da rut": dossiers.WITHDRAWN, "da rut ho so": dossiers.WITHDRAWN,
    "huy": dossiers.WITHDRAWN, "da huy": dossiers.WITHDRAWN,
}
_DAY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
# The column a refusal of `dossiers.fields_of` is about, when it does not name it.
_COLUMN_OF = {"unknown_procedure": "procedure", "invalid_phone": "phone"}
# A phone a spreadsheet stripped of its leading 0 (912345678).
_NO_ZERO = re.compile(r"[1-9][0-9]{8,9}")


@dataclass
class ImportOutcome:
    """What an import did: `result` (counts, ignored columns), the "result ready" messages
    to send once committed; no lobby event."""

    result: dict = field(default_factory=dict)
    messages: list = field(default_factory=list)
    events: list = field(default_factory=list)


class Problem(Exception):
    """A cell that cannot be read: its column and the reason, in words (message key)."""

    def __init__(self, column: str, key: str, **params):
        super().__init__(key)
        self.column, self.key, self.params = column, key, params


# ---------------------------------------------------------------- words

def plain(text: str) -> str:
    """A header or a status word compared as people write it: no diacritics, one space, lower case."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return " ".join(text.replace("_", " ").lower().split())


def _status_words() -> dict[str, str]:
    words = dict(STATUS_WORDS)
    for status in dossiers.STATUSES:
        words[status] = status
        for text in (catalogue().get(f"dossier.status.{status}") or {}).values():
            words[plain(text)] = status
    return words


# ---------------------------------------------------------------- reading the file

def _text(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise _file_problem("too_large", mb=MAX_BYTES // (1024 * 1024))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_problem("not_utf8") from None


def _delimiter(header_line: str) -> str:
    """The separator the header line uses most: comma, semicolon or tab."""
    counts = {sep: header_line.count(sep) for sep in (",", ";", "\t")}
    return max(counts, key=lambda sep: (counts[sep], sep == ","))


def _file_problem(key: str, **params) -> BadRequest:
    return BadRequest("dossier_import", body={"problems": [{"line": 1, "column": None, "key": key, "params": params}]},
                      count=1)


def _columns(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """{field: column index}, and the headers that map to nothing (ignored)."""
    found: dict[str, int] = {}
    ignored = []
    for i, name in enumerate(header):
        key = _FIELD_OF.get(plain(name.strip()))
        if key is None:
            if name.strip():
                ignored.append(name.strip())
            continue
        if key in found:
            raise _file_problem("twice", column=name.strip())
        found[key] = i
    if "code" not in found:
        raise _file_problem("no_code_column")
    return found, ignored


def read_rows(data: bytes) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """The file's rows as (line number, {field: cell}), blank rows left out, and the ignored
    headers. A file that cannot be read at all is a BadRequest naming line 1."""
    text = _text(data)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise _file_problem("empty")
    reader = csv.reader(text.splitlines(keepends=True), delimiter=_delimiter(lines[0]))
    try:
        columns, ignored = _columns(next(reader))
        rows = []
        line = reader.line_num + 1
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((line, {key: cells[i].strip() if i < len(cells) else "" for key, i in columns.items()}))
            line = reader.line_num + 1
    except csv.Error as e:
        raise _file_problem("unreadable", reason=str(e)[:120]) from None
    if not rows:
        raise _file_problem("no_rows")
    if len(rows) > MAX_ROWS:
        raise _file_problem("too_many_rows", n=MAX_ROWS)
    return rows, ignored


# ---------------------------------------------------------------- reading one row

def day_of(value: str, column: str) -> date:
    """dd/mm/yyyy (also d/m/yyyy, with - or .) or ISO yyyy-mm-dd."""
    m = _DAY.fullmatch(value)
    try:
        if m:
            return date(int(m[3]), int(m[2]), int(m[1]))
        return date.fromisoformat(value)
    except ValueError:
        raise Problem(column, "bad_date", value=value[:40]) from None


def moment_of(value: str, column: str) -> str:
    """A receipt time as the register reads it (ISO, the office's local time when it has no
    offset): "dd/mm/yyyy", "dd/mm/yyyy HH:MM[:SS]", "HH:MM[:SS] dd/mm/yyyy" or ISO."""
    parts = value.split()
    days = [p for p in parts if _DAY.fullmatch(p)]
    times = [p for p in parts if _TIME.fullmatch(p)]
    if days and len(days) + len(times) == len(parts) and len(days) == 1 and len(times) <= 1:
        day = day_of(days[0], column)
        hh, mm, ss = _TIME.fullmatch(times[0]).groups() if times else ("0", "0", "0")
        try:
            return datetime(day.year, day.month, day.day, int(hh), int(mm), int(ss or 0)).isoformat()
        except ValueError:
            raise Problem(column, "bad_date", value=value[:40]) from None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Problem(column, "bad_date", value=value[:40]) from None
    return moment.isoformat()


def _phone(value: str) -> str:
    digits = re.sub(r"[\s.\-()]", "", value)
    return "0" + digits if _NO_ZERO.fullmatch(digits) else value


def _items(value: str, column: str) -> int:
    if not value.isascii() or not value.isdigit():
        raise Problem(column, "bad_number", value=value[:20])
    return int(value)


def _code(value: str) -> str:
    try:
        return dossiers.receipt_code(value)
    except BadRequest:
        raise Problem("code", "bad_code", value=value[:60]) from None


def row_data(cells: dict[str, str], statuses: dict[str, str]) -> dict:
    """The register's fields of one row (ISO texts, as the API takes them); empty cells are
    "not given"."""
    data: dict = {}
    for key, value in cells.items():
        if key == "code" or not value:
            continue
        if key == "status":
            status = statuses.get(plain(value))
            if status is None:
                raise Problem(key, "bad_status", value=value[:40])
            data[key] = status
        elif key == "due_on":
            data[key] = day_of(value, key).isoformat()
        elif key == "received_at":
            data[key] = moment_of(value, key)
        elif key == "phone":
            data[key] = _phone(value)
        elif key == "items":
            data[key] = _items(value, key)
        else:
            data[key] = value
    return data


# ---------------------------------------------------------------- the use case

def check(office: OfficeInfo, data: bytes) -> tuple[list[tuple[str, dossiers.Fields]], list[str]]:
    """Every row read and checked: [(receipt code, fields)] and the ignored headers; any bad
    row makes it a BadRequest naming every bad row (the first MAX_PROBLEMS)."""
    rows, ignored = read_rows(data)
    statuses = _status_words()
    good, problems, seen = [], [], {}
    for line, cells in rows:
        column = "code"
        try:
            code = _code(cells["code"])
            key = dossiers.code_key(code)
            if key in seen:
                raise Problem("code", "duplicate", code=code, first=seen[key])
            seen[key] = line
            column = None
            fields = dossiers.fields_of(office, row_data(cells, statuses))
        except Problem as p:
            problems.append({"line": line, "column": p.column, "key": p.key, "params": p.params})
            continue
        except BadRequest as e:
            field = e.params.get("field") or _COLUMN_OF.get(e.code, column)
            problems.append({"line": line, "column": field, "error": e.code, "params": e.params})
            continue
        good.append((code, fields))
    if problems:
        raise BadRequest("dossier_import", body={"problems": problems[:MAX_PROBLEMS]}, count=len(problems))
    return good, ignored


def import_csv(s: Session, office_id: int, data: bytes, *, now: datetime, actor: str,
               lang: str = "vi") -> ImportOutcome:
    """Check the whole file, then create or update each dossier as the feed does (`put`)."""
    office = lookups.office_info(s, office_id)
    try:
        good, ignored = check(office, data)
    except BadRequest as e:
        if e.code == "dossier_import":
            e.body["problems"] = [words(p, lang) for p in e.body["problems"]]
        raise
    out = ImportOutcome()
    created = updated = 0
    found = _existing(s, office.id, [code for code, _ in good])
    new = {}
    for code, fields in good:  # the new ones made in one go: their ids for their logs
        if dossiers.code_key(code) not in found:
            new[dossiers.code_key(code)] = dossiers.blank(office.id, code, fields.received_at or now, "import", now)
    s.add_all(new.values())
    s.flush()
    with s.no_autoflush:  # the logs and changes go in together at commit
        for code, fields in good:
            key = dossiers.code_key(code)
            done = dossiers.put_fields(s, office, code, fields, now=now, actor=actor, source="import",
                                       found=found.get(key) or new[key], created=key in new)
            created += done.created
            updated += bool(done.changed) and not done.created
            out.messages.extend(done.messages)
    out.result = {"office": office.code, "rows": len(good), "created": created, "updated": updated,
                  "unchanged": len(good) - created - updated, "ignored_columns": ignored}
    return out


def _existing(s: Session, office_id: int, codes: list[str]) -> dict[str, Dossier]:
    """The file's dossiers already in the register, locked, by code key: a query per
    LOOK_UP_CHUNK codes instead of one per row."""
    keys = [dossiers.code_key(code) for code in codes]
    found = {}
    for i in range(0, len(keys), LOOK_UP_CHUNK):
        query = select(Dossier).where(Dossier.office_id == office_id, Dossier.code_key.in_(keys[i:i + LOOK_UP_CHUNK]))
        found.update((d.code_key, d) for d in s.scalars(query.order_by(Dossier.id).with_for_update()))
    return found


def words(problem: dict, lang: str) -> dict:
    """A problem as the reply and the command line show it: line, column, and the reason in words."""
    params = problem.get("params") or {}
    if "key" in problem:
        reason = t(f"dossier_import.{problem['key']}", lang, **params)
    else:
        reason = t(f"error.{problem['error']}", lang, **{k: v for k, v in params.items() if isinstance(v, str | int)})
    return {"line": problem["line"], "column": problem["column"], "reason": reason,
            "message": t("dossier_import.line", lang, line=problem["line"], reason=reason)}
