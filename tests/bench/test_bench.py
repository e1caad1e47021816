"""`motcua bench` keeps working: a tiny run, checked for correctness, never for speed."""
from __future__ import annotations

import re

from click.testing import CliRunner

from server.cli import main


def test_bench_runs_and_reports_every_figure_without_errors(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    result = CliRunner().invoke(main, [
        "bench", "--database-url", url, "--kiosks", "2", "--counters", "2", "--displays", "6",
        "--offices", "2", "--seconds", "1", "--call-rate", "5"], catch_exceptions=False)
    out = result.output
    assert result.exit_code == 0, out
    assert re.search(r"^floor: \d+ tickets/s  p50 [\d.]+ ms  p99 [\d.]+ ms  \(bare Flask \+ sqlite3.*0 errors\)",
                     out, re.M), out
    assert re.search(r"^http floor: \d+ requests/s \([\d.]+× floor\)", out, re.M), out
    assert re.search(r"^issue: \d+ tickets/s \([\d.]+× floor\) .*0 errors\)", out, re.M), out
    assert re.search(r"^call-next: \d+ calls/s \([\d.]+× floor\) .*0 errors, 0 called twice\)", out, re.M), out
    assert re.search(r"^display: p50 [\d.]+ ms  p99 [\d.]+ ms .*0 missing", out, re.M), out
