"""Device health: which kiosks and lobby displays are connected, how each kiosk's printer
is, and whether the server can speak. Staff hear every change at once.

Use cases (run by `perform`, one transaction each, events after commit):
  device_linked / device_unlinked  a kiosk or display page opened or closed its socket
  agent_changed                    a kiosk's print agent connected or went away
  printer_checked                  a printer's state was read (network printers are watched
                                   by the server, the others by their agent)
  print_result                     a print job printed or failed: the job, and what that
                                   says about the printer

Events: `device_health` (one device's state, `device_view`) to the office's staff room,
which officers', supervisors' and admins' pages join; `printer_health` {status, down} to
the kiosk's own room, so its start screen can say the printer is down; `print_status`
to the kiosk's room as before.

A device is online while one of its pages has a socket open. Each server process counts
its own sockets per device and says every `device_heartbeat_s` which devices it holds
(`devices_alive`); a device no process has vouched for in three heartbeats is offline
(`devices_expired`), so a process killed without closing its sockets does not leave its
kiosks counted online.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Device, PrintJob
from server.engine.outcomes import Event, device_room, staff_room
from server.infra import speech
from server.infra.i18n import t

log = logging.getLogger("motcua.health")

# What a printer can be found in. The first group prints; the rest do not.
PRINTER_STATES = ("ok", "paper_low", "unknown", "none",
                  "paper_out", "cover_open", "offline", "unreachable", "error", "unsupported")
PRINTER_FAULTS = frozenset(PRINTER_STATES[4:])
KINDS = ("kiosk", "display")


@dataclass
class HealthOutcome:
    events: list = field(default_factory=list)
    changed: bool = False
    printer: dict | None = None  # the kiosk's printer, as its start screen shows it
    print_event: dict | None = None  # a print job's outcome, for print_status


# ---------------------------------------------------------------- the read side

def printer_down(device: Device) -> bool:
    """The kiosk's tickets are not being printed: a printer fault, or its agent away."""
    if device.kind != "kiosk" or device.printer == "none":
        return False
    agent_away = not device.printer.startswith("tcp:") and not device.agent_online
    return device.printer_status in PRINTER_FAULTS or agent_away


def printer_view(device: Device) -> dict:
    """What the kiosk's own start screen is told: {status, down}."""
    status = "none" if device.printer == "none" else device.printer_status
    return {"status": status, "down": printer_down(device)}


def device_view(d: Device, lang: str = "vi") -> dict:
    """One device's health: online, its printer, and an overall `state` for the wall:
    ok | warning (paper low) | fault (offline, printer down) | unknown (never connected)."""
    online = d.online
    problems: list[str] = []
    if not online and d.seen_at is not None:
        problems.append("offline")
    printer = None
    if d.kind == "kiosk":
        printer = "none" if d.printer == "none" else d.printer_status
        if d.printer != "none":
            if not d.printer.startswith("tcp:") and not d.agent_online:
                problems.append("agent_off")
            if printer in PRINTER_FAULTS:
                problems.append("printer")
    warning = d.kind == "kiosk" and printer == "paper_low"
    state = "fault" if problems else "warning" if warning else \
        "unknown" if d.seen_at is None and not online else "ok"
    words = [t("health.device." + ("online" if online else "offline" if d.seen_at else "never"), lang)]
    if printer is not None:
        words.append(t("health.printer." + printer, lang))
        if "agent_off" in problems:
            words.append(t("health.device.agent_off", lang))
    return {"id": d.id, "kind": d.kind, "name": d.name, "online": online, "since": _iso(d.seen_at),
            "printer": printer, "printer_since": _iso(d.printer_since),
            "agent_online": d.agent_online if d.kind == "kiosk" and d.printer != "none" else None,
            "state": state, "problems": problems, "summary": " · ".join(words)}


def voice_view(program: str | None = None, lang: str = "vi") -> dict:
    """Whether calls are read aloud; `program` is MOTCUA_SPEECH_PATH (None: espeak-ng on PATH)."""
    path = speech.espeak_path(program)
    return {"ready": path is not None, "engine": "espeak-ng", "path": path,
            "message": t("health.voice." + ("ready" if path else "missing"), lang)}


def report(s: Session, office_id: int, lang: str = "vi", program: str | None = None) -> dict:
    """GET /offices/<code>/health: every device of the office and the voice."""
    devices = [device_view(d, lang) for d in s.scalars(
        select(Device).where(Device.office_id == office_id).order_by(Device.kind, Device.name))]
    return {"devices": devices, "voice": voice_view(program, lang),
            "faults": sum(d["state"] == "fault" for d in devices)}


def summary(s: Session) -> dict:
    """For /healthz: counts over every office (no names: the address is public)."""
    counts = {kind: {"online": 0, "offline": 0, "printer_down": 0} for kind in KINDS}
    for d in s.scalars(select(Device)):
        if d.kind not in counts:
            continue
        c = counts[d.kind]
        c["online" if d.online else "offline"] += 1
        if printer_down(d):
            c["printer_down"] += 1
    counts["display"].pop("printer_down")
    return counts


