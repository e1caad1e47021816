"""Identity of what the office file names: a counter is known by its number (an old file
without numbers: by its label), so renaming or renumbering it keeps the counter (its
officer, its called ticket, the screens' bookmarks), through the admin API, its page and
`motcua office import`; a counter in use is not deleted; a renamed kiosk keeps its token;
migration 0009 keeps what refers to counters. And the report exports carry no live
formulas, whatever names people type."""
from __future__ import annotations

import csv
import io
import tomllib

import pytest
import tomli_w
from alembic import command
from alembic.config import Config
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import create_engine, select, text

from server.cli import main
from server.db.database import MIGRATIONS, Database
from server.db.models import Counter, Procedure, Webhook
from server.engine.offices import import_office
from server.read import exports
from tests.browser.test_admin_pages import PASSWORDS, admin_page, open_tab
from tests.browser.test_desk import Officer, give_desk
from tests.browser.test_supervisor import _passwords
from tests.conftest import Api, make_app, new_token, office_data, screenshot, seed


@pytest.fixture
def app(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path)
    yield app
    app.extensions["motcua"].db.dispose()


@pytest.fixture
def state(app):
    return app.extensions["motcua"]


@pytest.fixture
def admin(app, state):
    return Api(app.test_client(), new_token(state, "admin", "admin"))


def send(api: Api, method: str, path: str, body=None):
    return api.client.open(f"/api/v1{path}", method=method, json=body, headers=api.headers())


def counters(state) -> dict[int, tuple[int, str, bool]]:
    """Every counter row of the demo office: id -> (number, label, active)."""
    with state.db.read() as s:
        return {c.id: (c.number, c.label, c.active) for c in s.scalars(select(Counter).order_by(Counter.id))}


@pytest.fixture
def at_work(app, state, admin):
    """lan.nt holds counter 1 with ticket HT called to it: (officer, counter id, ticket)."""
    give_desk(state)
    lan = Officer(app)
    assert lan.login().status_code == 302
    with state.db.read() as s:
        c1 = s.scalar(select(Counter.id).where(Counter.number == 1, Counter.active.is_(True)))
    assert lan.take(c1).status_code == 200
    assert lan.post(f"/counters/{c1}/open").status_code == 200
    admin.issue("HT")
    called = lan.post(f"/counters/{c1}/call-next").get_json()
    assert called["status"] == "called"
    return lan, c1, called


def still_at_work(app, state, lan, c1, called, label):
    desk = lan.get(f"/counters/{c1}")
    assert desk.status_code == 200, desk.get_json()
    desk = desk.get_json()
    assert (desk["id"], desk["label"], desk["number"]) == (c1, label, 1)
    assert desk["officer"]["username"] == "lan.nt"
    assert desk["current"]["number"] == called["number"] and desk["current"]["status"] == "called"
    assert lan.get("/me").get_json()["holding"] == c1
    display = new_token(state, "display", "Màn hình quầy 1")
    assert app.test_client().get(f"/display/demo?token={display}&counter={c1}").status_code == 200
    # the officer carries on at the same counter
    assert lan.post(f"/tickets/{called['id']}/start").status_code == 200


def test_renaming_a_counter_in_the_admin_api_keeps_the_counter(app, state, admin, at_work):
    lan, c1, called = at_work
    before = counters(state)
    r = send(admin, "PUT", "/offices/demo/config/counters/1", {"label": "Quầy 1 (mới)"})
    assert r.status_code == 200, r.get_json()
    after = counters(state)
    assert set(after) == set(before), "no counter is created"
    assert after[c1] == (1, "Quầy 1 (mới)", True)
    still_at_work(app, state, lan, c1, called, "Quầy 1 (mới)")


def test_renumbering_a_counter_is_a_rename_too(app, state, admin, at_work):
    lan, c1, called = at_work
    r = send(admin, "PUT", "/offices/demo/config/counters/1", {"number": 9, "label": "Quầy 9"})
    assert r.status_code == 200, r.get_json()
    after = counters(state)
    assert len(after) == 6 and after[c1] == (9, "Quầy 9", True)
    lan_doc = next(o for o in r.get_json()["officers"] if o["username"] == "lan.nt")
    assert sorted(lan_doc["counters"]) == [2, 9]  # lan.nt may still work there
    desk = lan.get(f"/counters/{c1}").get_json()
    assert (desk["number"], desk["officer"]["username"], desk["current"]["id"]) == (9, "lan.nt", called["id"])
    entry = admin.get("/offices/demo/audit").get_json()["entries"][0]
    assert entry["action"] == "counter.update" and entry["changes"]["number"] == [1, 9]
    # a number in use is refused by the field, and nothing changes
    r = send(admin, "PUT", "/offices/demo/config/counters/9", {"number": 2})
    assert r.status_code == 400 and r.get_json()["fields"]["number"] == "đã có '2', hãy chọn mã khác"
    assert counters(state)[c1] == (9, "Quầy 9", True)
    # a service's code still cannot change
    r = send(admin, "PUT", "/offices/demo/config/services/HT", {"code": "HX"})
    assert r.status_code == 400 and r.get_json()["fields"]["code"] == "không đổi được sau khi tạo"


