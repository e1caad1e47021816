"""The officer's desk records what a visit achieved (counter/static/outcome.js): outcomes on
the keys 1–6 then C or Shift+Enter, the procedure corrected, the receipt code typed or
scanned (a keyboard wedge: fast keys and Enter, even with the focus on the page), a dossier
already sent back once flagged, the missing documents ticked from the procedure's list."""
from __future__ import annotations

import requests

from tests.browser import test_desk
from tests.browser.test_desk import issue, log_in_at
from tests.conftest import screenshot

desk_server = test_desk.desk_server  # the same server: the demo office open all day, lan.nt at Quầy 1

BIRTH = "1.001193"
DEATH = "1.000656"


def ticket(server, token, ticket_id) -> dict:
    r = requests.get(f"{server.url}/api/v1/tickets/{ticket_id}", headers={"Authorization": f"Bearer {token}"},
                     timeout=5)
    assert r.status_code == 200, r.text
    return r.json()


def events(server, token, ticket_id) -> list[dict]:
    return requests.get(f"{server.url}/api/v1/tickets/{ticket_id}/events",
                        headers={"Authorization": f"Bearer {token}"}, timeout=5).json()


def issue_for(server, token, procedure=None) -> dict:
    body = {"service": "HT", **({"procedure": procedure} if procedure else {})}
    r = requests.post(f"{server.url}/api/v1/offices/demo/tickets", json=body,
                      headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert r.status_code == 201, r.text
    return r.json()


def idle(page):
    """The ticket is done and the desk may call again (a socket event may draw the empty
    counter before the action's own reply has come back)."""
    page.wait_for_selector("#current[data-state=none]")
    page.wait_for_selector("#btn-next:not([disabled])")


def open_and_call(page, number):
    page.click("#btn-open")
    page.wait_for_selector("body[data-status=open]")
    page.keyboard.press("Space")
    page.wait_for_selector(f"#current-number:text('{number}')")
    page.wait_for_selector("#outcome:not([hidden])")


def test_outcome_by_keyboard_then_complete_and_nothing_chosen_completes_as_before(desk_server, page_factory):
    server, admin = desk_server
    page = page_factory(1920, 1080)
    first, second, third = (issue_for(server, admin, BIRTH), issue(server, admin), issue(server, admin))
    log_in_at(page, server, "lan.nt", "Quầy 1")
    open_and_call(page, first["number"])
    # The kiosk's procedure is preselected; 4 picks "advice", 4 again clears it, 2 picks "returned".
    assert page.locator("#outcome-procedure").input_value() == BIRTH
    page.keyboard.press("4")
    page.wait_for_selector(".outcome-btn[data-outcome=advice][aria-pressed=true]")
    page.keyboard.press("4")
    page.wait_for_selector(".outcome-btn[data-outcome=advice][aria-pressed=false]")
    page.keyboard.press("2")
    page.wait_for_selector(".outcome-btn[data-outcome=returned][aria-pressed=true]")
    screenshot(page, "desk-outcome-chosen")
    page.keyboard.press("c")
    idle(page)
    assert page.locator("#flash").text_content() == f"Số {first['number']}: đã ghi “Trả kết quả”."
    done = ticket(server, admin, first["id"])
    assert (done["status"], done["outcome"], done["procedure"]["code"]) == ("done", "returned", BIRTH)

    # The next ticket starts with nothing chosen; C alone completes it, nothing recorded.
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#current-number:text('{second['number']}')")
    assert page.locator(".outcome-btn[aria-pressed=true]").count() == 0
    assert page.locator("#outcome-procedure").input_value() == ""
    page.keyboard.press("c")
    idle(page)
    done = ticket(server, admin, second["id"])
    assert (done["status"], done["outcome"], done["procedure"]) == ("done", None, None)

    # Complete & call next takes the outcome and a corrected procedure (one of the office's others).
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#current-number:text('{third['number']}')")
    fourth = issue(server, admin)
    page.select_option("#outcome-procedure", DEATH)
    page.keyboard.press("Escape")  # the select lets the page have the keys again
    page.keyboard.press("3")
    page.wait_for_selector(".outcome-btn[data-outcome=online][aria-pressed=true]")
    page.keyboard.press("Shift+Enter")
    page.wait_for_selector(f"#current-number:text('{fourth['number']}')")
    done = ticket(server, admin, third["id"])
    assert (done["status"], done["outcome"], done["procedure"]["code"]) == ("done", "online", DEATH)
    assert page.locator(".outcome-btn[aria-pressed=true]").count() == 0


def test_a_scanned_receipt_code_of_a_dossier_sent_back_once_is_flagged(desk_server, page_factory):
    server, admin = desk_server
    code = "000.00.19.H26-241205-0001"
    page = page_factory(1920, 1080)
    first, second = issue_for(server, admin, BIRTH), issue_for(server, admin, BIRTH)
    log_in_at(page, server, "lan.nt", "Quầy 1")
    open_and_call(page, first["number"])
    # Incomplete, two documents ticked from the procedure's list and one typed, the code typed in.
    page.keyboard.press("5")
    page.wait_for_selector("#missing-box:not([hidden])")
    docs = page.locator(".missing-doc")
    assert docs.count() == 4
    page.check(".missing-doc:has-text('Giấy chứng sinh') input")
    page.check(".missing-doc:has-text('Giấy tờ tùy thân') input")
    page.fill("#missing-other", "Bản sao sổ hộ khẩu")
    page.keyboard.press("Enter")  # leaves the field: the page has the keys again
    page.keyboard.press("d")
    page.keyboard.type(code, delay=120)  # a person typing
    page.keyboard.press("Enter")
    page.wait_for_selector("#dossier-flag:text('Chưa có lượt nào')")
    screenshot(page, "desk-outcome-incomplete")
    page.keyboard.press("c")
    idle(page)
    done = ticket(server, admin, first["id"])
    assert (done["outcome"], done["dossier"]) == ("incomplete", code)
    completed = [e for e in events(server, admin, first["id"]) if e["action"] == "completed"][0]
    assert completed["data"]["missing"] == ["Giấy chứng sinh hoặc giấy tờ thay thế Giấy chứng sinh",
                                            "Giấy tờ tùy thân của người đi đăng ký", "Bản sao sổ hộ khẩu"]

    # The citizen comes back: the scanner types the code (fast, then Enter) with the focus on the page;
    # none of its letters is taken for a shortcut (H12 has an H, "C" would complete).
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#current-number:text('{second['number']}')")
    page.keyboard.type(code + "\n")
    flag = page.locator("#dossier-flag.alert")
    flag.wait_for()
    seen = requests.get(f"{server.url}/api/v1/offices/demo/dossiers/{code}/visits",
                        headers={"Authorization": f"Bearer {admin}"}, timeout=5).json()
    day = seen["incomplete_days"][0].split("-")  # the office's day, not UTC's
    assert flag.text_content() == f"Hồ sơ này đã được yêu cầu bổ sung 1 lần ngày {day[2]}/{day[1]}/{day[0]}."
    assert page.locator("#dossier-input").input_value() == code
    assert page.locator("#current[data-state=called]").count() == 1  # nothing else happened
    page.keyboard.press("5")
    page.wait_for_selector("#dossier-flag:has-text('không yêu cầu bổ sung hồ sơ quá một lần')")
    screenshot(page, "desk-outcome-flag")
    page.keyboard.press("1")  # received this time, with the citizen's phone for "result ready"
    page.wait_for_selector("#notice-phone-box:not([hidden])")
    page.fill("#notice-phone", "0912 345 678")
    page.keyboard.press("Enter")  # leaves the field
    screenshot(page, "desk-outcome-received-phone")
    page.keyboard.press("c")
    idle(page)
    done = ticket(server, admin, second["id"])
    assert (done["outcome"], done["dossier"]) == ("received", code)
    registered = requests.get(f"{server.url}/api/v1/offices/demo/dossiers/{code}",
                              headers={"Authorization": f"Bearer {admin}"}, timeout=5).json()
    assert (registered["status"], registered["phone"], registered["source"]) == ("received", "0912***678", "counter")
    assert "0912345678" not in str(events(server, admin, second["id"]))
