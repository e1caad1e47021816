"""`/favicon.ico` (issue 14): a real icon, served, and named by every page, so no browser
logs a 404 for it."""
from __future__ import annotations

import io

from PIL import Image

from tests.conftest import ROOT, screenshot, seed

TEMPLATES = ("server/templates/base.html", "server/templates/device_denied.html", "kiosk/templates/kiosk/kiosk.html",
             "display/templates/display/display.html", "counter/templates/counter/desk.html",
             "counter/templates/counter/rating.html")


def test_the_icon_is_served_and_is_a_real_icon(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.mimetype == "image/vnd.microsoft.icon"
    assert "max-age=86400" in r.headers["Cache-Control"]
    icon = Image.open(io.BytesIO(r.data))
    assert icon.format == "ICO" and {(16, 16), (32, 32)} <= icon.info["sizes"]
    small = icon.convert("RGBA").resize((32, 32))
    assert len(small.getcolors(32 * 32)) > 3  # a picture, not one flat colour


def test_every_page_names_the_icon(client):
    for template in TEMPLATES:
        text = (ROOT / template).read_text()
        assert '<link rel="icon" href="/favicon.ico"' in text and 'href="data:,"' not in text, template
    for path in ("/", "/counter/", "/book/demo", "/no-such-page", "/kiosk/demo?token=nothing"):
        assert 'href="/favicon.ico"' in client.get(path).get_data(as_text=True), path


def test_chromium_loads_the_icon_without_a_404(servers, sqlite_url, page_factory):
    seed(sqlite_url)
    server = servers(sqlite_url)
    page = page_factory(1024, 700, bypass_csp=False)
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto(f"{server.url}/")
    size = page.evaluate("""() => new Promise(done => {
        const img = new Image();
        img.onload = () => done([img.naturalWidth, img.naturalHeight]);
        img.onerror = () => done(null);
        img.src = document.querySelector('link[rel=icon]').href;
    })""")
    assert size and size[0] >= 16 and not missing, (size, missing)
    page.goto(f"{server.url}/favicon.ico")
    screenshot(page, "favicon")
