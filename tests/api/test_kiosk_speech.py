"""GET /kiosk/<office>/speech.wav (issue 19): each kiosk screen read aloud with the lobby's
offline voice, its words built on the server from the screen's name and what it shows;
only a kiosk's token; bad input is a 4xx in JSON. The words themselves: kiosk/spoken.py."""
from __future__ import annotations

from urllib.parse import unquote

import pytest

from kiosk import spoken
from server.engine.offices import import_office
from server.infra.speech import Announcer, called_in_text, numbers_in_words, seat_spoken
from tests.conftest import new_token, office_data
from tests.unit.test_speech import wav_stats

PATH = "/kiosk/demo/speech.wav"


def say(client, token, **query):
    return client.get(PATH, query_string={"token": token, **query})


def words(r) -> str:
    return unquote(r.headers["X-Motcua-Phrase"])


def test_the_start_screen_names_every_service_and_the_choices(client, tokens, espeak):
    r = say(client, tokens["kiosk"], lang="vi", screen="start")
    assert r.status_code == 200 and r.mimetype == "audio/wav"
    assert r.headers["Cache-Control"] == "no-cache"
    seconds, rms = wav_stats(r.data)
    assert 15 < seconds < 60 and rms > 300
    said = words(r)
    assert said.startswith("Mời chọn lĩnh vực cần giải quyết. Các lĩnh vực: Hộ tịch; Chứng thực; Đất đai, Xây dựng;")
    assert "Người nuôi con nhỏ dưới sáu tuổi" in said and "chạm nút Ưu tiên" in said  # the office's groups
    assert said.endswith("Chạm nút Tra cứu hồ sơ.")
    chosen = words(say(client, tokens["kiosk"], lang="vi", screen="start", priority="1"))
    assert chosen.startswith("Mời chọn lĩnh vực, bạn sẽ nhận số ưu tiên.") and "Quý khách đã chọn ưu tiên." in chosen
    english = words(say(client, tokens["kiosk"], lang="en", screen="start"))
    assert english.startswith("Please choose the service you need. The services are: Civil status")


def test_each_screen_has_its_words(client, tokens, api, espeak):
    kiosk = tokens["kiosk"]
    procedures = words(say(client, kiosk, lang="vi", screen="procedures", service="HT"))
    assert procedures.startswith("Hộ tịch. Quý khách cần làm thủ tục gì? Các thủ tục: Đăng ký khai sinh; Đăng ký khai tử;")
    assert procedures.endswith("Không rõ thì chạm Khác, không rõ.")
    online = words(say(client, kiosk, lang="en", screen="online", procedure="1.001193"))
    assert online.startswith("You can file this procedure online from home: Birth registration.")
    assert words(say(client, kiosk, lang="vi", screen="checkin")).startswith("Nhập mã lịch hẹn. Mã gồm sáu ký tự")
    assert words(say(client, kiosk, lang="vi", screen="lookup")).startswith("Tra cứu hồ sơ. Nhập mã hồ sơ")
    message = words(say(client, kiosk, lang="vi", screen="message", title="checkin.early_title"))
    assert message.startswith("Chưa đến giờ nhận số. Xin đọc thông báo trên màn hình")
    # The ID card's answers are said whole: a citizen who scanned a card may not read the screen.
    damaged = words(say(client, kiosk, lang="vi", screen="message", title="idcard.unreadable_title"))
    assert damaged.startswith("Không đọc được căn cước. Xin đưa mã qr trên căn cước vào máy quét lần nữa")  # capitals said as a word
    required = words(say(client, kiosk, lang="en", screen="message", title="idcard.required_title"))
    assert required.startswith("Please scan your id card. To take a number, please scan the qr code on your id card, hold it")

    ticket = api.issue("HT", priority=True)
    said = words(say(client, kiosk, lang="vi", screen="ticket", ticket=str(ticket["id"])))
    assert said == ("Số thứ tự của bạn là: một nghìn không trăm linh một. Lĩnh vực: Hộ tịch. Đây là số ưu tiên. "
                    f"Mời quý khách ngồi ghế số {seat_spoken(ticket['seat'])}. Bạn là người tiếp theo. "
                    "Hiện chưa có quầy phục vụ lĩnh vực này. Xin chú ý màn hình và loa gọi số. "
                    "Xin nhắc lại, số của bạn là: một nghìn không trăm linh một.")
    english = words(say(client, kiosk, lang="en", screen="ticket", ticket=str(ticket["id"])))
    assert english.startswith("Your number is: 1 0 0 1. Service: Civil status")


