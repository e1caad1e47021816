"""Input hardening (issue 13): the per-phone booking limit across processes, ASCII digits
in numeric fields, clean text in names, and no 500 for any body or query parameter."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.conftest import seed

# ---------------------------------------------------------------- the per-phone limit

TRIALS = 5
AT_ONCE = 6


def _free_starts(url: str, wanted: int) -> list[str]:
    """Slot starts with a place left, from the last bookable days, `wanted` of them."""
    days = requests.get(f"{url}/api/v1/offices/demo/booking", timeout=10).json()["days"]
    starts: list[str] = []
    for day in reversed(days):
        slots = requests.get(f"{url}/api/v1/offices/demo/services/HT/slots", params={"date": day},
                             timeout=10).json()["slots"]
        day_starts = [x["start"] for x in slots if x["available"] > 0]
        # One trial's bookings are all on one day: the limit is per phone and day.
        starts += day_starts[:len(day_starts) - len(day_starts) % AT_ONCE]
        if len(starts) >= wanted:
            return starts[:wanted]
    raise AssertionError(f"fewer than {wanted} free slots")


def test_the_per_phone_limit_holds_across_two_server_processes(pg_url, servers, monkeypatch):
    """Six bookings of one phone for six slots at once, through two processes on one
    PostgreSQL: never more than per_phone_per_day (2) go through."""
    monkeypatch.setenv("BOOKING_RATE_LIMIT", "0")
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)  # each process hashes its own way, as in production
    seed(pg_url)
    pair = (servers(pg_url), servers(pg_url))
    starts = _free_starts(pair[0].url, TRIALS * AT_ONCE)
    for trial in range(TRIALS):
        phone = f"0912{trial:06d}"
        mine = starts[trial * AT_ONCE:(trial + 1) * AT_ONCE]
        barrier = threading.Barrier(AT_ONCE)

        def book(i: int) -> int:
            barrier.wait()
            return requests.post(f"{pair[i % 2].url}/api/v1/offices/demo/bookings", timeout=30, json={
                "service": "HT", "start": mine[i], "name": "Nguyễn Văn An", "phone": phone}).status_code

        with ThreadPoolExecutor(AT_ONCE) as pool:
            answers = list(pool.map(book, range(AT_ONCE)))
        assert sorted(answers) == [201, 201, 409, 409, 409, 409], (trial, answers)
