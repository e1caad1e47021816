"""The tables. Rules about them live in the queue engine, not here."""
from __future__ import annotations

import enum
from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    types,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(types.TypeDecorator):
    """Stores naive UTC, returns aware UTC, on every database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime}


class Location(str, enum.Enum):
    """Where a waiting citizen is: in the waiting area (on a seat, if it has a seat map)
    or outside it, waiting to be called in when a seat frees."""
    INSIDE = "inside"
    OUTSIDE = "outside"


class TicketStatus(str, enum.Enum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    # Still waiting (or called, never started) when its service day ended: closed by the
    # engine's day-end sweep (queue.close_day), counted as not served.
    EXPIRED = "expired"


ACTIVE_AT_COUNTER = (TicketStatus.CALLED.value, TicketStatus.SERVING.value)


class CounterStatus(str, enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    PAUSED = "paused"


class Role(str, enum.Enum):
    KIOSK = "kiosk"
    DISPLAY = "display"
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    # Staff or a volunteer at the entrance (cán bộ phân luồng): issues numbers for citizens,
    # checks bookings in, answers kiosks' help requests; never calls or changes the office.
    GUIDE = "guide"
    # The one-stop electronic system feeding dossier states (PUT .../dossiers/{code}); no person.
    INTEGRATION = "integration"


class Office(Base):
    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    # {"mon": [["07:30", "11:30"], ["13:30", "17:00"]], ...}; a missing day is closed
    hours: Mapped[dict] = mapped_column(JSON, default=dict)
    closed_dates: Mapped[list] = mapped_column(JSON, default=list)
    priority_cap: Mapped[int] = mapped_column(Integer, default=2)
    no_show_window_s: Mapped[int] = mapped_column(Integer, default=1800)
    # "Absent" (V) is refused until this long after the call (0: at once); a slip of the
    # finger a second after calling is the usual mistake (see server/engine/absence.py).
    min_no_show_s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    default_service_s: Mapped[int] = mapped_column(Integer, default=300)
    # Increases by one for every event published about this office.
    event_seq: Mapped[int] = mapped_column(Integer, default=0)
    # Raised by every change to what the directory caches (services, counters, areas):
    # a process checks it instead of reading the whole office again (server/engine/directory.py).
    config_rev: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The lobby display: a scrolling notice, and how calls are read aloud.
    notice: Mapped[str | None] = mapped_column(String(500))
    # Online booking (docs/booking.md).
    booking_horizon_days: Mapped[int] = mapped_column(Integer, default=6, server_default="6")
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    bookings_per_phone: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    check_in_before_s: Mapped[int] = mapped_column(Integer, default=900, server_default="900")
    check_in_after_s: Mapped[int] = mapped_column(Integer, default=600, server_default="600")
    reminder_s: Mapped[int] = mapped_column(Integer, default=3600, server_default="3600")
    near_places: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    announce_english: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    announce_digits: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Reports: the share of citizens called within this wait is the office's on-time rate.
    target_wait_s: Mapped[int] = mapped_column(Integer, default=900, server_default="900")
    # Returning results ([results] in the office file): the postal fee shown to a citizen who
    # chooses post (VND, 0: none shown), the share of results to return by post the office
    # aims for (percent; reports compare), and the kiosk service for collecting a result.
    postal_fee: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    postal_target_pct: Mapped[int] = mapped_column(Integer, default=25, server_default="25")
    return_service: Mapped[str | None] = mapped_column(String(16))
    # Citizens at the kiosk (server/engine/citizens.py): whether a walk-in scans the chip ID
    # card ("off", "offered", "required"), how many numbers one citizen may take a day (0: no
    # cap), the age that grants priority by the card (0: none), and the priority groups
    # (server/engine/priority.py; None: the five groups of the law, in arrival order).
    id_card_scan: Mapped[str] = mapped_column(String(8), default="off", server_default="off")
    per_citizen_per_day: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    priority_age: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    priority_groups: Mapped[list | None] = mapped_column(JSON)
    # Numbers taken from a phone and walk-ins' phones ([remote] in the office file,
    # server/engine/remote.py); None: the defaults.
    remote: Mapped[dict | None] = mapped_column(JSON)

    services: Mapped[list[Service]] = relationship(
        back_populates="office", order_by="Service.position")
    counters: Mapped[list[Counter]] = relationship(
        back_populates="office", order_by="Counter.position")


class Service(Base):
    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("office_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # Numbers run number_start..number_end; with a prefix they print as A001.
    number_start: Mapped[int] = mapped_column(Integer)
    number_end: Mapped[int] = mapped_column(Integer)
    prefix: Mapped[str | None] = mapped_column(String(4))
    digits: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Online booking: average handling time (None: the office default), the share of
    # capacity kept for walk-in citizens, and whether it can be booked at all.
    handling_s: Mapped[int | None] = mapped_column(Integer)
    walk_in_share: Mapped[float] = mapped_column(Float, default=0.5, server_default="0.5")
    bookable: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Where its citizens wait; None: the office has no seat map.
    area_id: Mapped[int | None] = mapped_column(ForeignKey("waiting_areas.id"))

    office: Mapped[Office] = relationship(back_populates="services")

    def format_number(self, n: int) -> str:
        return f"{self.prefix or ''}{n:0{self.digits}d}"


class Procedure(Base):
    """An administrative procedure (thủ tục hành chính) of the national catalogue as the
    office serves it: in which queue, what to bring, whether it can be filed online."""
    __tablename__ = "procedures"
    __table_args__ = (UniqueConstraint("office_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    code: Mapped[str] = mapped_column(String(32))  # the national catalogue's code, e.g. 1.001193
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    documents: Mapped[list] = mapped_column(JSON, default=list)  # what the citizen brings
    online: Mapped[str] = mapped_column(String(8), default="none")  # full | partial | none
    url: Mapped[str | None] = mapped_column(String(500))  # where to file it online
    fee: Mapped[str | None] = mapped_column(String(120))
    processing_days: Mapped[int] = mapped_column(Integer, default=0)  # working days to the result
    by_post: Mapped[bool] = mapped_column(Boolean, default=False)  # the result may be sent by post
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


counter_services = Table(
    "counter_services", Base.metadata,
    Column("counter_id", ForeignKey("counters.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
)


class Counter(Base):
    __tablename__ = "counters"
    # Known by its number (unique among the office's active counters, checked on import);
    # labels are names and may change: a removed counter may have held a label now in use.

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    label: Mapped[str] = mapped_column(String(64))
    # The number read aloud: "mời số 1023 đến quầy số 3".
    number: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=CounterStatus.CLOSED.value)
    # Consecutive priority calls made while a normal ticket was waiting.
    priority_streak: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The officer at the counter now: one at a time.
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    held_since: Mapped[datetime | None]
    status_since: Mapped[datetime | None]  # when it last opened, paused or closed
    pause_reason: Mapped[str | None] = mapped_column(String(200))
    # Bumped when the services it serves change, so every process re-reads them at the next call.
    services_rev: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The desk on the office's floor plan (metres): seats nearest the desks are given first.
    x: Mapped[float | None] = mapped_column(Float)
    y: Mapped[float | None] = mapped_column(Float)

    office: Mapped[Office] = relationship(back_populates="counters")
    services: Mapped[list[Service]] = relationship(secondary=counter_services, order_by="Service.position")


class WaitingArea(Base):
    """A waiting area (khu vực chờ) and its distancing rules; see docs/seating.md."""

    __tablename__ = "waiting_areas"
    __table_args__ = (UniqueConstraint("office_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    max_share: Mapped[float] = mapped_column(Float, default=1.0)
    min_distance_m: Mapped[float] = mapped_column(Float, default=0.0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped whenever its seats or rules change: every process re-reads its cached copy
    # under the area's row lock before giving out a seat.
    rev: Mapped[int] = mapped_column(Integer, default=0)
    # Whether the usable seats are proven to be as many as the rules allow.
    exact: Mapped[bool] = mapped_column(Boolean, default=True)
    # Who is in the area on the service day `count_day`, kept by the engine in the same
    # transaction as each change (server/engine/waitingareas.py): seats held by that day's
    # tickets, and that day's tickets waiting outside for a seat. On a later day both are 0.
    # `changes` counts the changes so far: a seat-map page knows which one it has shown.
    count_day: Mapped[date | None] = mapped_column(Date)
    seats_used: Mapped[int] = mapped_column(Integer, default=0)
    waiting_outside: Mapped[int] = mapped_column(Integer, default=0)
    changes: Mapped[int] = mapped_column(Integer, default=0)


class Seat(Base):
    __tablename__ = "seats"
    __table_args__ = (UniqueConstraint("area_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("waiting_areas.id"), index=True)
    label: Mapped[str] = mapped_column(String(16))
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    position: Mapped[int] = mapped_column(Integer, default=0)
    out_of_service: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # False: gone from the map
    # One of the seats the rules let us use (computed by the engine when they change).
    usable: Mapped[bool] = mapped_column(Boolean, default=False)


user_counters = Table(
    "user_counters", Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("counter_id", ForeignKey("counters.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("office_id", "username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    username: Mapped[str] = mapped_column(String(64))
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default=Role.OFFICER.value)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # An admin of every office (a city's IT): administers and reports on all of them.
    city_wide: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    # The counters the officer may work at.
    counters: Mapped[list[Counter]] = relationship(secondary=user_counters, order_by="Counter.position")


class UserSession(Base):
    """An officer's log-in: the browser's cookie holds only a random id, stored here as its
    SHA-256 hash. Logging out, a new password, a role change or disabling the account
    revokes it; rows are deleted once expired."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user", "user_id", "revoked_at"),
                      Index("ix_user_sessions_expires", "expires_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Device(Base):
    """A kiosk or a lobby display, known by the name its token was created with."""

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("office_id", "kind", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    # A kiosk's ticket printer, as a URL (tcp://, usb://, serial://, file://, cups://, none).
    printer: Mapped[str] = mapped_column(String(300), default="none", server_default="none")
    paper_mm: Mapped[int] = mapped_column(Integer, default=80, server_default="80")
    # What the last print attempt or status read found: ok, paper_out, unreachable, ...
    printer_status: Mapped[str] = mapped_column(String(16), default="unknown", server_default="unknown")
    printer_detail: Mapped[str | None] = mapped_column(String(300))
    printer_checked_at: Mapped[datetime | None]
    agent_online: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Health (server/engine/health.py): a page of it has a socket open, the last heartbeat of the
    # process holding it, when it last came online or went offline, and when the printer's
    # state last changed.
    online: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    alive_at: Mapped[datetime | None]
    seen_at: Mapped[datetime | None]
    printer_since: Mapped[datetime | None]


class HelpRequest(Base):
    """A citizen at a kiosk pressed "Cần hỗ trợ": the guides see it until one answers."""

    __tablename__ = "help_requests"
    __table_args__ = (Index("ix_help_requests_open", "office_id", "answered_at", "asked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    place: Mapped[str] = mapped_column(String(100))  # the kiosk's name, kept if the kiosk goes
    asked_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[str | None] = mapped_column(String(120))


class PrintJob(Base):
    """One ticket to print on one kiosk's printer; kept until printed, retried on request."""

    __tablename__ = "print_jobs"
    __table_args__ = (Index("ix_print_jobs_device", "device_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    # pending (waiting for a printer or an agent), printing, printed, failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    printed_at: Mapped[datetime | None]


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class DailyNumber(Base):
    """The last number given per service and service day: the atomic source of numbers."""

    __tablename__ = "daily_numbers"

    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # Ranges never overlap inside an office, so the printed number is the guard.
        UniqueConstraint("office_id", "day", "number"),
        # Counting who is ahead in one service: inside before outside, then priority, then time.
        # With the day: the waiting counts read the index alone, not each ticket's row.
        Index("ix_tickets_queue", "office_id", "status", "day", "service_id", "location", "priority",
              "priority_rank", "queued_at"),
        # Call-next walks one office's waiting tickets in calling order.
        # Inside first: a counter calls someone waiting outside only when nobody inside waits;
        # among priority tickets a group with a lower order first (priority_rank).
        Index("ix_tickets_head", "office_id", "status", "location", "priority", "priority_rank", "queued_at",
              "id"),
        # A seat holds one waiting citizen at most (seat_id is cleared when they leave it).
        Index("uq_tickets_seat", "seat_id", unique=True),
        Index("ix_tickets_called_in", "office_id", "called_in_at"),
        Index("ix_tickets_booked", "office_id", "status", "booked_for"),
        Index("ix_tickets_counter", "counter_id", "status"),
        Index("ix_tickets_recent", "service_id", "status", "finished_at"),
        Index("ix_tickets_called", "office_id", "called_at"),
        UniqueConstraint("office_id", "request_key", name="uq_tickets_request_key"),
        Index("ix_tickets_dossier", "office_id", "dossier"),
        Index("ix_tickets_citizen", "office_id", "day", "citizen_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    day: Mapped[date] = mapped_column(Date)
    number: Mapped[str] = mapped_column(String(16))
    priority: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.WAITING.value)
    public_token: Mapped[str] = mapped_column(String(32), unique=True)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    # Set by a transfer to one counter: only that counter may call the ticket.
    assigned_counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    issued_at: Mapped[datetime]
    # Place in the queue; equals issued_at unless a transfer or requeue moved it back.
    queued_at: Mapped[datetime]
    called_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    recalls: Mapped[int] = mapped_column(Integer, default=0)
    # The officer who called it (holding the counter then): ratings and reports count by officer.
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The kiosk's key for one tap: a repeated request returns this ticket, not a new one.
    request_key: Mapped[str | None] = mapped_column(String(64))
    # While waiting: inside the waiting area (on seat_id, if the area has seats) or outside.
    location: Mapped[str] = mapped_column(String(8), default=Location.INSIDE.value,
                                          server_default=Location.INSIDE.value)
    seat_id: Mapped[int | None] = mapped_column(ForeignKey("seats.id"))
    # When it was last called in from outside to a freed seat (the lobby lists these).
    called_in_at: Mapped[datetime | None]
    # A booked citizen's slot start: from then on called before walk-in tickets.
    booked_for: Mapped[datetime | None]
    # What the visit was for and what it achieved (engine/visits.py): the procedure chosen
    # at the kiosk or by the officer, the outcome recorded at completion, and the receipt
    # code of the dossier it concerned (a later visit with the same code is a repeat).
    procedure_id: Mapped[int | None] = mapped_column(ForeignKey("procedures.id"))
    outcome: Mapped[str | None] = mapped_column(String(16))
    dossier: Mapped[str | None] = mapped_column(String(64))
    # A priority ticket's group (server/engine/priority.py) and its place among the groups in
    # the calling order, fixed when issued (0: normal tickets, and groups without a place).
    priority_group: Mapped[str | None] = mapped_column(String(16))
    priority_rank: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    # What a guide at the entrance tells the officer (shown when the ticket is called).
    note: Mapped[str | None] = mapped_column(String(200))
    # The keyed hash of the ID number scanned from the chip ID card (never the number): the
    # daily cap counts by it. The birth year is kept only when it granted priority.
    citizen_key: Mapped[str | None] = mapped_column(String(64))
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)

    service: Mapped[Service] = relationship(lazy="joined")
    counter: Mapped[Counter | None] = relationship(foreign_keys=[counter_id], lazy="joined")
    assigned_counter: Mapped[Counter | None] = relationship(foreign_keys=[assigned_counter_id])


class TicketPhone(Base):
    """The phone a citizen left to be told about one ticket (server/engine/ticketphones.py):
    kept only while the ticket is open, deleted when it ends; never in events or on the
    lobby, masked wherever staff see it. `near_at`/`come_in_at`: when each message was made."""

    __tablename__ = "ticket_phones"
    __table_args__ = (Index("ix_ticket_phones_office", "office_id", "near_at"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    phone: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    near_at: Mapped[datetime | None]
    come_in_at: Mapped[datetime | None]


class RemoteTake(Base):
    """Numbers taken from a phone by one phone on one service day (its keyed hash, never the
    number): the office's daily per-phone cap counts them; deleted once the day is over."""

    __tablename__ = "remote_takes"

    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    phone_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    taken: Mapped[int] = mapped_column(Integer, default=0)


class PhoneCode(Base):
    """A one-time code sent to a phone before it may take a number remotely: its keyed hash
    only, a few tries, a short life; deleted when used or expired."""

    __tablename__ = "phone_codes"
    __table_args__ = (Index("ix_phone_codes_phone", "office_id", "phone_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    phone_key: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    tries: Mapped[int] = mapped_column(Integer, default=0)


class TicketEvent(Base):
    """The ticket's history: who did what, when, and what changed. Reports are read from it."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_office_at", "office_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class Rating(Base):
    """A citizen's satisfaction with one served ticket (đánh giá mức độ hài lòng): one per ticket."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    # 4 Rất hài lòng, 3 Hài lòng, 2 Bình thường, 1 Không hài lòng
    level: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime]


class BookingStatus(str, enum.Enum):
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class Booking(Base):
    """A slot booked ahead online (lịch hẹn); checked in at the kiosk for a ticket."""

    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint("office_id", "code"),
        Index("ix_bookings_phone", "office_id", "day", "phone"),
        Index("ix_bookings_due", "status", "start"),
        Index("ix_bookings_id_key", "office_id", "day", "id_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    code: Mapped[str] = mapped_column(String(8))  # on the QR code and typed at the kiosk
    day: Mapped[date] = mapped_column(Date)  # the office's local day of `start`
    start: Mapped[datetime]
    end: Mapped[datetime]
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20))
    # The keyed hash of the ID number given online (server/engine/citizens.py), never the
    # number: the kiosk checks the booking in when the same card is scanned.
    id_key: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=BookingStatus.BOOKED.value)
    # The private link's secret: whoever holds it may see, move or cancel the booking.
    manage_token: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime]
    checked_in_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    reminded_at: Mapped[datetime | None]
    near_notified_at: Mapped[datetime | None]


class BookingSlot(Base):
    """How many bookings a service's slot holds: the guard against overbooking (a row
    updated only while below the slot's capacity)."""

    __tablename__ = "booking_slots"

    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    taken: Mapped[int] = mapped_column(Integer, default=0)


class AuditEntry(Base):
    """One administrative change: who made it, when, and what changed (old and new values)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_office", "office_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    at: Mapped[datetime]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(200))  # the name shown, kept if the account goes
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)


# ---------------------------------------------------------------- report roll-ups
# What the reports' walk over the event log found for one office's closed service day
# (server/read/rollups.py): a cache the engine never reads. `report_days` says which days are
# rolled up; the other tables hold that day's figures, by service, counter and officer.

COUNT_COLUMNS = (
    "issued", "transferred_in", "transferred_out", "served", "no_show", "cancelled", "unserved", "calls",
    "priority", "ch_kiosk", "ch_booking", "ch_counter", "ch_api", "ch_guide", "ch_remote", "lv1", "lv2", "lv3", "lv4",
    # visits by outcome (engine/visits.py), and the counts of the city's targets (0017_report_outcomes)
    "oc_received", "oc_returned", "oc_online", "oc_advice", "oc_incomplete", "oc_referred",
    "online_possible", "counter_online_possible", "repeat_incomplete",
    "booked", "checked_in", "booking_no_show",  # last: the bookings' own rows (read/rollups.py)
)


def _rollup_keys() -> list[Column]:
    return [Column("office_id", Integer, nullable=False), Column("day", Date, nullable=False),
            Column("service_id", Integer), Column("counter_id", Integer), Column("officer_id", Integer),
            Column("procedure_id", Integer)]


report_days = Table(
    "report_days", Base.metadata,
    Column("office_id", ForeignKey("offices.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("rolled_at", UTCDateTime(), nullable=False),
)
report_counts = Table(
    "report_counts", Base.metadata, *_rollup_keys(),
    *(Column(name, Integer, nullable=False, default=0) for name in COUNT_COLUMNS),
    Index("ix_report_counts_day", "office_id", "day"),
)
# One row per waiting time (kind "w") and per service time ("s"), in microseconds: the
# medians and 90th percentiles need every value, not a sum.
report_times = Table(
    "report_times", Base.metadata, *_rollup_keys(),
    Column("kind", String(1), nullable=False), Column("us", types.BigInteger, nullable=False),
    Index("ix_report_times_day", "office_id", "day"),
)
report_hours = Table(
    "report_hours", Base.metadata,
    Column("office_id", Integer, nullable=False), Column("day", Date, nullable=False),
    Column("hour", Integer, nullable=False),
    Column("issued", Integer, nullable=False, default=0), Column("served", Integer, nullable=False, default=0),
    Index("ix_report_hours_day", "office_id", "day"),
)


class Dossier(Base):
    """A citizen's dossier (hồ sơ) from receipt to result, by its receipt code (mã biên
    nhận). The one-stop electronic system stays the source of truth for processing; this
    register follows what the hall needs: when the result is due, whether it is ready, and
    how it goes back (at the counter or by public post). Rules: server/engine/dossiers.py."""

    __tablename__ = "dossiers"
    __table_args__ = (
        # Receipt codes are case-insensitive: `code_key` is the code in capitals.
        UniqueConstraint("office_id", "code_key"),
        Index("ix_dossiers_status", "office_id", "status", "due_on"),
        Index("ix_dossiers_received", "office_id", "received_at"),
        # The reports count dossiers by each of these moments (server/read/report_dossiers.py).
        Index("ix_dossiers_ready_at", "office_id", "ready_at"),
        Index("ix_dossiers_notified_at", "office_id", "notified_at"),
        Index("ix_dossiers_finished_at", "office_id", "finished_at"),
        Index("ix_dossiers_posted_at", "office_id", "posted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    code: Mapped[str] = mapped_column(String(64))  # as the one-stop system wrote it
    code_key: Mapped[str] = mapped_column(String(64))
    procedure_id: Mapped[int | None] = mapped_column(ForeignKey("procedures.id"))
    status: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime]
    due_on: Mapped[date | None] = mapped_column(Date)  # ngày hẹn trả, the office's local date
    ready_at: Mapped[datetime | None]
    posted_at: Mapped[datetime | None]  # handed to the post office (the hand-over list's day)
    finished_at: Mapped[datetime | None]  # returned, delivered or withdrawn
    # When it was returned or posted: after the appointed date? (None until then)
    late: Mapped[bool | None] = mapped_column(Boolean)
    # Personal data, only what returning the result needs; erased after the retention period.
    phone: Mapped[str | None] = mapped_column(String(20))
    return_method: Mapped[str | None] = mapped_column(String(8))  # counter | post
    recipient: Mapped[str | None] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(String(300))
    items: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The private link's secret (sent in "your result is ready"): choose counter or post.
    private_token: Mapped[str] = mapped_column(String(40), unique=True)
    notified_at: Mapped[datetime | None]
    # A return slot booked through online booking from the private page.
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(16))  # counter | api | import | staff


class DossierEvent(Base):
    """A dossier's own history: every change, who made it and what changed (no phone,
    name or address: those are written as "changed")."""

    __tablename__ = "dossier_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class ZaloToken(Base):
    """The Zalo app's access and refresh tokens (server/infra/zalo.py), shared by every server
    process and kept across restarts: a refresh token works once, so the newest lives here and
    a lease says which process is renewing it (the others wait for its answer)."""

    __tablename__ = "zalo_tokens"

    app_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    access_token: Mapped[str | None] = mapped_column(String(1000))
    expires_at: Mapped[datetime | None]
    refresh_token: Mapped[str | None] = mapped_column(String(1000))
    # SHA-256 of the ZALO_REFRESH_TOKEN setting that began this chain: a new setting starts anew.
    seed: Mapped[str | None] = mapped_column(String(64))
    lease_owner: Mapped[str | None] = mapped_column(String(40))
    lease_until: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """One outgoing message, written in the transaction of the change that causes it and
    sent later by the outbox sender (server/engine/outbox.py): retried with backoff, never
    lost with a process. `recipient` is a phone (never shown unmasked) or, for webhooks, an
    endpoint; `dedup_key` keeps a message from being written twice."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        UniqueConstraint("office_id", "dedup_key", name="uq_outbox_messages_dedup"),
        # The sender's claim: due rows by status and time.
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        Index("ix_outbox_messages_lease", "status", "lease_until"),
        # The admin's list, the reports and the retention sweep.
        Index("ix_outbox_messages_office", "office_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    channel: Mapped[str] = mapped_column(String(16))  # message | webhook
    kind: Mapped[str] = mapped_column(String(32))  # confirmation, reminder, near, result_ready ...
    recipient: Mapped[str] = mapped_column(String(300))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)  # {"text": ..., "fields": {...}}
    dedup_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # pending | sending | sent | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    delivered_via: Mapped[str | None] = mapped_column(String(16))  # sms | log | zalo
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class Webhook(Base):
    """An endpoint of the office's other systems (the province's one-stop system, a
    dashboard) told of what happens: the events it asked for, each a signed JSON POST sent
    through the outbox. Rules: server/engine/webhooks.py."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[list] = mapped_column(JSON, default=list)  # names from webhooks.EVENTS
    # The key both sides hold: HMAC-SHA256 of the timestamp and body. Kept to sign with, shown
    # to the admin once when made (or made anew).
    secret: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(200), default="", server_default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[datetime]
    # The last delivery's answer, for the admin: HTTP status (None: no answer), a short
    # start of the body or the error, and when.
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_response: Mapped[str | None] = mapped_column(String(300))
    last_at: Mapped[datetime | None]
