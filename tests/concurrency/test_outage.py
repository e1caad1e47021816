"""The database goes away and comes back: every route answers 503 database_unavailable with
Retry-After (pages a calm page that reloads itself), /healthz says what is down, the log says
it once per outage, sockets are refused with the reason, and all works again without a restart.

PostgreSQL is shared with other tests, so it is never stopped: the server reaches it through
a TCP proxy on 127.0.0.1 that the test closes and opens again."""
from __future__ import annotations

import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import socketio

from tests.conftest import demo_data, free_port, screenshot, seed
from tests.printing.test_agent import _agent, _stop, _until
from tests.support.fakeprinter import read_qr, received_images
from tests.support.tcpproxy import TcpProxy


@pytest.fixture
def proxied_pg(pg_url):
    """(database URL through a proxy, the proxy): the database as the server sees it."""
    parts = urlsplit(pg_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    netloc = f"{parts.username}@127.0.0.1:{proxy.port}" if parts.username else f"127.0.0.1:{proxy.port}"
    if parts.password:
        netloc = f"{parts.username}:{parts.password}@127.0.0.1:{proxy.port}"
    yield parts._replace(netloc=netloc).geturl(), proxy
    proxy.close()


def socket_refusal(url: str, token: str) -> dict | None:
    """Connect as a screen; the reason the server gave for refusing, or None if it accepted."""
    sio = socketio.Client(reconnection=False)
    reasons: list = []
    sio.on("connect_error", lambda data=None: reasons.append(data))
    try:
        sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        return reasons[0] if reasons else {"message": "no answer"}
    sio.disconnect()
    return None


def core(body: dict) -> dict:
    """What /healthz says about what this process reaches (devices and voice: test_device_health)."""
    return {k: body.get(k) for k in ("status", "database", "redis")}


def wait_healthy(url: str, timeout: float = 10) -> requests.Response:
    deadline = time.monotonic() + timeout
    while True:
        r = requests.get(f"{url}/healthz", timeout=5)
        if r.status_code == 200 or time.monotonic() > deadline:
            return r
        time.sleep(0.2)


def assert_unavailable(server, tokens) -> None:
    auth = {"Authorization": f"Bearer {tokens['admin']}"}
    health = requests.get(f"{server.url}/healthz", timeout=10)
    assert health.status_code == 503
    assert core(health.json()) == {"status": "unavailable", "database": "down", "redis": "off"}
    assert int(health.headers["Retry-After"]) > 0

    for r in (requests.get(f"{server.url}/api/v1/offices/demo", headers=auth, timeout=10),
              requests.post(f"{server.url}/api/v1/offices/demo/tickets", json={"service": "HT"},
                            headers={"Authorization": f"Bearer {tokens['kiosk']}"}, timeout=10),
              requests.get(f"{server.url}/api/v1/public/tickets/AAAAAAAAAAAA", timeout=10)):
        assert r.status_code == 503, r.text
        assert r.json()["error"] == "database_unavailable"
        assert "cơ sở dữ liệu" in r.json()["message"]
        assert int(r.headers["Retry-After"]) > 0

    for path in ("/", f"/kiosk/demo?token={tokens['kiosk']}", "/book/demo"):
        page = requests.get(f"{server.url}{path}", timeout=10)
        assert page.status_code == 503, path
        assert page.headers["Content-Type"].startswith("text/html")
        assert int(page.headers["Retry-After"]) > 0
        # Calm, and it tries again by itself without any script (the pages allow none inline).
        assert "Hệ thống tạm gián đoạn" in page.text and "Trang sẽ tự tải lại" in page.text
        assert f'<meta http-equiv="refresh" content="{page.headers["Retry-After"]}">' in page.text
        assert "<script" not in page.text and "503" not in page.text

    assert socket_refusal(server.url, tokens["display"]) == {"message": "database_unavailable"}


def test_a_database_outage_is_503_logged_once_and_over_without_a_restart(proxied_pg, servers):
    url, proxy = proxied_pg
    tokens = seed(url)
    server = servers(url)
    log = Path(server.log.name)
    assert core(requests.get(f"{server.url}/healthz", timeout=5).json()) == {
        "status": "ok", "database": "up", "redis": "off"}

    for outage in (1, 2):
        proxy.close()
        assert_unavailable(server, tokens)
        assert_unavailable(server, tokens)  # every request alike, however many
        proxy.open()
        assert core(wait_healthy(server.url).json()) == {"status": "ok", "database": "up", "redis": "off"}
        r = requests.post(f"{server.url}/api/v1/offices/demo/tickets", json={"service": "HT"},
                          headers={"Authorization": f"Bearer {tokens['kiosk']}"}, timeout=10)
        assert r.status_code == 201, r.text
        assert socket_refusal(server.url, tokens["display"]) is None

        text = log.read_text()
        assert text.count("database unavailable") == outage, text
        assert text.count("database available again") == outage, text
        assert "Traceback" not in text and "unexpected error" not in text, text


def test_redis_down_is_reported_by_healthz_without_failing_it(sqlite_url, servers):
    """A city's processes share Redis: without it events stay in each process, so /healthz
    says so but keeps 200 (taking every process out would stop the whole city)."""
    seed(sqlite_url)
    server = servers(sqlite_url, redis_url=f"redis://127.0.0.1:{free_port()}/0")  # nobody there
    r = requests.get(f"{server.url}/healthz", timeout=10)
    assert r.status_code == 200
    assert core(r.json()) == {"status": "degraded", "database": "up", "redis": "down"}


def test_a_deleted_sqlite_file_is_503_and_its_return_is_200(app, sqlite_url, tmp_path):
    """SQLite: a connection opened where the file was finds no tables (a new empty file)."""
    state = app.extensions["motcua"]
    client = app.test_client()
    path = Path(sqlite_url.split("///", 1)[1])
    assert client.get("/healthz").status_code == 200
    kept = tmp_path / "kept.sqlite3"
    shutil.move(path, kept)
    state.db.dispose()  # the pool's open connections would keep reading the moved file
    r = client.get("/healthz")
    assert r.status_code == 503 and r.get_json()["database"] == "down"
    r = client.get("/api/v1/public/tickets/AAAAAAAAAAAA")
    assert r.status_code == 503 and r.get_json()["error"] == "database_unavailable"
    assert state.db.outage.active
    state.db.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.move(kept, path)
    assert client.get("/healthz").status_code == 200
    assert not state.db.outage.active


def test_the_calm_page_reloads_itself_when_the_database_is_back(proxied_pg, servers, page_factory):
    url, proxy = proxied_pg
    tokens = seed(url)
    server = servers(url)
    proxy.close()
    page = page_factory(width=1080, height=900)
    page.goto(f"{server.url}/kiosk/demo?token={tokens['kiosk']}")
    assert page.title() == "Hệ thống tạm gián đoạn"
    screenshot(page, "outage-kiosk")
    proxy.open()
    page.wait_for_function("document.title !== 'Hệ thống tạm gián đoạn'", timeout=25000)
    assert page.title().startswith("Máy lấy số")


def test_a_print_agent_started_during_an_outage_waits_for_the_database(proxied_pg, servers, tmp_path):
    """The agent ends on a refused token, but a server without its database is only waited out."""

    url, proxy = proxied_pg
    office = demo_data()
    office["kiosks"] = [{"name": "Kiosk sảnh", "printer": "usb://04b8:0202", "paper": 58}]
    tokens = seed(url, office)
    server = servers(url)
    paper = tmp_path / "paper.bin"
    proxy.close()
    with open(tmp_path / "agent.log", "w") as log:
        agent = _agent(server.url, tokens["kiosk"], paper, tmp_path / "printed.txt", log)
        try:
            _until(lambda: "database_unavailable" in (tmp_path / "agent.log").read_text(), what="a refusal")
            time.sleep(1)
            assert agent.poll() is None, (tmp_path / "agent.log").read_text()
            proxy.open()
            r = requests.post(f"{server.url}/api/v1/offices/demo/tickets", json={"service": "DD"},
                              headers={"Authorization": f"Bearer {tokens['kiosk']}"}, timeout=10)
            assert r.status_code == 201, r.text
            _until(lambda: paper.exists() and [read_qr(i) for i in received_images(paper.read_bytes())],
                   what="the ticket printed")
        finally:
            assert _stop(agent) == 0
    assert [read_qr(i) for i in received_images(paper.read_bytes())] == [r.json()["status_url"]]
