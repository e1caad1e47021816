"""Calls read aloud in Vietnamese, made on the server without any online service.

The words come from `number_words` (Vietnamese rules: "linh" for a zero ten, "mốt",
"tư" and "lăm" after the tens, "không trăm" inside thousands), the voice from
eSpeak NG (Debian package `espeak-ng`, voice `vi`, about 10 ms a phrase), and each
announcement is a WAV file: a two-tone chime, then the call. Files are cached on
disk by phrase, so each number and counter is made once.
"""
from __future__ import annotations

import hashlib
import io
import logging
import math
import re
import shutil
import subprocess
import threading
import wave
from array import array
from pathlib import Path

log = logging.getLogger("motcua.speech")

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
# Letters of number prefixes, as a Vietnamese reader says them.
LETTERS = {"A": "a", "B": "bê", "C": "xê", "D": "đê", "E": "e", "G": "giê", "H": "hát", "K": "ca",
           "L": "e-lờ", "M": "em-mờ", "N": "en-nờ", "P": "pê", "Q": "quy", "R": "e-rờ", "S": "ét-sì",
           "T": "tê", "V": "vê", "X": "ích-xì", "Y": "i dài", "F": "ép", "I": "i", "J": "gi", "O": "o",
           "U": "u", "W": "vê kép", "Z": "dét"}
NUMBER = re.compile(r"^([A-Z]{0,3})([0-9]{1,6})\Z")
RATE = 22050  # espeak-ng's own rate: the chime is made to match, so files join without resampling
ESPEAK_VOICE = {"vi": "vi", "en": "en"}


def _below_thousand(n: int, inside: bool) -> list[str]:
    """0..999 as words; `inside` = a higher group came before, so zeros are spoken."""
    hundreds, tens, ones = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if hundreds or inside:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if ones and words:
            words.append("linh")
    elif tens == 1:
        words.append("mười")
    else:
        words += [DIGITS[tens], "mươi"]
    if ones:
        if ones == 5 and tens:
            words.append("lăm")
        elif ones == 1 and tens >= 2:
            words.append("mốt")
        elif ones == 4 and tens >= 2:
            words.append("tư")
        else:
            words.append(DIGITS[ones])
    return words


def number_words(n: int, digits: bool = False) -> str:
    """0..999,999 in Vietnamese words; `digits` reads it digit by digit instead."""
    if digits:
        return " ".join(DIGITS[int(d)] for d in str(n))
    if not 0 <= n < 1_000_000:
        raise ValueError(f"{n} is out of range")
    if n == 0:
        return DIGITS[0]
    thousands, rest = divmod(n, 1000)
    words: list[str] = []
    if thousands:
        words += _below_thousand(thousands, inside=False) + ["nghìn"]
    if rest:
        words += _below_thousand(rest, inside=bool(thousands))
    return " ".join(words)


def number_spoken(value: str, digits: bool = False) -> str:
    """A ticket's digits as read aloud: as a number ("một nghìn không trăm hai mươi ba"), or
    digit by digit when the office says so or when it is printed with leading zeros, so that
    005 sounds like what the citizen holds ("không không năm"), not like 5."""
    if digits or (len(value) > 1 and value.startswith("0")):
        return " ".join(DIGITS[int(d)] for d in value)
    return number_words(int(value))


def ticket_spoken(number: str, lang: str = "vi", digits: bool = False) -> str:
    """A ticket number (1023, A005) as read aloud: its letters as a Vietnamese reader says
    them, then `number_spoken`; in English letter by letter and digit by digit."""
    m = NUMBER.match(number)
    if m is None:
        raise ValueError("not a ticket number")
    prefix, value = m.groups()
    if lang == "en":
        return " ".join(prefix) + (" " if prefix else "") + " ".join(value)
    spoken = number_spoken(value, digits)
    return " ".join(LETTERS[c] for c in prefix) + " " + spoken if prefix else spoken


def announcement_text(number: str, counter: int, lang: str = "vi", digits: bool = False) -> str:
    """The sentence for one call. `number` is as printed (1023, A005), `counter` as read aloud."""
    if NUMBER.match(number) is None or not 0 < counter < 10000:
        raise ValueError("not a ticket number and counter")
    spoken = ticket_spoken(number, lang, digits)
    if lang == "en":
        return f"Ticket number {spoken}, please go to counter {counter}"
    return f"Mời công dân có số thứ tự {spoken} đến quầy số {number_words(counter)}"


# A seat's label as the seat map names it (1, 12, A3): read aloud only in this form.
SEAT = re.compile(r"^([A-Z]{0,3})([0-9]{1,4})\Z")


def seat_spoken(label: str, lang: str = "vi") -> str:
    m = SEAT.match(label)
    if m is None:
        raise ValueError("not a seat label")
    prefix, value = m.groups()
    if lang == "en":
        return " ".join(prefix) + (" " if prefix else "") + str(int(value))
    letters = " ".join(LETTERS[c] for c in prefix)
    return (letters + " " if letters else "") + number_words(int(value))


