"""The kiosk's priority step asks which group (issue 19), in Chromium against a real
`motcua serve` at 1080×1920: the office's groups as large buttons, the ticket issued with
the group chosen, and the desk showing the group's name in its waiting list and on the
ticket it calls. Screenshots: /tmp/shots-groups/."""
from __future__ import annotations

from pathlib import Path

import pytest

from server.db.database import Database
from server.infra.settings import normalise_database_url
from tests.browser.test_desk import give_desk, log_in_at
from tests.browser.test_kiosk_page import ALL_DAY, PORTRAIT, TICKET
from tests.conftest import office_data, seed, without_areas, without_procedures

SHOTS = Path("/tmp/shots-groups")


@pytest.fixture
def office(sqlite_url, servers):
    tokens = seed(sqlite_url, without_procedures(without_areas(office_data(hours=ALL_DAY))))
    db = Database(normalise_database_url(sqlite_url))
    give_desk(db, "lan.nt", (1, 2))
    db.dispose()
    return servers(sqlite_url), tokens


def shoot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_the_kiosk_asks_the_group_and_the_desk_shows_it(office, page_factory):
    server, tokens = office
    kiosk = page_factory(*PORTRAIT)
    posts = []
    kiosk.on("request", lambda r: posts.append(r.post_data_json) if r.method == "POST" else None)
    kiosk.goto(f"{server.url}/kiosk/demo?token={tokens['kiosk']}")
    kiosk.wait_for_selector(".svc .svc-wait:text('Đang chờ')")
    kiosk.click("#priority")
    kiosk.wait_for_selector("#groups:not([hidden])")
    names = kiosk.locator(".group-choice").all_text_contents()
    assert names == ["Người cao tuổi", "Người khuyết tật", "Phụ nữ có thai", "Người nuôi con nhỏ dưới 6 tuổi",
                     "Người có công với cách mạng"]
    assert kiosk.locator("#groups-title").text_content() == "Bạn thuộc nhóm ưu tiên nào?"
    fits = kiosk.evaluate("""() => [...document.querySelectorAll('.group-choice, #groups-back')].every(b =>
        b.getBoundingClientRect().bottom <= innerHeight && b.scrollWidth <= b.clientWidth + 1
        && b.getBoundingClientRect().height >= 80)""")
    assert fits
    shoot(kiosk, "kiosk-groups-1080x1920")
    kiosk.click(".group-choice[data-group=disabled]")
    assert kiosk.locator("#priority").get_attribute("aria-pressed") == "true"
    kiosk.click(".svc[data-code=HT]")
    kiosk.wait_for_selector(TICKET)
    number = kiosk.locator("#ticket-number").text_content()
    assert posts == [{"service": "HT", "priority": True, "priority_group": "disabled"}]
    shoot(kiosk, "kiosk-groups-ticket")

    desk = page_factory(1920, 1080)
    log_in_at(desk, server, "lan.nt", "Quầy 1")
    desk.click("#btn-open")
    desk.wait_for_selector("body[data-status=open]")
    chip = desk.locator(f".queue[data-code=HT] .chip.prio:has-text('{number}')")
    chip.wait_for()
    assert chip.locator(".chip-group").text_content() == "Người khuyết tật"
    shoot(desk, "desk-groups-waiting")
    desk.click("#btn-next")
    desk.wait_for_selector(f"#current-number:text('{number}')")
    assert desk.locator("#current-priority").text_content() == "Ưu tiên: Người khuyết tật"
    shoot(desk, "desk-groups-current")


@pytest.fixture
def own_groups(sqlite_url, servers):
    data = without_procedures(without_areas(office_data(hours=ALL_DAY)))
    data["priority_groups"] = [
        {"code": "disabled", "name": "Người khuyết tật nặng", "name_en": "Severely disabled people", "order": 1},
        {"code": "elderly", "name": "Người từ 75 tuổi", "name_en": "People aged 75 and over", "order": 2},
        {"code": "veteran", "name": "Thương binh, bệnh binh", "name_en": "War invalids"}]
    return servers(sqlite_url), seed(sqlite_url, data)


def test_the_start_screen_names_the_offices_own_groups(own_groups, page_factory):
    """'Dành cho:' on the priority button lists the groups the office file gives, in calling
    order and in the kiosk's language, not the law's five."""
    server, tokens = own_groups
    kiosk = page_factory(*PORTRAIT)
    kiosk.goto(f"{server.url}/kiosk/demo?token={tokens['kiosk']}")
    chips = kiosk.locator("#priority-groups .group")
    kiosk.wait_for_function("() => document.querySelector('#priority-groups').textContent.includes('75')")
    assert chips.all_text_contents() == ["Người khuyết tật nặng", "Người từ 75 tuổi", "Thương binh, bệnh binh"]
    shoot(kiosk, "kiosk-own-groups")
    kiosk.click(".lang[data-lang=en]")
    kiosk.wait_for_function("() => document.querySelector('#priority-groups').textContent.includes('War')")
    assert chips.all_text_contents() == ["Severely disabled people", "People aged 75 and over", "War invalids"]
    kiosk.click("#priority")
    kiosk.wait_for_selector("#groups:not([hidden])")
    assert kiosk.locator(".group-choice").all_text_contents() == chips.all_text_contents()
