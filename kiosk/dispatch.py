"""Getting print jobs to printers, and their outcome back to the kiosk screen.

A kiosk's printer is either on the network, driven by the server (tcp://), or
attached to the kiosk PC, driven by its print agent (usb://, serial://, file://,
cups://). The job row is written in the same transaction as the ticket, so a
printer fault never loses a ticket; the job stays `pending` (agent away) or
`failed` (printer fault) until it prints or someone asks for a reprint.

Events to the kiosk's own room:
  print_job     {job, ticket, data}  to the agent: base64 ESC/POS bytes to print once
  print_status  {job, ticket_id, status, error, message}  to the screen: printed / failed
"""
from __future__ import annotations

import base64
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from flask import request
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Device, PrintJob
from server.engine import health, hours, lookups, outcomes
from server.engine.outcomes import device_room
from server.engine.printing import ERROR_CODES, STATUSES, driven_by_server
from server.read import shapes
from server.read.waits import Wait

from .printers import PrinterError, send, status
from .ticket import TicketPrint, escpos_bytes

log = logging.getLogger("motcua.print")
PRINT_TIMEOUT = 3.0


class Dispatcher:
    def __init__(self, state):
        self.state = state
        self.hub = state.hub
        # Network printers are slow next to a request: print off the request thread, a few at once.
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="print")
        state.after_commit.append(self.after_commit)
        state.hub.on_connect.append(self.on_connect)
        state.hub.on_disconnect.append(self.on_disconnect)
        self.hub.socketio.on_event("print_ack", self.on_ack)
        self.hub.socketio.on_event("printer_report", self.on_report)

    # ------------------------------------------------------------ sending

    def after_commit(self, outcome: outcomes.Outcome, base_url: str) -> None:
        # Use cases that print nothing (sessions, the sweep) carry no print job.
        if getattr(outcome, "print_job", None) is not None and not getattr(outcome, "repeated", False):
            self.send(outcome.print_job, base_url, getattr(outcome, "wait", None))

    def send(self, job_id: int, base_url: str, wait: Wait | None = None) -> None:
        """Print now (network printer) or hand to the kiosk's agent if it is connected.
        `wait`: the estimate the kiosk's screen showed, printed as it is (a reprint works it out again).

        All of it off the request thread: drawing the ticket alone takes tens of milliseconds.
        """
        self.pool.submit(self._deliver, job_id, base_url, wait)

    def _deliver(self, job_id: int, base_url: str, wait: Wait | None = None) -> None:
        device_id = None
        try:
            with self.state.db.read() as s:
                job, device = _job_and_device(s, job_id)
                device_id, printer = device.id, device.printer
                if printer == "none":
                    return
                payload = _job_payload(s, job, device, base_url, wait)
        except Exception as e:
            log.exception("print job %s could not be prepared", job_id)
            if device_id is not None:
                self.record(job_id, device_id, ok=False, error="error", detail=str(e))
            return
        if driven_by_server(printer):
            self._print_on_network(job_id, device_id, printer, payload)
        else:
            self.hub.send("print_job", payload, to=device_room(device_id))

    def _print_on_network(self, job_id: int, device_id: int, printer: str, payload: dict) -> None:
        try:
            said = send(printer, base64.b64decode(payload["data"]), timeout=PRINT_TIMEOUT)
        except PrinterError as e:
            self.record(job_id, device_id, ok=False, error=e.code, detail=str(e.detail or ""))
        except Exception as e:
            log.exception("printing job %s failed", job_id)
            self.record(job_id, device_id, ok=False, error="error", detail=str(e))
        else:
            self.record(job_id, device_id, ok=True, printer=said)

    # ------------------------------------------------------------ outcomes

    def record(self, job_id: int, device_id: int, *, ok: bool, error: str | None = None,
               detail: str | None = None, printer: str | None = None) -> None:
        """Write what happened to a job (and so to its printer); the kiosk's screen and the
        staff hear it from the hub."""
        outcome = self.state.perform(health.print_result, job_id, device_id, ok=ok, error=error,
                                     detail=detail, printer=printer)
        if outcome.print_event is not None:
            log.info("print job %s: %s %s", job_id, outcome.print_event["status"], error or "")

    # ------------------------------------------------------------ watching printers

    def watch(self) -> None:
        """Read every network printer's state now and then, so a fault is known before a
        citizen taps (printers on a kiosk PC are watched by its agent: printer_report)."""
        self.hub.socketio.start_background_task(self._watch_forever)

    def _watch_forever(self) -> None:
        while True:
            time.sleep(self.state.settings.printer_watch_s)
            try:
                self.check_network_printers()
            except Exception as e:  # noqa: BLE001 - the watch must outlive a bad minute
                log.debug("printer watch: %s", e)

    def check_network_printers(self) -> None:
        with self.state.db.read() as s:
            watched = s.execute(select(Device.id, Device.printer).where(
                Device.kind == "kiosk", Device.printer.like("tcp://%"))).all()
        for device_id, printer in watched:
            found = status(printer, timeout=PRINT_TIMEOUT)
            self.state.perform(health.printer_checked, device_id, found)

    # ------------------------------------------------------------ the agent

    def on_connect(self, principal, auth, sid) -> None:
        """An agent (auth {"agent": true}) gets every job still pending for its kiosk."""
        if not (isinstance(auth, dict) and auth.get("agent") is True and principal.device_id):
            return
        base_url = self.state.base_url()
        self.state.perform(health.agent_changed, principal.device_id, True)
        with self.state.db.read() as s:
            jobs = s.scalars(select(PrintJob).where(
                PrintJob.device_id == principal.device_id, PrintJob.status == "pending")
                .order_by(PrintJob.id)).all()
            device = s.get(Device, principal.device_id)
            payloads = [_job_payload(s, job, device, base_url) for job in jobs]
        request.environ["motcua.agent"] = True
        for payload in payloads:
            self.hub.send("print_job", payload, to=sid)

    def on_ack(self, data=None):
        principal = request.environ.get("motcua.principal")
        if principal is None or not request.environ.get("motcua.agent") or not isinstance(data, dict):
            return {"ok": False}
        job_id, ok = data.get("job"), data.get("ok")
        if not isinstance(job_id, int) or not isinstance(ok, bool):
            return {"ok": False}
        error = data.get("error") if isinstance(data.get("error"), str) else "error"
        if error not in ERROR_CODES:
            error = "error"
        detail = data.get("detail") if isinstance(data.get("detail"), str) else None
        said = data.get("printer") if data.get("printer") in ("ok", "paper_low") else None
        self.record(job_id, principal.device_id, ok=ok, error=None if ok else error, detail=detail, printer=said)
        return {"ok": True}

    def on_report(self, data=None):
        """The agent read its printer's state between jobs: {"status": one of STATUSES}."""
        principal = request.environ.get("motcua.principal")
        if principal is None or not request.environ.get("motcua.agent") or not isinstance(data, dict):
            return {"ok": False}
        found = data.get("status")
        if found not in STATUSES or found == "none":
            return {"ok": False}
        self.state.perform(health.printer_checked, principal.device_id, found)
        return {"ok": True}

    def on_disconnect(self, principal) -> None:
        if request.environ.get("motcua.agent"):
            self.state.perform(health.agent_changed, principal.device_id, False)


