"""The daily cap per ID card holds across server processes: two `motcua serve` on one
PostgreSQL, many kiosk requests at once for the same card, exactly `per_citizen_per_day`
tickets. Without the advisory lock in citizens.guard_cap both processes would count the
card's tickets before either committed and both pass."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from server.db.database import Database
from server.db.models import Ticket
from server.infra.settings import normalise_database_url
from tests.conftest import demo_data, seed, without_areas

CAP = 3
AT_ONCE = 12
# The processes of one installation share SECRET_KEY: it keys the card's hash.
SHARED = {"SECRET_KEY": "one-secret-for-every-process"}


@pytest.fixture
def pair(pg_url, servers):
    data = without_areas(demo_data())
    data["citizens"] = {"id_card": "offered", "per_citizen_per_day": CAP, "priority_age": 75}
    tokens = seed(pg_url, data)
    return servers(pg_url, env=SHARED), servers(pg_url, env=SHARED), tokens


@pytest.mark.parametrize("trial", range(3))
def test_two_processes_racing_for_one_card_issue_exactly_the_cap(pair, pg_url, trial):
    a, b, tokens = pair
    card = f"00108601234{trial}|012345678|Nguyễn Văn An|15031986|Nam|Hà Nội|10082021"

    def take(i):
        # The kiosk's requests wait on its device row one after the other; the admin token's
        # (no device) meet them only at the card's lock.
        url, token = (a.url, tokens["kiosk"]) if i % 4 == 0 else (b.url if i % 2 else a.url, tokens["admin"])
        r = requests.post(f"{url}/api/v1/offices/demo/tickets", timeout=30,
                          headers={"Authorization": f"Bearer {token}"},
                          json={"service": "HT" if i % 3 else "CT", "id_card": card})
        return r.status_code, r.json().get("error")

    with ThreadPoolExecutor(AT_ONCE) as pool:
        answers = list(pool.map(take, range(AT_ONCE)))
    assert answers.count((201, None)) == CAP, answers
    assert answers.count((409, "citizen_cap_reached")) == AT_ONCE - CAP, answers
    db = Database(normalise_database_url(pg_url))
    try:
        with db.read() as s:
            keys = s.execute(select(Ticket.citizen_key, func.count()).group_by(Ticket.citizen_key)).all()
    finally:
        db.dispose()
    assert [n for key, n in keys if key is not None] == [CAP]  # a fresh database each trial
