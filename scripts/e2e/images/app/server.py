#!/usr/bin/env python3
"""Ballast end-to-end test app: the smallest service that behaves like the stack's app.

GET /api/health      200 {"status": "ok", "version": ...}; 503 when APP_HEALTH=fail (the
                     "bad release" image whose health check fails)
GET /api/v1/metrics  Prometheus text: app info and a request counter
GET /                the version, as plain text

Standard library only. Listens on $PORT (default 3000). Never prints the environment:
the stack hands it secrets (DATABASE_URL, ...).
"""
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = os.environ.get("APP_VERSION", "unknown")
HEALTHY = os.environ.get("APP_HEALTH", "ok") != "fail"
PORT = int(os.environ.get("PORT", "3000"))

_lock = threading.Lock()
_requests = {}


def count(path: str, status: int) -> None:
    key = (path if path in ("/", "/api/health", "/api/v1/metrics") else "other", status)
    with _lock:
        _requests[key] = _requests.get(key, 0) + 1


class Handler(BaseHTTPRequestHandler):
    server_version = "ballast-e2e-app"
    protocol_version = "HTTP/1.1"

    def send_body(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        count(self.path.split("?", 1)[0], status)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = self.path.split("?", 1)[0]
        if path == "/api/health":
            if HEALTHY:
                body = {"status": "ok", "version": VERSION}
                self.send_body(200, "application/json", json.dumps(body).encode())
            else:
                body = {"status": "failing", "version": VERSION, "reason": "this image is built to fail its health check"}
                self.send_body(503, "application/json", json.dumps(body).encode())
        elif path == "/api/v1/metrics":
            lines = [
                "# HELP ballast_e2e_app_info The running app version.",
                "# TYPE ballast_e2e_app_info gauge",
                f'ballast_e2e_app_info{{version="{VERSION}"}} 1',
                "# HELP ballast_e2e_app_requests_total Requests served, by path and status.",
                "# TYPE ballast_e2e_app_requests_total counter",
            ]
            with _lock:
                for (p, status), n in sorted(_requests.items()):
                    lines.append(f'ballast_e2e_app_requests_total{{path="{p}",code="{status}"}} {n}')
            self.send_body(200, "text/plain; version=0.0.4", ("\n".join(lines) + "\n").encode())
        elif path == "/":
            self.send_body(200, "text/plain", f"ballast e2e app {VERSION}\n".encode())
        else:
            self.send_body(404, "text/plain", b"not found\n")

    do_HEAD = do_GET

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's signature)
        # Health and metrics requests are dropped, like the stack's log pipeline does.
        if "/api/health" in self.path or "/api/v1/metrics" in self.path:
            return
        sys.stdout.write("app: %s %s\n" % (self.address_string(), format % args))
        sys.stdout.flush()


def main() -> None:
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"app: version {VERSION} listening on :{PORT} (health {'ok' if HEALTHY else 'FAILING'})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
