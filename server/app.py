"""`create_app()`: the one composition root."""
from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, has_request_context, request
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from counter.backoffice.routes import bp as backoffice_pages
from counter.routes import bp as counter_pages
from display.routes import bp as display_pages
from kiosk.dispatch import Dispatcher
from kiosk.page import bp as kiosk_page
from server.db.database import Database, unavailable
from server.db.models import Office
from server.db.zalotokens import ZaloTokenStore
from server.engine import (
    accounts,
    audit,
    auth,
    booking,
    broadcasts,
    citizens,
    dossiers,
    happenings,
    hours,
    lookups,
    queue,
    ticketphones,
    webhooks,
)
from server.engine.errors import Busy
from server.engine.sender import Sender
from server.infra import notify, zalo
from server.infra.clock import Clock
from server.infra.i18n import LANG_COOKIE, LANGUAGES, request_language, t
from server.infra.offload import off_loop
from server.infra.settings import Settings
from server.infra.tokencache import MISSING, Broadcast, TokenCache
from server.read import rollups, shapes
from server.realtime.hub import Hub
from server.web import api, errorpages, headers
from server.web.inputs import MAX_ID
from server.web.pages import booking as bookingpages
from server.web.pages import lookup as lookuppages
from server.web.pages import portal
from server.web.pages import remote as remotepages
from server.web.pages import result as resultpage

log = logging.getLogger("motcua")
ATTEMPTS = 4


def digits_up_to(n: int) -> str:
    """A regular expression for the numbers 1..n written without leading zeros."""
    s = str(n)
    alternatives = [rf"[1-9][0-9]{{0,{len(s) - 2}}}"] if len(s) > 1 else []
    for i, digit in enumerate(map(int, s)):
        lowest = 1 if i == 0 else 0
        if digit > lowest:  # n's first i digits, a smaller digit, then any digits
            rest = len(s) - i - 1
            alternatives.append(f"{s[:i]}[{lowest}-{digit - 1}]" + (f"[0-9]{{{rest}}}" if rest else ""))
    return "(?:" + "|".join([*alternatives, s]) + ")"


class IdConverter(IntegerConverter):
    """A database id in a URL; anything larger than the column holds is simply not found.

    The bound is in the pattern, not only in `to_python`: Werkzeug checks a rule's method
    before converting, so a too-large id that fails conversion on the POST rule of a path
    whose GET rule it also matched would answer 405 instead of 404."""

    regex = digits_up_to(MAX_ID)

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ID)