def _job_and_device(s: Session, job_id: int) -> tuple[PrintJob, Device]:
    job = s.get(PrintJob, job_id)
    return job, s.get(Device, job.device_id)


def _job_payload(s: Session, job: PrintJob, device: Device, base_url: str, wait: Wait | None = None) -> dict:
    """The ticket as printed, in Vietnamese: its state when the job is sent, with the wait
    estimate the screen showed when given (see `Dispatcher.send`)."""
    ticket = lookups.get_ticket(s, job.ticket_id)
    office = lookups.office_info(s, ticket.office_id, ticket=ticket)
    shown = shapes.ticket(s, ticket, base_url, "vi", wait=wait if ticket.status == outcomes.WAITING else None)
    area = next((a for a in office.areas.values() if a.code == shown.get("area")), None)
    procedure = shown.get("procedure") or {}
    printed = TicketPrint(
        office_name=office.name,
        service_name=shown["service_name"],
        number=ticket.number,
        issued_at=hours.local(ticket.issued_at, office.timezone),
        ahead=shown["position"],
        wait_minutes=shown["wait_minutes"],
        no_open_counter=shown["no_open_counter"],
        status_url=shown["status_url"],
        priority=ticket.priority,
        lang="vi",
        seat=shown["seat"],
        area_name=area.name if area else None,
        location=shown["location"],
        procedure_name=procedure.get("name"),
        documents=tuple(procedure.get("documents") or ()),
    )
    data = escpos_bytes(printed, device.paper_mm)
    return {"job": job.id, "ticket": ticket.number, "data": base64.b64encode(data).decode()}


