"""GET /display/<office>/announcement.wav and the office's display settings."""
from __future__ import annotations

import pytest

from server.engine.offices import OfficeFileError, import_office
from server.infra.speech import Announcer
from tests.conftest import new_token, office_data
from tests.unit.test_speech import wav_stats


@pytest.fixture
def display(state):
    return new_token(state, "display", "Màn hình sảnh")


def get(client, token, number="1023", counter="3", office="demo"):
    return client.get(f"/display/{office}/announcement.wav",
                      query_string={"token": token, "number": number, "counter": counter})


def test_a_call_is_served_as_a_wav(client, display, espeak):
    r = get(client, display)
    assert r.status_code == 200 and r.mimetype == "audio/wav"
    seconds, rms = wav_stats(r.data)
    assert 3 < seconds < 12 and rms > 300
    assert "max-age" in r.headers["Cache-Control"]


def test_english_when_the_office_enables_it(client, display, state, espeak):
    plain = wav_stats(get(client, display).data)[0]
    with state.db.write() as s:
        import_office(s, office_data(announce={"english": True}))
    assert wav_stats(get(client, display).data)[0] > plain + 1.5


@pytest.mark.parametrize("number,counter", [("10 23", "3"), ("hello", "3"), ("1023", "0"), ("1023", "x"),
                                            ("1023", "99999"), ("", ""), ("A" * 10, "1")])
def test_only_a_ticket_number_and_a_counter_can_be_spoken(client, display, number, counter):
    r = get(client, display, number, counter)
    assert r.status_code == 400


def test_who_may_fetch_it(client, display, state):
    assert get(client, "").status_code == 401
    assert get(client, "x" * 43).status_code == 401
    assert get(client, new_token(state, "kiosk", "Kiosk sảnh")).status_code == 403
    assert get(client, display, office="other").status_code == 403


def test_the_office_carries_its_notice_and_announcement_settings(api, state):
    with state.db.write() as s:
        import_office(s, office_data(notice="Xin giữ trật tự.", announce={"digits": True}))
    office = api.get("/offices/demo").get_json()
    assert office["notice"] == "Xin giữ trật tự."
    assert office["announce"] == {"english": False, "digits": True}


def test_a_bad_announce_table_is_refused(state):
    with pytest.raises(OfficeFileError) as e, state.db.write() as s:
        import_office(s, office_data(announce={"english": "yes"}))
    assert "[announce] chỉ có english và digits" in "\n".join(e.value.problems)


def test_without_a_speech_engine_the_chime_still_rings(client, display, monkeypatch):
    monkeypatch.setattr(Announcer, "available", staticmethod(lambda: False))
    r = get(client, display, number="2024")
    seconds, rms = wav_stats(r.data)
    assert r.status_code == 200 and r.mimetype == "audio/wav" and 0.5 < seconds < 2 and rms > 300
