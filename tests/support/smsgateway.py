"""A fake SMS gateway on 127.0.0.1 (outside the building, so a fake): it records every
request, can fail the next N with 503, or hold requests until released (a hanging gateway,
or a send in flight when a server is killed)."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeGateway:
    """An HTTP server that records every request; it can fail the next N requests with
    503, or hang until released (to test timeouts and a caller that must not wait)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.fail_next = 0
        self.hang = threading.Event()  # set: requests hang until `release` is set
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.held = 0  # requests being held now
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with gateway.lock:
                    gateway.requests.append({
                        "method": self.command, "path": self.path,
                        "headers": dict(self.headers), "body": body,
                    })
                    fail = gateway.fail_next > 0
                    if fail:
                        gateway.fail_next -= 1
                if gateway.hang.is_set():
                    with gateway.lock:
                        gateway.held += 1
                    gateway.release.wait(30)
                    with gateway.lock:
                        gateway.held -= 1
                status = 503 if fail else 200
                payload = b'{"error": "busy"}' if fail else b'{"status": "queued"}'
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client timed out and went away
                    pass

            do_GET = do_POST = _handle

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def keys(self) -> list[str | None]:
        """The Idempotency-Key of each request received, in order."""
        with self.lock:
            return [r["headers"].get("Idempotency-Key") for r in self.requests]

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