def test_the_office_reading_numbers_digit_by_digit_is_followed(client, tokens, api, state, espeak):
    with state.db.write() as s:
        import_office(s, office_data(announce={"digits": True}))
    ticket = api.issue("CT")
    said = words(say(client, tokens["kiosk"], lang="vi", screen="ticket", ticket=str(ticket["id"])))
    assert said.startswith("Số thứ tự của bạn là: hai không không một.")


def test_the_daily_cap_is_said_with_the_offices_number(client, tokens, state, espeak):
    with state.db.write() as s:
        import_office(s, office_data(citizens={"id_card": "offered", "per_citizen_per_day": 0}))
    without = words(say(client, tokens["kiosk"], lang="vi", screen="message", title="idcard.cap_title"))
    assert without.startswith("Quý khách đã lấy đủ số hôm nay. Xin đọc thông báo")  # no cap: no number to say
    with state.db.write() as s:
        import_office(s, office_data(citizens={"id_card": "offered", "per_citizen_per_day": 3}))
    said = words(say(client, tokens["kiosk"], lang="vi", screen="message", title="idcard.cap_title"))
    assert said.startswith("Quý khách đã lấy đủ số hôm nay. Hôm nay quý khách đã lấy ba số thứ tự")


def test_only_this_office_kiosk_may_ask(client, tokens, state):
    query = {"lang": "vi", "screen": "checkin"}
    for token, status, code in (("", 401, "unauthorized"), ("x" * 43, 401, "unauthorized"),
                                (tokens["display"], 403, "forbidden"), (tokens["admin"], 403, "forbidden"),
                                (tokens["officer"], 403, "forbidden")):
        r = say(client, token, **query)
        assert (r.status_code, r.get_json()["error"]) == (status, code), token
    other = client.get("/kiosk/other/speech.wav", query_string={"token": tokens["kiosk"], **query})
    assert (other.status_code, other.get_json()["error"]) == (403, "other_office")


@pytest.mark.parametrize("query,status,error", [
    ({}, 400, "missing_field"),
    ({"lang": "fr", "screen": "start"}, 400, "invalid_field"),
    ({"lang": "vi"}, 400, "missing_field"),
    ({"lang": "vi", "screen": "Mời số 1023"}, 400, "invalid_field"),
    ({"lang": "vi", "screen": "procedures"}, 400, "missing_field"),
    ({"lang": "vi", "screen": "procedures", "service": "H T"}, 400, "invalid_field"),
    ({"lang": "vi", "screen": "procedures", "service": "ZZ"}, 404, "service_not_found"),
    ({"lang": "vi", "screen": "online", "procedure": "9.999999"}, 404, "unknown_procedure"),
    ({"lang": "vi", "screen": "ticket", "ticket": "abc"}, 400, "invalid_field"),
    ({"lang": "vi", "screen": "ticket", "ticket": "99999"}, 404, "ticket_not_found"),
    ({"lang": "vi", "screen": "message", "title": "Xin chào"}, 400, "invalid_field"),
    ({"lang": "vi", "screen": "message", "title": "ticket.yours"}, 400, "invalid_field"),
])
def test_bad_input_is_a_4xx_in_json(client, tokens, query, status, error):
    r = say(client, tokens["kiosk"], **query)
    assert r.status_code == status and r.is_json, r.data[:200]
    assert r.get_json()["error"] == error and r.get_json()["message"]


