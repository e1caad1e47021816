"""The `motcua` command line: the same engine and database code the web uses."""
from __future__ import annotations

import logging
import os
import signal
import sys
import tomllib
from pathlib import Path

import click
import tomli_w
from flask import Flask
from sqlalchemy import select

from kiosk import printers, ticket
from kiosk.agent import Agent, default_state_file
from server.app import create_app, transaction
from server.bench.cityreports import run as run_reports
from server.bench.hotpath import run as run_profile
from server.bench.load import run as run_bench
from server.db.database import Database
from server.db.models import ApiToken, Office
from server.engine import accounts, auth, commands
from server.engine.errors import MotcuaError
from server.engine.offices import OfficeFileError, export_office, load_file, printer_problem
from server.infra.clock import Clock
from server.infra.i18n import t
from server.infra.serving import green_drivers, gunicorn_options, raise_open_files, run_gunicorn
from server.infra.settings import Settings
from server.infra.speech import espeak_path
from server.infra.text import NotText, clean_text
from server.infra.tokencache import Broadcast
from server.web import startup
from server.web.errorpages import message
from server.web.inputs import whole_number
from server.web.startup import known_public_url

DEMO_FILE = Path(__file__).parent / "demo" / "demo.toml"
DEMO_DEVICES = (("kiosk", "Kiosk sảnh"), ("display", "Màn hình sảnh"))


def cli_language() -> str:
    return "en" if os.environ.get("MOTCUA_LANG", os.environ.get("LANG", "")).startswith("en") else "vi"


def settings() -> Settings:
    try:
        return Settings.from_env(Path(Flask("server", instance_relative_config=True).instance_path))
    except ValueError as e:  # a setting that cannot be used: say which, without a traceback
        fail(str(e))


def fail(text: str) -> None:
    click.echo(text, err=True)
    sys.exit(2)


def open_database() -> Database:
    conf = settings()
    db = Database(conf.database_url)
    db.migrate()
    if conf.redis_url:  # a token revoked here stops working at once in the running servers
        db.on_auth_change.append(Broadcast(conf.redis_url).publish)
    return db


def run(use_case, *args, **kwargs):
    """One of `server.engine.commands` in its own transaction, as the web runs its use cases: its
    audit entry names the OS account. A refusal is printed in words and exits with 2."""
    db = open_database()
    try:
        return transaction(db, Clock(), use_case, *args, principal=None, **kwargs)[0].result
    except MotcuaError as e:
        fail(message(e.code, e.params, cli_language()))
    finally:
        db.dispose()


@click.group(help="motcua: hệ thống xếp hàng bộ phận một cửa / one-stop desk queue system")
def main() -> None:
    pass


@main.command(help="Chạy máy chủ / run the server (creates or migrates the schema first).")
@click.option("--host", default=None,
              help="Mặc định 0.0.0.0 (mọi địa chỉ, cho máy lấy số và màn hình trong mạng); với --demo: 127.0.0.1 "
                   "/ default 0.0.0.0 (every address, for the office's kiosks and screens); with --demo: 127.0.0.1.")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--demo", is_flag=True,
              help="Nạp đơn vị mẫu nếu CSDL chưa có đơn vị nào / load the demo office into an empty database.")
@click.option("--connections", default=20000, show_default=True, type=int,
              help="Số kết nối mở cùng lúc (màn hình, trang trạng thái, yêu cầu) / "
                   "simultaneous connections: open screens, status pages and requests.")
