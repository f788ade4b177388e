#!/usr/bin/env python3
"""Ballast end-to-end test app: the smallest service that behaves like the stack's app.

Web mode (default):
GET  /api/health          200 {"status": "ok", "version": ...}; 503 when APP_HEALTH=fail (the
                          "bad release" image whose health check fails)
GET  /api/v1/metrics      Prometheus text: app info and a request counter
GET  /api/stream?seconds=N
                          a streamed (chunked) answer like an LLM's: a line every 0.5 s for N
                          seconds, then "done <version>"; a cut stream lacks that last line
POST /api/jobs?batch=B&count=N&ms=M
                          N jobs of M ms each onto the Redis queue (REDIS_URL)
GET  /api/jobs?batch=B    {"queued", "done", "duplicates", "versions", "workers"} of that batch
                          (workers: jobs done per worker container)
GET  /                    the version, as plain text

Worker mode (`server.py worker`): takes jobs off the Redis queue, works M ms on each, records it
as done (once per job id, by the worker's version), touches /tmp/worker-heartbeat every loop.

On SIGTERM both modes drain, the way Ballast's release expects of an app (docs/compose-release.md):
the web server stops accepting connections and exits when the requests in flight (streams
included) have finished; the worker finishes the job in hand and exits.

Standard library only (a minimal Redis client below). Listens on $PORT (default 3000). Never
prints the environment: the stack hands it secrets (DATABASE_URL, REDIS_URL, ...).
"""
import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = os.environ.get("APP_VERSION", "unknown")
HEALTHY = os.environ.get("APP_HEALTH", "ok") != "fail"
PORT = int(os.environ.get("PORT", "3000"))
QUEUE = "ballast-e2e:jobs"
HEARTBEAT = "/tmp/worker-heartbeat"
# Bound of a drain: the stack's stop_grace_period kills the process after its own time anyway.
DRAIN_LIMIT_SECONDS = 600

_lock = threading.Lock()
_requests = {}
_in_flight = 0
_draining = threading.Event()


def count(path: str, status: int) -> None:
    key = (path if path in ("/", "/api/health", "/api/v1/metrics", "/api/stream", "/api/jobs") else "other", status)
    with _lock:
        _requests[key] = _requests.get(key, 0) + 1