class Motcua:
    """What the server holds while it runs: settings, database, clock and hub."""

    def __init__(self, app: Flask, settings: Settings, clock: Clock):
        self.settings = settings
        self.clock = clock
        self.db = Database(settings.database_url)
        self.hub = Hub(app, self)
        self.tokens = TokenCache(settings.token_cache_s)
        self._share_token_changes()
        # Work to do once a use case has committed, e.g. sending a print job to its printer:
        # hook(outcome, base_url). The kiosk package adds its own.
        self.after_commit: list = []
        # The outbox sender (server/engine/sender.py): started with the app's background work,
        # woken when a committed transaction wrote a message.
        self.outbox = Sender.from_settings(self.db, _router(settings, self.db, clock), clock, settings)
        self.db.on_outbox.append(self.outbox.wake)
        self.booking_limit = booking.RateLimit(settings.booking_rate_limit, settings.redis_url)
        # Guessing receipt codes on the public look-up: its misses count, like bookings.
        self.lookup_limit = booking.RateLimit(settings.booking_rate_limit, settings.redis_url, "dossier_lookup")
        self.login_throttle = accounts.LoginThrottle(settings.redis_url)
        self.citizens_forgotten = None  # the sweep's `citizens.forget` has erased keys of days before this
        self.after_commit.append(lambda outcome, _base: booking.tell_the_near(self, outcome))
        # Walk-ins' and remote numbers' phones: "near" and "please come in" (into the outbox).
        self.after_commit.append(lambda outcome, _base: ticketphones.tell(self, outcome))

    def perform(self, use_case, *args, render=None, **kwargs):
        """Run one engine use case in its own transaction (`transaction`), then publish its
        events and run the after-commit hooks. `render(session, outcome)` builds the reply
        inside the same transaction."""
        outcome, result = transaction(self.db, self.clock, use_case, *args, render=render,
                                      public_url=self.public_url, **kwargs)
        self.hub.publish(outcome.events)
        if self.after_commit:
            base_url = self.base_url()
            for hook in self.after_commit:
                hook(outcome, base_url)
        return result

    def principal(self, token: str) -> auth.Principal | None:
        """Who holds `token`: from this process's token cache (server/infra/tokencache.py), else
        one indexed read. While the database is known to be down the cache is passed by, so
        pages and requests say so (503) as they did before it."""
        key = auth.hash_token(token)
        found = MISSING if self.db.outage.active else self.tokens.get(key)
        if found is not MISSING:
            return found
        generation = self.tokens.generation
        with self.db.single_engine.connect() as conn:
            found = auth.lookup_hash(conn, key)
        self.tokens.put(key, found, generation)
        return found

    def _share_token_changes(self) -> None:
        """Empty the token cache after this process changes tokens or accounts, and (with
        Redis) tell the other processes, and hear them."""
        self.db.on_auth_change.append(self.tokens.clear)
        if self.settings.redis_url and self.tokens.ttl > 0:
            self.auth_broadcast = Broadcast(self.settings.redis_url, self.tokens.clear)
            self.db.on_auth_change.append(self.auth_broadcast.publish)
            self.auth_broadcast.listen(self.hub.socketio.start_background_task)

    def board(self, office_id: int) -> dict:
        with self.db.read() as s:
            office = lookups.office_info(s, office_id)
            return shapes.board(s, office, hours.service_day(self.clock.now(), office.timezone))

    @property
    def public_url(self) -> str | None:
        """The address other people's phones can open, for links that leave the building
        (SMS): MOTCUA_PUBLIC_URL, else the LAN address `serve` works on; None when there is
        none (this machine only). A request's Host header is the client's to choose, so it
        never decides where another person's link points."""
        conf = self.settings
        return conf.public_url or (conf.served_at if conf.public_source != "loopback" else None)

    def base_url(self) -> str:
        """Base of links shown or printed (status QR codes, a device's set-up address, a
        booking's private link): the public address `serve` uses (server/web/startup.py). Only
        an app built without one (tests, `flask run`) falls back to the address the request
        came to."""
        if self.settings.link_base:
            return self.settings.link_base
        return request.host_url if has_request_context() else "http://127.0.0.1:8080/"


def _router(settings: Settings, db: Database, clock: Clock) -> notify.Router:
    """SMS (or the log), with Zalo ZNS first for the kinds it has a template for when the
    office's Zalo app is configured; what Zalo refuses falls through to SMS."""
    router = notify.make_router(settings)
    zns = zalo.make_zalo_backend(settings, ZaloTokenStore(db), clock)
    if zns is not None:
        router.add("zalo", lambda m: zns.send(m.recipient, m.kind, m.fields, m.text, key=m.key),
                   takes=lambda m: zns.handles(m.kind))
    return router


def transaction(db: Database, clock: Clock, use_case, *args, render=None, public_url: str | None = None, **kwargs):
    """Run one use case in one write transaction: its events take their sequence numbers,
    a configuration change writes its audit entries (who: the `principal=` it was given,
    or the command line without one), the messages it causes go to the outbox (their links
    start with `public_url`), and `render` builds the reply, all or nothing.
    Lock time-outs and serialization failures are retried. Returns (outcome, reply).
    `Motcua.perform` uses it, and so does the command line (which publishes no events)."""
    for attempt in range(ATTEMPTS):
        noting = happenings.start()  # what the event logs note, for the office's webhooks
        try:
            with db.write() as s:
                now = clock.now()
                outcome = use_case(s, *args, now=now, **kwargs)
                broadcasts.stamp(s, outcome.events)
                webhooks.write(s, now)  # after stamp: the deliveries carry the office's seq
                audit.record(s, use_case, outcome, kwargs.get("principal"), now)
                booking.write_notices(s, getattr(outcome, "notices", []), now=now, public_url=public_url)
                dossiers.write_messages(s, getattr(outcome, "messages", []), now=now, public_url=public_url)
                return outcome, render(s, outcome) if render else outcome
        except (OperationalError, IntegrityError) as e:
            # IntegrityError: two requests with one kiosk request key raced on PostgreSQL;
            # the retry finds the winner's ticket.
            if not (isinstance(e, IntegrityError) or _transient(e)):
                raise
            if attempt == ATTEMPTS - 1:
                raise Busy() from e
            log.warning("retrying %s after %s", use_case.__name__, e.orig)
        finally:
            happenings.stop(noting)
    raise AssertionError("unreachable")


