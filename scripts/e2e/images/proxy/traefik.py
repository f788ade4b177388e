#!/usr/bin/env python3
"""A minimal stand-in for Traefik in Ballast's end-to-end stack (Debian has no Traefik package and
no registry is reachable). It is installed as `traefik` and understands exactly what the compose
target renders, so the stack's routing is the declared one:

  traefik --configFile=/etc/traefik/traefik.yml
      Reads entryPoints (":8000" ...) and providers.docker (endpoint, network, exposedByDefault)
      from the static config, listens on every entry point, and routes each request with the
      Docker labels of running containers: traefik.enable, traefik.http.routers.<r>.rule
      (Host(`h`) [&& PathPrefix(`/p`)]), .entrypoints, .service,
      traefik.http.services.<s>.loadbalancer.server.port and traefik.docker.network. Like
      Traefik, it skips containers whose health check is not (yet) healthy. /ping on the ping
      entry point and /metrics on the metrics entry point answer themselves.
  traefik healthcheck --ping [--ping.entryPoint=ping] [--entryPoints.ping.address=:8081]
      GET /ping on that address; exit 0 on 200.

What it does not do: TLS (the e2e stack runs with ballast:tls false), middlewares, ACME.
Unknown rules are logged and ignored. Standard library plus PyYAML.
"""
import http.client
import json
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
}


def log(**fields) -> None:
    fields.setdefault("time", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    sys.stdout.write(json.dumps(fields, sort_keys=True) + "\n")
    sys.stdout.flush()


def port_of(address: str) -> int:
    match = re.fullmatch(r"[^:]*:(\d+)(/tcp)?", address.strip())
    if not match:
        raise ValueError(f"entry point address {address!r} is not ':<port>'")
    return int(match.group(1))


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 10.0):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class Docker:
    """Reads the routes from the Docker API (GET /containers/json) over the mounted socket."""

    def __init__(self, endpoint: str, default_network: str, exposed_by_default: bool):
        if not endpoint.startswith("unix://"):
            raise ValueError(f"docker endpoint {endpoint!r}: only unix:// sockets are supported")
        self.socket_path = endpoint[len("unix://"):]
        self.default_network = default_network
        self.exposed_by_default = exposed_by_default
        self._cache = (0.0, [])
        self._lock = threading.Lock()

    def containers(self) -> list:
        with self._lock:
            stamp, cached = self._cache
            if time.monotonic() - stamp < 1.0:
                return cached
            connection = UnixHTTPConnection(self.socket_path)
            try:
                connection.request("GET", "/containers/json")
                response = connection.getresponse()
                body = response.read()
                if response.status != 200:
                    raise RuntimeError(f"docker API answered {response.status}: {body[:200]!r}")
                listed = json.loads(body)
            finally:
                connection.close()
            self._cache = (time.monotonic(), listed)
            return listed

    def routes(self) -> list:
        """[(priority, entrypoints, host, path_prefix, name, [(ip, port), ...])], best first."""
        routers = {}
        for container in self.containers():
            labels = container.get("Labels") or {}
            enabled = labels.get("traefik.enable", "true" if self.exposed_by_default else "false") == "true"
            status = container.get("Status", "")
            if not enabled or container.get("State") != "running":
                continue
            if "(health: starting)" in status or "(unhealthy)" in status:
                continue
            network = labels.get("traefik.docker.network", self.default_network)
            networks = (container.get("NetworkSettings") or {}).get("Networks") or {}
            ip = (networks.get(network) or {}).get("IPAddress")
            if not ip:
                continue
            for key, rule in labels.items():
                match = re.fullmatch(r"traefik\.http\.routers\.([^.]+)\.rule", key)
                if not match:
                    continue
                name = match.group(1)
                parsed = parse_rule(rule)
                if parsed is None:
                    log(level="warn", msg=f"router {name}: rule {rule!r} is not supported by the e2e proxy; ignored")
                    continue
                service = labels.get(f"traefik.http.routers.{name}.service", name)
                port = labels.get(f"traefik.http.services.{service}.loadbalancer.server.port")
                if not port:
                    continue
                entrypoints = labels.get(f"traefik.http.routers.{name}.entrypoints", "")
                key = (name, parsed, entrypoints)
                routers.setdefault(key, []).append((ip, int(port)))
        routes = []
        for (name, (host, prefix), entrypoints), backends in routers.items():
            eps = {e.strip() for e in entrypoints.split(",") if e.strip()}
            priority = len(host) + len(prefix)
            routes.append((priority, eps, host, prefix, name, sorted(backends)))
        routes.sort(key=lambda r: -r[0])
        return routes


def parse_rule(rule: str):
    """Host(`h`) or Host(`h`) && PathPrefix(`/p`) -> (host, prefix)."""
    match = re.fullmatch(r"\s*Host\(`([^`]+)`\)\s*(?:&&\s*PathPrefix\(`([^`]+)`\)\s*)?", rule)
    if not match:
        return None
    return match.group(1).lower(), match.group(2) or "/"


