"""Links and headers (issue 13): links that leave the building come from configuration only,
never from a request's Host; the trusted-proxy and HTTPS settings; security headers and a
strict Content-Security-Policy on every page (checked in Chromium: no page logs a violation);
`motcua serve --demo` stays on 127.0.0.1; the server's log really logs, without tokens."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote_plus, urlparse

import pytest
import requests
from sqlalchemy import select

from server.app import create_app
from server.db.database import Database
from server.db.models import Counter
from server.engine.offices import import_office
from server.infra.notify import Router, mask_links
from server.infra.settings import Settings, normalise_database_url
from server.web.headers import CSP
from tests.api.test_sessions import set_password
from tests.browser.test_supervisor import _log_in, _passwords
from tests.conftest import Api, free_port, new_token, screenshot, seed
from tests.engine.test_booking import bookable_office
from tests.support.sms import SmsRecorder
from tests.support.smsgateway import FakeGateway

EVIL = "evil.example"
BOOKING = {"service": "HT", "start": "2026-11-23T03:00:00Z", "name": "Trần Thị Bình", "phone": "0912345678"}


def app_with(url, clock, instance: Path, office=None, public_url=None, **settings):
    conf = Settings(instance_path=instance, database_url=normalise_database_url(url), redis_url=None,
                    secret_key="test-secret", public_url=public_url, **settings)
    app = create_app({"TESTING": True, "SETTINGS": conf, "CLOCK": clock})
    with app.extensions["motcua"].db.write() as s:
        import_office(s, office or bookable_office(), now=clock.now())
    return app


@pytest.fixture
def make(sqlite_url, clock, tmp_path):
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


def sms_after_booking(client, state, **headers) -> tuple[dict, list]:
    r = client.post("/api/v1/offices/demo/bookings", json=BOOKING, headers=headers)
    assert r.status_code == 201, r.get_json()
    state.outbox.drain()
    return r.get_json(), state.outbox.router.sms.sent


# ---------------------------------------------------------------- links from configuration

def test_a_forged_host_puts_no_link_in_another_persons_sms(make):
    """Without MOTCUA_PUBLIC_URL the SMS carries the booking code and no link at all."""
    app, state = make()
    shown, sent = sms_after_booking(app.test_client(), state, Host=EVIL)
    [(phone, kind, text)] = sent
    assert (phone, kind) == ("0912345678", "confirmation") and shown["code"] in text
    assert EVIL not in text and "http" not in text and "/booking/" not in text
    token = shown["manage_url"].rsplit("/", 1)[1]
    assert token not in text


def test_a_configured_public_url_is_the_only_base_of_sms_links(make):
    app, state = make(public_url="https://hoankiem.example.vn")
    shown, sent = sms_after_booking(app.test_client(), state, Host=EVIL)
    [(_, _, text)] = sent
    token = shown["manage_url"].rsplit("/", 1)[1]
    assert f"https://hoankiem.example.vn/booking/{token}" in text and EVIL not in text


def test_a_forged_forwarded_host_counts_only_behind_a_trusted_proxy(make):
    """Pages answer the one who asked: without a public address the status link in a
    kiosk's reply is the address the kiosk came to; X-Forwarded-* only from a trusted proxy."""
    forwarded = {"X-Forwarded-Host": "queue.example.vn", "X-Forwarded-Proto": "https"}
    app, state = make()
    kiosk = Api(app.test_client(), new_token(state, "kiosk", "Kiosk sảnh"))
    r = kiosk.client.post("/api/v1/offices/demo/tickets", json={"service": "HT"},
                          headers={**kiosk.headers(), **forwarded}, base_url="http://192.168.1.10:8080")
    assert r.get_json()["status_url"].startswith("http://192.168.1.10:8080/t/")

    app, state = make(trusted_proxies=1)
    kiosk = Api(app.test_client(), new_token(state, "kiosk", "Kiosk sảnh"))
    r = kiosk.client.post("/api/v1/offices/demo/tickets", json={"service": "HT"},
                          headers={**kiosk.headers(), **forwarded}, base_url="http://10.0.0.2:8080")
    assert r.get_json()["status_url"].startswith("https://queue.example.vn/t/")