@click.option("--threads", default=None, type=int, hidden=True)  # before the event loop; ignored
def serve(host: str | None, port: int, demo: bool, connections: int, threads: int | None) -> None:
    conf = settings()
    configure_logging(conf.log_level)
    # The demo's passwords are published: it stays on this machine unless told otherwise.
    host = host or ("127.0.0.1" if demo else "0.0.0.0")
    db = Database(conf.database_url)
    db.migrate()
    banner = _load_demo(db, conf) if demo else None
    office, counter = startup.first_office(db)
    db.dispose()
    lang = cli_language()
    address = startup.work_out(host, port, conf.public_url)
    conf = startup.settle(conf, address)
    startup.write_public_url(conf.instance_path, address.url)
    shown = f"[{host}]" if ":" in host else host
    click.echo(t("cli.serving", lang, url=f"http://{shown}:{port}", database=_safe_url(conf.database_url)))
    pages, warnings = startup.report(address, office, counter, lang)
    click.echo(pages)
    if espeak_path(conf.speech_path) is None:
        click.echo(t("cli.no_voice", lang), err=True)
    if banner:
        click.echo(banner(address.url))
    if warnings:
        click.echo(warnings, err=True)
    if demo and not startup.loopback(host):
        click.echo(t("cli.demo_exposed", lang), err=True)
    if address.source in ("lan", "listen"):
        click.echo(t("cli.no_public_url", lang), err=True)
    run_server(host, port, connections, conf)


def configure_logging(level: str) -> None:
    """The server's log on standard error: warnings, and SMS written by the log backend (INFO)."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    # Alembic says which migrations ran (worth keeping) and which of its plugins loaded (not).
    logging.getLogger("alembic.runtime.plugins").setLevel(max(logging.WARNING, logging.getLevelName(level)))


def run_server(host: str, port: int, connections: int, conf: Settings) -> None:
    """Serve with `conf`: its public address is the base of every link (server/web/startup.py)."""
    if os.name != "posix":  # gunicorn is POSIX-only; Werkzeug's threads are enough for a small office
        app = create_app({"SETTINGS": conf})
        app.extensions["motcua"].hub.socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True)
        return
    raise_open_files(connections + 256)  # each connection is a file descriptor

    def load():
        # In the worker, after gevent patched the standard library: threads and sockets
        # must not cross a fork, and the drivers imported before (migrations) must yield.
        green_drivers()
        return create_app({"SETTINGS": conf})
    run_gunicorn(gunicorn_options(host, port, connections), load)


def _safe_url(url: str) -> str:
    """The database address without its password, for logs."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}:***@{host}"
    return url


def _load_demo(db: Database, conf: Settings):
    """Load the demo office into an empty database; keep its device tokens in the instance folder."""
    clock = Clock()  # like every command's change: one transaction each, in the audit log
    with db.read() as s:
        empty = s.scalar(select(Office.id).limit(1)) is None
    if empty:
        transaction(db, clock, commands.import_office, load_file(DEMO_FILE), DEMO_FILE.name, lang=cli_language(),
                    principal=None)
    with db.read() as s:
        if s.scalar(select(Office.id).where(Office.code == "demo")) is None:
            return None
    token_file = conf.instance_path / "demo-tokens.toml"
    tokens: dict[str, str] = {}
    if token_file.exists():
        tokens = tomllib.loads(token_file.read_text())
    for role, name in DEMO_DEVICES + (("admin", "admin"),):
        known = tokens.get(role)
        with db.read() as s:
            if known and auth.lookup(s, known) is not None:
                continue
        tokens[role] = transaction(db, clock, commands.create_token, "demo", role, name,
                                   principal=None)[0].result["token"]
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("".join(f'{role} = "{tok}"\n' for role, tok in tokens.items()))
    demo = tomllib.loads(DEMO_FILE.read_text())
    lang = cli_language()

    def banner(base: str) -> str:
        pages = [("kiosk", f"{base}/kiosk/demo?token={tokens['kiosk']}"),
                 ("display", f"{base}/display/demo?token={tokens['display']}"),
                 ("api", f"{base}/api/v1/openapi.json"),
                 ("admin_token", tokens["admin"])]
        lines = [t("cli.demo.title", lang)]
        lines += [f"  {t('cli.demo.' + key, lang) + ':':<16} {value}" for key, value in pages]
        lines.append(t("cli.demo.accounts", lang))
        lines += [f"  {o['username']:<10} {o['password']:<12} {o['role']:<11} {o['name']}"
                  for o in demo["officers"]]
        return "\n".join(lines)
    return banner


