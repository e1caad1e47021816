"""The outbox sends through Zalo ZNS first and SMS for what Zalo will not take (issue 20 item
2), wired as the app wires it (server/app.py `_router`): a fake Zalo and a fake SMS gateway on
127.0.0.1, and the outbox records which channel delivered each message."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import select

from server.app import _router
from server.db.models import Office, OutboxMessage
from server.engine import outbox
from server.infra.zalo import templates_from
from tests.conftest import make_app
from tests.support.smsgateway import FakeGateway
from tests.support.zns import FakeZns

TEMPLATES = {"result_ready": {"template_id": "301", "params": {"ma_ho_so": "code", "ngay_hen": "due",
                                                                  "co_quan": "office"}}}
ZALO_USER, NOT_ZALO = "0912345678", "0987654321"


@pytest.fixture
def app(sqlite_url, clock, tmp_path):
    app = make_app(sqlite_url, clock, tmp_path)
    yield app
    app.extensions["motcua"].db.dispose()


@pytest.fixture
def channels(state, clock):
    gateway = FakeGateway()
    with FakeZns(clock, templates={"301": {"ma_ho_so", "ngay_hen", "co_quan"}}) as zns:
        settings = replace(state.settings, zalo_app_id=zns.app_id, zalo_secret_key=zns.secret_key,
                           zalo_refresh_token="refresh-0", zalo_templates=templates_from(json.dumps(TEMPLATES)),
                           zalo_api_url=zns.url, zalo_oauth_url=zns.url,
                           sms_url=gateway.url + "/send?to={phone}&text={message}", sms_method="GET")
        state.outbox.router = _router(settings, state.db, clock)
        yield zns, gateway
    gateway.close()


def put(state, kind: str, phone: str, key: str, fields: dict) -> None:
    with state.db.write() as s:
        office_id = s.scalar(select(Office.id).where(Office.code == "demo"))
        outbox.enqueue(s, office_id=office_id, channel=outbox.MESSAGE, kind=kind, recipient=phone,
                       payload={"text": f"SMS for {key}", "fields": fields}, dedup_key=key, now=state.clock.now())


def test_zalo_first_sms_for_what_zalo_refuses_and_the_outbox_says_which(state, channels):
    zns, gateway = channels
    zns.not_zalo.add("84987654321")
    ready = {"code": "HS-0042", "due": "25/11/2026", "office": "UBND phường Hoàn Kiếm"}
    put(state, "result_ready", ZALO_USER, "result_ready:1", ready)
    put(state, "result_ready", NOT_ZALO, "result_ready:2", ready)  # no Zalo account: SMS
    put(state, "near", ZALO_USER, "near:1", {"office": "x", "number": "1023", "ahead": 2})  # no template: SMS
    assert state.outbox.drain() == 3
    with state.db.read() as s:
        via = {m.dedup_key: (m.status, m.delivered_via) for m in s.scalars(select(OutboxMessage))}
    assert via == {"result_ready:1": ("sent", "zalo"), "result_ready:2": ("sent", "sms"), "near:1": ("sent", "sms")}
    assert zns.problems == [] and len(zns.sent) == 1
    assert zns.sent[0]["phone"] == "84912345678" and zns.sent[0]["template_data"]["ma_ho_so"] == "HS-0042"
    assert gateway.count() == 2 and all(k and k.startswith("motcua-") for k in gateway.keys())  # noqa: SIM118 - its method


def test_a_zalo_outage_is_tried_again_on_zalo_not_sent_by_sms(state, channels):
    zns, gateway = channels
    zns.fail_next = [503]
    put(state, "result_ready", ZALO_USER, "result_ready:1", {"code": "HS-1", "due": "25/11/2026", "office": "x"})
    state.outbox.drain()
    with state.db.read() as s:
        [m] = s.scalars(select(OutboxMessage)).all()
    assert (m.status, m.attempts, m.delivered_via) == ("pending", 1, None) and gateway.count() == 0
    state.clock.advance(seconds=3600)
    state.outbox.drain()
    with state.db.read() as s:
        [m] = s.scalars(select(OutboxMessage)).all()
    assert (m.status, m.delivered_via) == ("sent", "zalo") and len(zns.sent) == 1