def test_the_booking_limit_counts_forwarded_clients_only_behind_a_trusted_proxy(make):
    for trusted, second in ((0, 429), (1, 201)):
        app, _ = make(trusted_proxies=trusted, booking_rate_limit="1/minute")
        client = app.test_client()
        statuses = [client.post("/api/v1/offices/demo/bookings", json={**BOOKING, "phone": phone},
                                headers={"X-Forwarded-For": address}).status_code
                    for phone, address in ((f"09123456{trusted}0", "203.0.113.1"),
                                           (f"09123456{trusted}1", "203.0.113.2"))]  # one database: new phones
        assert statuses == [201, second]


@pytest.mark.slow
def test_the_admin_page_says_when_there_is_no_public_url(make):
    for public_url, shown in ((None, True), ("http://192.168.1.10:8080", False)):
        app, state = make(public_url=public_url)
        set_password(state, "admin")
        client = app.test_client()
        html = client.get("/counter/").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)[1]
        r = client.post("/counter/login", data={"csrf_token": csrf, "office": "demo", "username": "admin",
                                                "password": "mat-khau-1"})
        assert r.status_code == 302
        page = client.get("/counter/admin").get_data(as_text=True)
        assert ('id="no-public-url"' in page) is shown
        if shown:
            assert "MOTCUA_PUBLIC_URL" in page


# ---------------------------------------------------------------- headers

def test_every_response_carries_the_security_headers(make):
    app, state = make()
    client = app.test_client()
    booked, _ = sms_after_booking(client, state)
    ticket = Api(client, new_token(state, "kiosk", "Kiosk sảnh")).issue()
    token = ticket["status_url"].rsplit("/", 1)[1]
    private = [f"/t/{token}", f"/t/{token}/qr.svg", f"/api/v1/public/tickets/{token}",
               urlparse(booked["manage_url"]).path, "/kiosk/demo?token=nothing"]
    public = ["/", "/counter/", "/book/demo", "/healthz", "/api/v1/openapi.json", "/no-such-page",
              "/static/portal.css", "/tra-cuu/demo", "/tra-cuu/demo?code=HS-1", "/lay-so/demo",
              "/lay-so/demo/poster", "/lay-so/demo/qr.svg"]
    for path in private + public:
        r = client.get(path)
        assert r.status_code < 500, path
        h = r.headers
        assert h["Content-Security-Policy"] == CSP and "'unsafe-inline'" not in CSP, path
        assert "frame-ancestors 'none'" in CSP and h["X-Frame-Options"] == "DENY", path
        assert h["X-Content-Type-Options"] == "nosniff", path
        assert h["Referrer-Policy"] == ("no-referrer" if path in private else "same-origin"), path
        assert "Strict-Transport-Security" not in h and "Secure" not in h.get("Set-Cookie", "")


def test_https_makes_cookies_secure_and_sends_hsts(make):
    app, _ = make(https=True)
    client = app.test_client()
    r = client.get("/counter/?lang=en")
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
    cookies = r.headers.getlist("Set-Cookie")
    assert {c.split("=", 1)[0] for c in cookies} >= {"motcua_session", "motcua_lang"}
    assert all("; Secure" in c for c in cookies), cookies


def test_settings_read_the_new_variables(tmp_path):
    conf = Settings.from_env(tmp_path, {"MOTCUA_TRUSTED_PROXIES": "2", "MOTCUA_HTTPS": "true",
                                        "MOTCUA_LOG_LEVEL": "debug", "MOTCUA_PUBLIC_URL": "http://x:8080/"})
    assert (conf.trusted_proxies, conf.https, conf.log_level, conf.public_url) == (2, True, "DEBUG", "http://x:8080")
    assert Settings.from_env(tmp_path, {}).trusted_proxies == 0
    for bad in ({"MOTCUA_TRUSTED_PROXIES": "nginx"}, {"MOTCUA_LOG_LEVEL": "loud"},
                {"MOTCUA_PUBLIC_URL": "192.168.1.10:8080"}, {"MOTCUA_PUBLIC_URL": "http://x/?a=1"}):
        with pytest.raises(ValueError):
            Settings.from_env(tmp_path, bad)