def test_a_counter_at_work_is_not_deleted(app, state, admin, at_work):
    """Deleting a counter would leave its officer at a dead counter and its ticket called
    to nowhere: refused, with the reason, until the counter is free."""
    lan, c1, called = at_work
    r = send(admin, "DELETE", "/offices/demo/config/counters/1")
    assert r.status_code == 409 and r.get_json()["error"] == "counter_in_use"
    assert r.get_json()["message"].startswith("Quầy 1 đang có cán bộ làm việc")
    assert counters(state)[c1] == (1, "Quầy 1", True)
    assert lan.post(f"/tickets/{called['id']}/complete").status_code == 200
    assert send(admin, "DELETE", "/offices/demo/config/counters/1").status_code == 409  # lan.nt sits there
    assert lan.post(f"/counters/{c1}/close").status_code == 200
    assert lan.post(f"/counters/{c1}/release").status_code == 200
    r = send(admin, "DELETE", "/offices/demo/config/counters/1")
    assert r.status_code == 200, r.get_json()
    assert counters(state)[c1] == (1, "Quầy 1", False)


def test_a_renamed_kiosk_keeps_its_token_printer_and_place_in_the_file(app, state, admin):
    r = send(admin, "POST", "/offices/demo/devices",
             {"kind": "kiosk", "name": "Kiosk cửa", "printer": "tcp://127.0.0.1:9", "paper_mm": 58})
    assert r.status_code == 201, r.get_json()
    device, token = r.get_json()["device"], r.get_json()["token"]
    r = send(admin, "PUT", f"/offices/demo/devices/{device['id']}", {"name": "Kiosk sảnh trái"})
    assert r.status_code == 200, r.get_json()
    assert admin.issue("HT", token=token)["number"]  # the token still works
    # Any change through the office document keeps the one kiosk, under its new name.
    assert send(admin, "PUT", "/offices/demo/config/counters/2", {"label": "Quầy hai"}).status_code == 200
    kiosks = [d for d in admin.get("/offices/demo/devices").get_json()["devices"] if d["kind"] == "kiosk"]
    renamed = [d for d in kiosks if d["id"] == device["id"]]
    assert renamed and renamed[0]["name"] == "Kiosk sảnh trái" and renamed[0]["printer"] == "tcp://127.0.0.1:9"
    assert renamed[0]["paper_mm"] == 58 and renamed[0]["tokens"] == 1
    assert not [d for d in kiosks if d["name"] == "Kiosk cửa"]


def test_two_counters_swap_labels(app, state, admin):
    before = counters(state)
    c1, c2 = (next(i for i, (n, _, _) in before.items() if n == k) for k in (1, 2))
    assert send(admin, "PUT", "/offices/demo/config/counters/1", {"label": "Quầy tạm"}).status_code == 200
    assert send(admin, "PUT", "/offices/demo/config/counters/2", {"label": "Quầy 1"}).status_code == 200
    assert send(admin, "PUT", "/offices/demo/config/counters/1", {"label": "Quầy 2"}).status_code == 200
    after = counters(state)
    assert set(after) == set(before)
    assert after[c1] == (1, "Quầy 2", True) and after[c2] == (2, "Quầy 1", True)


def test_a_new_counter_may_take_the_label_a_renamed_one_left(state, admin):
    assert send(admin, "PUT", "/offices/demo/config/counters/6", {"label": "Quầy 6 cũ"}).status_code == 200
    r = send(admin, "POST", "/offices/demo/config/counters", {"label": "Quầy 6", "number": 7, "services": ["HT"]})
    assert r.status_code == 201, r.get_json()
    labels = {number: label for number, label, active in counters(state).values() if active}
    assert labels[6] == "Quầy 6 cũ" and labels[7] == "Quầy 6"


