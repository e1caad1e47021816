"""The public look-up page /tra-cuu/<office> (issue 18, item 4) on a phone, in Chromium
against a real `motcua serve`: the empty form, a code typed and sent, the direct answer of
?code= (the receipt's QR code) for a dossier on time, late and posted, an unknown code, and
the 429 page after too many misses (BOOKING_RATE_LIMIT small). Nothing personal shows.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.db.database import Database
from server.engine import dossiers, lookups
from server.infra.settings import normalise_database_url
from tests.conftest import screenshot, seed

PHONE_SIZE = (390, 844)
PHONE, RECIPIENT, ADDRESS = "0912345678", "Phạm Văn Đức", "Số 9 phố Hàng Bông, phường Hoàn Kiếm, Hà Nội"


@pytest.fixture
def office(sqlite_url, servers):
    seed(sqlite_url)
    today = datetime.now(UTC).date()
    db = Database(normalise_database_url(sqlite_url))
    with db.write() as s:
        office_id = lookups.office_info(s, "demo").id
        now = datetime.now(UTC)

        def put(code, **data):
            dossiers.put(s, office_id, code, data, now=now, actor="test")

        put("HS-2026.0101", procedure="1.001193", phone=PHONE, status="processing",
            due_on=(today + timedelta(days=4)).isoformat())
        put("HS-2026.0102", procedure="1.000656", phone=PHONE, status="processing",
            due_on=(today - timedelta(days=3)).isoformat())
        put("HS-2026.0103", procedure="1.001193", phone=PHONE, status="ready",
            due_on=(today + timedelta(days=1)).isoformat())
        token = dossiers.find(s, office_id, "HS-2026.0103").private_token
        dossiers.choose_return(s, token, "post", now=now, recipient=RECIPIENT, phone=PHONE, address=ADDRESS)
        dossiers.mark(s, office_id, "HS-2026.0103", "posted", now=now, actor="test")
    db.dispose()
    return servers(sqlite_url, env={"BOOKING_RATE_LIMIT": "3/minute"})


def watch(page, server) -> list[str]:
    problems: list[str] = []
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    page.on("request", lambda r: problems.append(f"foreign {r.url}")
            if not r.url.startswith(("data:", server.url)) else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def no_personal(page) -> None:
    html = page.content()
    for value in (PHONE, "912345678", RECIPIENT, ADDRESS, "Hàng Bông"):
        assert value not in html, value


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def test_the_form_and_direct_answers_on_a_phone(office, page_factory):
    server = office
    page = page_factory(*PHONE_SIZE)
    problems = watch(page, server)
    reply = page.goto(f"{server.url}/tra-cuu/demo")
    assert reply.status == 200
    assert page.locator("h1").inner_text() == "Tra cứu hồ sơ"
    assert page.locator("#answer").count() == 0 and page.locator("#problem").count() == 0
    assert fits(page)
    screenshot(page, "lookup-page-empty")

    # Typed in lower case and sent: the answer, on time.
    page.fill("#code", "hs-2026.0101")
    with page.expect_navigation():
        page.click("#submit")
    assert "code=hs-2026.0101" in page.url
    assert page.locator("#answer-code").inner_text() == "HS-2026.0101"
    assert page.locator("#answer-status").inner_text().strip() == "Đang giải quyết"
    assert page.locator("#answer-timeliness").inner_text().strip().endswith("Đúng hạn")
    assert page.locator("#answer-procedure").inner_text() == "Đăng ký khai sinh"
    assert "Ngày hẹn trả" in page.locator(".facts").inner_text()
    assert "đang được giải quyết" in page.locator("#answer-next").inner_text()
    assert page.locator("#answer-timeliness").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(227, 244, 232)"
    no_personal(page)
    assert fits(page)
    screenshot(page, "lookup-page-on-time")

    # The receipt's QR code opens the answer directly: late, in red and in words.
    reply = page.goto(f"{server.url}/tra-cuu/demo?code=HS-2026.0102")
    assert reply.status == 200
    late = page.locator("#answer-timeliness")
    assert "Trễ hạn" in late.inner_text()
    assert late.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(253, 231, 229)"
    screenshot(page, "lookup-page-late")

    # Posted: on its way, the address nowhere.
    reply = page.goto(f"{server.url}/tra-cuu/demo?code=HS-2026.0103")
    assert reply.status == 200
    assert page.locator("#answer-status").inner_text().strip() == "Đã gửi qua bưu điện"
    assert "bưu điện" in page.locator("#answer-next").inner_text()
    no_personal(page)
    screenshot(page, "lookup-page-posted")

    # In English, the same answer.
    page.click("text=English")
    assert page.locator("#answer-status").inner_text().strip() == "Sent by post"
    assert "code=HS-2026.0103" in page.url
    page.goto(f"{server.url}/tra-cuu/demo?code=HS-2026.0103&lang=vi")
    assert not problems


def test_unknown_codes_and_too_many_misses(office, page_factory):
    server = office
    page = page_factory(*PHONE_SIZE)
    problems = watch(page, server)
    reply = page.goto(f"{server.url}/tra-cuu/demo?code=HS-0000.0000")
    assert reply.status == 404
    problem = page.locator("#problem")
    assert problem.locator("h2").inner_text() == "Không tìm thấy hồ sơ"
    assert problem.locator("p").inner_text() == ("Không tìm thấy hồ sơ mã HS-0000.0000. "
                                                 "Xin kiểm tra lại mã trên giấy biên nhận.")
    assert page.locator("#code").input_value() == "HS-0000.0000"
    assert fits(page)
    screenshot(page, "lookup-page-unknown")

    statuses = [page.goto(f"{server.url}/tra-cuu/demo?code=HS-0000.000{n}").status for n in range(1, 4)]
    assert statuses[-1] == 429 and set(statuses) <= {404, 429}
    reply = page.goto(f"{server.url}/tra-cuu/demo?code=HS-2026.0101")  # even a real code, until the window ends
    assert reply.status == 429 and int(reply.headers["retry-after"]) >= 60
    text = page.locator("#problem").inner_text()
    assert "Xin thử lại sau 1 phút" in text
    assert page.locator("#answer").count() == 0
    screenshot(page, "lookup-page-limited")
    assert not problems
