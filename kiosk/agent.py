"""The print agent: prints a kiosk's tickets on a printer attached to the kiosk PC.

`motcua kiosk-agent --server URL --token KIOSK_TOKEN --printer URL` connects to the
server over Socket.IO (auth {"token", "agent": True}), receives "print_job" events
{"job", "ticket", "data": base64 ESC/POS} for its kiosk (on every connect, the jobs still
pending, oldest first) and answers each with "print_ack" {"job", "ok", ["error", "detail"],
["printer": "paper_low"]}. Between jobs it reads the printer's state and sends
"printer_report" {"status"} when it changed, so staff hear of a fault before a citizen does.

Each job prints at most once, even across disconnects and restarts: a job id is written
to the state file (and fsynced) after it printed and before it is acknowledged, so a job
offered again because its ack was lost is acknowledged without printing. A job that
failed is not written down: the server offers it again later.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from server.infra.i18n import t

from . import printers

log = logging.getLogger("motcua.agent")
DATABASE_WAIT_S = 5.0  # between connection attempts while the server's database is down
WATCH_EVERY_S = 20.0  # between reads of the printer's state while no job comes
ACK_WAIT = 10.0  # seconds an ack waits for the connection before the next reconnect must resend it


def default_state_file(server: str, token: str) -> Path:
    """A file per server and kiosk token in the user's state directory."""
    if os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    else:
        base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    digest = hashlib.sha256(f"{server}\n{token}".encode()).hexdigest()[:16]
    return base / "motcua" / f"agent-{digest}.txt"