class Proxy:
    def __init__(self, config: dict):
        entry_points = config.get("entryPoints") or {}
        if not entry_points:
            raise ValueError("the static config has no entryPoints")
        self.entry_points = {name: port_of(ep["address"]) for name, ep in entry_points.items()}
        ping = config.get("ping") or {}
        self.ping_entry_point = ping.get("entryPoint", "traefik") if "ping" in config else None
        metrics = ((config.get("metrics") or {}).get("prometheus")) or {}
        self.metrics_entry_point = metrics.get("entryPoint") if metrics else None
        docker = ((config.get("providers") or {}).get("docker")) or {}
        if not docker:
            raise ValueError("the static config has no providers.docker (the e2e proxy routes Docker labels only)")
        self.docker = Docker(
            docker.get("endpoint", "unix:///var/run/docker.sock"),
            docker.get("network", ""),
            bool(docker.get("exposedByDefault", True)),
        )
        self.counts = {}
        self.lock = threading.Lock()
        self.next_backend = 0

    def count(self, entry_point: str, code: int) -> None:
        with self.lock:
            key = (entry_point, code)
            self.counts[key] = self.counts.get(key, 0) + 1

    def metrics_text(self) -> bytes:
        lines = [
            "# HELP traefik_entrypoint_requests_total Requests per entry point and status (e2e stand-in).",
            "# TYPE traefik_entrypoint_requests_total counter",
        ]
        with self.lock:
            for (ep, code), n in sorted(self.counts.items()):
                lines.append(f'traefik_entrypoint_requests_total{{entrypoint="{ep}",code="{code}"}} {n}')
        return ("\n".join(lines) + "\n").encode()

    def pick(self, entry_point: str, host: str, path: str):
        for _priority, eps, rule_host, prefix, name, backends in self.docker.routes():
            if eps and entry_point not in eps:
                continue
            if rule_host != host or not path.startswith(prefix):
                continue
            with self.lock:
                self.next_backend += 1
                backend = backends[self.next_backend % len(backends)]
            return name, backend
        return None, None


def handler_for(proxy: Proxy, entry_point: str):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "ballast-e2e-proxy"

        def reply(self, code: int, body: bytes, content_type: str = "text/plain; charset=utf-8") -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            proxy.count(entry_point, code)

        def handle_any(self) -> None:
            started = time.monotonic()
            path = urllib.parse.urlsplit(self.path).path or "/"
            if entry_point == proxy.ping_entry_point and path == "/ping":
                return self.reply(200, b"OK")
            if entry_point == proxy.metrics_entry_point and path == "/metrics":
                return self.reply(200, proxy.metrics_text(), "text/plain; version=0.0.4")
            host = (self.headers.get("Host") or "").split(":", 1)[0].lower()
            try:
                router, backend = proxy.pick(entry_point, host, path)
            except Exception as error:  # the Docker API is unreachable: a gateway error, logged
                log(level="error", msg=f"reading routes failed: {error}")
                return self.reply(502, b"Bad Gateway\n")
            if backend is None:
                log(entryPoint=entry_point, RequestHost=host, RequestPath=path, DownstreamStatus=404, RouterName="")
                return self.reply(404, b"404 page not found\n")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["X-Forwarded-For"] = self.client_address[0]
            headers["X-Forwarded-Host"] = self.headers.get("Host", "")
            headers["X-Forwarded-Proto"] = "http"
            connection = http.client.HTTPConnection(backend[0], backend[1], timeout=30)
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except OSError as error:
                log(level="error", msg=f"router {router}: backend {backend[0]}:{backend[1]} failed: {error}")
                return self.reply(502, b"Bad Gateway\n")
            finally:
                connection.close()
            self.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            proxy.count(entry_point, response.status)
            log(
                entryPoint=entry_point,
                RouterName=router,
                RequestHost=host,
                RequestPath=path,
                DownstreamStatus=response.status,
                Duration=round(time.monotonic() - started, 4),
            )

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any

        def log_message(self, format: str, *args) -> None:  # noqa: A002 (access log is JSON above)
            return

    return Handler


def serve(config_file: str) -> int:
    with open(config_file, encoding="utf-8") as stream:
        config = yaml.safe_load(stream) or {}
    proxy = Proxy(config)
    servers = []
    for name, port in proxy.entry_points.items():
        server = ThreadingHTTPServer(("0.0.0.0", port), handler_for(proxy, name))
        server.daemon_threads = True
        servers.append(server)
        threading.Thread(target=server.serve_forever, name=f"entrypoint-{name}", daemon=True).start()
        log(level="info", msg=f"entry point {name} listening on :{port}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for server in servers:
        server.shutdown()
    log(level="info", msg="stopped")
    return 0


def healthcheck(args: list) -> int:
    entry_point_address = ":8080"
    for arg in args:
        if arg.startswith("--entryPoints.") and arg.split("=", 1)[0].endswith(".address"):
            entry_point_address = arg.split("=", 1)[1]
    port = port_of(entry_point_address)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/ping")
        response = connection.getresponse()
        response.read()
    except OSError as error:
        print(f"healthcheck: GET /ping on :{port} failed: {error}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    if response.status != 200:
        print(f"healthcheck: GET /ping on :{port} answered {response.status}", file=sys.stderr)
        return 1
    print("OK: ping")
    return 0


def main(argv: list) -> int:
    if argv and argv[0] == "healthcheck":
        return healthcheck(argv[1:])
    config_file = None
    for i, arg in enumerate(argv):
        if arg.startswith("--configFile=") or arg.startswith("--configfile="):
            config_file = arg.split("=", 1)[1]
        elif arg in ("--configFile", "--configfile") and i + 1 < len(argv):
            config_file = argv[i + 1]
    if not config_file:
        print("usage: traefik --configFile=FILE | traefik healthcheck --ping ...", file=sys.stderr)
        return 2
    return serve(config_file)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