@main.command(help="Cập nhật lược đồ CSDL / migrate the database schema.")
def migrate() -> None:
    open_database().dispose()
    click.echo(t("cli.migrated", cli_language()))


@main.group(help="Đơn vị / offices.")
def office() -> None:
    pass


@office.command("import", help="Tạo hoặc cập nhật đơn vị từ tệp TOML / create or update an office from a TOML file.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def office_import(file: str) -> None:
    lang = cli_language()
    try:
        done = run(commands.import_office, load_file(file), Path(file).name, lang=lang)
    except OfficeFileError as e:
        fail(t("cli.import_failed", lang, file=file) + "\n" + "\n".join(f"  - {p}" for p in e.problems))
    click.echo(t("cli.imported", lang, **done))


@office.command("export", help="Ghi cấu hình một đơn vị ra tệp TOML (nạp lại được bằng office import) / "
                               "write an office's set-up to a TOML file (office import reads it back).")
@click.option("--office", "office_code", default=None, help="Mã đơn vị; bỏ qua khi chỉ có một / the office's code; "
                                                            "optional when there is only one.")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
def office_export(office_code: str | None, file: str) -> None:

    lang = cli_language()
    db = open_database()
    with db.read() as s:
        query = select(Office).order_by(Office.id)
        found = s.scalars(query.where(Office.code == office_code) if office_code else query.limit(2)).all()
        if office_code is None and len(found) > 1:
            fail(t("cli.office.which", lang))
        if not found:
            fail(message("office_not_found", {"office": office_code or "-"}, lang))
        data = export_office(s, found[0])
    text = tomli_w.dumps(data)
    if file == "-":
        click.echo(text, nl=False)
        return
    Path(file).write_text(text, encoding="utf-8")
    click.echo(t("cli.office.exported", lang, code=data["code"], file=file))


@main.group(help="Hồ sơ / dossiers (the register of results).")
def dossier() -> None:
    pass


@dossier.command("import", help="Nhập tệp CSV xuất từ hệ thống một cửa điện tử (kiểm tra cả tệp trước khi ghi) / "
                                "import the one-stop system's CSV export (the whole file is checked first).")
@click.option("--office", "office_code", required=True, help="Mã đơn vị / the office's code.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def dossier_import(office_code: str, file: str) -> None:
    lang = cli_language()
    data = Path(file).read_bytes()
    db = open_database()
    try:
        # "Your result is ready" for dossiers the import made ready goes to the outbox in the
        # import's transaction; the server's outbox sender delivers it (when it next runs).
        outcome = transaction(db, Clock(), commands.import_dossiers, office_code, data, lang=lang, principal=None,
                              public_url=known_public_url(settings()))[0]
    except MotcuaError as e:
        problems = e.body.get("problems", []) if e.code == "dossier_import" else []
        fail("\n".join([message(e.code, e.params, lang), *(f"  - {p['message']}" for p in problems)]))
    finally:
        db.dispose()
    click.echo(t("dossier_import.done", lang, **outcome.result))
    if outcome.result["ignored_columns"]:
        click.echo(t("dossier_import.ignored", lang, columns=", ".join(outcome.result["ignored_columns"])))


@main.group(help="Mã truy cập / access tokens.")
def token() -> None:
    pass


@token.command("create", help="In ra một mã truy cập mới (chỉ hiện một lần) / print one new token (shown once).")
@click.option("--office", "office_code", required=True)
@click.option("--role", required=True, type=click.Choice(auth.TOKEN_ROLES))
@click.option("--name", default=None, help="Tên thiết bị hoặc tên đăng nhập cán bộ / device name or officer username.")
def token_create(office_code: str, role: str, name: str | None) -> None:
    value = run(commands.create_token, office_code, role, name)["token"]
    click.echo(value)  # alone on standard output, for scripts; where to open it on standard error
    click.echo(_where_to_open(office_code, role, value), err=True)


def _where_to_open(office_code: str, role: str, value: str) -> str:
    """The address a new token is used at, on the address `serve` uses (server/web/startup.py)."""
    lang, base = cli_language(), known_public_url(settings())
    if role not in ("kiosk", "display"):
        return t("cli.token.login", lang, url=f"{base or ''}/counter/")
    path = f"/{role}/{office_code}?token={value}"
    return t("cli.token.setup", lang, url=base + path) if base else t("cli.token.setup_unknown", lang, path=path)


@token.command("revoke", help="Thu hồi mọi mã mang tên này / revoke every token with this name.")
@click.option("--office", "office_code", required=True)
@click.option("--name", required=True)
def token_revoke(office_code: str, name: str) -> None:
    n = run(commands.revoke_tokens, office_code, name)["revoked"]
    click.echo(t("cli.revoked", cli_language(), count=n))


@token.command("list", help="Liệt kê mã đang hiệu lực / list active tokens (never their values).")
@click.option("--office", "office_code", required=True)
def token_list(office_code: str) -> None:
    db = open_database()
    with db.read() as s:
        rows = s.execute(select(ApiToken).join(Office).where(
            Office.code == office_code, ApiToken.revoked_at.is_(None)).order_by(ApiToken.id)).scalars().all()
        if not rows:
            click.echo(t("cli.token.none", cli_language(), office=office_code), err=True)
            return
        click.echo(t("cli.token.header", cli_language()))
        for tok in rows:
            click.echo(f"{tok.id}\t{tok.role}\t{tok.name or '-'}\t{tok.created_at:%Y-%m-%d %H:%M}")


@main.group(help="Cán bộ / officers and their accounts.")
def user() -> None:
    pass


@user.command("add", help="Thêm hoặc cập nhật cán bộ; mật khẩu hỏi khi chạy hoặc đọc từ stdin / "
                          "add or update an officer; the password is prompted for, or read from stdin.")
@click.option("--office", "office_code", required=True)
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(["officer", "supervisor", "admin", "guide"]))
@click.option("--name", default=None, help="Họ tên / full name (default: the username).")
@click.option("--counters", default=None, help="Số các quầy được làm việc, ví dụ 1,2 / counter numbers, e.g. 1,2.")
@click.option("--city-wide", is_flag=True, help="Quản trị mọi đơn vị và báo cáo toàn thành phố (chỉ với role admin) / "
                                                 "administer every office and see city-wide reports (admin only).")
def user_add(office_code: str, username: str, role: str, name: str | None, counters: str | None,
             city_wide: bool) -> None:
    lang = cli_language()
    if name is not None:
        try:
            name = clean_text(name, max_len=200) or None
        except NotText:
            fail("--name: " + t("office_file.not_text", lang, max_len=200))
    numbers = [whole_number(n.strip(), 1, 9999) for n in (counters or "").split(",") if n.strip()]
    if None in numbers:
        fail(t("cli.user.bad_counters", lang, value=counters))
    if sys.stdin.isatty():
        password = click.prompt(t("cli.user.password", lang), hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    if city_wide and role != "admin":
        fail(t("cli.user.city_wide_admin", lang))
    try:
        accounts.check_new_password(password)
    except MotcuaError:
        fail(t("cli.user.short_password", lang))
    run(commands.save_officer, office_code, username, role, name, numbers if counters is not None else None,
        city_wide, password)  # the account's open sessions end
    click.echo(t("cli.user.saved", lang, username=username, office=office_code))


# The kiosk group: printers of kiosks (more kiosk commands may join it).
@main.group(help="Máy lấy số và máy in / kiosks and their printers.")
def kiosk() -> None:
    pass


@kiosk.command("printer", help="Đặt máy in cho một máy lấy số / set a kiosk's printer: "
                               "tcp://HOST[:9100], usb://VENDOR:PRODUCT, serial:///dev/ttyUSB0?baudrate=19200, "
                               "file:///dev/usb/lp0, cups://QUEUE or none.")
@click.option("--office", "office_code", required=True)
@click.option("--name", required=True, help="Tên máy lấy số, như khi tạo mã / the kiosk's name, as in its token.")
@click.option("--paper", type=click.Choice(["58", "80"]), default=None, help="Khổ giấy mm / paper width in mm.")
@click.argument("url")
def kiosk_printer(office_code: str, name: str, paper: str | None, url: str) -> None:
    lang = cli_language()
    problem = printer_problem(url, lang)
    if problem:
        fail(t("cli.kiosk.bad_printer", lang, why=problem))
    run(commands.set_printer, office_code, name, url, int(paper) if paper else None)
    click.echo(t("cli.kiosk.printer_set", lang, name=name, url=url))


@kiosk.command("test-print", help="In một phiếu mẫu của đơn vị demo / print a sample ticket of the demo office.")
@click.option("--printer", "printer_url", required=True, help="tcp://HOST[:9100], usb://VENDOR:PRODUCT, "
              "serial:///dev/ttyUSB0?baudrate=19200, file:///dev/usb/lp0, cups://QUEUE")
@click.option("--paper", type=click.Choice(["58", "80"]), default="80", show_default=True, help="mm")
def kiosk_test_print(printer_url: str, paper: str) -> None:
    lang = cli_language()
    try:
        printers.send(printer_url, ticket.escpos_bytes(ticket.sample(lang, known_public_url(settings()) or
                                                                     "http://127.0.0.1:8080"), int(paper)))
    except ValueError as e:
        fail(t("printer.cli.bad_printer", lang, detail=e))
    except printers.PrinterError as e:
        fail(t("printer.cli.failed", lang, printer=printer_url, reason=e.message(lang), detail=e.detail))
    click.echo(t("printer.cli.printed", lang, printer=printer_url))


@kiosk.command("sample-ticket", help="Lưu ảnh một phiếu mẫu / save a sample ticket as an image.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="FILE.png")
@click.option("--paper", type=click.Choice(["58", "80"]), default="80", show_default=True, help="mm")
def kiosk_sample_ticket(out: str, paper: str) -> None:
    lang = cli_language()
    ticket.render(ticket.sample(lang), int(paper)).save(out)
    click.echo(t("printer.cli.saved", lang, file=out))


@main.command("kiosk-agent", help="Chương trình in phiếu cho máy in gắn vào máy lấy số / "
                                  "print agent for a printer attached to the kiosk PC.")
@click.option("--server", "server_url", required=True, help="http://HOST:PORT")
@click.option("--token", required=True, help="Mã truy cập của máy lấy số / the kiosk's token.")
@click.option("--printer", "printer_url", required=True, help="usb://VENDOR:PRODUCT, serial:///dev/ttyUSB0, "
              "file:///dev/usb/lp0, tcp://HOST[:9100], cups://QUEUE")
@click.option("--state", "state_file", type=click.Path(dir_okay=False), default=None,
              help="Tệp ghi các lệnh đã in / file recording printed jobs "
                   "(default: ~/.local/state/motcua/agent-*.txt).")
def kiosk_agent(server_url: str, token: str, printer_url: str, state_file: str | None) -> None:


    def interrupt(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)  # a service manager's stop ends it as Ctrl-C does
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", force=True)
    lang = cli_language()
    try:
        agent = Agent(server_url, token, printer_url,
                      Path(state_file) if state_file else default_state_file(server_url, token), lang)
    except ValueError as e:
        fail(t("printer.cli.bad_printer", lang, detail=e))
    agent.run()


@main.command(help="Đo hiệu năng trên 127.0.0.1; XOÁ SẠCH CSDL được chỉ định. Cần: pip install 'motcua[bench]' / "
                   "benchmark on 127.0.0.1; WIPES the database it is given. Needs: pip install 'motcua[bench]'.")
@click.option("--database-url", default=None,
              help="CSDL riêng cho bench, sẽ bị xoá sạch; mặc định: SQLite tạm / "
                   "a database of the bench's own, wiped first; default: a temporary SQLite file.")
@click.option("--url", default=None,
              help="Dùng máy chủ đang chạy (cần --database-url của chính nó) thay vì tự khởi động / "
                   "use a running server (with --database-url of its database) instead of starting one.")
@click.option("--kiosks", default=16, show_default=True, type=click.IntRange(min=1))
@click.option("--counters", default=6, show_default=True, type=click.IntRange(min=1, max=9999))
@click.option("--displays", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Với --sockets mặc định 2 mỗi đơn vị / with --sockets, 2 per office by default.")
@click.option("--offices", default=50, show_default=True, type=click.IntRange(min=1))
@click.option("--seconds", default=10.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Thời gian mỗi phép đo / per measurement.")
@click.option("--call-rate", default=20.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Lượt gọi/giây khi đo màn hình / calls per second.")
@click.option("--seats", is_flag=True,
              help="Mỗi đơn vị có khu vực chờ 60 ghế (50 %, cách 2 m) / each office seats its citizens in a "
                   "60-chair hall (50 %, 2 m apart).")
@click.option("--sockets", default=0, type=click.IntRange(min=0),
              help="Thay cho các phép đo trên: mở N trang trạng thái (100 mỗi đơn vị) rồi đo bộ nhớ, cấp số, gọi số / "
                   "instead of the above: hold N open status pages (100 per office), then measure memory, "
                   "issue, call and call→screen.")
@click.option("--processes", default=1, show_default=True, type=click.IntRange(min=1, max=8),
              help="Với --sockets: số tiến trình máy chủ (từ 2: PostgreSQL và --redis-url) / "
                   "with --sockets: server processes (2 or more: PostgreSQL and --redis-url).")
@click.option("--redis-url", default=None, help="Với --sockets / with --sockets: Redis on 127.0.0.1.")
@click.option("--reports", is_flag=True,
              help="Đo báo cáo trên dữ liệu một năm của thành phố (cần --database-url PostgreSQL riêng) / time the "
                   "reports on a city's synthetic year (give a PostgreSQL --database-url of the bench's own).")
@click.option("--report-offices", default=100, show_default=True, type=click.IntRange(min=1, max=999))
@click.option("--report-days", default=250, show_default=True, type=click.IntRange(min=1, max=366),
              help="Ngày làm việc / working days.")
@click.option("--report-tickets", default=150, show_default=True, type=click.IntRange(min=1, max=999),
              help="Phiếu mỗi đơn vị mỗi ngày / tickets per office and day.")
@click.option("--report-rounds", default=3, show_default=True, type=click.IntRange(min=1, max=50))
@click.option("--report-walk", is_flag=True, help="Đo thêm cách cũ (duyệt nhật ký) / also time the old walk.")
@click.option("--profile", default=0, type=click.IntRange(min=0),
              help="Thay vì đo tải: đo N lượt cấp số và N lượt gọi trong tiến trình bằng cProfile / "
                   "instead of the load: profile N issues and N call-nexts in-process (cProfile).")
def bench(sockets: int, processes: int, redis_url: str | None, profile: int, **options) -> None:
    report_options = {k: options.pop(k) for k in list(options) if k.startswith("report")}
    if report_options.pop("reports"):
        if not options["database_url"]:
            raise click.UsageError("--reports cần --database-url / --reports needs --database-url")
        run_reports(options["database_url"], report_options["report_offices"], report_options["report_days"],
                    report_options["report_tickets"], report_options["report_rounds"], report_options["report_walk"])
        return
    if profile:
        return run_profile(options["database_url"], profile, options["seats"])
    if sockets:
        # The bench extra (aiohttp): a plain install must still start `serve`.
        from server.bench.sockets import run_sockets  # noqa: PLC0415 - optional dependency
        given = click.get_current_context().get_parameter_source("displays") != click.core.ParameterSource.DEFAULT
        return run_sockets(options["database_url"], redis_url, sockets, processes, options["seconds"],
                           options["call_rate"], options["displays"] if given else None)
    run_bench(**options)


if __name__ == "__main__":
    main()
