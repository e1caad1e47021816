"""The kiosks of an office and the state of their printers, for the API and the supervisor."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import Device, PrintJob
from server.engine.printing import driven_by_server
from server.read.shapes import iso


def kiosks(s: Session, office_id: int) -> list[dict]:
    """Each kiosk of an office with its printer's state: for the API and the supervisor."""
    devices = s.scalars(select(Device).where(Device.office_id == office_id, Device.kind == "kiosk")
                        .order_by(Device.name)).all()
    result = []
    for d in devices:
        counts = dict(s.execute(
            select(PrintJob.status, func.count()).where(
                PrintJob.device_id == d.id, PrintJob.status.in_(("pending", "failed")))
            .group_by(PrintJob.status)).all())
        driven_by = None if d.printer == "none" else "server" if driven_by_server(d.printer) else "agent"
        result.append({"name": d.name, "printer": d.printer, "paper_mm": d.paper_mm,
                       "driven_by": driven_by, "printer_status": d.printer_status,
                       "printer_detail": d.printer_detail, "checked_at": iso(d.printer_checked_at),
                       "agent_online": d.agent_online, "pending_jobs": counts.get("pending", 0),
                       "failed_jobs": counts.get("failed", 0)})
    return result
