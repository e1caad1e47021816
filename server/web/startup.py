"""What `motcua serve` works out and prints at start-up: the public address every link is
built on (ticket QR codes, device set-up links, a booking's private link), the address of
every page with it, and warnings when phones cannot open those links.

The address comes, in order, from MOTCUA_PUBLIC_URL; from the address given to --host; for
--host 0.0.0.0, from this machine's LAN address (server/infra/lan.py); else loopback, with a
warning. It is written to the instance folder (`public-url`) so other commands (`token
create`) print the same address.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from server.db.models import Counter, Office
from server.infra.i18n import t
from server.infra.lan import lan_addresses
from server.infra.settings import Settings

PUBLIC_URL_FILE = "public-url"
EVERYWHERE = ("0.0.0.0", "::", "")


@dataclass(frozen=True)
class Address:
    url: str  # the base of every link
    source: str  # "env", "listen", "lan" or "loopback" (see Settings.public_source)
    others: tuple[str, ...] = ()  # more LAN addresses of this machine that also answer
    warnings: tuple[str, ...] = ()  # message keys of cli.start.*


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def work_out(host: str, port: int, public_url: str | None, lan=lan_addresses) -> Address:
    """The address links are built on when `serve` listens on `host`:`port`."""
    if public_url:
        return Address(public_url, "env")
    if host in EVERYWHERE:
        found = lan()
        if not found:
            return Address(_url("127.0.0.1", port), "loopback", warnings=("only_loopback",))
        return Address(_url(found[0], port), "lan", tuple(_url(a, port) for a in found[1:]))
    if loopback(host):
        return Address(_url(host, port), "loopback", warnings=("loopback_only",))
    return Address(_url(host, port), "listen")


def settle(conf: Settings, address: Address) -> Settings:
    """The settings the server runs with: the public address and where it came from."""
    return dataclasses.replace(conf, served_at=None if address.source == "env" else address.url,
                               public_source=address.source)


def write_public_url(instance_path: Path, url: str) -> None:
    path = instance_path / PUBLIC_URL_FILE
    spare = path.with_name(f"{PUBLIC_URL_FILE}.{os.getpid()}")
    spare.write_text(url + "\n")
    spare.replace(path)  # several servers may share an instance folder


def known_public_url(conf: Settings) -> str | None:
    """MOTCUA_PUBLIC_URL, else the address the last `serve` with this instance folder used."""
    if conf.public_url:
        return conf.public_url
    try:
        return (conf.instance_path / PUBLIC_URL_FILE).read_text().strip() or None
    except OSError:
        return None


def page_links(base: str, office: str, counter: int) -> list[tuple[str, str]]:
    """(message key, address) of every page a person opens."""
    return [("index", f"{base}/"),
            ("kiosk", f"{base}/kiosk/{office}"),
            ("display", f"{base}/display/{office}"),
            ("desk", f"{base}/counter/"),
            ("guide", f"{base}/counter/guide"),
            ("supervisor", f"{base}/counter/supervisor"),
            ("admin", f"{base}/counter/admin"),
            ("reports", f"{base}/counter/reports"),
            ("dossiers", f"{base}/counter/dossiers"),
            ("booking", f"{base}/book/{office}"),
            ("lookup", f"{base}/tra-cuu/{office}"),
            ("rating", f"{base}/counter/{counter}/rating")]


def first_office(db) -> tuple[str, int]:
    """The code of the first office and its first counter's number, for the printed links
    ("<office>" and 1 in an empty database)."""
    with db.read() as s:
        office = s.scalar(select(Office).order_by(Office.id).limit(1))
        if office is None:
            return "<office>", 1
        number = s.scalar(select(Counter.number).where(Counter.office_id == office.id,
                                                       Counter.active.is_(True)).order_by(Counter.number).limit(1))
        return office.code, number or 1


def report(address: Address, office: str, counter: int, lang: str) -> tuple[str, str]:
    """(what goes to standard output, the warnings for standard error)."""
    lines = [t("cli.start.public", lang, url=address.url, source=t(f"cli.start.source.{address.source}", lang))]
    lines += [t("cli.start.also", lang, url=url) for url in address.others]
    pages = [(t("cli.start.page." + key, lang) + ":", url) for key, url in page_links(address.url, office, counter)]
    width = max(len(label) for label, _ in pages)
    lines += [f"  {label:<{width}} {url}" for label, url in pages]
    warnings = [t(f"cli.start.{key}", lang, url=address.url) for key in address.warnings]
    return "\n".join(lines), "\n".join(warnings)