def test_another_office_ticket_is_not_read(client, tokens, state, espeak):
    with state.db.write() as s:
        import_office(s, office_data(code="khac", name="Văn phòng khác"))
    other = new_token(state, "admin", "admin", office="khac")
    ticket = client.post("/api/v1/offices/khac/tickets", json={"service": "HT"},
                         headers={"Authorization": f"Bearer {other}"}).get_json()
    r = say(client, tokens["kiosk"], lang="vi", screen="ticket", ticket=str(ticket["id"]))
    assert r.status_code == 404 and r.get_json()["error"] == "ticket_not_found"


def test_without_a_speech_engine_the_kiosk_is_told_in_json(client, tokens, monkeypatch):
    monkeypatch.setattr(Announcer, "available", lambda self: False)
    r = say(client, tokens["kiosk"], lang="vi", screen="lookup")
    assert r.status_code == 503 and r.get_json()["error"] == "speech_unavailable"


# ---------------------------------------------------------------- the words, without a server

def test_plain_words_for_espeak():
    assert spoken.plain("Khác / không rõ – “dưới 6 tuổi”…  A023 (12)", "vi") == "Khác, không rõ, dưới sáu tuổi. A023, mười hai"
    assert spoken.plain("the QR code (hold it to the scanner). (Or ask.)", "en") == "the qr code, hold it to the scanner. Or ask."
    assert spoken.plain("Under 6", "en") == "Under 6"
    assert spoken.plain("số ƯU TIÊN, mã QR, số A023, a PRIORITY number", "vi") == "số ưu tiên, mã qr, số A023, a priority number"
    assert spoken.plain("a\x00b\nc", "vi") == "a b c"
    long = ". ".join(["Một câu khá dài để thử cắt"] * 100) + "."
    cut = spoken.plain(long, "vi")
    assert len(cut) <= spoken.MAX_CHARS and cut.endswith(".")


def test_numbers_seats_and_the_called_in_sentence():
    assert numbers_in_words("còn 3 người, 15h, A023, 1.5 km, 21.") == "còn ba người, 15h, A023, 1.5 km, hai mươi mốt."
    assert seat_spoken("12") == "mười hai" and seat_spoken("B3") == "bê ba" and seat_spoken("B3", "en") == "B 3"
    with pytest.raises(ValueError):
        seat_spoken("ghế 5")
    assert called_in_text("1023", "5") == "Mời công dân có số thứ tự một nghìn không trăm hai mươi ba vào khu vực chờ, ghế số năm"
    assert called_in_text("A005", None) == "Mời công dân có số thứ tự a không không năm vào khu vực chờ"
    assert called_in_text("1023", "5", "en") == "Ticket number 1 0 2 3, please come into the waiting area, seat 5"


# ---------------------------------------------------------------- the lobby's called-in announcement

def test_the_display_says_a_citizen_called_in(client, tokens, espeak):
    base = {"token": tokens["display"], "number": "1023", "called_in": "1"}
    with_seat = client.get("/display/demo/announcement.wav", query_string={**base, "seat": "5"})
    without = client.get("/display/demo/announcement.wav", query_string=base)
    assert with_seat.status_code == 200 and without.status_code == 200 and with_seat.mimetype == "audio/wav"
    assert wav_stats(with_seat.data)[0] > wav_stats(without.data)[0] > 3
    for seat in ("ghế 5", "5 ", "12345", "a5"):
        bad = client.get("/display/demo/announcement.wav", query_string={**base, "seat": seat})
        assert bad.status_code == 400, seat
    # A call still needs its counter.
    call = client.get("/display/demo/announcement.wav", query_string={**base, "called_in": "0"})
    assert call.status_code == 400
    assert client.get("/display/demo/announcement.wav",
                      query_string={**base, "token": tokens["kiosk"]}).status_code == 403