def test_renaming_a_counter_in_an_edited_file_keeps_the_counter(app, state, admin, at_work, tmp_path,
                                                                monkeypatch, db_url):

    lan, c1, called = at_work
    data = tomllib.loads(admin.client.get("/api/v1/offices/demo/config.toml", headers=admin.headers())
                         .get_data(as_text=True))
    next(c for c in data["counters"] if c["number"] == 1)["label"] = "Quầy tiếp nhận"
    path = tmp_path / "edited.toml"
    path.write_text(tomli_w.dumps(data))
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("MOTCUA_INSTANCE_PATH", str(tmp_path / "cli"))
    result = CliRunner().invoke(main, ["office", "import", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    after = counters(state)
    assert len(after) == 6 and after[c1] == (1, "Quầy tiếp nhận", True)
    still_at_work(app, state, lan, c1, called, "Quầy tiếp nhận")


def test_an_old_file_without_numbers_is_matched_by_label(state, clock):
    """Files written before counters had numbers name them by label; their numbers follow
    the order. A counter added at the top then keeps every other counter what it was."""
    ids = {label: i for i, (_, label, _) in counters(state).items()}
    data = office_data()
    for c in data["counters"]:
        del c["number"]
    data["counters"].insert(0, {"label": "Quầy 0", "services": ["HT"]})
    for officer in data["officers"]:
        officer["counters"] = []
    with state.db.write() as s:
        import_office(s, data, now=clock.now())
    after = {label: (i, number) for i, (number, label, active) in counters(state).items() if active}
    assert {label: i for label, (i, _) in after.items() if label != "Quầy 0"} == ids
    assert after["Quầy 1"][1] == 2 and after["Quầy 0"][1] == 1


# ---------------------------------------------------------------- exports

DANGEROUS = {
    "office": '=HYPERLINK("http://evil.example","x")',
    "service": "+SUM(1,2)",
    "counter": "-2+3+cmd|' /C calc'!A0",
    "officer": "@SUM(1+1)",
}


def test_a_cell_that_would_be_a_formula_is_text():
    for typed in ("=1+1", "+1", "-1+1", "@SUM(A1)", "\tx", "\rx"):
        assert exports.cell(typed) == "'" + typed
    assert exports.cell("Quầy 1 – Hộ tịch") == "Quầy 1 – Hộ tịch"
    assert exports.cell(-3) == -3 and exports.cell(-0.25) == -0.25 and exports.cell(None) is None


def test_names_typed_as_formulas_reach_the_exports_as_text(app, state, admin):
    """Each name is set through the admin API, a ticket is served so every grouping has a row,
    and neither export holds a formula or a text a spreadsheet would run."""
    for method, path, body in (
            ("PUT", "/offices/demo/config/office", {"name": DANGEROUS["office"]}),
            ("PUT", "/offices/demo/config/services/HT", {"name": DANGEROUS["service"],
                                                         "name_en": DANGEROUS["service"]}),
            ("PUT", "/offices/demo/config/counters/1", {"label": DANGEROUS["counter"]}),
            ("PUT", "/offices/demo/config/officers/lan.nt", {"name": DANGEROUS["officer"]})):
        r = send(admin, method, path, body)
        assert r.status_code == 200, r.get_json()
    give_desk(state)
    lan = Officer(app)
    assert lan.login().status_code == 302
    with state.db.read() as s:
        c1 = s.scalar(select(Counter.id).where(Counter.number == 1, Counter.active.is_(True)))
    assert lan.take(c1).status_code == 200 and lan.post(f"/counters/{c1}/open").status_code == 200
    admin.issue("HT")
    called = lan.post(f"/counters/{c1}/call-next").get_json()
    assert lan.post(f"/tickets/{called['id']}/complete").status_code == 200

    texts = []
    for group in ("day", "service", "counter", "officer"):
        r = admin.get(f"/offices/demo/report.csv?group={group}")
        assert r.status_code == 200
        rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
        assert len(rows) >= 3
        texts += [v for row in rows for v in row]
    r = admin.get("/offices/demo/report.xlsx")
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.data))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert all(isinstance(c.value, (int, float)) for c in cells if c.data_type == "n")
    texts += [c.value for c in cells if c.data_type == "s"]
    assert [v for v in texts if v.startswith(exports.FORMULA_START)] == []
    for name in DANGEROUS.values():
        assert "'" + name in texts
    sheet = book.worksheets[0]
    assert sheet["A1"].value == "'" + DANGEROUS["office"] and sheet["A1"].data_type == "s"
    counts = [c for c in cells if c.data_type == "n"]
    assert counts, "figures stay numbers"


def test_the_admin_page_renames_and_renumbers_a_counter(servers, sqlite_url, page_factory):

    seed(sqlite_url)
    _passwords(sqlite_url, **PASSWORDS)
    server = servers(sqlite_url)
    engine = create_engine(sqlite_url)

    def rows():
        with engine.connect() as conn:
            return {r.id: (r.number, r.label, r.active) for r in conn.execute(
                select(Counter.id, Counter.number, Counter.label, Counter.active))}
    before = rows()
    page, watch = admin_page(page_factory, server.url, tab="counters")
    open_tab(page, "counters")
    page.locator("#list-counters tr[data-key='2'] button", has_text="Sửa").click()
    form = page.locator("#form-counters form")
    assert "Đổi số vẫn là quầy này" in form.inner_text()
    form.get_by_label("Tên quầy").fill("Quầy tiếp dân")
    form.get_by_label("Số quầy").fill("8")
    screenshot(page, "identity-counter-renumber")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#list-counters tr[data-key='8']")
    assert "Quầy tiếp dân" in page.locator("#list-counters tr[data-key='8']").inner_text()
    after = rows()
    engine.dispose()
    c2 = next(i for i, (n, _, _) in before.items() if n == 2)
    assert set(after) == set(before) and after[c2] == (8, "Quầy tiếp dân", True)
    assert watch.errors == []


