"""Fixtures: a fresh app on a real SQLite file (or real PostgreSQL), a settable clock,
tokens per role, and real server processes for realtime and multi-process tests.

Under CI=true a missing PostgreSQL or Redis fails the tests that need it instead of
skipping them.
"""
from __future__ import annotations

import atexit
import contextlib
import copy
import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import tomllib
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
import requests
from playwright.sync_api import sync_playwright
from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.exc import OperationalError

from server.app import create_app
from server.db.database import Database
from server.db.models import Counter
from server.engine.auth import create_token
from server.engine.offices import import_office
from server.infra.clock import FixedClock
from server.infra.settings import Settings, normalise_database_url
from tests.support.sockets import Http

ROOT = Path(__file__).resolve().parent.parent
DEMO_FILE = ROOT / "server" / "demo" / "demo.toml"
PG_URL = os.environ.get("MOTCUA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("MOTCUA_TEST_REDIS", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() == "true"
WEEKDAY_HOURS = {d: ["07:30-11:30", "13:30-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
# Monday 23 November 2026, 09:00 in Hanoi.
MONDAY_9AM = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


# Markers, given from where a test lives and what it uses (pyproject.toml lists them):
# `browser` (Chromium), `pg` (PostgreSQL), `redis`, `slow` (real server processes, the
# concurrency and bench folders, property searches; tests that take over about 0.75 s here
# say so themselves: they wait out a timeout, hash passwords or run the CLI), and
# `fast` for every other test: the quick tier, `pytest -m fast -n 2` (no shared database,
# so the two workers of pytest-xdist cannot meet).
SLOW_FOLDERS = {"concurrency", "bench"}
SLOW_FIXTURES = {"servers", "two_chairs"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        used = set(item.fixturenames)
        params = item.callspec.id if hasattr(item, "callspec") else ""
        if used & {"chromium", "page_factory"}:
            item.add_marker(pytest.mark.browser)
        if "pg_url" in used or "pg_migrated" in used or "postgresql" in params:
            item.add_marker(pytest.mark.pg)
        if "redis_url" in used:
            item.add_marker(pytest.mark.redis)
        # Property searches (hypothesis) run their test many times over.
        searches = getattr(getattr(item, "obj", None), "is_hypothesis_test", False)
        if used & SLOW_FIXTURES or item.path.parent.name in SLOW_FOLDERS or searches:
            item.add_marker(pytest.mark.slow)
        if not any(item.get_closest_marker(m) for m in ("browser", "pg", "redis", "slow")):
            item.add_marker(pytest.mark.fast)


def need(service: str, reason: str):
    """A service the test cannot run without: fail in CI, skip on a laptop."""
    if IN_CI:
        pytest.fail(f"{service} is required under CI=true: {reason}")
    pytest.skip(f"{service} not available: {reason}")


def office_data(**overrides) -> dict:
    """The demo office as a dict, with realistic weekday hours unless overridden."""
    data = tomllib.loads(DEMO_FILE.read_text())
    data["hours"] = dict(WEEKDAY_HOURS)
    for officer in data["officers"]:
        del officer["password"]  # hashing is deliberately slow; these tests do not log in
    data.update(overrides)
    return data


def without_areas(data: dict) -> dict:
    """The office with no seat map: its tickets wait inside, seatless. Tests of the core
    event protocol use it, so their event lists are not interleaved with seat news."""
    data = copy.deepcopy(data)
    data.pop("areas", None)
    for sv in data["services"]:
        sv.pop("area", None)
    for c in data.get("counters", []):
        c.pop("x", None)
        c.pop("y", None)
    return data


def without_procedures(data: dict) -> dict:
    """The office with no procedures catalogue: its kiosk issues on the service's tap, as
    before issue 17 (tests/browser/test_kiosk_procedures.py covers the catalogue)."""
    data = copy.deepcopy(data)
    data.pop("procedures", None)
    return data


def two_chair_office() -> dict:
    """The demo office with area A cut to two chairs (both usable), so the third citizen
    waits outside; area B as in the demo. For the screens' seat tests."""
    data = demo_data()
    for officer in data["officers"]:
        officer.pop("password", None)  # hashing is slow; nobody logs in here
    data["areas"][0].update(max_share=1.0, min_distance_m=0.0, rows=[],
                            seats=[{"label": "1", "x": 1.2, "y": 3.0}, {"label": "2", "x": 3.2, "y": 3.0}])
    return data


@pytest.fixture
def two_chairs(sqlite_url, servers):
    """A server with `two_chair_office`: (server, tokens, admin's Http, counter ids by label)."""
    tokens = seed(sqlite_url, two_chair_office())
    server = servers(sqlite_url)
    admin = Http(server.url, tokens["admin"])
    return server, tokens, admin, admin.counters()


def demo_data() -> dict:
    """The demo office file as it is (open around the clock)."""
    return tomllib.loads(DEMO_FILE.read_text())


@pytest.fixture
def espeak():
    """eSpeak NG, which speaks the lobby's announcements."""
    if shutil.which("espeak-ng") is None:
        need("espeak-ng", "apt-get install espeak-ng")


# ---------------------------------------------------------------- databases

@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """One migrated SQLite file, copied for each test: migrating per test is slow."""
    path = tmp_path_factory.mktemp("template") / "motcua.sqlite3"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_migrated() -> str:
    try:
        url = _own_database(normalise_database_url(PG_URL))
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    except Exception as e:  # noqa: BLE001 - any connection failure means "not available"
        need("PostgreSQL", str(e).splitlines()[0])
    db = Database(url)
    db.migrate()
    db.dispose()
    return url


def _own_database(url: str) -> str:
    """The test run's own PostgreSQL database. Anything else on the machine that uses the
    shared `test` database at the same time (another test run, a benchmark) would empty its
    tables under this run's feet, or take its day's tickets for its own: so, unless
    MOTCUA_TEST_PG names one, each run (each xdist worker) makes a database of its own next
    to `test`, and drops it when it ends."""
    if os.environ.get("MOTCUA_TEST_PG"):
        return url
    own = make_url(url).set(database=f"motcua_test_{os.getpid()}")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{own.database}"'))
    finally:
        admin.dispose()
    atexit.register(_drop_database, url, own.database)
    return own.render_as_string(hide_password=False)


def _drop_database(url: str, name: str) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    except OperationalError:
        pass  # the server went away first: nothing left to tidy
    finally:
        admin.dispose()


def _truncate_pg(url: str) -> None:
    """Empty every table. TRUNCATE takes each table's strongest lock in turn, so anything else
    reading two tables at that moment (PostgreSQL's own autovacuum and autoanalyze do, after
    the bulk tests) can meet it in a deadlock, which PostgreSQL breaks by failing one side: try
    again, and say who else was there, so a leftover connection of a test would show."""
    engine = create_engine(url)
    try:
        for attempt in range(5):
            try:
                with engine.begin() as conn:
                    tables = conn.execute(text(
                        "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename<>'alembic_version'"
                    )).scalars().all()
                    conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
                return
            except OperationalError as e:
                if attempt == 4 or "deadlock" not in str(e):
                    raise
                warnings.warn(f"TRUNCATE met a deadlock; others then: {_others(engine)}", stacklevel=2)
                time.sleep(0.2 * (attempt + 1))
    finally:
        engine.dispose()


def _others(engine) -> list:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT pid, backend_type, state, left(query, 120) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"))]


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path) -> str:
    path = tmp_path / "motcua.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def pg_url(pg_migrated) -> str:
    _truncate_pg(pg_migrated)
    return pg_migrated


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request) -> str:
    """Run the test on both databases."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except Exception as e:  # noqa: BLE001
        need("Redis", str(e))
    return REDIS_URL


# ---------------------------------------------------------------- the app

@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY_9AM)


def make_app(url: str, clock: FixedClock, instance: Path, office: dict | None = None):
    office = office or office_data()
    imported = _imported_copy(url, office, clock.now())
    settings = Settings(instance_path=instance, database_url=normalise_database_url(url),
                        redis_url=None, secret_key="test-secret", public_url="http://motcua.test")
    app = create_app({"TESTING": True, "SETTINGS": settings, "CLOCK": clock})
    if not imported:
        with app.extensions["motcua"].db.write() as s:
            import_office(s, office, now=clock.now())
    return app


_IMPORTED: dict[str, Path] = {}
_IMPORTED_DIR = Path(tempfile.mkdtemp(prefix="motcua-offices-"))
atexit.register(shutil.rmtree, _IMPORTED_DIR, True)


def _imported_copy(url: str, office: dict, now: datetime) -> bool:
    """A fresh SQLite file gets the office by copying a file that imported the same office at
    the same time once (importing settles the seat maps: a third of a test's set-up). Any
    other database, or one that already holds an office, imports it as the app would."""
    if not url.startswith("sqlite:///"):
        return False
    path = Path(url.removeprefix("sqlite:///"))
    with contextlib.closing(sqlite3.connect(path)) as conn:
        if conn.execute("SELECT count(*) FROM offices").fetchone()[0]:
            return False
    key = hashlib.sha256(json.dumps([office, now.isoformat()], sort_keys=True, default=str).encode()).hexdigest()
    done = _IMPORTED.get(key)
    if done is None:
        db = Database(f"sqlite:///{path}")
        with db.write() as s:
            import_office(s, copy.deepcopy(office), now=now)
        db.dispose()
        with contextlib.closing(sqlite3.connect(path)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        done = _IMPORTED_DIR / f"{key}.sqlite3"
        shutil.copy(path, done)
        _IMPORTED[key] = done
    else:
        shutil.copy(done, path)
    return True


@pytest.fixture
def app(sqlite_url, clock, tmp_path):
    app = make_app(sqlite_url, clock, tmp_path)
    yield app
    app.extensions["motcua"].db.dispose()


@pytest.fixture
def state(app):
    return app.extensions["motcua"]


@pytest.fixture
def client(app):
    return app.test_client()


def new_token(state, role: str, name: str | None = None, office: str = "demo") -> str:
    with state.db.write() as s:
        return create_token(s, office, role, name, state.clock.now())


@pytest.fixture
def tokens(state) -> dict[str, str]:
    return {role: new_token(state, role, name) for role, name in (
        ("kiosk", "Kiosk sảnh"), ("display", "Màn hình sảnh"), ("officer", "lan.nt"),
        ("supervisor", "mai.pt"), ("admin", "admin"))}


class Api:
    """A thin JSON client over Flask's test client."""

    def __init__(self, client, token: str | None = None, lang: str | None = None):
        self.client, self.token, self.lang = client, token, lang

    def headers(self, token=None):
        h = {}
        tok = token or self.token
        if tok:
            h["Authorization"] = f"Bearer {tok}"
        if self.lang:
            h["Accept-Language"] = self.lang
        return h

    def get(self, path, token=None):
        return self.client.get(f"/api/v1{path}", headers=self.headers(token))

    def post(self, path, json=None, token=None, data=None):
        if data is not None:
            return self.client.post(f"/api/v1{path}", data=data, headers=self.headers(token))
        return self.client.post(f"/api/v1{path}", json=json, headers=self.headers(token))

    def issue(self, service="HT", priority=False, token=None):
        r = self.post("/offices/demo/tickets", {"service": service, "priority": priority}, token)
        assert r.status_code == 201, r.get_json()
        return r.get_json()


@pytest.fixture
def api(client, tokens) -> Api:
    """Authenticated as the office admin; pass token= to act as another role."""
    return Api(client, tokens["admin"])


def counter_id(state, label: str) -> int:

    with state.db.read() as s:
        return s.scalar(select(Counter.id).where(Counter.label == label))


# ---------------------------------------------------------------- real servers

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """`motcua serve` in its own process, on 127.0.0.1 and a free port."""

    def __init__(self, database_url: str, instance: Path, redis_url: str | None = None,
                 port: int | None = None, env: dict[str, str] | None = None):
        self.port = port or free_port()  # pass a port to restart a server at the same address
        self.url = f"http://127.0.0.1:{self.port}"
        extra_env = env or {}
        env = {**os.environ, "DATABASE_URL": database_url, "MOTCUA_INSTANCE_PATH": str(instance)}
        for name in ("REDIS_URL", "MOTCUA_PUBLIC_URL", "SMS_GATEWAY_URL"):
            env.pop(name, None)  # only what a test asks for
        if redis_url:
            env["REDIS_URL"] = redis_url
        env.update(extra_env)
        self.log = open(instance / f"server-{self.port}.log", "w")  # noqa: SIM115 - closed when the server stops
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1",
             "--port", str(self.port)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {Path(self.log.name).read_text()[-2000:]}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=3).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):  # still starting, or a busy machine
                time.sleep(0.1)
        raise RuntimeError("server did not start in time")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


@pytest.fixture
def servers(tmp_path):
    """Start real server processes: servers(database_url, redis_url=None, port=None, env=None)
    -> ServerProcess; `env`: more environment settings."""
    started: list[ServerProcess] = []

    def start(database_url: str, redis_url: str | None = None, port: int | None = None,
              env: dict[str, str] | None = None) -> ServerProcess:
        instance = tmp_path / f"instance-{len(started)}"
        instance.mkdir()
        server = ServerProcess(database_url, instance, redis_url, port, env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def seed(database_url: str, office: dict | None = None) -> dict[str, str]:
    """Load an office (open all day, so a real clock works) and make a token per role."""
    db = Database(normalise_database_url(database_url))
    db.migrate()
    data = office or tomllib.loads(DEMO_FILE.read_text())
    now = datetime.now(UTC)
    with db.write() as s:
        import_office(s, data)
        tokens = {role: create_token(s, data["code"], role, name, now) for role, name in (
            ("kiosk", "Kiosk sảnh"), ("display", "Màn hình sảnh"), ("officer", "lan.nt"),
            ("admin", "admin"))}
    db.dispose()
    return tokens


# ---------------------------------------------------------------- browser

CHROMIUM = os.environ.get("MOTCUA_TEST_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright; never a downloaded browser."""
    if not os.path.exists(CHROMIUM):
        need("Chromium", f"{CHROMIUM} not found (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--autoplay-policy=no-user-gesture-required"])
        yield browser
        browser.close()


@pytest.fixture
def page_factory(chromium, tmp_path):
    """New pages at a given viewport; screenshots land in test-artifacts/ for a person to look at.

    Playwright's wait_for_function runs its predicate through eval(), which the pages'
    Content-Security-Policy refuses; pages are opened with it bypassed unless a test passes
    bypass_csp=False (tests/api/test_links_headers.py opens every page with it enforced)."""
    contexts = []

    def new(width=1080, height=1920, **options):
        options.setdefault("bypass_csp", True)
        context = chromium.new_context(viewport={"width": width, "height": height}, **options)
        contexts.append(context)
        return context.new_page()

    yield new
    for context in contexts:
        context.close()


ARTIFACTS = ROOT / "test-artifacts"


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
