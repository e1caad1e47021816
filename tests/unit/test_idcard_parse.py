"""Reading the chip ID card's QR (căn cước / CCCD) as the kiosk's keyboard-wedge scanner types
it: `number|old number|full name|ddmmyyyy|sex|address|ddmmyyyy (issued)`. Only the number (to
be hashed) and the date of birth come out; anything that is not a card's text gives an error
code, never an exception. Every number here is invented."""
from __future__ import annotations

from datetime import date

import pytest

from server.engine.citizens import age_on
from server.engine.idcard import IdCard, Unreadable, parse_id_card

# A man born 1986 in Hà Nội (province 001; 0: male, 20th century; 86: the year).
CARD = "001086012345|012345678|Nguyễn Văn An|15031986|Nam|Số 12 phố Hàng Bạc, Phường Hoàn Kiếm, Hà Nội|10082021"
# A woman born 1949 (1: female, 20th century), the card of the 2024 format with no old number.
ELDER = "001149004321||Trần Thị Bình|02011949|Nữ|Phường Hoàn Kiếm, Hà Nội|01072024"


def test_a_full_card():
    card = parse_id_card(CARD)
    assert card == IdCard(number="001086012345", old_number="012345678", birth=date(1986, 3, 15))


def test_the_card_keeps_no_name_or_address():
    card = parse_id_card(CARD)
    assert set(vars(card)) == {"number", "old_number", "birth"}
    assert "Nguyễn" not in repr(card) and "Hàng Bạc" not in repr(card)


def test_no_old_number():
    assert parse_id_card(ELDER) == IdCard(number="001149004321", old_number=None, birth=date(1949, 1, 2))


def test_the_scanners_line_ends_and_spaces():
    typed = "\r\n  001086012345 | 012345678 |Nguyễn Văn An| 15031986 |Nam|Hà Nội|10082021\r\n"
    assert parse_id_card(typed) == parse_id_card(CARD)
    assert parse_id_card(CARD + "\r") == parse_id_card(CARD)
    assert parse_id_card(CARD.replace("|", "|\t")) == parse_id_card(CARD)


def test_a_scanner_that_cannot_type_diacritics():
    """A scanner in US-keyboard mode drops or mangles the name's letters: the name is not
    needed, so the card still reads."""
    mangled = "001086012345|012345678|Nguy?n V?n An|15031986|Nam|S? 12 ph? H?ng B?c|10082021"
    stripped = "001086012345|012345678|Nguyn Vn An|15031986|Nam|S 12 ph Hng Bc|10082021"
    assert parse_id_card(mangled) == parse_id_card(stripped) == parse_id_card(CARD)


def test_an_aim_prefix_from_the_scanner():
    assert parse_id_card("]Q1" + CARD) == parse_id_card(CARD)


@pytest.mark.parametrize("raw", [
    "001086012345|012345678|Nguyễn Văn An|15031986|Nam|Hà Nội",      # no date of issue
    "001086012345|012345678|Nguyễn Văn An|15031986|Nam",               # no address either
    "001086012345|012345678|Nguyễn Văn An|15031986",                   # only up to the birth date
    CARD + "|Nguyễn Văn Bố|Lê Thị Mẹ",                                  # more fields than we know
])
def test_missing_or_extra_trailing_fields(raw):
    assert parse_id_card(raw) == parse_id_card(CARD)


def test_cut_before_the_birth_date_gives_the_number_only():
    """Enough for the daily cap and the booking match; no priority by age."""
    assert parse_id_card("001086012345|012345678|Nguyễn Văn An") == IdCard("001086012345", "012345678", None)
    assert parse_id_card("001086012345|") == IdCard("001086012345", None, None)


def test_an_old_nine_digit_id_as_the_first_field():
    card = parse_id_card("012345678||Lê Văn Cường|20071945|Nam|Hà Nội|05052015")
    assert card == IdCard(number="012345678", old_number=None, birth=date(1945, 7, 20))


@pytest.mark.parametrize(("raw", "error"), [
    ("", "empty"),
    ("   \r\n", "empty"),
    ("https://dichvucong.gov.vn/p/home/dvc-tra-cuu-ho-so.html?ma=H26.22-261123-0001", "not_id_card"),
    ("K7M2QX", "not_id_card"),                                    # a booking code
    ("http://motcua.test/tra-cuu?ma=000.00.19.H26-261123-0001", "not_id_card"),
    ("@@##$$%%^^&&", "not_id_card"),
    ("Nguyễn Văn An|15031986|Nam", "not_id_card"),
    ("0010860123|012345678|Nguyễn Văn An|15031986|Nam|Hà Nội|10082021", "bad_number"),   # 10 digits
    ("00108601234567|x|y|15031986", "bad_number"),
    ("001086012345|012345678|Nguyễn Văn An|31021986|Nam|Hà Nội|10082021", "bad_date"),   # 31 February
    ("001086012345|012345678|Nguyễn Văn An|1503198|Nam|Hà Nội|10082021", "bad_date"),    # 7 digits
    ("001086012345|012345678|Nguyễn Văn An|15-03-1986|Nam|Hà Nội|10082021", "bad_date"),
    ("001086012345|012345678|Nguyễn Văn An|15032986|Nam|Hà Nội|10082021", "bad_date"),   # not born yet
    ("001086012345|012345678|Nguyễn Văn An|15031886|Nam|Hà Nội|10082021", "bad_date"),   # 1886
    ("001086012345|012345678|Nguyễn Văn An|15031968|Nam|Hà Nội|10082021", "number_mismatch"),
    ("001286012345|012345678|Nguyễn Văn An|15031986|Nam|Hà Nội|10082021", "number_mismatch"),
    ("001086012345|01234|Nguyễn Văn An|15031986|Nam|Hà Nội|10082021", "bad_old_number"),
    ("001086012345|012345678|Nguyễn\x00Văn An|15031986", "not_text"),
    ("001086012345|" + "x" * 2000, "too_long"),
])
def test_damaged_or_foreign_content(raw, error):
    result = parse_id_card(raw, today=date(2026, 11, 23))
    assert isinstance(result, Unreadable)
    assert result.error == error


@pytest.mark.parametrize("raw", [None, 12, b"001086012345|", ["001086012345"], "|" * 50, "|||||||", "\ufeff"])
def test_never_an_exception(raw):
    assert isinstance(parse_id_card(raw), Unreadable)


def test_born_in_the_2000s():
    """A young woman: 3 is female, 21st century."""
    assert parse_id_card("079305001122||Phạm Thu Hà|09092005|Nữ|TP Hồ Chí Minh|01022022").birth == date(2005, 9, 9)


@pytest.mark.parametrize(("birth", "day", "age"), [
    (date(1951, 11, 23), date(2026, 11, 23), 75),   # the birthday itself
    (date(1951, 11, 24), date(2026, 11, 23), 74),   # tomorrow
    (date(1952, 2, 29), date(2027, 2, 28), 74),     # a leap-day birthday in a common year
    (date(1952, 2, 29), date(2027, 3, 1), 75),
    (date(1949, 1, 2), date(2026, 11, 23), 77),
])
def test_age_on_a_day(birth, day, age):
    assert age_on(birth, day) == age