def _transient(e: DBAPIError) -> bool:
    code = getattr(e.orig, "sqlstate", None)
    return code in ("40001", "40P01", "55P03") or "database is locked" in str(e.orig)


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    test_config = test_config or {}
    settings = test_config.get("SETTINGS") or Settings.from_env(Path(app.instance_path))
    app.config.update(
        SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=64 * 1024,
        SESSION_COOKIE_NAME="motcua_session", SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.https,
    )
    app.config.update({k: v for k, v in test_config.items() if k not in ("SETTINGS", "CLOCK")})
    app.url_map.converters["id"] = IdConverter
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    state = Motcua(app, settings, test_config.get("CLOCK") or Clock())
    app.extensions["motcua"] = state

    if settings.trusted_proxies:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)
    if not settings.public_url and not app.testing:
        log.warning("MOTCUA_PUBLIC_URL is not set: links use %s", settings.served_at and (
            f"{settings.served_at} ({settings.public_source})") or "the address each request came to")

    errorpages.register(app)
    headers.register(app, settings.https)
    app.register_blueprint(api.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(bookingpages.bp)
    app.register_blueprint(lookuppages.bp)
    app.register_blueprint(resultpage.bp)
    app.register_blueprint(remotepages.bp)

    for pages in (kiosk_page, counter_pages, backoffice_pages, display_pages):
        app.register_blueprint(pages)
    state.printing = Dispatcher(state)

    @app.context_processor
    def _words():
        lang = request_language()

        def lang_url(code: str) -> str:
            """This page in another language, keeping its other query arguments."""
            return "?" + urlencode({**request.args, "lang": code})
        return {"lang": lang, "_": lambda key, **params: t(key, lang, **params), "lang_url": lang_url}

    @app.after_request
    def _remember_language(response):
        chosen = request.args.get("lang")
        if chosen in LANGUAGES and not request.path.startswith("/api/"):
            response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax",
                                secure=settings.https)
        return response

    if not app.testing:
        state.hub.socketio.start_background_task(_sweep_forever, state)
        state.printing.watch()
        state.hub.start_heartbeat()
        state.hub.socketio.start_background_task(state.outbox.run_forever)
    return app


SWEEP_EVERY_S = 30


def sweep(state: Motcua) -> None:
    """The periodic work of every process, each part in its own transactions: tickets left
    open on a service day that has ended are closed (per office), then booked slots past
    their check-in window become no-shows, reminders go out, old bookings are deleted,
    finished dossiers' phones and addresses are erased after the same retention period, and
    tickets' ID-card keys and birth years a few days after their day (`citizens.forget`), and
    phones left on tickets that have ended (`ticketphones.sweep`).
    Every process sweeps; the rows' locks keep them from doubling up."""
    with state.db.read() as s:
        due = queue.offices_to_close(s, state.clock.now())
    for office_id in due:
        try:
            state.perform(queue.close_day, office_id)
        except Exception as e:
            if unavailable(e):
                raise
            log.exception("closing the day of office %s failed; trying again next sweep", office_id)
    state.perform(booking.sweep, retention_days=state.settings.booking_retention_days)
    state.perform(dossiers.forget, retention_days=state.settings.booking_retention_days)
    state.citizens_forgotten = state.perform(citizens.forget, since=state.citizens_forgotten).upto
    state.perform(ticketphones.sweep)
    _roll_up_recent(state)


ROLL_UP_DAYS = 7  # the sweep keeps the last week's closed days; a report keeps older ones when asked


def _roll_up_recent(state: Motcua) -> None:
    """Closed service days kept as report roll-ups (server/read/rollups.py), so reports and the
    reports page read them instead of the event log."""


    now = state.clock.now()
    with state.db.read() as s:
        ids = list(s.scalars(select(Office.id)))
    today = now.date()
    if ids:
        # A city's day is a second of walking: off the event loop (server/infra/offload.py).
        off_loop(rollups.ensure, state.db, ids, today - timedelta(days=ROLL_UP_DAYS), today, now)


def _sweep_forever(state: Motcua) -> None:

    while True:
        time.sleep(SWEEP_EVERY_S)
        try:
            sweep(state)
        except Exception as e:
            if not unavailable(e):  # an outage is logged once, when it starts
                log.exception("sweep failed; trying again in %s s", SWEEP_EVERY_S)
