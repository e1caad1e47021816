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
    assert re.search(r"^sockets: 200 status pages open on 1 process\(es\) \(sqlite\), 0 refused, 0 dropped", out, re.M), out
    assert re.search(r"^memory: server RSS \d+ → \d+ MiB, -?[\d.]+ KiB per open socket", out, re.M), out
    assert re.search(r"^issue \(sockets open\): \d+ tickets/s  p50 [\d.]+ ms  p99 [\d.]+ ms", out, re.M), out
    assert re.search(r"^call-next \(sockets open\): \d+ calls/s  p50 [\d.]+ ms  p99 [\d.]+ ms", out, re.M), out
    pages = re.search(r"^call→screen .*: p50 [\d.]+ ms  p99 [\d.]+ ms  \((\d+) pages of (\d+) called", out, re.M)
    assert pages and int(pages[1]) == 2 * int(pages[2]) > 0, out  # each called ticket's two pages heard it


def test_bench_sockets_refuses_several_processes_on_sqlite():
    result = CliRunner().invoke(main, ["bench", "--sockets", "10", "--processes", "2"])
    assert result.exit_code != 0 and "--redis-url" in result.output
