"""Vietnam's public holidays (Bộ luật Lao động 2019, Điều 112) as days the offices close.

Statutory days: Tết Dương lịch 1/1; Tết Âm lịch 5 days; Giỗ Tổ Hùng Vương 10/3 lunar;
30/4 and 1/5; Quốc khánh 2/9 plus one adjacent day. A holiday on the weekly rest day is
made up on the next working day (nghỉ bù, khoản 3).

The lunar holidays and the exact days off are set each year by the Prime Minister, so years
we know are an explicit table of the whole announced break (weekends included: a desk that
opens on Saturday still closes inside the break). A Saturday made a working day in a swap
(làm bù) is not modelled: it counts as working only if the office opens on Saturdays
anyway, which its `hours` already say.

Every year also takes the `holidays` package's Vietnamese calendar (statutory days with
their lunar dates computed, observed days, and days it adds as the law changes, such as
Ngày Văn hóa Việt Nam, 24/11, from 2026), so a year outside the table still has Tết and
Giỗ Tổ. An office adds anything else through its `closed_dates`. This is the one rule for
"a public holiday": booking and the appointed return date both ask it.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


def _days(first: str, last: str | None = None) -> set[date]:
    """Every date from first to last inclusive (ISO strings)."""
    start = date.fromisoformat(first)
    end = date.fromisoformat(last or first)
    return {start + timedelta(n) for n in range((end - start).days + 1)}


# Sources: tet-amlich.com "Các ngày nghỉ lễ 2025" (Nov 2024) for all of 2025.
DAYS_OFF_2025 = (
    _days("2025-01-01")                      # Tết Dương lịch
    | _days("2025-01-25", "2025-02-02")      # Tết Âm lịch Ất Tỵ, 9 ngày (26 tháng Chạp - mùng 5)
    | _days("2025-04-07")                    # Giỗ Tổ Hùng Vương (thứ Hai)
    | _days("2025-04-30", "2025-05-04")      # 30/4, 1/5; thứ Sáu 2/5 đổi sang làm bù thứ Bảy 26/4
    | _days("2025-08-30", "2025-09-02")      # Quốc khánh: 2/9 và ngày liền kề 1/9, cùng cuối tuần
)

# Sources: VPCP 12729/VPCP-KGVX (Tết Dương lịch, reported by collector.com.tr mirror);
# kienthuc.net.vn 2025-10-13 and congan.com.vn (Tết and Quốc khánh); thanhnien.vn
# 2026-02-23 (Giỗ Tổ on Sunday, nghỉ bù Monday; 30/4-1/5 on Thursday-Friday).
DAYS_OFF_2026 = (
    _days("2026-01-01", "2026-01-04")        # Tết Dương lịch; thứ Sáu 2/1 đổi sang làm bù thứ Bảy 10/1
    | _days("2026-02-14", "2026-02-22")      # Tết Âm lịch Bính Ngọ, 9 ngày (27 tháng Chạp - mùng 6)
    | _days("2026-04-26", "2026-04-27")      # Giỗ Tổ Hùng Vương (Chủ nhật) và nghỉ bù thứ Hai
    | _days("2026-04-30", "2026-05-01")      # Ngày Chiến thắng 30/4, Quốc tế Lao động 1/5
    | _days("2026-08-29", "2026-09-02")      # Quốc khánh: 1/9, 2/9; thứ Hai 31/8 đổi sang làm bù thứ Bảy 22/8
)

# 2027: no official schedule found yet. Statutory days with the Labour Code's nghỉ bù;
# lunar dates from the lunar calendar (Tết Đinh Mùi = Saturday 6/2/2027, Giỗ Tổ 16/4). UNCONFIRMED:
# the Prime Minister may pick other Tết days, another day next to 2/9, or swaps.
DAYS_OFF_2027 = (
    _days("2027-01-01")                      # Tết Dương lịch (thứ Sáu)
    # Tết Âm lịch: 29 tháng Chạp (cuối năm) - mùng 4; mùng 1, mùng 2 rơi vào thứ Bảy,
    # Chủ nhật nên nghỉ bù thứ Tư 10/2, thứ Năm 11/2.
    | _days("2027-02-05", "2027-02-11")
    | _days("2027-04-16")                    # Giỗ Tổ Hùng Vương (thứ Sáu)
    | _days("2027-04-30", "2027-05-01")      # 30/4 (thứ Sáu), 1/5 (thứ Bảy)
    | _days("2027-05-03")                    # nghỉ bù cho 1/5 rơi vào thứ Bảy
    | _days("2027-09-02", "2027-09-03")      # Quốc khánh 2/9 và ngày liền kề 3/9 (chưa công bố)
)

ANNOUNCED = {2025: DAYS_OFF_2025, 2026: DAYS_OFF_2026, 2027: DAYS_OFF_2027}


@lru_cache(maxsize=16)
def days_off(year: int) -> frozenset[date]:
    """The year's days off: the announced break where we have it, and the package's calendar."""
    return frozenset(ANNOUNCED.get(year, set()) | set(holidays.country_holidays("VN", years=year)))


def is_public_holiday(day: date) -> bool:
    return day in days_off(day.year)
