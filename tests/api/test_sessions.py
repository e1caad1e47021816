"""Officers' log-in and counters: passwords, throttling, CSRF, one officer per counter."""
from __future__ import annotations

import getpass
import re
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from server.cli import main, settings
from server.db.database import Database
from server.db.models import AuditEntry, Counter, User
from server.engine import accounts
from server.engine.offices import OfficeFileError, import_office
from tests.conftest import DEMO_FILE, counter_id, office_data


def set_password(state, username: str, password: str = "mat-khau-1") -> None:
    with state.db.write() as s:
        accounts.set_password(s.scalar(select(User).where(User.username == username)), password,
                              datetime.now(UTC))


def assign(state, username: str, *labels: str) -> None:
    with state.db.write() as s:
        user = s.scalar(select(User).where(User.username == username))
        user.counters = list(s.scalars(select(Counter).where(Counter.label.in_(labels))))


class Officer:
    """A browser's worth of cookies: log in through the form, then use the API like the pages do."""

    def __init__(self, app):
        self.client = app.test_client()
        self.csrf = None

    def form_csrf(self, path="/counter/") -> str:
        html = self.client.get(path).get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]

    def login(self, username, password="mat-khau-1", office="demo"):
        r = self.client.post("/counter/login", data={
            "csrf_token": self.form_csrf(), "office": office, "username": username, "password": password})
        if r.status_code == 302:  # the session's own token, as the pages carry it
            self.csrf = self.form_csrf("/counter/?pick=1")
        return r

    def api(self, method, path, json=None, csrf=True):
        headers = {"X-CSRF-Token": self.csrf} if csrf and self.csrf else {}
        return self.client.open(f"/api/v1{path}", method=method, json=json, headers=headers)


@pytest.fixture
def lan(app, state):
    set_password(state, "lan.nt")
    assign(state, "lan.nt", "Quầy 1", "Quầy 2")
    return Officer(app)


def test_login_sets_a_session_and_the_picker_lists_assigned_counters(lan):
    r = lan.login("lan.nt")
    assert r.status_code == 302 and r.headers["Location"].endswith("/counter/")
    page = lan.client.get("/counter/").get_data(as_text=True)
    assert "Xin chào, Nguyễn Thị Lan" in page and "Quầy 1" in page and "Quầy 2" in page
    assert "Quầy 3" not in page
    me = lan.api("GET", "/me").get_json()
    assert [c["label"] for c in me["counters"]] == ["Quầy 1", "Quầy 2"] and me["holding"] is None


@pytest.mark.slow
def test_a_wrong_password_is_refused_plainly_and_five_make_this_address_wait(lan):
    for _ in range(5):
        r = lan.login("lan.nt", "sai-mat-khau")
        assert r.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu." in r.get_data(as_text=True)
    r = lan.login("lan.nt")  # even the right password now waits, from this address
    assert r.status_code == 429 and "Đăng nhập sai quá nhiều lần từ máy này" in r.get_data(as_text=True)
    assert 0 < int(r.headers["Retry-After"]) <= 15 * 60


def test_an_unknown_user_looks_like_a_wrong_password(lan):
    r = lan.login("ai.do")
    assert r.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu." in r.get_data(as_text=True)


def test_the_login_form_needs_its_csrf_token(lan):
    r = lan.client.post("/counter/login", data={"office": "demo", "username": "lan.nt", "password": "mat-khau-1"})
    assert r.status_code == 403 and "mã chống giả mạo" in r.get_data(as_text=True)


def test_cookie_changes_need_the_csrf_header_and_sessions_expire(lan, state, clock):
    lan.login("lan.nt")
    q1 = counter_id(state, "Quầy 1")
    r = lan.api("POST", f"/counters/{q1}/take", csrf=False)
    assert r.status_code == 403 and r.get_json()["error"] == "csrf"
    assert lan.api("POST", f"/counters/{q1}/take").status_code == 200
    clock.advance(hours=13)
    r = lan.api("GET", "/me")
    assert r.status_code == 401 and r.get_json()["error"] == "session_expired"
    lan.login("lan.nt")  # a page, too, says why it asks for the password again
    clock.advance(hours=13)
    page = lan.client.get("/counter/")
    assert page.status_code == 401 and "Phiên đăng nhập đã hết hạn" in page.get_data(as_text=True)


@pytest.mark.slow
def test_one_officer_per_counter_and_one_counter_per_officer(app, state, lan):
    set_password(state, "hung.tv")
    assign(state, "hung.tv", "Quầy 1", "Quầy 3")
    hung = Officer(app)
    lan.login("lan.nt"), hung.login("hung.tv")
    q1, q2, q3 = (counter_id(state, f"Quầy {n}") for n in (1, 2, 3))
    assert lan.api("POST", f"/counters/{q1}/take").status_code == 200
    r = hung.api("POST", f"/counters/{q1}/take")
    assert r.status_code == 409 and r.get_json()["message"] == "Quầy 1 đang do cán bộ Nguyễn Thị Lan sử dụng."
    r = lan.api("POST", f"/counters/{q3}/take")
    assert r.status_code == 403 and r.get_json()["error"] == "not_assigned"
    assert lan.api("POST", f"/counters/{q2}/take").status_code == 200  # moving lets Quầy 1 go
    assert hung.api("POST", f"/counters/{q1}/take").status_code == 200
    assert lan.api("GET", "/me").get_json()["holding"] == q2


