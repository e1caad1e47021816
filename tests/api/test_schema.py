"""HTTP and the API description agree: Schemathesis drives a real server from
/api/v1/openapi.json as an admin, a kiosk and an officer, and fails on any 5xx, any status
or header or body the document does not describe, any 405 without Allow, and any
operation the document calls protected that answers without a token.

Bounded: a few examples per operation and phase, a fixed seed (the same requests every
run), the {office} path parameter pinned to the demo office."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import seed

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_headers_conformance,response_schema_conformance,unsupported_method,ignored_auth")
CONFIG = '''
[parameters]
"path.office" = "demo"
'''


@pytest.fixture
def server(sqlite_url, servers, monkeypatch):
    monkeypatch.setenv("BOOKING_RATE_LIMIT", "0")  # 429 is documented; here it would only hide the rest
    tokens = seed(sqlite_url)
    return servers(sqlite_url), tokens


@pytest.mark.parametrize("role", ["admin", "kiosk", "officer"])
def test_the_api_keeps_to_its_description(server, role, tmp_path):
    srv, tokens = server
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    run = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
         f"{srv.url}/api/v1/openapi.json", "-H", f"Authorization: Bearer {tokens[role]}",
         "--checks", CHECKS, "--max-examples", "5", "--seed", "13", "--workers", "1",
         "--request-timeout", "10", "--no-color"],
        capture_output=True, text=True, timeout=400, cwd=tmp_path, check=False)
    out = run.stdout + run.stderr
    # Errors of Schemathesis itself (e.g. a Hypothesis failure drawing a value) are not the
    # server's; every failure found in the server's answers is.
    failures = re.search(r"^Failures:\n(.*?)\n\n", out, re.DOTALL | re.MULTILINE)
    assert failures is None, _failures(out)
    assert "Tested:" in out, out[-3000:]


def _failures(out: str) -> str:
    """The failure section of Schemathesis' report, without the noise around it."""
    start = out.find("=" * 20 + " FAILURES")
    end = out.find("=" * 20 + " WARNINGS") if "=" * 20 + " WARNINGS" in out else out.find("=" * 20 + " SUMMARY")
    return out[start:end] if start >= 0 else out[-6000:]


def test_a_405_says_which_methods_are_allowed(client):
    r = client.delete("/api/v1/tickets/5")
    assert r.status_code == 405
    assert set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert r.get_json()["error"] == "method_not_allowed"


@pytest.mark.parametrize("path", ["/api/v1/counters/2147483648/rating", "/api/v1/tickets/99999999999/recall",
                                  "/api/v1/counters/2147483648/open"])
def test_an_id_beyond_the_column_is_not_found_whatever_the_method(client, path):
    r = client.post(path, json={})
    assert r.status_code == 404, (r.status_code, r.headers.get("Allow"))
    assert client.get("/api/v1/counters/2147483647").status_code in (401, 404)  # the largest id is an id


def test_the_document_marks_public_operations_and_what_any_operation_may_answer(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    public = {(path, method) for path, ops in doc["paths"].items() for method, op in ops.items()
              if op.get("security") == []}
    assert public == {
        ("/public/tickets/{token}", "get"), ("/public/tickets/{token}/cancel", "post"),
        ("/offices/{office}/booking", "get"), ("/offices/{office}/services/{service}/slots", "get"),
        ("/offices/{office}/bookings", "post"), ("/offices/{office}/bookings/{code}", "put"),
        ("/offices/{office}/bookings/{code}", "delete"), ("/public/bookings/{token}", "get"),
        ("/offices/{office}/procedures", "get"), ("/offices/{office}/procedures/{procedure}/qr.svg", "get"),
        ("/public/offices/{office}/dossiers/{dossier}", "get"), ("/public/dossiers/{token}", "get"),
        ("/public/dossiers/{token}/return", "post"), ("/public/dossiers/{token}/slots", "get"),
        ("/public/dossiers/{token}/booking", "post"),
        ("/public/offices/{office}/remote", "get"), ("/public/offices/{office}/remote/code", "post"),
        ("/public/offices/{office}/remote/tickets", "post"), ("/public/tickets/{token}/phone", "post"),
        ("/public/tickets/{token}/phone", "delete")}
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert "Retry-After" in op["responses"]["503"]["headers"], (path, method)
    for path, method in [("/offices/{office}/bookings", "post"), ("/offices/{office}/bookings/{code}", "put"),
                         ("/offices/{office}/bookings/{code}", "delete"),
                         ("/public/offices/{office}/dossiers/{dossier}", "get"), ("/public/dossiers/{token}/return", "post")]:
        assert "Retry-After" in doc["paths"][path][method]["responses"]["429"]["headers"]

