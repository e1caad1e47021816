"""Numbers read in Vietnamese words, and the announcement audio made offline."""
from __future__ import annotations

import io
import shutil
import wave
from array import array

import pytest

from server.engine import health
from server.infra.speech import Announcer, SpeechUnavailable, announcement_text, espeak_path, number_words

CASES = {
    0: "không", 1: "một", 4: "bốn", 5: "năm", 9: "chín",
    10: "mười", 11: "mười một", 14: "mười bốn", 15: "mười lăm", 19: "mười chín",
    20: "hai mươi", 21: "hai mươi mốt", 24: "hai mươi tư", 25: "hai mươi lăm", 55: "năm mươi lăm",
    90: "chín mươi", 99: "chín mươi chín",
    100: "một trăm", 101: "một trăm linh một", 104: "một trăm linh bốn", 105: "một trăm linh năm",
    110: "một trăm mười", 111: "một trăm mười một", 115: "một trăm mười lăm", 121: "một trăm hai mươi mốt",
    999: "chín trăm chín mươi chín",
    1000: "một nghìn", 1001: "một nghìn không trăm linh một", 1005: "một nghìn không trăm linh năm",
    1010: "một nghìn không trăm mười", 1015: "một nghìn không trăm mười lăm",
    1023: "một nghìn không trăm hai mươi ba", 1100: "một nghìn một trăm",
    1105: "một nghìn một trăm linh năm", 2021: "hai nghìn không trăm hai mươi mốt",
    4444: "bốn nghìn bốn trăm bốn mươi tư", 5555: "năm nghìn năm trăm năm mươi lăm",
    9999: "chín nghìn chín trăm chín mươi chín",
    10000: "mười nghìn", 15005: "mười lăm nghìn không trăm linh năm",
    21000: "hai mươi mốt nghìn", 100000: "một trăm nghìn", 999999: "chín trăm chín mươi chín nghìn chín trăm chín mươi chín",
}


@pytest.mark.parametrize("n,words", sorted(CASES.items()))
def test_number_words(n, words):
    assert number_words(n) == words


def test_every_number_to_9999_reads_without_gaps_or_doubled_spaces():
    for n in range(10000):
        words = number_words(n)
        assert words and "  " not in words and words == words.strip()
        assert ("linh" in words) == (n % 100 in range(1, 10) and n >= 100)


def test_digit_by_digit_and_the_phrases():
    assert number_words(1023, digits=True) == "một không hai ba"
    assert announcement_text("1023", 3) == "Mời công dân có số thứ tự một nghìn không trăm hai mươi ba đến quầy số ba"
    assert announcement_text("1023", 3, digits=True) == "Mời công dân có số thứ tự một không hai ba đến quầy số ba"
    # Printed with leading zeros, a number is read as printed, digit by digit.
    assert announcement_text("A023", 12) == "Mời công dân có số thứ tự a không hai ba đến quầy số mười hai"
    assert announcement_text("1023", 3, lang="en") == "Ticket number 1 0 2 3, please go to counter 3"


def wav_stats(data: bytes) -> tuple[float, float]:
    """(seconds, RMS of 16-bit mono samples)."""
    with wave.open(io.BytesIO(data)) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        frames = w.readframes(w.getnframes())
        seconds = w.getnframes() / w.getframerate()
    samples = array("h", frames)
    return seconds, (sum(x * x for x in samples) / max(1, len(samples))) ** 0.5


def test_the_announcement_is_a_valid_sounding_wav_of_sensible_length(espeak, tmp_path):
    announcer = Announcer(tmp_path)
    data = announcer.wav("1023", 3)
    seconds, rms = wav_stats(data)
    assert 3 < seconds < 12 and rms > 300
    english = announcer.wav("1023", 3, english=True)
    assert wav_stats(english)[0] > seconds + 1.5
    # Made once, then served from the cache on disk.
    assert len(list(tmp_path.glob("*.wav"))) == 2
    assert announcer.wav("1023", 3) == data


def test_a_number_printed_with_leading_zeros_is_read_as_printed():
    assert announcement_text("A005", 3) == "Mời công dân có số thứ tự a không không năm đến quầy số ba"
    assert announcement_text("0042", 2) == "Mời công dân có số thứ tự không không bốn hai đến quầy số hai"
    assert announcement_text("A105", 3) == "Mời công dân có số thứ tự a một trăm linh năm đến quầy số ba"
    assert announcement_text("A105", 3, digits=True) == "Mời công dân có số thứ tự a một không năm đến quầy số ba"
    assert announcement_text("A0", 1) == "Mời công dân có số thứ tự a không đến quầy số một"


def test_without_espeak_ng_the_announcer_says_so_and_how_to_install_it(tmp_path):
    missing = "/nonexistent/espeak-ng"
    assert espeak_path(missing) is None
    announcer = Announcer(tmp_path, missing)
    assert not announcer.available()
    with pytest.raises(SpeechUnavailable, match="apt-get install espeak-ng"):
        announcer.wav("A005", 3)
    assert health.voice_view(missing) == {
        "ready": False, "engine": "espeak-ng", "path": None,
        "message": "Giọng đọc: chưa cài espeak-ng (apt-get install espeak-ng)"}
    assert health.voice_view(missing, "en")["message"].startswith("Voice: espeak-ng is not installed")


def test_the_speech_path_setting_names_the_program(espeak, tmp_path):

    program = shutil.which("espeak-ng")
    announcer = Announcer(tmp_path, program)
    assert announcer.available()
    assert announcer.wav("A005", 3)[:4] == b"RIFF"