def test_logged_sms_mask_private_links():
    text = "Mã đặt lịch K7P2QX: Hộ tịch. Đổi/hủy: http://x:8080/booking/AbCdEfGhIjKlMnOpQrSt_-12 hoặc /t/zyXW9876abc"
    masked = mask_links(text)
    assert "AbCdEfGhIjKlMnOpQrSt" not in masked and "zyXW9876abc" not in masked
    assert "/booking/AbCd***" in masked and "/t/zyXW***" in masked and "K7P2QX" in masked
    assert mask_links("/api/v1/public/tickets/zyXW9876abc/cancel") == "/api/v1/public/tickets/zyXW***/cancel"


# ---------------------------------------------------------------- real servers

def book_on(base: str, **headers) -> requests.Response:
    """Book the first free slot of HT on a real server (real clock)."""
    days = requests.get(f"{base}/api/v1/offices/demo/booking", timeout=5).json()["days"]
    for day in days:
        slots = requests.get(f"{base}/api/v1/offices/demo/services/HT/slots", params={"date": day},
                             timeout=5).json()["slots"]
        free = [x for x in slots if x["available"] > 0]
        if free:
            return requests.post(f"{base}/api/v1/offices/demo/bookings", timeout=5, headers=headers,
                                 json={**BOOKING, "start": free[0]["start"]})
    raise AssertionError("no free slot in the demo office")


