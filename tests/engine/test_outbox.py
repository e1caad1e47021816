"""The durable outbox (server/engine/outbox.py) and its sender (server/engine/sender.py), on
SQLite and PostgreSQL: a message is written once per dedup key in the caller's transaction,
claimed by one sender under a lease, retried with exponential backoff and full jitter (an
injected clock and a seeded random), dead after the limit or at once when refused, sent
again by an admin, and deleted after the retention period."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from server.db.models import AuditEntry, OutboxMessage
from server.engine import booking, lookups, outbox
from server.engine.sender import Sender
from server.infra.notify import DeliveryError, Refused, Router
from tests.conftest import Api, make_app, new_token
from tests.support.sms import SmsRecorder

PHONE = "0912345678"


@pytest.fixture
def state(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path)
    st = app.extensions["motcua"]
    st.app = app
    yield st
    st.db.dispose()


def office_id(state, code: str = "demo") -> int:
    with state.db.read() as s:
        return lookups.office_info(s, code).id


def put(state, key: str, kind: str = "confirmation", office: int | None = None, **kw) -> None:
    with state.db.write() as s:
        outbox.enqueue(s, office_id=office or office_id(state), channel=outbox.MESSAGE, kind=kind, recipient=PHONE,
                       payload={"text": f"text of {key}", "fields": {"code": key}}, dedup_key=key,
                       now=state.clock.now(), **kw)


def rows(state) -> list[OutboxMessage]:
    with state.db.read() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def sender(state, recorder, *, attempts: int = 3, seed: int = 7, lease_s: float = 60) -> Sender:
    backoff = outbox.Backoff(attempts, 10.0, 3600.0, random.Random(seed))
    return Sender(state.db, Router(recorder, "sms"), state.clock, backoff=backoff, lease_s=lease_s)


def test_a_dedup_key_is_written_once_per_office(state):
    put(state, "confirmation:1")
    put(state, "confirmation:1")
    put(state, "confirmation:2", due_at=state.clock.now() + timedelta(hours=1))
    [first, second] = rows(state)
    assert (first.status, first.attempts, first.next_attempt_at) == ("pending", 0, state.clock.now())
    assert first.payload == {"text": "text of confirmation:1", "fields": {"code": "confirmation:1"}}
    assert second.next_attempt_at == state.clock.now() + timedelta(hours=1)


def test_a_message_is_written_with_its_change_or_not_at_all(state):
    """A row of the caller's transaction: a use case that fails after writing it leaves none."""
    oid = office_id(state)

    def change_then_fail(s, *, now):
        outbox.enqueue(s, office_id=oid, channel=outbox.MESSAGE, kind="near", recipient=PHONE,
                       payload={"text": "x"}, dedup_key="near:1", now=now)
        raise RuntimeError("the change failed")
    with pytest.raises(RuntimeError):
        state.perform(change_then_fail)
    assert rows(state) == []


def test_claim_takes_a_due_message_once_until_its_lease_lapses(state, clock):
    put(state, "a")
    put(state, "later", due_at=clock.now() + timedelta(minutes=5))
    with state.db.write() as s:
        [claimed] = outbox.claim(s, clock.now(), limit=10, lease_s=60)
    assert (claimed.dedup_key, claimed.attempts) == ("a", 1)
    with state.db.write() as s:
        assert outbox.claim(s, clock.now(), limit=10, lease_s=60) == []  # leased; "later" not due
    clock.advance(seconds=61)  # the process holding it was killed: the lease lapses
    with state.db.write() as s:
        [again] = outbox.claim(s, clock.now(), limit=10, lease_s=60)
    assert (again.id, again.attempts) == (claimed.id, 2)
    # The first holder's late failure does not undo the second claim.
    with state.db.write() as s:
        outbox.mark_failed(s, claimed, "late", clock.now(), outbox.Backoff())
    [row, _] = rows(state)
    assert (row.status, row.lease_until, row.last_error) == ("sending", again.lease_until, None)


def test_sent_with_the_key_and_how(state):
    put(state, "confirmation:1")
    recorder = SmsRecorder()
    assert sender(state, recorder).drain() == 1
    assert recorder.sent == [(PHONE, "confirmation", "text of confirmation:1")]
    assert recorder.keys == [f"motcua-{office_id(state)}-confirmation:1"]
    [row] = rows(state)
    assert (row.status, row.delivered_via, row.sent_at, row.lease_until) == ("sent", "sms", state.clock.now(), None)
    assert sender(state, recorder).drain() == 0


def test_backoff_is_exponential_with_full_jitter(state, clock):
    put(state, "a")
    recorder = SmsRecorder()
    recorder.failures = [DeliveryError("HTTP 503 Service Unavailable"), DeliveryError("HTTP 502 Bad Gateway")]
    s = sender(state, recorder, attempts=5, seed=42)
    expected = random.Random(42)
    first_wait = expected.uniform(0, 10)  # before attempt 2: up to 10 s
    second_wait = expected.uniform(0, 20)  # before attempt 3: up to 20 s
    start = clock.now()
    assert s.run_once() == 1
    [row] = rows(state)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "HTTP 503 Service Unavailable")
    assert row.next_attempt_at == start + timedelta(seconds=first_wait)
    clock.at = row.next_attempt_at - timedelta(microseconds=1)
    assert s.run_once() == 0  # not yet due
    clock.at = row.next_attempt_at
    assert s.run_once() == 1
    [row] = rows(state)
    assert (row.attempts, row.last_error) == (2, "HTTP 502 Bad Gateway")
    assert row.next_attempt_at == clock.now() + timedelta(seconds=second_wait)
    clock.at = row.next_attempt_at
    assert s.run_once() == 1
    [row] = rows(state)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert len(recorder.sent) == 1


