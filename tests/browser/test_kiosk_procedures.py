"""The kiosk's procedures step in a real browser (issue 17): after a service with a catalogue
is tapped, its procedures; one more tap issues with the procedure, a fully online one first
says so with a QR code of its page; the documents to bring are on the screen, on the paper
and on the status page. An office without a catalogue issues on the service's tap as before."""
from __future__ import annotations

import io

from PIL import Image

from kiosk.ticket import documents_block
from tests.browser.test_kiosk_page import ALL_DAY, LANDSCAPE, PORTRAIT, TICKET, open_kiosk
from tests.conftest import office_data, screenshot, seed, without_procedures
from tests.printing.test_printing import contains, ticket
from tests.support.fakeprinter import FakePrinter, read_qr, received_images

PROCEDURES = "#screen-procedures:not([hidden])"
ONLINE = "#screen-online:not([hidden])"
HT_NAMES = ["Đăng ký khai sinh", "Đăng ký khai tử", "Đăng ký kết hôn", "Cấp Giấy xác nhận tình trạng hôn nhân",
            "Cấp bản sao trích lục hộ tịch", "Đăng ký nhận cha, mẹ, con",
            "Thay đổi, cải chính, bổ sung thông tin hộ tịch, xác định lại dân tộc", "Đăng ký lại khai sinh"]
BIRTH = ["Tờ khai đăng ký khai sinh (theo mẫu)", "Giấy chứng sinh hoặc giấy tờ thay thế Giấy chứng sinh",
         "Giấy tờ tùy thân của người đi đăng ký", "Giấy chứng nhận kết hôn của cha mẹ (nếu có)"]
BIRTH_URL = "https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.001193"


def shown_procedures(page) -> list[str]:
    return page.locator("#proc-list .proc .proc-name").all_text_contents()


def tap_keys(page, text: str) -> None:
    for ch in text:
        page.click(f".pkey[data-key='{ch.upper() if ch != ' ' else ' '}']")


def fits(page) -> dict:
    return page.evaluate("""() => ({
        w: document.documentElement.scrollWidth <= innerWidth,
        h: document.documentElement.scrollHeight <= innerHeight,
        short: [...document.querySelectorAll('.proc, .online-take, .online-back, .proc-back')]
            .filter(b => b.offsetParent && b.getBoundingClientRect().height < 100).map(b => b.textContent),
        outside: [...document.querySelectorAll('#screen-procedures button, #screen-online button, #ticket-done, .ticket-docs')]
            .filter(b => b.offsetParent && b.getBoundingClientRect().bottom > innerHeight).map(b => b.textContent),
    })""")


