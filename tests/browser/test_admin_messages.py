"""The admin page's tab Tin nhắn (the outbox) in a real browser against a real server and a
fake SMS gateway: a failed message is shown with the phone masked and its last error, and
sent again."""
from __future__ import annotations

import time

from tests.browser.test_admin_pages import PASSWORDS, admin_page
from tests.browser.test_supervisor import _passwords
from tests.conftest import screenshot, seed
from tests.support.sms import put_messages, statuses
from tests.support.smsgateway import FakeGateway


def test_the_messages_tab_shows_a_failed_message_masked_and_sends_it_again(servers, sqlite_url, page_factory):
    seed(sqlite_url)
    _passwords(sqlite_url, **PASSWORDS)
    gateway = FakeGateway()
    gateway.fail_next = 1
    try:
        server = servers(sqlite_url, env={"SMS_GATEWAY_URL": gateway.url + "/send", "OUTBOX_MAX_ATTEMPTS": "1",
                                          "OUTBOX_POLL_S": "0.2"})
        put_messages(sqlite_url, 1)
        deadline = time.monotonic() + 30
        while statuses(sqlite_url) != {"dead": 1} and time.monotonic() < deadline:
            time.sleep(0.1)
        page, watch = admin_page(page_factory, server.url, tab="messages")
        row = page.locator("#list-messages tbody tr")
        row.wait_for()
        text = row.inner_text()
        assert "0912***600" in text and "0912345600" not in text
        assert "Hỏng" in text and "HTTP 503" in text and "Nhắc lịch hẹn" in text
        screenshot(page, "admin-messages")
        row.locator("button", has_text="Gửi lại").click()
        page.wait_for_selector("#toast.show")
        deadline = time.monotonic() + 30
        while statuses(sqlite_url) != {"sent": 1} and time.monotonic() < deadline:
            time.sleep(0.1)
        page.select_option("#messages-status", "sent")
        page.wait_for_selector("#list-messages tbody tr:has-text('Đã gửi')")
        assert "SMS" in page.inner_text("#list-messages tbody tr")
        assert not watch.errors, watch.errors
    finally:
        gateway.close()