def test_the_wait_is_capped():
    backoff = outbox.Backoff(20, 10.0, 60.0, random.Random(1))
    assert all(backoff.delay(n) <= 60 for n in range(1, 20))
    assert max(backoff.delay(12) for _ in range(50)) > 30


def test_dead_after_the_limit_with_the_last_error_and_no_phone(state, clock):
    put(state, "a")
    recorder = SmsRecorder()
    recorder.failures = [DeliveryError(f"HTTP 503 for {PHONE}")] * 2 + [DeliveryError("gateway unreachable")]
    s = sender(state, recorder, attempts=3)
    for _ in range(3):
        assert s.run_once() == 1
        clock.advance(hours=2)
    [row] = rows(state)
    assert (row.status, row.attempts, row.last_error) == ("dead", 3, "gateway unreachable")
    assert s.drain() == 0 and recorder.sent == []
    assert PHONE not in "".join(r.last_error for r in rows(state))


def test_refused_is_dead_at_once(state):
    put(state, "a")
    recorder = SmsRecorder()
    recorder.failures = [Refused("blocked number")]
    assert sender(state, recorder, attempts=5).drain() == 1
    [row] = rows(state)
    assert (row.status, row.attempts, row.last_error) == ("dead", 1, "blocked number")


def test_an_admin_resends_a_dead_message(state, clock):
    put(state, "a")
    put(state, "b")
    recorder = SmsRecorder()
    recorder.failures = [Refused("template rejected")]
    sender(state, recorder).drain()
    dead, sent = rows(state)
    assert (dead.status, sent.status) == ("dead", "sent")
    api = Api(state.app.test_client(), new_token(state, "admin"))
    listed = api.get("/offices/demo/messages?status=dead").get_json()
    assert [m["id"] for m in listed["items"]] == [dead.id]
    assert listed["items"][0]["recipient"] == "0912***678" and listed["items"][0]["last_error"] == "template rejected"
    assert api.post(f"/offices/demo/messages/{sent.id}/resend").status_code == 409
    r = api.post(f"/offices/demo/messages/{dead.id}/resend")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "pending"
    with state.db.read() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "message.resend"))
    assert entry.target == f"confirmation #{dead.id}" and PHONE not in str(entry.changes)
    assert sender(state, recorder).drain() == 1
    assert rows(state)[0].status == "sent" and len(recorder.sent) == 2
    assert api.post("/offices/demo/messages/999999/resend").status_code == 404


def test_messages_go_after_the_retention_period(state, clock):
    put(state, "old")
    clock.advance(days=10)
    put(state, "new")
    clock.advance(days=21)  # "old" is 31 days old, "new" 21
    state.perform(booking.sweep, retention_days=30)
    assert [r.dedup_key for r in rows(state)] == ["new"]


def test_two_senders_never_take_the_same_message(state):
    for i in range(30):
        put(state, f"m{i}")
    first, second = SmsRecorder(), SmsRecorder()
    a, b = sender(state, first), sender(state, second)
    a.batch = b.batch = 7
    while a.run_once() + b.run_once():
        pass
    keys = first.keys + second.keys
    assert len(keys) == len(set(keys)) == 30 and first.sent and second.sent
    with state.db.read() as s:
        assert s.scalar(select(func.count()).where(OutboxMessage.status == "sent")) == 30


def test_the_report_counts_messages_sent_and_dead_by_kind_and_channel(state, clock):
    put(state, "a", kind="confirmation")
    put(state, "b", kind="confirmation")
    put(state, "c", kind="near")
    recorder = SmsRecorder()
    recorder.failures = [Refused("blocked")]
    sender(state, recorder).drain()  # "a" dead, "b" and "c" sent
    put(state, "d", kind="reminder", due_at=clock.now() + timedelta(days=2))  # pending: not counted
    api = Api(state.app.test_client(), new_token(state, "admin"))
    r = api.get("/offices/demo/report")
    assert r.status_code == 200, r.get_json()
    block = r.get_json()["messages"]
    assert block["totals"] == {"sent": 2, "dead": 1}
    assert [(x["kind"], x["delivered_via"], x["sent"], x["dead"]) for x in block["by_kind"]] == [
        ("confirmation", None, 0, 1), ("confirmation", "sms", 1, 0), ("near", "sms", 1, 0)]
    assert block["by_kind"][0]["label"] == "Xác nhận đặt lịch"
    yesterday = (clock.now() - timedelta(days=1)).date().isoformat()
    assert api.get(f"/offices/demo/report?from={yesterday}&to={yesterday}").get_json()["messages"]["totals"] == {
        "sent": 0, "dead": 0}
    csv = api.get("/offices/demo/report.csv?group=messages").get_data(as_text=True)
    assert csv.splitlines()[0] == "\ufeffLoại tin nhắn,Gửi qua,Đã gửi,Hỏng (không gửi được)"
    assert csv.splitlines()[-1].endswith(",,2,1")
    assert api.get("/offices/demo/report.xlsx").status_code == 200