def test_a_procedure_takes_one_tap_and_its_documents_go_on_screen_paper_and_phone(sqlite_url, servers, page_factory):
    with FakePrinter() as printer:
        tokens = seed(sqlite_url, office_data(hours=ALL_DAY, kiosks=[{"name": "Kiosk sảnh", "printer": printer.url}]))
        server = servers(sqlite_url)
        page, recorder, issued = open_kiosk(page_factory, server, tokens["kiosk"])

        page.click(".svc[data-code=HT]")
        page.wait_for_selector(PROCEDURES)
        assert shown_procedures(page) == HT_NAMES
        assert page.locator("#proc-service").inner_text() == "Hộ tịch"
        assert page.locator("#proc-other").inner_text().startswith("Khác / không rõ")
        assert page.locator("#proc-search").is_visible()  # eight procedures: a search line
        assert page.locator(".proc.is-online").count() == 4  # the fully online ones say so
        assert page.locator(".pkey[data-key=F]").is_hidden()  # no F, J, W, Z in Vietnamese
        assert fits(page) == {"w": True, "h": True, "short": [], "outside": []}
        screenshot(page, "kiosk-procedures-portrait")

        # Typed on the big letter keys, without accents: "khai sinh" finds both birth procedures.
        tap_keys(page, "khai sinh")
        assert page.locator("#proc-query").inner_text() == "khai sinh"
        assert shown_procedures(page) == ["Đăng ký khai sinh", "Đăng ký lại khai sinh"]
        screenshot(page, "kiosk-procedures-search")
        tap_keys(page, "x")
        assert shown_procedures(page) == [] and page.locator("#proc-none").is_visible()
        assert page.locator("#proc-other").is_visible()  # "Khác / không rõ" is always there
        # A physical keyboard types too; Escape clears.
        page.keyboard.press("Escape")
        assert shown_procedures(page) == HT_NAMES
        page.keyboard.type("ket hon", delay=120)
        assert shown_procedures(page) == ["Đăng ký kết hôn"]
        page.click(".pkey[data-key=clear]")
        folded = page.evaluate("""async () => {
            const m = await import('/kiosk/static/procedures.js');
            return [m.fold('Đăng ký KẾT HÔN'), m.matches({name: 'Đăng ký khai sinh', code: '1.001193'}, 'khái sinh'),
                    m.matches({name: 'Đăng ký khai sinh', code: '1.001193'}, 'khai tu')];
        }""")
        assert folded == ["dang ky ket hon", True, False]
        assert not [r for r in issued if r.url.endswith("/tickets")]

        # A fully online procedure: the panel first, with a QR code of its page.
        page.click("#proc-list .proc[data-code='1.001193']")
        page.wait_for_selector(ONLINE)
        assert page.locator(".online-title").inner_text() == "Thủ tục này có thể nộp trực tuyến tại nhà"
        assert page.locator("#online-name").inner_text() == "Đăng ký khai sinh"
        page.wait_for_function("document.getElementById('online-qr').naturalWidth > 0")
        qr = Image.open(io.BytesIO(page.locator("#online-qr").screenshot()))
        assert read_qr(qr) == BIRTH_URL
        assert fits(page) == {"w": True, "h": True, "short": [], "outside": []}
        screenshot(page, "kiosk-procedure-online")

        # "Vẫn lấy số": the ticket, with the procedure.
        page.wait_for_timeout(700)
        page.click("#online-take")
        page.wait_for_selector(TICKET)
        [sent] = [r for r in issued if r.url.endswith("/tickets")]
        assert sent.post_data_json == {"service": "HT", "priority": False, "procedure": "1.001193"}
        assert page.locator("#ticket-number").inner_text() == "1001"
        assert page.locator("#ticket-procedure").inner_text() == "Đăng ký khai sinh"
        assert page.locator("#ticket-docs-list li").all_text_contents() == BIRTH
        assert page.locator(".ticket-docs-title").inner_text() == "Giấy tờ cần mang:"
        page.wait_for_selector("#ticket-print.is-printed")
        page.wait_for_function("document.getElementById('ticket-qr').naturalWidth > 0")
        screenshot(page, "kiosk-procedure-ticket")
        assert fits(page) == {"w": True, "h": True, "short": [], "outside": []}

        # The paper: the same documents under the number, and the QR code of the status page.
        (image,) = received_images(printer.wait_for_cuts(1))
        assert contains(image, documents_block(ticket(documents=tuple(BIRTH)), 80))
        token = page.locator("#ticket-qr").get_attribute("src").removesuffix("/qr.svg")
        assert read_qr(image).endswith(token)

        # The status page on a phone lists them too.
        phone = page_factory(390, 844)
        phone.goto(server.url + token)
        phone.wait_for_selector("#documents")
        assert phone.locator("#procedure").inner_text() == "Đăng ký khai sinh"
        assert phone.locator("#documents-list li").all_text_contents() == BIRTH
        assert phone.evaluate("document.documentElement.scrollWidth <= innerWidth")
        screenshot(phone, "status-procedure-phone")
        recorder.assert_local()