def test_an_officer_acts_only_at_the_counter_they_hold(app, state, lan, api):
    lan.login("lan.nt")
    q1, q2 = counter_id(state, "Quầy 1"), counter_id(state, "Quầy 2")
    api.post(f"/counters/{q2}/open")
    r = lan.api("POST", f"/counters/{q1}/open")
    assert r.status_code == 403 and r.get_json()["error"] == "not_your_counter"
    lan.api("POST", f"/counters/{q1}/take")
    assert lan.api("POST", f"/counters/{q1}/open").status_code == 200
    ticket = api.issue()
    assert lan.api("POST", f"/counters/{q1}/call-next").get_json()["number"] == ticket["number"]
    other = api.issue()
    api.post(f"/counters/{q2}/call-next")  # the admin calls at Quầy 2
    r = lan.api("POST", f"/tickets/{other['id']}/recall")
    assert r.status_code == 403 and r.get_json()["error"] == "not_your_counter"
    assert lan.api("POST", f"/tickets/{ticket['id']}/complete").status_code == 200


def test_logout_lets_the_counter_go(app, state, lan):
    lan.login("lan.nt")
    q1 = counter_id(state, "Quầy 1")
    lan.api("POST", f"/counters/{q1}/take")
    r = lan.client.post("/counter/logout", data={"csrf_token": lan.csrf})
    assert r.status_code == 302
    assert lan.api("GET", "/me").status_code == 401
    with state.db.read() as s:
        assert s.get(Counter, q1).officer_id is None


def test_office_file_assigns_officers_to_counters_by_number(state):
    with state.db.read() as s:
        lan = s.scalar(select(User).where(User.username == "lan.nt"))
        assert [c.label for c in lan.counters] == ["Quầy 1", "Quầy 2"]
    data = office_data()
    data["officers"][0]["counters"] = [1, 42]
    with pytest.raises(OfficeFileError) as e, state.db.write() as s:
        import_office(s, data)
    assert "officers[0].counters: không có quầy số: [42]" in "\n".join(e.value.problems)


@pytest.mark.slow
def test_user_add_prompts_or_reads_the_password_and_assigns_counters(tmp_path, sqlite_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("MOTCUA_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("LANG", "C.UTF-8")
    runner = CliRunner()
    runner.invoke(main, ["office", "import", str(DEMO_FILE)], catch_exceptions=False)
    r = runner.invoke(main, ["user", "add", "--office", "demo", "--username", "thu.nv", "--role", "officer",
                             "--name", "Nguyễn Văn Thu", "--counters", "3,5"], input="mot-mat-khau\n")
    assert r.exit_code == 0 and "Đã lưu cán bộ thu.nv" in r.output
    r = runner.invoke(main, ["user", "add", "--office", "demo", "--username", "x", "--role", "officer"],
                      input="ngan\n")
    assert r.exit_code == 2 and "ít nhất 8 ký tự" in r.output
    r = runner.invoke(main, ["user", "add", "--office", "demo", "--username", "y", "--role", "officer",
                             "--counters", "9"], input="mot-mat-khau\n")
    assert r.exit_code == 2 and "Không có quầy số: 9" in r.output
    r = runner.invoke(main, ["user", "add", "--office", "demo", "--username", "it.city", "--role", "officer",
                             "--city-wide"], input="mot-mat-khau\n")
    assert r.exit_code == 2 and "chỉ dùng với --role admin" in r.output
    r = runner.invoke(main, ["user", "add", "--office", "demo", "--username", "it.city", "--role", "admin",
                             "--city-wide"], input="mot-mat-khau\n")
    assert r.exit_code == 0
    db = Database(settings().database_url)
    with db.write() as s:
        thu = s.scalar(select(User).where(User.username == "thu.nv"))
        assert [c.number for c in thu.counters] == [3, 5] and thu.role == "officer"
        assert accounts.login(s, "demo", "thu.nv", "mot-mat-khau") == thu.id
        assert s.scalar(select(User).where(User.username == "it.city")).city_wide and not thu.city_wide
        entries = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        cli = f"motcua (dòng lệnh, {getpass.getuser()})"
        assert [(e.action, e.target, e.actor) for e in entries] == [
            ("office.create", "demo", cli), ("officer.create", "thu.nv", cli), ("officer.create", "it.city", cli)]
        assert entries[0].changes == {"file": "demo.toml"}
        assert entries[1].changes == {"created": {"name": "Nguyễn Văn Thu", "role": "officer", "active": True,
                                                  "city_wide": False, "counters": [3, 5]}, "password": "set"}
    db.dispose()
