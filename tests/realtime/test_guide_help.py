"""A kiosk's help request over real sockets (issue 19): the guides' room hears it with the
kiosk's name, the kiosk's own room hears the answer, and neither the lobby nor an officer
hears either."""
from __future__ import annotations

from datetime import UTC, datetime

from server.db.database import Database
from server.engine.auth import create_token
from server.infra.settings import normalise_database_url
from tests.conftest import demo_data, seed, without_areas
from tests.support.sockets import Http, Screen


def test_help_round_trip_between_a_kiosk_and_a_guide(sqlite_url, servers):
    tokens = seed(sqlite_url, without_areas(demo_data()))
    db = Database(normalise_database_url(sqlite_url))
    with db.write() as s:
        guide_token = create_token(s, "demo", "guide", "an.lv", datetime.now(UTC))
    db.dispose()
    server = servers(sqlite_url)
    kiosk, guide = Screen().connect(server.url, tokens["kiosk"]), Screen().connect(server.url, guide_token)
    lobby, officer = Screen().connect(server.url, tokens["display"]), Screen().connect(server.url, tokens["officer"])
    try:
        for screen in (kiosk, guide, lobby, officer):
            screen.board()
        asked = Http(server.url, tokens["kiosk"]).request("POST", "/offices/demo/guide/help", expect=201).json()
        heard = guide.expect("help_requested")[0]
        assert (heard["id"], heard["kiosk"], heard["state"]) == (asked["id"], "Kiosk sảnh", "open")
        assert kiosk.expect("help_changed")[0]["state"] == "open"
        Http(server.url, tokens["kiosk"]).request("POST", "/offices/demo/guide/help", expect=200)  # no new event
        Http(server.url, guide_token).request("POST", f"/offices/demo/guide/help/{asked['id']}/answer")
        assert guide.expect("help_answered")[0]["state"] == "answered"
        told = kiosk.expect("help_changed")[0]
        assert (told["id"], told["state"], told["answered_by"]) == (asked["id"], "answered", "an.lv")
        # A ticket afterwards: the lobby's next event is its own, nothing about help came before.
        Http(server.url, tokens["admin"]).issue()
        assert lobby.next()[0] != "help_requested" and officer.next()[0] != "help_requested"
        for screen in (lobby, officer):
            assert not any(name.startswith("help_") for name, _ in screen.drained())
    finally:
        for screen in (kiosk, guide, lobby, officer):
            screen.close()