def called_in_text(number: str, seat: str | None = None, lang: str = "vi", digits: bool = False) -> str:
    """The sentence for a citizen called in from outside to a freed seat (docs/seating.md)."""
    spoken = ticket_spoken(number, lang, digits)
    if lang == "en":
        where = f", seat {seat_spoken(seat, 'en')}" if seat else ""
        return f"Ticket number {spoken}, please come into the waiting area{where}"
    where = f", ghế số {seat_spoken(seat)}" if seat else ""
    return f"Mời công dân có số thứ tự {spoken} vào khu vực chờ{where}"


_NUMERAL = re.compile(r"(?<![\w.,])[0-9]{1,6}(?!\w|[.,][0-9])")


def numbers_in_words(text: str) -> str:
    """Every plain number in a Vietnamese sentence in words ("dưới 6 tuổi": "dưới sáu tuổi"),
    so eSpeak reads them by our rules, not its own."""
    return _NUMERAL.sub(lambda m: number_words(int(m[0])), text)


def chime(seconds: float = 0.9) -> array:
    """Two soft tones, ding-dong, as 16-bit samples at RATE."""
    samples = array("h")
    half = int(RATE * seconds / 2)
    for freq in (784.0, 659.3):  # G5 then E5
        for i in range(half):
            t = i / RATE
            envelope = math.exp(-3.5 * t / (seconds / 2))
            samples.append(int(9000 * envelope * math.sin(2 * math.pi * freq * t)))
    samples.extend([0] * int(RATE * 0.25))
    return samples


def chime_wav() -> bytes:
    """The chime alone: what a display plays when no voice can be made."""
    return _wav_bytes(chime())


class SpeechUnavailable(RuntimeError):
    pass


def espeak_path(configured: str | None = None) -> str | None:
    """The eSpeak NG program to run, or None when there is none: `configured`
    (MOTCUA_SPEECH_PATH) if it names a program, else espeak-ng on the PATH."""
    if configured:
        return shutil.which(configured)  # a path to an executable file, or a name on PATH
    return shutil.which("espeak-ng")


MISSING = "espeak-ng is not installed (apt-get install espeak-ng)"


class Announcer:
    """Makes announcement WAVs once and keeps them in `cache_dir`."""

    def __init__(self, cache_dir: Path, program: str | None = None):
        self.cache_dir = Path(cache_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.program = program  # MOTCUA_SPEECH_PATH, or None for espeak-ng on the PATH
        self._lock = threading.Lock()

    def available(self) -> bool:
        return espeak_path(self.program) is not None

    def wav(self, number: str, counter: int, *, english: bool = False, digits: bool = False) -> bytes:
        phrases = [("vi", announcement_text(number, counter, "vi", digits))]
        if english:
            phrases.append(("en", announcement_text(number, counter, "en")))
        return self.speak(phrases)

    def called_in_wav(self, number: str, seat: str | None, *, english: bool = False,
                      digits: bool = False) -> bytes:
        """A citizen called in from outside: the chime, then the sentence, as a call sounds."""
        phrases = [("vi", called_in_text(number, seat, "vi", digits))]
        if english:
            phrases.append(("en", called_in_text(number, seat, "en")))
        return self.speak(phrases)

    def speak(self, phrases: list[tuple[str, str]], *, ring: bool = True) -> bytes:
        """`phrases` ((language, text), ...) one after another, after the chime when `ring`;
        made once, then read from the cache."""
        key = hashlib.sha256(repr(phrases if ring else ("quiet", phrases)).encode()).hexdigest()[:32]
        path = self.cache_dir / f"{key}.wav"
        if path.exists():
            return path.read_bytes()
        samples = chime() if ring else array("h")
        for lang, text in phrases:
            samples.extend(self._speak(lang, text))
            samples.extend([0] * int(RATE * 0.4))
        data = _wav_bytes(samples)
        with self._lock:  # write whole files only: a half-written cache entry is never served
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        return data

    def _speak(self, lang: str, text: str) -> array:
        program = espeak_path(self.program) if self.available() else None
        if program is None:
            raise SpeechUnavailable(MISSING)
        # The words go in on standard input: a phrase is never taken for an option.
        out = subprocess.run([program, "-v", ESPEAK_VOICE[lang], "-s", "140", "--stdout", "--stdin"],
                             input=text.encode(), capture_output=True, timeout=20, check=True).stdout
        with wave.open(io.BytesIO(out)) as w:
            if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, RATE):
                raise SpeechUnavailable(f"unexpected espeak-ng output format {w.getparams()}")
            samples = array("h", w.readframes(w.getnframes()))
        return _trim(samples)


def _trim(samples: array, threshold: int = 200) -> array:
    """Cut espeak's leading and trailing silence, so calls in a row follow each other tightly."""
    start = next((i for i, x in enumerate(samples) if abs(x) > threshold), 0)
    end = next((i for i in range(len(samples) - 1, -1, -1) if abs(samples[i]) > threshold), len(samples) - 1)
    return samples[start:end + 1]


def _wav_bytes(samples: array) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())
    return buf.getvalue()
