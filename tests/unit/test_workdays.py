"""Working-day arithmetic for the appointed return date, across weekends and holidays."""
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.engine import booking
from server.engine.holidays import is_public_holiday
from server.engine.workdays import (
    add_working_days,
    first_working_day,
    is_working_day,
    working_days_between,
)

DAY = [["07:30", "11:30"], ["13:30", "17:00"]]   # as stored on the office
WEEKDAYS = {d: DAY for d in ("mon", "tue", "wed", "thu", "fri")}
WITH_SATURDAY = {**WEEKDAYS, "sat": [["07:30", "11:30"]]}


def add(start: str, days: int, hours=WEEKDAYS, closed=()) -> str:
    return add_working_days(date.fromisoformat(start), days, hours, list(closed)).isoformat()


def test_friday_plus_one_is_monday():
    assert add("2026-03-06", 1) == "2026-03-09"


def test_weekends_are_skipped():
    assert add("2026-03-05", 3) == "2026-03-10"      # Thu -> Fri, Mon, Tue


def test_saturday_open_office_counts_saturday():
    assert add("2026-03-06", 1, WITH_SATURDAY) == "2026-03-07"


def test_office_closed_dates_are_skipped():
    assert add("2026-03-06", 1, closed=["2026-03-09"]) == "2026-03-10"


def test_days_zero_is_the_same_working_day():
    assert add("2026-03-10", 0) == "2026-03-10"


def test_days_zero_on_a_holiday_is_the_next_working_day():
    assert add("2026-04-30", 0) == "2026-05-04"      # 30/4 Thu, 1/5 Fri, weekend


def test_tet_2026_pushes_the_date_past_the_break():
    # Received Friday 13/2, the last working day before Tết Bính Ngọ (14/2 - 22/2).
    assert add("2026-02-13", 3) == "2026-02-25"      # Mon 23, Tue 24, Wed 25


def test_tet_2026_saturday_inside_the_break_is_closed_even_for_saturday_offices():
    assert not is_working_day(date(2026, 2, 21), WITH_SATURDAY, [])


def test_30_april_and_1_may():
    assert add("2026-04-29", 1) == "2026-05-04"


def test_national_day_with_its_adjacent_day_2025():
    assert not is_working_day(date(2025, 9, 1), WEEKDAYS, [])   # ngày liền kề
    assert add("2025-08-29", 1) == "2025-09-03"


def test_national_day_swap_2026_closes_monday_31_august():
    assert add("2026-08-28", 1) == "2026-09-03"      # 31/8, 1/9, 2/9 off


def test_compensatory_day_for_hung_kings_on_sunday_2026():
    assert not is_working_day(date(2026, 4, 27), WEEKDAYS, [])   # nghỉ bù
    assert add("2026-04-24", 1) == "2026-04-28"


def test_compensatory_day_for_1_may_on_saturday_2027():
    assert add("2027-04-29", 1) == "2027-05-04"      # 30/4 Fri, 1/5 Sat -> bù Mon 3/5


def test_years_outside_the_table_still_get_tet_and_the_fixed_holidays():
    for day in (date(2030, 1, 1), date(2030, 4, 30), date(2030, 5, 1), date(2030, 9, 2),
                date(2030, 2, 3)):  # mùng 1 Tết Canh Tuất
        assert is_public_holiday(day), day
    assert not is_public_holiday(date(2030, 3, 12))


def test_vietnam_culture_day_closes_the_office_from_2026():
    assert is_public_holiday(date(2026, 11, 24))
    assert not is_public_holiday(date(2025, 11, 24))
    assert add("2026-11-23", 1) == "2026-11-25"


def test_booking_and_the_appointed_date_share_one_holiday_rule():
    assert booking.is_public_holiday is is_public_holiday


def test_office_open_no_day_gives_up():
    with pytest.raises(ValueError):
        add("2026-03-06", 1, hours={})


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        add("2026-03-06", -1)


def test_working_days_between_counts_lateness():
    due, returned = date(2026, 2, 13), date(2026, 2, 24)
    assert working_days_between(due, returned, WEEKDAYS, []) == 2
    assert working_days_between(returned, due, WEEKDAYS, []) == -2
    assert working_days_between(due, due, WEEKDAYS, []) == 0


HOURS = st.sampled_from([WEEKDAYS, WITH_SATURDAY, {"wed": DAY}])
STARTS = st.dates(date(2024, 6, 1), date(2028, 6, 1))


@given(start=STARTS, days=st.integers(0, 40), hours=HOURS)
def test_property_result_is_a_working_day_and_steps_compose(start, days, hours):
    closed = [(start + timedelta(3)).isoformat()]
    due = add_working_days(start, days, hours, closed)
    assert due >= start
    assert is_working_day(due, hours, closed)
    assert add_working_days(due, 1, hours, closed) == add_working_days(start, days + 1, hours, closed)
    assert working_days_between(first_working_day(start, hours, closed), due, hours, closed) == days
