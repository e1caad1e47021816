"""The lobby display announces a citizen called in from outside to a freed seat (issue 19,
item 4; docs/seating.md): "Mời công dân có số thứ tự … vào khu vực chờ, ghế số …", after the
chime like a call, in the same queue as the call that freed the seat, one clip at a time."""
from __future__ import annotations

import io
import wave
from array import array
from itertools import pairwise
from urllib.parse import parse_qs, urlsplit

import requests

from server.infra.speech import RATE, chime
from tests.browser.test_display_page import open_display, voice_log, wait_text


def samples(data: bytes) -> array:
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE)
        return array("h", w.readframes(w.getnframes()))


def test_a_citizen_called_in_is_announced_after_the_call_that_freed_the_seat(two_chairs, page_factory, espeak):
    server, tokens, admin, counters = two_chairs
    q1 = counters["Quầy 1"]
    admin.open_counter(q1)
    page, rec = open_display(page_factory, server, tokens["display"])
    first, second, third = (admin.issue("HT") for _ in range(3))
    assert third["location"] == "outside"
    wait_text(page, ".area[data-area='A'] .a-state", "1 người chờ ngoài")
    assert rec.audio == []  # issuing and waiting outside say nothing

    admin.call_next(q1)  # the first goes to Quầy 1; the third is called in to the seat it freed
    page.wait_for_selector(f"#called-in li[data-number='{third['number']}']", timeout=5000)
    page.wait_for_function("motcuaDisplay.voice.log.length === 2 && motcuaDisplay.voice.log[1].end !== null",
                           timeout=30000)
    seat = admin.request("GET", f"/tickets/{third['id']}").json()["seat"]
    asked = [{k: v[0] for k, v in parse_qs(urlsplit(e["url"]).query).items()} for e in voice_log(page)]
    assert [{k: v for k, v in a.items() if k != "token"} for a in asked] == [
        {"number": first["number"], "counter": "1"},
        {"number": third["number"], "called_in": "1", "seat": seat}]
    log = voice_log(page)
    assert all(e["outcome"] == "ended" for e in log), log  # both WAVs played to their end
    for before, after in pairwise(log):
        assert after["start"] >= before["end"], log
    assert page.evaluate("motcuaDisplay.voice.overlaps") == 0

    # The clip: the calls' chime, then the words (a seat label the server can say).
    called_in = next(r for r in rec.responses if "called_in=1" in r.url)
    assert called_in.status == 200 and called_in.headers["content-type"].startswith("audio/wav")
    clip = samples(called_in.body())
    ring = chime()
    assert clip[:len(ring)] == ring and len(clip) > len(ring) + 2 * RATE
    call = samples(next(r for r in rec.responses if "counter=1" in r.url).body())
    assert call[:len(ring)] == ring
    # A seat label that cannot be said is refused; without one the sentence has no seat.
    base = f"{server.url}/display/demo/announcement.wav"
    params = {"token": tokens["display"], "number": third["number"], "called_in": "1"}
    assert requests.get(base, params={**params, "seat": "ghế 5"}, timeout=10).status_code == 400
    plain = requests.get(base, params=params, timeout=10)
    assert plain.status_code == 200 and len(samples(plain.content)) < len(clip)
    rec.assert_local()