def test_other_back_priority_and_english(sqlite_url, servers, page_factory):
    tokens = seed(sqlite_url, office_data(hours=ALL_DAY))
    server = servers(sqlite_url)
    page, _, issued = open_kiosk(page_factory, server, tokens["kiosk"])
    posts = lambda: [r.post_data_json for r in issued if r.url.endswith("/tickets")]  # noqa: E731

    # Four procedures: no search line. "Khác / không rõ" issues without a procedure.
    page.click(".svc[data-code=CT]")
    page.wait_for_selector(PROCEDURES)
    assert page.locator("#proc-search").is_hidden() and len(shown_procedures(page)) == 4
    page.wait_for_timeout(700)
    page.click("#proc-other")
    page.wait_for_selector(TICKET)
    assert posts() == [{"service": "CT", "priority": False}]
    assert page.locator("#ticket-docs").is_hidden()
    page.click("#ticket-done")

    # Online first, then "Quay lại" twice: back at the start, nothing issued.
    page.wait_for_timeout(1600)
    page.click(".svc[data-code=KD]")
    page.wait_for_selector(PROCEDURES)
    page.wait_for_timeout(700)
    page.click("#proc-list .proc[data-code='1.001266']")
    page.wait_for_selector(ONLINE)
    page.wait_for_timeout(700)
    page.click("#online-back")
    page.wait_for_selector(PROCEDURES)
    page.click("#proc-back")
    page.wait_for_selector("#screen-start:not([hidden])")
    assert len(posts()) == 1

    # Priority stays chosen through the step; a partly online procedure issues on its tap.
    page.wait_for_timeout(1600)
    page.click("#priority")
    page.click(".group-choice[data-group=pregnant]")
    page.click(".svc[data-code=HT]")
    page.wait_for_selector(PROCEDURES)
    page.wait_for_timeout(700)
    page.click("#proc-list .proc[data-code='1.000894']")
    page.wait_for_selector(TICKET)
    assert posts()[-1] == {"service": "HT", "priority": True, "procedure": "1.000894",
                            "priority_group": "pregnant"}
    assert page.locator("#ticket-priority").is_visible()
    assert page.locator("#ticket-docs-list li").count() == 4
    page.click("#ticket-done")

    # English, through the kiosk's language switch.
    page.click(".lang[data-lang=en]")
    page.wait_for_selector(".svc[data-code=HT] .svc-name:text('Civil status')")
    page.wait_for_timeout(1600)
    page.click(".svc[data-code=HT]")
    page.wait_for_selector(PROCEDURES)
    page.wait_for_selector("#proc-list .proc-name:text('Birth registration')")
    assert page.locator("#proc-other .proc-name").inner_text() == "Other / not sure"
    assert page.locator("#screen-procedures .prompt").inner_text() == "Which procedure do you need?"
    assert page.locator(".pkey[data-key=F]").is_visible()
    screenshot(page, "kiosk-procedures-en")


def test_the_procedures_fit_a_landscape_kiosk(sqlite_url, servers, page_factory):
    tokens = seed(sqlite_url, office_data(hours=ALL_DAY))
    server = servers(sqlite_url)
    page, _, _ = open_kiosk(page_factory, server, tokens["kiosk"], size=LANDSCAPE)
    page.click(".svc[data-code=HT]")
    page.wait_for_selector(PROCEDURES)
    assert fits(page) == {"w": True, "h": True, "short": [], "outside": []}
    screenshot(page, "kiosk-procedures-landscape")
    page.wait_for_timeout(700)
    page.click("#proc-list .proc[data-code='1.001193']")
    page.wait_for_selector(ONLINE)
    assert fits(page) == {"w": True, "h": True, "short": [], "outside": []}
    screenshot(page, "kiosk-procedure-online-landscape")
    page.wait_for_timeout(700)
    page.click("#online-take")
    page.wait_for_selector(TICKET)
    page.wait_for_function("document.getElementById('ticket-qr').naturalWidth > 0")
    screenshot(page, "kiosk-procedure-ticket-landscape")
    assert fits(page) == {"w": True, "h": True, "short": [], "outside": []}


def test_an_office_without_a_catalogue_issues_on_the_first_tap(sqlite_url, servers, page_factory):
    tokens = seed(sqlite_url, without_procedures(office_data(hours=ALL_DAY)))
    server = servers(sqlite_url)
    page, _, issued = open_kiosk(page_factory, server, tokens["kiosk"], size=PORTRAIT)
    page.wait_for_timeout(300)  # the (empty) catalogue has been read
    page.click(".svc[data-code=HT]")
    page.wait_for_selector(TICKET)
    [sent] = [r for r in issued if r.url.endswith("/tickets")]
    assert sent.post_data_json == {"service": "HT", "priority": False}
    assert page.locator("#ticket-docs").is_hidden()


def test_a_paused_service_says_so_at_once_even_with_procedures(sqlite_url, servers, page_factory):
    data = office_data(hours=ALL_DAY)
    for sv in data["services"]:
        sv["paused"] = sv["code"] == "CT"
    tokens = seed(sqlite_url, data)
    server = servers(sqlite_url)
    page, _, _ = open_kiosk(page_factory, server, tokens["kiosk"])
    page.wait_for_function("document.querySelectorAll('.svc').length > 0")
    page.wait_for_timeout(300)  # the catalogue has been read
    page.click(".svc[data-code=CT]")
    page.wait_for_selector("#screen-message:not([hidden])")
    assert page.locator("#message-text").text_content() == "Lĩnh vực Chứng thực đang tạm dừng cấp số."
