"""The per-process token cache (server/infra/tokencache.py): fast, and revocation still holds.

Same process: refused at once. Another process (here: a second app on the same database,
with a cache of its own): within the cache's time without Redis, at once through Redis."""
from __future__ import annotations

import time
from dataclasses import replace

import pytest
from sqlalchemy import update

from server.app import create_app, transaction
from server.db.models import User
from server.engine.auth import hash_token
from server.engine.commands import revoke_tokens
from server.infra.settings import Settings
from server.infra.tokencache import MISSING, TokenCache
from tests.conftest import Api, make_app, new_token


def _issue_status(client, token: str) -> int:
    return Api(client, token).post("/offices/demo/tickets", {"service": "HT"}).status_code


def _revoke(state, name: str) -> None:
    transaction(state.db, state.clock, revoke_tokens, "demo", name, principal=None)


def _second_process(app, clock, tmp_path, **settings):
    """Another server process on the same database: an app with its own cache (and hub)."""
    conf = replace(app.extensions["motcua"].settings, instance_path=tmp_path / "b", **settings)
    (tmp_path / "b").mkdir(parents=True, exist_ok=True)
    return create_app({"TESTING": True, "SETTINGS": conf, "CLOCK": clock})


def test_cache_keeps_found_principals_for_its_time_and_forgets_on_clear():
    now = [100.0]
    cache = TokenCache(5, clock=lambda: now[0])
    gen = cache.generation
    cache.put("a", "principal-a", gen)
    cache.put("b", None, gen)  # unknown tokens are never kept
    assert cache.get("a") == "principal-a" and cache.get("b") is MISSING
    now[0] += 5
    assert cache.get("a") is MISSING
    cache.put("a", "principal-a", cache.generation)
    stale = cache.generation
    cache.clear()
    assert cache.get("a") is MISSING
    cache.put("a", "read-before-the-change", stale)  # a look-up that raced with the change
    assert cache.get("a") is MISSING


def test_revoked_token_is_refused_at_once_in_the_same_process(app, client):
    state = app.extensions["motcua"]
    token = new_token(state, "kiosk", "Kiosk sảnh")
    assert _issue_status(client, token) == 201
    assert state.tokens.get(hash_token(token)) is not MISSING  # kept
    _revoke(state, "Kiosk sảnh")
    assert _issue_status(client, token) == 401


def test_disabled_account_is_refused_at_once_in_the_same_process(app, client):
    state = app.extensions["motcua"]
    token = new_token(state, "supervisor", "mai.pt")
    api = Api(client, token)
    assert api.get("/offices/demo/board").status_code == 200
    with state.db.write() as s:  # a Core write, as an administration change may make
        s.execute(update(User).where(User.username == "mai.pt").values(active=False))
    assert api.get("/offices/demo/board").status_code == 401


def test_other_process_without_redis_refuses_within_the_cache_time(app, client, clock, tmp_path):
    state = app.extensions["motcua"]
    other = _second_process(app, clock, tmp_path)
    try:
        now = [1000.0]
        other.extensions["motcua"].tokens.clock = lambda: now[0]
        token = new_token(state, "kiosk", "Kiosk sảnh")
        other_client = other.test_client()
        assert _issue_status(other_client, token) == 201
        _revoke(state, "Kiosk sảnh")
        assert _issue_status(client, token) == 401  # the revoking process: at once
        assert _issue_status(other_client, token) == 201  # the other: its cached look-up...
        now[0] += other.extensions["motcua"].settings.token_cache_s
        assert _issue_status(other_client, token) == 401  # ...for at most the cache's time
    finally:
        other.extensions["motcua"].db.dispose()


def test_other_process_with_redis_refuses_at_once(sqlite_url, clock, tmp_path, redis_url):
    conf = {"redis_url": redis_url, "token_cache_s": 300.0}  # only the message can explain a refusal
    (tmp_path / "a").mkdir()
    first = make_app(sqlite_url, clock, tmp_path / "a")
    one = _second_process(first, clock, tmp_path / "one", **conf)
    two = _second_process(first, clock, tmp_path / "two", **conf)
    try:
        a, b = one.extensions["motcua"], two.extensions["motcua"]
        for state in (a, b):
            assert state.auth_broadcast.listening.wait(10)
        token = new_token(a, "kiosk", "Kiosk sảnh")
        b_client = two.test_client()
        assert _issue_status(b_client, token) == 201
        _revoke(a, "Kiosk sảnh")
        deadline = time.monotonic() + 5
        while _issue_status(b_client, token) != 401:
            assert time.monotonic() < deadline, "the other process kept the revoked token"
            time.sleep(0.05)
    finally:
        for app in (first, one, two):
            app.extensions["motcua"].db.dispose()


@pytest.mark.parametrize("value", ["-1", "abc", "4000"])
def test_token_cache_setting_is_checked(tmp_path, value):
    with pytest.raises(ValueError, match="MOTCUA_TOKEN_CACHE_S"):
        Settings.from_env(tmp_path, {"MOTCUA_TOKEN_CACHE_S": value, "SECRET_KEY": "x"})