def wait_for(check, timeout=10.0, page=None):
    """Poll `check`; with a page, wait through Playwright, whose events arrive only then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        if page is not None:
            page.wait_for_timeout(100)
        else:
            time.sleep(0.1)
    return check()


def test_a_real_server_sends_no_forged_link_to_the_sms_gateway(servers, sqlite_url):
    seed(sqlite_url)
    gateway = FakeGateway()
    try:
        server = servers(sqlite_url, env={"SMS_GATEWAY_URL": gateway.url + "/send"})
        r = book_on(server.url, Host=EVIL)
        assert r.status_code == 201, r.text
        assert wait_for(gateway.count) == 1
        sent = unquote_plus(gateway.requests[0]["path"] + "?" + gateway.requests[0]["body"].decode())
        assert r.json()["code"] in sent and "0912345678" in sent
        assert EVIL not in sent and "/booking/" not in sent
        log = Path(server.log.name).read_text()
        assert "MOTCUA_PUBLIC_URL is not set" in log
    finally:
        gateway.close()


def test_the_log_backend_really_logs_and_hides_the_token(servers, sqlite_url):
    seed(sqlite_url)
    server = servers(sqlite_url, env={"MOTCUA_PUBLIC_URL": "http://192.0.2.10:8080"})
    r = book_on(server.url, Host=EVIL)
    assert r.status_code == 201, r.text
    token = r.json()["manage_url"].rsplit("/", 1)[1]
    log = Path(server.log.name)
    line = wait_for(lambda: next((x for x in log.read_text().splitlines() if "SMS to" in x), None))
    assert line and "0912***678 [confirmation]" in line and r.json()["code"] in line, log.read_text()[-2000:]
    assert f"http://192.0.2.10:8080/booking/{token[:4]}***" in line and token not in log.read_text()
    assert "0912345678" not in log.read_text() and EVIL not in line


def serve(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, int, str]:
    """`motcua serve` until gunicorn has booted its worker: (process, port, what it printed)."""
    port = free_port()
    env = {**os.environ, "MOTCUA_INSTANCE_PATH": str(tmp_path), "LANG": "C.UTF-8"}
    for name in ("DATABASE_URL", "REDIS_URL", "MOTCUA_PUBLIC_URL"):
        env.pop(name, None)
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if "Booting worker" in line or not line:
            break
    wait_for(lambda: _answers("127.0.0.1", port))
    return proc, port, "".join(lines)


def _answers(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=1):
            return True
    except OSError:
        return False


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, 15)
    proc.wait(10)


@pytest.mark.slow
def test_serve_demo_listens_on_loopback_and_says_so(tmp_path):
    proc, port, out = serve(tmp_path, "--demo")
    try:
        assert f"http://127.0.0.1:{port}" in out and f"http://0.0.0.0:{port}" not in out
        assert "CẢNH BÁO: máy chủ chỉ nghe trên" in out  # phones cannot open these links
        assert _answers("127.0.0.1", port)
        # 127.0.0.2 is this machine too: a server on every address answers there, this one not.
        assert not _answers("127.0.0.2", port)
        assert "MOTCUA_PUBLIC_URL" in out  # how to give phones an address
    finally:
        stop(proc)


@pytest.mark.slow
def test_serve_demo_on_every_address_needs_host_and_warns(tmp_path):
    proc, port, out = serve(tmp_path, "--demo", "--host", "0.0.0.0")
    try:
        assert f"http://0.0.0.0:{port}" in out and re.search(rf"http://[0-9.]+:{port}/kiosk/demo\?token=", out)
        assert "CẢNH BÁO" in out and "demo-admin" in out
        assert _answers("127.0.0.2", port)
    finally:
        stop(proc)


# ---------------------------------------------------------------- every page in Chromium

PASSWORDS = {"admin": "admin-secret-1", "lan.nt": "lan-secret-1"}


class CspWatch:
    """Collects CSP violations (console and securitypolicyviolation events), script errors,
    5xx answers, scripts (ES modules of static/js included) not found, and websockets of one page."""

    def __init__(self, page):
        self.page, self.problems, self.sockets = page, [], []
        page.add_init_script("""window.__csp = [];
            document.addEventListener('securitypolicyviolation',
              e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));""")
        page.on("console", lambda m: self.problems.append(f"console: {m.text}")
                if "Content Security Policy" in m.text or "Content-Security-Policy" in m.text else None)
        page.on("pageerror", lambda e: self.problems.append(f"script: {e}"))
        page.on("response", lambda r: self.problems.append(f"{r.status} {r.url}") if r.status >= 500 or (
            r.status >= 400 and urlparse(r.url).path.endswith(".js")) else None)  # a script or module not found
        page.on("websocket", lambda ws: self.sockets.append(ws.url))

    def visit(self, url: str, name: str) -> None:
        self.page.goto(url)
        self.page.wait_for_load_state("networkidle")
        self.page.wait_for_timeout(300)
        screenshot(self.page, f"csp-{name}")
        self.check(name)

    def check(self, name: str) -> None:
        seen = self.page.evaluate("window.__csp || []")
        assert not self.problems and not seen, (name, self.problems, seen)


def test_no_page_breaks_the_content_security_policy(servers, sqlite_url, page_factory):
    tokens = seed(sqlite_url)
    _passwords(sqlite_url, **PASSWORDS)
    server = servers(sqlite_url)
    base = server.url
    kiosk_h = {"Authorization": f"Bearer {tokens['kiosk']}"}
    ticket = requests.post(f"{base}/api/v1/offices/demo/tickets", json={"service": "HT"}, headers=kiosk_h,
                           timeout=5).json()
    booked = book_on(base).json()
    q1, q2 = counter_ids(sqlite_url, "Quầy 1", "Quầy 2")

    anonymous = CspWatch(page_factory(1280, 900, bypass_csp=False))
    device_pages = {
        "index": "/", "login": "/counter/", "book-list": "/book", "book": "/book/demo",
        "booking": urlparse(booked["manage_url"]).path, "status": urlparse(ticket["status_url"]).path,
        "kiosk": f"/kiosk/demo?token={tokens['kiosk']}", "kiosk-denied": "/kiosk/demo",
        "display": f"/display/demo?token={tokens['display']}",
        "display-counter": f"/display/demo?token={tokens['display']}&counter={q1}",
        "rating": f"/counter/{q1}/rating?token={tokens['display']}", "not-found": "/no-such-page",
        "lookup": "/tra-cuu/demo", "lookup-unknown": "/tra-cuu/demo?code=HS-1",
        "take-a-number": "/lay-so/demo", "take-a-number-poster": "/lay-so/demo/poster",
    }
    for name, path in device_pages.items():
        anonymous.visit(base + path, name)
    # The kiosk issues a ticket: its screen draws the ticket and its QR code.
    anonymous.visit(f"{base}/kiosk/demo?token={tokens['kiosk']}", "kiosk-again")
    anonymous.page.locator(".svc-name").first.click()
    anonymous.page.wait_for_timeout(1500)
    screenshot(anonymous.page, "csp-kiosk-issued")
    anonymous.check("kiosk-issued")
    # Socket.IO's websocket is allowed by connect-src 'self' (Chromium counts ws: to the same host).
    assert any(u.startswith("ws://127.0.0.1") for u in anonymous.sockets), anonymous.sockets

    # The lobby display plays a call's announcement (media-src 'self') and shows it.
    display = CspWatch(page_factory(1920, 1080, bypass_csp=False))
    display.visit(f"{base}/display/demo?token={tokens['display']}", "display-live")
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    requests.post(f"{base}/api/v1/counters/{q1}/open", headers=admin, timeout=5)
    called = requests.post(f"{base}/api/v1/counters/{q1}/call-next", headers=admin, timeout=5)
    assert called.status_code == 200, called.text
    audio = []
    display.page.on("response", lambda r: audio.append(r.status) if "announcement.wav" in r.url else None)
    number = called.json()["number"]
    assert wait_for(lambda: display.page.evaluate(f"document.body.innerText.includes({number!r})"),
                    page=display.page)
    assert wait_for(lambda: audio, page=display.page)  # the announcement's audio was fetched (media-src 'self')
    display.page.wait_for_timeout(1000)
    screenshot(display.page, "csp-display-called")
    assert audio and set(audio) == {200}, audio
    display.check("display-called")

    staff = CspWatch(page_factory(1366, 900, bypass_csp=False))
    _log_in(staff.page, base, "admin", PASSWORDS["admin"])
    staff.visit(f"{base}/counter/admin", "admin")
    assert staff.page.locator("#public-url[data-source=loopback]").is_visible()  # phones cannot open 127.0.0.1
    for name, path in {"admin-devices": "/counter/admin#devices", "supervisor": "/counter/supervisor",
                       "reports": "/counter/reports", "dashboard": "/counter/dashboard",
                       "areas": "/counter/areas"}.items():
        staff.visit(base + path, name)

    desk = CspWatch(page_factory(1366, 900, bypass_csp=False))
    _log_in(desk.page, base, "lan.nt", PASSWORDS["lan.nt"])
    desk.visit(f"{base}/counter/?pick=1", "picker")
    desk.page.locator(f"form[action$='/take/{q2}'] button").click()
    desk.page.wait_for_url("**/counter/desk/*")
    desk.page.wait_for_load_state("networkidle")
    desk.page.get_by_role("button", name="Mở quầy").click()
    desk.page.wait_for_timeout(500)
    desk.page.keyboard.press("Space")  # call the next number: the desk draws it, with its timer
    desk.page.wait_for_timeout(1000)
    screenshot(desk.page, "csp-desk")
    desk.check("desk")


def counter_ids(url: str, *labels: str) -> list[int]:

    db = Database(normalise_database_url(url))
    with db.read() as s:
        found = dict(s.execute(select(Counter.label, Counter.id)).all())
    db.dispose()
    return [found[label] for label in labels]


