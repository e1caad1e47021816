"""`motcua bench --sockets N` keeps working: a tiny run, checked for correctness, never for speed."""
from __future__ import annotations

import re

from click.testing import CliRunner

from server.cli import main


def test_bench_sockets_reports_memory_latencies_and_call_to_screen(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    result = CliRunner().invoke(main, ["bench", "--database-url", url, "--sockets", "200", "--seconds", "2",
                                       "--call-rate", "10"], catch_exceptions=False)
    out = result.output
    assert result.exit_code == 0, out
    assert re.search(r"^sockets: 200 status pages and 4 displays open on 1 process\(es\) \(sqlite\), 0 refused, "
                     r"0 dropped", out, re.M), out
    assert re.search(r"^memory: server RSS \d+ → \d+ MiB, -?[\d.]+ KiB per open socket", out, re.M), out
    assert re.search(r"^issue \(sockets open\): \d+ tickets/s  p50 [\d.]+ ms  p99 [\d.]+ ms", out, re.M), out
    assert re.search(r"^call-next \(sockets open\): \d+ calls/s  p50 [\d.]+ ms  p99 [\d.]+ ms", out, re.M), out
    pages = re.search(r"^call→screen .*: p50 [\d.]+ ms  p99 [\d.]+ ms  \((\d+) pages of (\d+) called", out, re.M)
    assert pages and int(pages[1]) == 2 * int(pages[2]) > 0, out  # each called ticket's two pages heard it
    # Two offices (100 pages each), two displays each: every call reaches both of its office's displays.
    shown = re.search(r"^call→display .*: p50 [\d.]+ ms  p99 [\d.]+ ms  \((\d+) of (\d+) expected, 0 missing\)",
                      out, re.M)
    assert shown and int(shown[1]) == int(shown[2]) == 2 * int(pages[2]), out
    assert re.search(r"^city on one box: 2 offices, 4 displays, 200 status pages, sqlite, 1 process\(es\) \| "
                     r"issue \d+/s p99 \d+ ms \| call-next \d+/s p99 \d+ ms \| call→screen p99 \d+ ms \| "
                     r"call→display p99 \d+ ms \| RSS \d+ MiB", out, re.M), out


def test_bench_sockets_refuses_several_processes_on_sqlite():
    result = CliRunner().invoke(main, ["bench", "--sockets", "10", "--processes", "2"])
    assert result.exit_code != 0 and "--redis-url" in result.output