# Columns of `offices` added by migrations after 0009: the office is imported through
# today's model at 0008, so they are there for the import only.
LATER_TABLES = (Procedure.__table__, Webhook.__table__)  # 0016_procedures; 0024_webhooks (the directory reads them)
LATER_COLUMNS = {  # columns later migrations add, which the model of today writes
    ("offices", "min_no_show_s"): "INTEGER NOT NULL DEFAULT 0",  # 0011_absent
    ("offices", "config_rev"): "INTEGER NOT NULL DEFAULT 0",  # 0015_hot_path
    ("offices", "postal_fee"): "INTEGER NOT NULL DEFAULT 0",  # 0018_dossiers
    ("offices", "postal_target_pct"): "INTEGER NOT NULL DEFAULT 25",
    ("offices", "return_service"): "VARCHAR(16)",
    ("offices", "id_card_scan"): "VARCHAR(8) NOT NULL DEFAULT 'off'",  # 0020_citizens
    ("offices", "per_citizen_per_day"): "INTEGER NOT NULL DEFAULT 0",
    ("offices", "priority_age"): "INTEGER NOT NULL DEFAULT 0",
    ("offices", "priority_groups"): "JSON",
    ("offices", "remote"): "JSON",  # 0025_remote_numbers
    ("tickets", "procedure_id"): "INTEGER",  # 0016_procedures
    ("tickets", "outcome"): "VARCHAR(16)",
    ("tickets", "dossier"): "VARCHAR(64)",
    ("tickets", "priority_group"): "VARCHAR(16)",  # 0020_citizens
    ("tickets", "priority_rank"): "SMALLINT NOT NULL DEFAULT 0",
    ("tickets", "note"): "VARCHAR(200)",
    ("tickets", "citizen_key"): "VARCHAR(64)",
    ("tickets", "birth_year"): "SMALLINT",
    ("waiting_areas", "count_day"): "DATE",  # 0014_seat_counts
    ("waiting_areas", "seats_used"): "INTEGER NOT NULL DEFAULT 0",
    ("waiting_areas", "waiting_outside"): "INTEGER NOT NULL DEFAULT 0",
    ("waiting_areas", "changes"): "INTEGER NOT NULL DEFAULT 0",
}


def test_the_migration_keeps_what_refers_to_counters(tmp_path, clock):
    """0009 rebuilds the counters table on SQLite: the services each counter serves, the
    counters each officer may use and the tickets called to them all stay."""

    db = Database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with db.write_engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008")
        for (table, column), kind in LATER_COLUMNS.items():  # the model of today writes them
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {kind}"))
        for table in LATER_TABLES:
            table.create(conn)
        conn.commit()
    with db.write() as s:
        import_office(s, office_data(), now=clock.now())
    with db.write_engine.connect() as conn:
        for table, column in LATER_COLUMNS:  # and their own migrations add them again
            conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        for table in LATER_TABLES:
            table.drop(conn)
        conn.execute(text(
            "INSERT INTO tickets (office_id, service_id, day, number, priority, channel, status, public_token,"
            " issued_at, queued_at, called_at, counter_id, recalls, location) SELECT c.office_id, cs.service_id,"
            " '2026-11-23', '1001', 0, 'kiosk', 'called', 'tok', '2026-11-23 02:00:00', '2026-11-23 02:00:00',"
            " '2026-11-23 02:01:00', c.id, 0, 'inside' FROM counters c"
            " JOIN counter_services cs ON cs.counter_id = c.id WHERE c.number = 1 LIMIT 1"))
        conn.commit()
    counts = ("SELECT (SELECT count(*) FROM counter_services), (SELECT count(*) FROM user_counters),"
              " (SELECT count(*) FROM tickets WHERE counter_id IS NOT NULL), (SELECT count(*) FROM counters)")
    with db.write_engine.connect() as conn:
        before = tuple(conn.execute(text(counts)).one())
    db.migrate()
    with db.write_engine.connect() as conn:
        after = tuple(conn.execute(text(counts)).one())
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # on again for the app
    db.dispose()
    assert before[0] > 0 and before[1] > 0 and before[2] == 1
    assert after == before
