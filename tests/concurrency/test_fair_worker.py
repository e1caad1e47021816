"""`serve`'s gunicorn worker serves keep-alive connections in turn (server/infra/worker.py).

A real gunicorn with `serve`'s own options (server/cli.py `gunicorn_options`) runs a tiny
app that spins a millisecond of CPU per request (as a request of motcua does, without
yielding) and numbers the requests in the order it serves them. Eight keep-alive
connections each send twenty requests at once (pipelined: the next request is always
already there when the previous one is answered, as with a fast client on another core).
gevent's own worker serves one connection's twenty in a row before the next connection's
first, so the others wait for all of them; the fair worker takes the connections in turn.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONNECTIONS, REQUESTS = 8, 20

APP = """
import sys, time
from server.infra.serving import gunicorn_options, run_gunicorn

served = [0]

def app(environ, start_response):
    end = time.perf_counter() + 0.001
    while time.perf_counter() < end:  # CPU work that does not yield, like a database call
        pass
    served[0] += 1
    body = str(served[0]).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]

run_gunicorn(gunicorn_options("127.0.0.1", int(sys.argv[1]), 100), lambda: app)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _connect(port: int, deadline: float) -> socket.socket:
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _read_numbers(sock: socket.socket, count: int) -> list[int]:
    """The bodies of `count` responses (each a number) on one keep-alive connection."""
    data, numbers = b"", []
    while len(numbers) < count:
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536) or b""
        head, rest = data.split(b"\r\n\r\n", 1)
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        while len(rest) < length:
            rest += sock.recv(65536)
        numbers.append(int(rest[:length]))
        data = rest[length:]
    return numbers


def test_keep_alive_connections_are_served_in_turn():
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", APP, str(port)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        _connect(port, deadline).close()  # the server is up
        conns = [_connect(port, deadline) for _ in range(CONNECTIONS)]
        time.sleep(0.3)  # every connection accepted and waiting in the server's loop
        burst = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n" * REQUESTS
        for conn in conns:
            conn.sendall(burst)
        order = sorted((n, i) for i, conn in enumerate(conns) for n in _read_numbers(conn, REQUESTS))
        for conn in conns:
            conn.close()
    finally:
        server.terminate()
        server.wait(15)
    # The longest run of one connection's requests served back to back.
    longest = run = 1
    for (_, a), (_, b) in zip(order, order[1:], strict=False):
        run = run + 1 if a == b else 1
        longest = max(longest, run)
    assert longest <= 3, f"one connection was served {longest} times in a row while the others waited"