class Redis:
    """Just enough RESP for a queue: one connection, commands in, replies out."""

    def __init__(self, url: str) -> None:
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme != "redis":
            raise ValueError("REDIS_URL must be redis://[:password@]host:port[/db]")
        self.sock = socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=10)
        self.reader = self.sock.makefile("rb")
        if parsed.password:
            self.command("AUTH", urllib.parse.unquote(parsed.password))
        db = (parsed.path or "/0").lstrip("/") or "0"
        if db != "0":
            self.command("SELECT", db)

    def command(self, *args):
        parts = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = str(arg).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self.sock.sendall(b"".join(parts))
        return self._reply()

    def _reply(self):
        line = self.reader.readline()
        if not line:
            raise ConnectionError("redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError("redis: " + rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            data = self.reader.read(size + 2)[:-2]
            return data.decode()
        if kind == b"*":
            size = int(rest)
            return None if size < 0 else [self._reply() for _ in range(size)]
        raise RuntimeError("redis: unexpected reply %r" % line[:40])

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def redis() -> Redis:
    url = os.environ.get("REDIS_URL")
    if not url:
        raise RuntimeError("no REDIS_URL in the environment")
    return Redis(url)


class Handler(BaseHTTPRequestHandler):
    server_version = "ballast-e2e-app"
    protocol_version = "HTTP/1.1"

    def handle_one_request(self) -> None:
        global _in_flight
        # Counted from the request line on: a drain waits for every request that has begun.
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline:
            self.close_connection = True
            return
        with _lock:
            _in_flight += 1
        try:
            if not self.parse_request():
                return
            method = getattr(self, "do_" + self.command, None)
            if method is None:
                self.send_error(501, "unsupported method")
                return
            method()
            self.wfile.flush()
        finally:
            with _lock:
                _in_flight -= 1

    def end_headers(self) -> None:
        if _draining.is_set():
            # Draining: no new request on this connection; the proxy opens one to another server.
            self.send_header("Connection", "close")
            self.close_connection = True
        super().end_headers()

    def send_body(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        count(self.path.split("?", 1)[0], status)

    def send_json(self, status: int, value) -> None:
        self.send_body(status, "application/json", json.dumps(value).encode())

    def query(self) -> dict:
        return {k: v[-1] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).items()}

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = self.path.split("?", 1)[0]
        if path == "/api/health":
            if HEALTHY:
                self.send_json(200, {"status": "ok", "version": VERSION})
            else:
                self.send_json(503, {"status": "failing", "version": VERSION, "reason": "this image is built to fail its health check"})
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
        elif path == "/api/stream":
            self.stream(float(self.query().get("seconds", "10")))
        elif path == "/api/jobs":
            self.job_status(self.query().get("batch", ""))
        elif path == "/":
            self.send_body(200, "text/plain", f"ballast e2e app {VERSION}\n".encode())
        else:
            self.send_body(404, "text/plain", b"not found\n")

    do_HEAD = do_GET

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path.split("?", 1)[0] != "/api/jobs":
            self.send_body(404, "text/plain", b"not found\n")
            return
        q = self.query()
        batch, n, ms = q.get("batch", ""), int(q.get("count", "1")), int(q.get("ms", "1000"))
        if not batch.replace("-", "").isalnum() or not (0 < n <= 10000) or not (0 <= ms <= 600000):
            self.send_json(400, {"error": "batch must be alphanumeric, 0 < count <= 10000, 0 <= ms <= 600000"})
            return
        client = redis()
        try:
            jobs = [json.dumps({"batch": batch, "id": i, "ms": ms}) for i in range(n)]
            client.command("LPUSH", QUEUE, *jobs)
        finally:
            client.close()
        self.send_json(202, {"batch": batch, "queued": n})

    def job_status(self, batch: str) -> None:
        client = redis()
        try:
            done = client.command("HGETALL", f"ballast-e2e:done:{batch}") or []
            versions = client.command("HGETALL", f"ballast-e2e:versions:{batch}") or []
            workers = client.command("HGETALL", f"ballast-e2e:workers:{batch}") or []
            queued = sum(1 for job in client.command("LRANGE", QUEUE, 0, -1) or [] if json.loads(job)["batch"] == batch)
        finally:
            client.close()
        counts = [int(done[i + 1]) for i in range(0, len(done), 2)]
        self.send_json(200, {
            "queued": queued,
            "done": len(counts),
            "duplicates": sum(1 for c in counts if c > 1),
            "versions": {versions[i]: int(versions[i + 1]) for i in range(0, len(versions), 2)},
            "workers": {workers[i]: int(workers[i + 1]) for i in range(0, len(workers), 2)},
        })

    def stream(self, seconds: float) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        started = time.monotonic()
        tick = 0

        def chunk(text: str) -> None:
            data = text.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        while time.monotonic() - started < seconds:
            chunk(f"tick {tick} {VERSION}\n")
            tick += 1
            time.sleep(0.5)
        chunk(f"done {VERSION} after {tick} ticks\n")
        self.wfile.write(b"0\r\n\r\n")
        count("/api/stream", 200)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's signature)
        # Health and metrics requests are dropped, like the stack's log pipeline does.
        if "/api/health" in self.path or "/api/v1/metrics" in self.path:
            return
        sys.stdout.write("app: %s %s\n" % (self.address_string(), format % args))
        sys.stdout.flush()


def serve() -> None:
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    server.daemon_threads = True

    def drain(*_) -> None:
        _draining.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, drain)
    print(f"app: version {VERSION} listening on :{PORT} (health {'ok' if HEALTHY else 'FAILING'})", flush=True)
    server.serve_forever()
    server.server_close()
    deadline = time.monotonic() + DRAIN_LIMIT_SECONDS
    while time.monotonic() < deadline:
        with _lock:
            if _in_flight == 0:
                break
        time.sleep(0.1)
    print(f"app: version {VERSION} drained, exiting (requests in flight: {_in_flight})", flush=True)


def work() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"worker: version {VERSION} taking jobs from {QUEUE}", flush=True)
    client = None
    finished = 0
    while not stop.is_set():
        with open(HEARTBEAT, "w") as beat:
            beat.write(str(time.time()))
        try:
            client = client or redis()
            popped = client.command("BRPOP", QUEUE, 1)
        except (OSError, ConnectionError, RuntimeError) as error:
            print(f"worker: redis: {error}", flush=True)
            if client:
                client.close()
            client = None
            time.sleep(1)
            continue
        if not popped:
            continue
        job = json.loads(popped[1])
        # The job in hand is finished even when SIGTERM arrives meanwhile.
        time.sleep(job["ms"] / 1000)
        client.command("HINCRBY", f"ballast-e2e:done:{job['batch']}", job["id"], 1)
        client.command("HINCRBY", f"ballast-e2e:versions:{job['batch']}", VERSION, 1)
        client.command("HINCRBY", f"ballast-e2e:workers:{job['batch']}", socket.gethostname(), 1)
        finished += 1
    print(f"worker: version {VERSION} stopped after {finished} jobs", flush=True)


if __name__ == "__main__":
    work() if sys.argv[1:] == ["worker"] else serve()
