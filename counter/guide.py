"""The guide's page at the entrance (cán bộ phân luồng): /counter/guide, after login.

A thin view: it hands the script the office's services, procedures, priority groups and
kiosks, and its words; every action goes through the API (server/web/api/guides.py and the
booking check-in), with the session cookie and its CSRF token."""
from __future__ import annotations

from flask import g, render_template, url_for
from sqlalchemy import select

from counter.blueprint import bp
from counter.officers import _login_page
from server.db.models import Device, Role
from server.engine import guides, lookups
from server.infra.i18n import catalogue, request_language
from server.read.shapes import name_in
from server.web import motcua, sessions
from server.web.guard import staff_page


def _words(lang: str) -> dict[str, str]:
    return {key.removeprefix("guide.").removeprefix("ticket_status."): entry.get(lang) or entry["vi"]
            for key, entry in catalogue().items()
            if key.startswith(("guide.", "ticket_status."))}


def _office(s, office_id: int, lang: str) -> dict:
    office = lookups.office_info(s, office_id)
    services = [{"code": sv.code, "name": name_in(sv, lang), "paused": sv.paused}
                for sv in office.services.values() if sv.active]
    procedures = [{"code": p.code, "name": name_in(p, lang), "service": office.services[p.service_id].code}
                  for p in office.procedures.values() if p.active and p.service_id in office.services]
    groups = [{"code": gr.code, "name": gr.name if lang == "vi" else (gr.name_en or gr.name)}
              for gr in office.citizens.groups]
    kiosks = s.scalars(select(Device.name).where(Device.office_id == office_id, Device.kind == Role.KIOSK.value,
                                                 Device.printer != "none").order_by(Device.name)).all()
    return {"code": office.code, "name": name_in(office, lang), "services": services,
            "procedures": procedures, "groups": groups, "kiosks": list(kiosks), "timezone": office.timezone}


@bp.get("/guide")
@staff_page((Role.GUIDE.value,), expired=lambda words: _login_page(words, 401))
def guide():
    lang, principal, state = request_language(), g.principal, motcua()
    with state.db.read() as s:
        office = _office(s, principal.office_id, lang)
        requests = guides.open_requests(s, principal.office_id, state.clock.now())
    return render_template("counter/guide.html", office=office, csrf=sessions.csrf_token(), lang=lang,
                           words=_words(lang), requests=requests, me=principal.name,
                           other_lang="en" if lang == "vi" else "vi", home_url=url_for("counter.home"))
