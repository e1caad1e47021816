"""The office's procedures catalogue (thủ tục hành chính): the office file's `[[procedures]]`
section (checker, store, export) and the rules a procedure's fields keep.

A procedure is served in one of the office's queues (`service`), lists the documents the
citizen brings, and says how far it can be done online (`full`: toàn trình, `partial`: một
phần, `none`: chỉ trực tiếp) and where (`url`). Procedures are matched by their national
code; ones missing from the file are deactivated, never deleted: tickets name them.
"""
from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Office, Procedure, Service
from server.engine.officefile import Checker, duplicates, tables
from server.infra.text import NotText, clean_text

# The national catalogue's codes look like 1.001193 or 2.000815; an office may use its own.
PROCEDURE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}\Z")
ONLINE_LEVELS = ("full", "partial", "none")
DOCUMENTS_MAX = 20
DOCUMENT_MAX_LEN = 160
URL_MAX_LEN = 500
PROCESSING_DAYS_MAX = 365


def check_procedures(c: Checker, data: dict, spec: dict) -> list[dict]:
    services = [sv["code"] for sv in spec["services"]]
    items = []
    for i, node in enumerate(tables(c, data, "procedures", required=False)):
        items.append(_check_procedure(c, node, f"procedures[{i}]", services))
    duplicates(c, "procedures", [p["code"] for p in items if p["code"]])
    return items


def _check_procedure(c: Checker, node: dict, where: str, services: list[str]) -> dict:
    item = {"code": c.text(node, "code", where, max_len=32), "name": c.text(node, "name", where, max_len=200)}
    if item["code"] and not PROCEDURE_CODE.match(item["code"]):
        c.fail(f"{where}.code", "bad_procedure_code")
    item["name_en"] = c.text(node, "name_en", where, required=False, max_len=200) or item["name"]
    item["service"] = node.get("service")
    if item["service"] is None:
        c.fail(f"{where}.service", "required")
    elif item["service"] not in services:
        c.fail(f"{where}.service", "unknown_service", value=str(item["service"])[:40])
    item["documents"] = _check_documents(c, node, where)
    item["online"] = node.get("online", "none")
    if item["online"] not in ONLINE_LEVELS:
        c.fail(f"{where}.online", "bad_online")
    item["url"] = _check_url(c, node, where, needed=item["online"] in ("full", "partial"))
    item["fee"] = c.text(node, "fee", where, required=False, max_len=120)
    item["processing_days"] = c.integer(node, "processing_days", where, 0, 0, PROCESSING_DAYS_MAX)
    item["by_post"] = node.get("by_post", False)
    if not isinstance(item["by_post"], bool):
        c.fail(f"{where}.by_post", "not_bool")
    return item


def _check_documents(c: Checker, node: dict, where: str) -> list[str]:
    documents = node.get("documents", [])
    if not isinstance(documents, list) or len(documents) > DOCUMENTS_MAX:
        c.fail(f"{where}.documents", "bad_documents", high=DOCUMENTS_MAX)
        return []
    kept = []
    for j, document in enumerate(documents):
        try:
            text = clean_text(document, max_len=DOCUMENT_MAX_LEN).strip()
        except NotText:
            text = ""
        if not text or len(text) > DOCUMENT_MAX_LEN:
            c.fail(f"{where}.documents[{j}]", "not_text", max_len=DOCUMENT_MAX_LEN)
        else:
            kept.append(text)
    return kept


def _check_url(c: Checker, node: dict, where: str, needed: bool) -> str | None:
    url = node.get("url")
    if url is None:
        if needed:
            c.fail(f"{where}.url", "url_needed")
        return None
    parts = urlsplit(url) if isinstance(url, str) else None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.netloc
            or len(url) > URL_MAX_LEN or any(ch.isspace() for ch in url)):
        c.fail(f"{where}.url", "bad_url", max_len=URL_MAX_LEN)
        return None
    return url


def store_procedures(s: Session, office: Office, items: list[dict], now: datetime) -> None:
    services = {sv.code: sv.id for sv in s.scalars(select(Service).where(Service.office_id == office.id,
                                                                         Service.active.is_(True)))}
    known = {p.code: p for p in s.scalars(select(Procedure).where(Procedure.office_id == office.id))}
    for p in known.values():
        p.active = False
    for i, item in enumerate(items):
        row = known.get(item["code"])
        if row is None:
            row = known[item["code"]] = Procedure(office_id=office.id, code=item["code"])
            s.add(row)
        for key, value in item.items():
            if key != "service":
                setattr(row, key, value)
        row.service_id, row.position, row.active = services[item["service"]], i, True
    s.flush()


def export_procedures(s: Session, office: Office) -> list[dict]:
    codes = {sv.id: sv.code for sv in s.scalars(select(Service).where(Service.office_id == office.id))}
    rows = s.scalars(select(Procedure).where(Procedure.office_id == office.id, Procedure.active.is_(True))
                     .order_by(Procedure.position))
    result = []
    for p in rows:
        item = {"code": p.code, "name": p.name, "name_en": p.name_en, "service": codes[p.service_id],
                "documents": list(p.documents or []), "online": p.online}
        if p.url:
            item["url"] = p.url
        if p.fee:
            item["fee"] = p.fee
        item.update(processing_days=p.processing_days, by_post=p.by_post)
        result.append(item)
    return result
