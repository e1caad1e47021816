"""Links phones can open (issue 14, item 4): without MOTCUA_PUBLIC_URL, `motcua serve` on
every address works out this machine's LAN address and builds every link it prints or
sends on it (ticket QR, device set-up links, a booking's private link), never on the
request's Host header; it prints the address of every page, warns when phones cannot open
them (loopback only), and the admin page shows the address in use."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from server.infra import lan
from server.infra.notify import Router
from server.infra.settings import Settings
from server.web import startup
from tests.api.test_links_headers import EVIL, app_with, book_on, sms_after_booking, wait_for
from tests.api.test_sessions import set_password
from tests.browser.test_supervisor import _log_in, _passwords
from tests.conftest import Api, demo_data, free_port, new_token, screenshot, seed
from tests.support.sms import SmsRecorder

PAGES = ("/", "/kiosk/demo", "/display/demo", "/counter/", "/counter/supervisor", "/counter/admin",
         "/counter/reports", "/counter/dossiers", "/book/demo", "/tra-cuu/demo", "/counter/1/rating")


@pytest.fixture
def make(sqlite_url, clock, tmp_path):
    """make(**settings) -> (app, state): an app on the demo office, SMS recorded."""
    made = []

    def build(**kw):
        app = app_with(sqlite_url, clock, tmp_path, **kw)
        state = app.extensions["motcua"]
        state.outbox.router = Router(SmsRecorder(), "sms")
        made.append(state)
        return app, state
    yield build
    for state in made:
        state.db.dispose()


# ---------------------------------------------------------------- working out the address

def test_every_address_uses_the_lan_address_and_lists_the_others():
    found = startup.work_out("0.0.0.0", 8080, None, lan=lambda: ["192.168.1.10", "10.0.0.5"])
    assert found == startup.Address("http://192.168.1.10:8080", "lan", ("http://10.0.0.5:8080",))
    pages, warnings = startup.report(found, "demo", 1, "vi")
    assert "http://192.168.1.10:8080  (địa chỉ mạng nội bộ của máy này)" in pages and not warnings
    for path in PAGES:
        assert f" http://192.168.1.10:8080{path}\n" in pages + "\n", path
    assert "http://10.0.0.5:8080" in pages


def test_loopback_only_warns_that_phones_cannot_open_the_links():
    alone = startup.work_out("0.0.0.0", 8080, None, lan=lambda: [])
    assert (alone.url, alone.source) == ("http://127.0.0.1:8080", "loopback")
    _, warning = startup.report(alone, "demo", 1, "vi")
    assert warning.startswith("CẢNH BÁO: máy này không có địa chỉ mạng nội bộ") and "Điện thoại" in warning
    here = startup.work_out("127.0.0.1", 8080, None, lan=lambda: ["192.168.1.10"])
    assert (here.url, here.source) == ("http://127.0.0.1:8080", "loopback")
    _, warning = startup.report(here, "demo", 1, "en")
    assert "listens on http://127.0.0.1:8080 only" in warning and "--host 0.0.0.0" in warning
    assert startup.work_out("::1", 8080, None, lan=lambda: []).warnings == ("loopback_only",)


def test_a_given_host_and_the_public_url():
    assert startup.work_out("192.168.5.5", 80, None) == startup.Address("http://192.168.5.5:80", "listen")
    # MOTCUA_PUBLIC_URL wins over every address the machine has.
    won = startup.work_out("0.0.0.0", 8080, "https://motcua.example.vn", lan=lambda: ["192.168.1.10"])
    assert won == startup.Address("https://motcua.example.vn", "env")
    conf = Settings(Path("."), "sqlite://", None, "k", "https://motcua.example.vn")
    settled = startup.settle(conf, won)
    assert (settled.link_base, settled.served_at, settled.public_source) == ("https://motcua.example.vn", None, "env")


def test_this_machines_addresses_are_never_loopback():
    found = lan.lan_addresses()
    assert all(lan.usable(a) for a in found) and len(found) == len(set(found))
    assert not lan.usable("127.0.0.1") and not lan.usable("169.254.1.2") and not lan.usable("0.0.0.0")
    assert lan.usable("192.168.1.10") and not lan.usable("not an address")


# ---------------------------------------------------------------- links in the app

def test_links_use_the_served_address_never_the_host_header(make):
    app, state = make(served_at="http://192.168.1.10:8080", public_source="lan")
    client = app.test_client()
    kiosk = Api(client, new_token(state, "kiosk", "Kiosk sảnh"))
    r = client.post("/api/v1/offices/demo/tickets", json={"service": "HT"}, headers={**kiosk.headers(), "Host": EVIL})
    assert r.get_json()["status_url"].startswith("http://192.168.1.10:8080/t/")
    admin = {"Authorization": f"Bearer {new_token(state, 'admin', 'admin')}", "Host": EVIL}
    r = client.post("/api/v1/offices/demo/devices", json={"kind": "display", "name": "TV 2"}, headers=admin)
    assert r.status_code == 201 and r.get_json()["setup_url"].startswith("http://192.168.1.10:8080/display/demo?token=")
    shown, sent = sms_after_booking(client, state, Host=EVIL)
    token = shown["manage_url"].rsplit("/", 1)[1]
    assert shown["manage_url"] == f"http://192.168.1.10:8080/booking/{token}"
    [(_, _, text)] = sent
    assert f"http://192.168.1.10:8080/booking/{token}" in text and EVIL not in text


def test_a_loopback_address_goes_into_no_sms(make):
    app, state = make(served_at="http://127.0.0.1:8080", public_source="loopback")
    shown, sent = sms_after_booking(app.test_client(), state)
    assert shown["manage_url"].startswith("http://127.0.0.1:8080/booking/")
    [(_, _, text)] = sent
    assert "http" not in text  # no phone can open it: the booking code only


def test_the_admin_page_warns_about_a_loopback_address(make):
    app, state = make(served_at="http://127.0.0.1:8080", public_source="loopback")
    set_password(state, "admin")
    client = app.test_client()
    html = client.get("/counter/").get_data(as_text=True)
    csrf = html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post("/counter/login", data={"csrf_token": csrf, "office": "demo", "username": "admin",
                                        "password": "mat-khau-1"})
    page = client.get("/counter/admin").get_data(as_text=True)
    assert 'class="ad-notice" id="public-url" data-source="loopback"' in page
    assert "http://127.0.0.1:8080" in page and "motcua serve --host 0.0.0.0" in page


# ---------------------------------------------------------------- a real `motcua serve`

def serve(tmp_path: Path, database_url: str, *args: str, env: dict | None = None):
    """`motcua serve` until its worker answers: (process, port, what it printed)."""
    port = free_port()
    environ = {**os.environ, "MOTCUA_INSTANCE_PATH": str(tmp_path), "LANG": "C.UTF-8", "DATABASE_URL": database_url}
    for name in ("REDIS_URL", "MOTCUA_PUBLIC_URL", "SMS_GATEWAY_URL"):
        environ.pop(name, None)
    environ.update(env or {})
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port),
                             *args], env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines, deadline = [], time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if "Booting worker" in line or not line:
            break
    wait_for(lambda: _healthy(port), timeout=30)
    return proc, port, "".join(lines)


def _healthy(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, 15)
    proc.wait(10)


@pytest.fixture
def lan_address() -> str:
    found = lan.lan_addresses()
    if not found:
        pytest.skip("this machine has no LAN address")
    return found[0]


@pytest.mark.slow
def test_serve_on_every_address_prints_and_sends_lan_links(tmp_path, sqlite_url, lan_address, page_factory):
    tokens = seed(sqlite_url)
    _passwords(sqlite_url, admin="admin-secret-1")
    proc, port, out = serve(tmp_path, sqlite_url, "--host", "0.0.0.0")
    base = f"http://{lan_address}:{port}"
    try:
        assert f"{base}  (địa chỉ mạng nội bộ của máy này)" in out
        for path in PAGES:
            assert f" {base}{path}\n" in out, (path, out)
        assert "127.0.0.1" not in out.split("Booting")[0].replace(f"http://0.0.0.0:{port}", "")
        assert "Chưa đặt MOTCUA_PUBLIC_URL" in out and "CẢNH BÁO" not in out
        assert (tmp_path / "public-url").read_text().strip() == base
        # Asked on 127.0.0.1 with a forged Host, every link still names the LAN address.
        local = f"http://127.0.0.1:{port}"
        r = requests.post(f"{local}/api/v1/offices/demo/tickets", json={"service": "HT"}, timeout=5,
                          headers={"Authorization": f"Bearer {tokens['kiosk']}", "Host": EVIL})
        assert r.status_code == 201 and r.json()["status_url"].startswith(f"{base}/t/")
        r = requests.post(f"{local}/api/v1/offices/demo/devices", json={"kind": "kiosk", "name": "Kiosk 2"},
                          headers={"Authorization": f"Bearer {tokens['admin']}", "Host": EVIL}, timeout=5)
        assert r.status_code == 201 and r.json()["setup_url"].startswith(f"{base}/kiosk/demo?token=")
        r = book_on(local, Host=EVIL)
        assert r.status_code == 201 and r.json()["manage_url"].startswith(f"{base}/booking/")
        # The admin page says which address is in use, and where it came from.
        page = page_factory(1366, 900)
        _log_in(page, local, "admin", "admin-secret-1")
        page.goto(f"{local}/counter/admin")
        shown = page.locator("#public-url")
        assert shown.get_attribute("data-source") == "lan"
        text = shown.inner_text()
        assert base in text and "mạng nội bộ" in text and "MOTCUA_PUBLIC_URL" in text
        page.wait_for_selector("#list-office .loading", state="detached", timeout=10000)
        screenshot(page, "admin-public-address")
    finally:
        stop(proc)


@pytest.mark.slow
def test_serve_on_loopback_warns_and_the_public_url_wins(tmp_path, sqlite_url):
    seed(sqlite_url)
    proc, port, out = serve(tmp_path, sqlite_url, "--host", "127.0.0.1")
    try:
        assert f"http://127.0.0.1:{port}  (chỉ mở được trên chính máy này)" in out
        assert f"CẢNH BÁO: máy chủ chỉ nghe trên http://127.0.0.1:{port}" in out
        assert (tmp_path / "public-url").read_text().strip() == f"http://127.0.0.1:{port}"
    finally:
        stop(proc)
    tokens = seed(sqlite_url, {**_demo(), "code": "demo2"})
    proc, port, out = serve(tmp_path, sqlite_url, "--host", "0.0.0.0",
                            env={"MOTCUA_PUBLIC_URL": "https://motcua.example.vn"})
    try:
        assert "https://motcua.example.vn  (từ MOTCUA_PUBLIC_URL)" in out and "CẢNH BÁO" not in out
        assert "https://motcua.example.vn/kiosk/demo\n" in out and "Chưa đặt MOTCUA_PUBLIC_URL" not in out
        r = requests.post(f"http://127.0.0.1:{port}/api/v1/offices/demo2/tickets", json={"service": "HT"},
                          headers={"Authorization": f"Bearer {tokens['kiosk']}"}, timeout=5)
        assert r.json()["status_url"].startswith("https://motcua.example.vn/t/")
    finally:
        stop(proc)


def _demo() -> dict:
    return demo_data()