# ---------------------------------------------------------------- use cases

def device_linked(s: Session, device_id: int, *, now: datetime) -> HealthOutcome:
    """A kiosk or display page connected (the first socket of the device in its process)."""
    d = _device(s, device_id)
    out = HealthOutcome(printer=None if d is None else printer_view(d))
    if d is not None:
        _alive(out, d, now)
    return out


def device_unlinked(s: Session, device_id: int, *, now: datetime) -> HealthOutcome:
    """The last socket of a kiosk or display page closed in its process."""
    d = _device(s, device_id)
    out = HealthOutcome()
    if d is not None and d.online:
        d.online, d.alive_at, d.seen_at = False, None, now
        _changed(out, d, "offline")
    return out


def devices_alive(s: Session, device_ids: list[int], *, now: datetime) -> HealthOutcome:
    """A process's heartbeat: it still holds sockets of these devices."""
    out = HealthOutcome()
    for d in s.scalars(select(Device).where(Device.id.in_(device_ids)).order_by(Device.id).with_for_update()):
        _alive(out, d, now)
    return out


def devices_expired(s: Session, stale_s: float, *, now: datetime) -> HealthOutcome:
    """Devices no process has vouched for in `stale_s` seconds are offline since their last heartbeat."""
    out = HealthOutcome()
    cutoff = now - timedelta(seconds=stale_s)
    for d in s.scalars(select(Device).where(Device.online.is_(True), Device.alive_at < cutoff)
                       .order_by(Device.id).with_for_update()):
        d.online, d.seen_at = False, d.alive_at
        d.alive_at = None
        _changed(out, d, "offline (no heartbeat)")
    return out


def agent_changed(s: Session, device_id: int, online: bool, *, now: datetime) -> HealthOutcome:
    d = _device(s, device_id)
    out = HealthOutcome()
    if d is not None and d.agent_online != online:
        d.agent_online = online
        _changed(out, d, "agent_on" if online else "agent_off", printer=True)
    return out


def printer_checked(s: Session, device_id: int, status: str, detail: str | None = None, *,
                    now: datetime) -> HealthOutcome:
    """A printer's state was read without printing (a watch, or the agent's report)."""
    d = _device(s, device_id)
    out = HealthOutcome()
    if d is None or status not in PRINTER_STATES or d.kind != "kiosk":
        return out
    if status == "unknown" and d.printer_status not in PRINTER_FAULTS:
        # A printer that gives no status answers: what its last print said still holds.
        d.printer_checked_at = now
        return out
    _set_printer(out, d, status, detail, now)
    return out


def print_result(s: Session, job_id: int, device_id: int, *, ok: bool, error: str | None = None,
                 detail: str | None = None, printer: str | None = None, now: datetime) -> HealthOutcome:
    """What happened to a print job; `printer` is what the printer said while printing it
    (ok, paper_low). Tells the kiosk's screen (print_status)."""
    out = HealthOutcome()
    job = s.get(PrintJob, job_id, with_for_update=True)
    if job is None or job.device_id != device_id or job.status == "printed":  # a repeated ack
        return out
    d = _device(s, device_id)
    job.attempts += 1
    job.status, job.error = ("printed", None) if ok else ("failed", error or "error")
    job.printed_at = now if ok else None
    status = (printer if printer in ("ok", "paper_low") else "ok") if ok else job.error
    if status not in PRINTER_STATES:
        status = "error"
    _set_printer(out, d, status, None if ok else (detail or "")[:300], now)
    message = None if ok else t(f"printer.error.{job.error}", "vi")
    out.print_event = {"job": job.id, "ticket_id": job.ticket_id, "status": job.status,
                       "error": job.error, "message": message}
    out.events.append(Event(d.office_id, "print_status", out.print_event, room=device_room(d.id)))
    return out


# ---------------------------------------------------------------- helpers

def _device(s: Session, device_id: int) -> Device | None:
    return s.get(Device, device_id, with_for_update=True)


def _alive(out: HealthOutcome, d: Device, now: datetime) -> None:
    d.alive_at = now
    if not d.online:
        d.online, d.seen_at = True, now
        _changed(out, d, "online")


def _set_printer(out: HealthOutcome, d: Device, status: str, detail: str | None, now: datetime) -> None:
    d.printer_checked_at = now
    d.printer_detail = detail
    if d.printer_status != status:
        d.printer_status, d.printer_since = status, now
        _changed(out, d, status, printer=True)


def _changed(out: HealthOutcome, d: Device, what: str, printer: bool = False) -> None:
    out.changed = True
    log.info("device %s %s: %s", d.kind, d.id, what)  # no names in the log: ids are enough
    out.events.append(Event(d.office_id, "device_health", device_view(d), room=staff_room(d.office_id)))
    if printer and d.kind == "kiosk":
        out.printer = printer_view(d)
        out.events.append(Event(d.office_id, "printer_health", out.printer, room=device_room(d.id)))


def _iso(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds").replace("+00:00", "Z") if at else None