class PrintedJobs:
    """The ids of jobs already printed, one per line, appended and fsynced one by one."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._ids: set[int] = set()
        if path.exists():
            *lines, torn = path.read_text().split("\n")
            if torn:
                # A line cut short by a crash mid-write ("1" of "12"): that job was never
                # acknowledged, so it may print again; cut it off so later lines stay whole.
                os.truncate(path, path.stat().st_size - len(torn.encode()))
            self._ids = {int(line) for line in lines if line.isascii() and line.isdigit()}

    def __contains__(self, job: int) -> bool:
        return job in self._ids

    def add(self, job: int) -> None:
        with open(self.path, "a") as f:
            f.write(f"{job}\n")
            f.flush()
            os.fsync(f.fileno())
        self._ids.add(job)


class Agent:
    def __init__(self, server: str, token: str, printer: str, state_file: Path, lang: str = "vi",
                 send: Callable[[str, bytes], str | None] = printers.send,
                 status: Callable[[str], str] = printers.status):
        printers.parse(printer)  # a bad address stops the agent before it connects
        self.server, self.token, self.printer = server, token, printer
        self.printed = PrintedJobs(state_file)
        self.lang = lang
        self.send, self.status = send, status
        self.reported: str | None = None  # the printer state the server last heard
        self.jobs: queue.Queue = queue.Queue()
        self.client = None
        self.online = threading.Event()  # connected to the server's namespace
        self.stopping = False

    def say(self, key: str, level: int = logging.INFO, **params) -> None:
        log.log(level, t(f"printer.agent.{key}", self.lang, **params))

    def handle(self, payload: dict) -> dict | None:
        """Print one job unless it printed before; the "print_ack" payload to answer with."""
        try:
            job = int(payload["job"])
            ticket = str(payload.get("ticket", "?"))
            data = base64.b64decode(payload["data"], validate=True)
        except (KeyError, TypeError, ValueError, binascii.Error) as e:
            self.say("bad_job", logging.WARNING, detail=f"{type(e).__name__}: {e}")
            return None
        if job in self.printed:
            self.say("already", job=job, ticket=ticket)
            return {"job": job, "ok": True}
        try:
            said = self.send(self.printer, data)
        except printers.PrinterError as e:
            self.say("failed", logging.WARNING, job=job, ticket=ticket, reason=e.message(self.lang), detail=e.detail)
            self.reported = e.code
            return {"job": job, "ok": False, "error": e.code, "detail": e.detail}
        self.printed.add(job)
        self.say("printed", job=job, ticket=ticket)
        self.reported = "paper_low" if said == "paper_low" else "ok"
        return {"job": job, "ok": True, **({"printer": said} if said == "paper_low" else {})}

    def watch(self) -> dict | None:
        """Between jobs: read the printer's state; the "printer_report" to send if it changed,
        so staff hear of a fault before a citizen finds it."""
        found = self.status(self.printer)
        if found == self.reported or found == "none":
            return None
        self.reported = found
        return {"status": found}

    def _work(self) -> None:
        """Jobs print one at a time, in the order they arrived (Socket.IO handlers run concurrently)."""
        while True:
            try:
                payload = self.jobs.get(timeout=WATCH_EVERY_S)
            except queue.Empty:
                if self.online.is_set():
                    self._report()
                continue
            if payload is None:
                return
            ack = self.handle(payload)
            # Jobs sent on connect can arrive before the client has seen its own connect; an
            # ack that cannot go out is not lost: the server offers the job again on reconnect
            # and the state file answers it without printing.
            if ack is not None and self.online.wait(ACK_WAIT):
                try:
                    self.client.emit("print_ack", ack)
                except Exception as e:  # noqa: BLE001 - python-socketio raises several kinds when the link drops
                    log.debug("ack for job %s not sent: %s", ack["job"], e)

    def _report(self) -> None:
        try:
            report = self.watch()
            if report is not None:
                self.client.emit("printer_report", report)
        except Exception as e:  # noqa: BLE001 - a report that cannot go out is sent again after the next read
            self.reported = None
            log.debug("printer state not reported: %s", e)

    def _connected(self) -> None:
        self.online.set()
        self.reported = None  # the server may have restarted: tell it again at the next read
        self.say("connected")

    def _disconnected(self, *reason) -> None:
        self.online.clear()
        if not self.stopping:
            self.say("disconnected", logging.WARNING)

    def run(self) -> None:
        """Connect (retrying with backoff) and print until interrupted."""
        try:
            import socketio  # noqa: PLC0415 - a kiosk PC may lack the client; say so and stop
        except ImportError:
            self.say("no_client", logging.ERROR)
            raise SystemExit(2) from None
        client = socketio.Client(reconnection=True, reconnection_attempts=0,
                                 reconnection_delay=1, reconnection_delay_max=30)
        self.client = client
        client.on("connect", self._connected)
        client.on("disconnect", self._disconnected)
        refusals: list = []

        def refused(data=None) -> None:
            refusals.append(data)
            self.say("rejected", logging.WARNING, detail=data)
        client.on("connect_error", refused)
        client.on("print_job", self.jobs.put)
        worker = threading.Thread(target=self._work, name="print-jobs", daemon=True)
        worker.start()
        self.say("connecting", server=self.server, printer=self.printer, state=self.printed.path)
        try:
            # retry=True waits out a server that is down; a refused token ends the agent here,
            # a server whose database is down is tried again until it is back.
            while True:
                refusals.clear()
                try:
                    client.connect(self.server, auth={"token": self.token, "agent": True},
                                   transports=["websocket"], retry=True)
                    break
                except socketio.exceptions.ConnectionError:
                    if not any(isinstance(r, dict) and r.get("message") == "database_unavailable"
                               for r in refusals):
                        raise
                    time.sleep(DATABASE_WAIT_S)
            client.wait()
        except socketio.exceptions.ConnectionError as e:
            self.say("rejected", logging.ERROR, detail=e)
            raise SystemExit(2) from None
        except KeyboardInterrupt:
            pass
        finally:
            self.stopping = True
            self.jobs.put(None)
            worker.join(timeout=10)  # let a job being printed finish and be recorded
            client.shutdown()
            self.say("stopped")
