"""The command line, as an office's IT person uses it."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select

from server.cli import main, settings
from server.db.database import Database
from server.db.models import Device, Office
from server.engine.offices import export_office
from tests.conftest import DEMO_FILE, free_port


@pytest.fixture
def cli(tmp_path, sqlite_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("MOTCUA_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("MOTCUA_LANG", raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)
    return run


@pytest.mark.slow
def test_office_import_creates_then_updates(cli, tmp_path):
    r = cli("office", "import", str(DEMO_FILE))
    assert r.exit_code == 0 and "Đã nạp đơn vị demo: 6 lĩnh vực, 6 quầy." in r.output
    text = DEMO_FILE.read_text().replace('label = "Quầy 6"', 'label = "Quầy 7"')
    changed = tmp_path / "changed.toml"
    changed.write_text(text)
    r = cli("office", "import", str(changed))
    assert r.exit_code == 0 and "6 quầy" in r.output  # Quầy 6 deactivated, Quầy 7 added


def test_office_import_lists_every_problem_and_changes_nothing(cli, tmp_path):
    lines = DEMO_FILE.read_text()
    lines = lines.replace('numbers = "2001-2999"', 'numbers = "1500-2500"')  # overlaps HT
    lines = lines.replace('timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Mars/Olympus"')
    lines = lines.replace('services = ["DD"]', 'services = ["XX"]')
    lines = lines.replace('mon = ["00:00-24:00"]', 'mon = ["17:00-07:30"]')
    path = tmp_path / "bad.toml"
    path.write_text(lines)
    r = cli("office", "import", str(path))
    assert r.exit_code == 2
    assert "chưa thay đổi gì" in r.output
    for fragment in ("services[1].numbers: dải số trùng với lĩnh vực HT",
                     "office.timezone: không có múi giờ 'Mars/Olympus'",
                     "counters[3].services: không có lĩnh vực 'XX'",
                     "hours.mon:"):
        assert fragment in r.output, r.output
    (tmp_path / "broken.toml").write_text("code = [")
    assert cli("office", "import", str(tmp_path / "broken.toml")).exit_code == 2


@pytest.mark.slow
def test_token_create_prints_only_the_token(cli):
    cli("office", "import", str(DEMO_FILE))
    assert "chưa có mã nào" in cli("token", "list", "--office", "demo").output
    r = cli("token", "create", "--office", "demo", "--role", "kiosk", "--name", "Kiosk tầng 2")
    assert r.exit_code == 0
    assert re.fullmatch(r"[A-Za-z0-9_-]{40,}\n", r.stdout)  # scriptable: the token alone on stdout
    listed = cli("token", "list", "--office", "demo").stdout
    assert listed.splitlines()[0] == "SỐ HIỆU\tVAI TRÒ\tTÊN\tTẠO LÚC"
    assert "kiosk\tKiosk tầng 2" in listed and r.stdout.strip() not in listed
    r = cli("token", "create", "--office", "demo", "--role", "officer", "--name", "nobody")
    assert r.exit_code == 2 and "không có cán bộ 'nobody'" in r.output
    r = cli("token", "create", "--office", "nowhere", "--role", "admin")
    assert r.exit_code == 2 and "Không có đơn vị 'nowhere'" in r.output
    assert "Đã thu hồi 1 mã." in cli("token", "revoke", "--office", "demo", "--name", "Kiosk tầng 2").output


@pytest.mark.slow
def test_token_create_says_where_to_open_it(cli, tmp_path, monkeypatch):
    cli("office", "import", str(DEMO_FILE))
    r = cli("token", "create", "--office", "demo", "--role", "display", "--name", "TV sảnh")
    token = r.stdout.strip()
    # No server has run with this instance folder and no MOTCUA_PUBLIC_URL: the path, and how to learn the rest.
    assert f"/display/demo?token={token}" in r.stderr and "motcua serve" in r.stderr
    (tmp_path / "instance" / "public-url").write_text("http://192.168.1.20:8080\n")  # what serve wrote
    r = cli("token", "create", "--office", "demo", "--role", "kiosk", "--name", "Kiosk 2")
    assert r.stderr.strip() == f"Mở trên thiết bị: http://192.168.1.20:8080/kiosk/demo?token={r.stdout.strip()}"
    monkeypatch.setenv("MOTCUA_PUBLIC_URL", "https://motcua.hoankiem.gov.vn")
    r = cli("token", "create", "--office", "demo", "--role", "kiosk", "--name", "Kiosk 3")
    assert f"https://motcua.hoankiem.gov.vn/kiosk/demo?token={r.stdout.strip()}" in r.stderr
    r = cli("token", "create", "--office", "demo", "--role", "admin", "--name", "admin")
    assert "https://motcua.hoankiem.gov.vn/counter/" in r.stderr


@pytest.mark.slow
def test_office_export_reads_back_through_import(cli, tmp_path, sqlite_url):


    cli("office", "import", str(DEMO_FILE))
    out = tmp_path / "demo-export.toml"
    r = cli("office", "export", str(out))
    assert r.exit_code == 0 and "Đã ghi đơn vị demo" in r.output
    text = out.read_text(encoding="utf-8")
    assert 'code = "demo"' in text and "Hộ tịch" in text
    assert cli("office", "export", "-").stdout == text
    changed = tmp_path / "changed.toml"
    changed.write_text(text.replace('code = "demo"', 'code = "demo2"', 1), encoding="utf-8")
    r = cli("office", "import", str(changed))
    assert r.exit_code == 0 and "Đã nạp đơn vị demo2: 6 lĩnh vực, 6 quầy." in r.output
    db = Database(sqlite_url)
    try:
        with db.read() as s:
            one, two = (export_office(s, s.scalar(select(Office).where(Office.code == c))) for c in ("demo", "demo2"))
        assert {**one, "code": "demo2"} == two  # the round trip keeps every setting
    finally:
        db.dispose()
    assert cli("office", "export", str(out)).exit_code == 2  # two offices now: which one?
    assert cli("office", "export", "--office", "demo2", str(out)).exit_code == 0
    r = cli("office", "export", "--office", "nowhere", str(out))
    assert r.exit_code == 2 and "nowhere" in r.output


@pytest.mark.slow
def test_serve_demo_prints_pages_accounts_and_working_tokens(tmp_path):
    port = free_port()
    env = {**os.environ, "MOTCUA_INSTANCE_PATH": str(tmp_path), "LANG": "C.UTF-8"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--demo", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "Booting worker" in line or not line:
                break
        out = "".join(lines)
        assert f"http://127.0.0.1:{port}/" in out and (tmp_path / "motcua.sqlite3").exists()
        kiosk = re.search(r"/kiosk/demo\?token=(\S+)", out)[1]
        display = re.search(r"/display/demo\?token=(\S+)", out)[1]
        assert "lan.nt" in out and "demo-lan" in out and "Nguyễn Thị Lan" in out
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(f"{base}/healthz", timeout=1)
                break
            except (requests.ConnectionError, requests.Timeout):  # starting, or a busy machine
                time.sleep(0.1)
        r = requests.post(f"{base}/api/v1/offices/demo/tickets", json={"service": "HT"},
                          headers={"Authorization": f"Bearer {kiosk}"}, timeout=5)
        assert r.status_code == 201 and r.json()["number"] == "1001"
        r = requests.get(f"{base}/api/v1/offices/demo/board", headers={"Authorization": f"Bearer {display}"},
                         timeout=5)
        assert r.json()["waiting"]["HT"] == 1
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(10)
    # A second start keeps the same demo tokens and does not load the office twice.
    proc = subprocess.run([sys.executable, "-c", (
        "from server.cli import _load_demo, settings; from server.db.database import Database;"
        "c = settings(); db = Database(c.database_url); print(_load_demo(db, c)('http://x'))")],
        env=env, capture_output=True, text=True, timeout=30)
    assert f"token={kiosk}" in proc.stdout, proc.stderr


@pytest.mark.slow
def test_kiosk_printer_sets_and_checks_the_address(cli):
    cli("office", "import", str(DEMO_FILE))
    r = cli("kiosk", "printer", "--office", "demo", "--name", "Kiosk sảnh", "--paper", "58",
            "tcp://192.0.2.10:9100")
    assert r.exit_code == 0 and "Kiosk sảnh" in r.output
    r = cli("kiosk", "printer", "--office", "demo", "--name", "Kiosk sảnh", "lpt://1")
    assert r.exit_code == 2 and "Địa chỉ máy in không dùng được" in r.output
    r = cli("kiosk", "printer", "--office", "nowhere", "--name", "K", "none")
    assert r.exit_code == 2 and "Không có đơn vị 'nowhere'" in r.output
    db = Database(settings().database_url)
    with db.read() as s:
        device = s.query(Device).filter_by(name="Kiosk sảnh").one()
        assert (device.printer, device.paper_mm) == ("tcp://192.0.2.10:9100", 58)
    db.dispose()
