import { describe, expect, it } from "vitest";
import { droppedRequestPaths, dropExpression, dropsLine, renderAlloyConfig } from "../../components/observability/alloy";
import { observabilityWorkloads } from "../../components/observability";
import { anonymizationRules, anonymizeLine } from "../../components/observability/anonymize";
import { monitoring, testContext } from "./fixtures";

/** [input, expected output]: lines from Traefik, the app and plain text, and lines that must pass unchanged. */
const anonymizationTable: [string, string][] = [
  // Traefik JSON access log: ClientAddr keeps its port, ClientHost loses its last octet.
  [
    '{"ClientAddr":"203.0.113.195:51234","ClientHost":"203.0.113.195","DownstreamStatus":200,"RequestMethod":"GET","RequestPath":"/api/v1/runs","time":"2026-01-21T10:30:00Z"}',
    '{"ClientAddr":"203.0.113.0:51234","ClientHost":"203.0.113.0","DownstreamStatus":200,"RequestMethod":"GET","RequestPath":"/api/v1/runs","time":"2026-01-21T10:30:00Z"}',
  ],
  // Traefik over IPv6: bracketed address with port, and the bare host.
  [
    '{"ClientAddr":"[2001:db8:85a3:8d3:1319:8a2e:370:7348]:443","ClientHost":"2001:db8:85a3:8d3:1319:8a2e:370:7348","DownstreamStatus":404}',
    '{"ClientAddr":"[2001:db8:85a3::]:443","ClientHost":"2001:db8:85a3::","DownstreamStatus":404}',
  ],
  // App JSON log with an `ip` field.
  [
    '{"level":"info","ip":"198.51.100.23","method":"POST","path":"/api/v1/analysis","status":201,"duration":87}',
    '{"level":"info","ip":"198.51.100.0","method":"POST","path":"/api/v1/analysis","status":201,"duration":87}',
  ],
  ['{"level":"warn","ip":"2001:db8::42","msg":"rate limited"}', '{"level":"warn","ip":"2001:db8::","msg":"rate limited"}'],
  // Plain text with an IPv4 and an IPv6 address.
  ["connection from 192.0.2.77 and 2001:db8:abcd:12:34::99 closed", "connection from 192.0.2.0 and 2001:db8:abcd:: closed"],
  // A forwarded-for chain, with and without spaces.
  ["X-Forwarded-For: 203.0.113.7,198.51.100.9, 192.0.2.1", "X-Forwarded-For: 203.0.113.0,198.51.100.0, 192.0.2.0"],
  // Loopback, link-local with zone, an address ending a sentence, a CIDR.
  ["listening on ::1 and fe80::1ff:fe23:4567:890a%eth0, peer 127.0.0.1:5432.", "listening on :: and fe80::%eth0, peer 127.0.0.0:5432."],
  ["blocked 203.0.113.50. allow 10.20.30.40/32", "blocked 203.0.113.0. allow 10.20.30.0/32"],
  // IPv4-mapped IPv6: the IPv4 rule runs first.
  ["client ::ffff:192.0.2.128 connected", "client ::ffff:192.0.2.0 connected"],
  // A bare dotted quad cannot be told from an address: anonymised on purpose.
  ["version 1.2.3.4", "version 1.2.3.0"],
];

/** Lines that must pass unchanged: versions, timestamps, MACs, ratios, code paths. */
const unchangedLines = [
  "starting ballast-worker 1.2.3.4-beta (build v2.0.1.7, node 20.11.1, chart app-1.2.3.4, release 2024.01.21.3)",
  "upgraded from 1.2.3.4.5 to 1.2.3.4.6-rc1",
  "2026-01-21T10:30:00.123Z worker=3 mac=00:1a:2b:3c:4d:5e ratio=16:9 took 12:34:56",
  "panic in std::vector<int> at fmt::Debug, pgvector 0.8.1, redis 7.2.4",
  '{"level":"info","msg":"job done","queue":"analyst","cost_usd":0.05,"duration_ms":1234}',
];

describe("anonymizeLine", () => {
  it.each(anonymizationTable)("anonymises %s", (input, expected) => {
    expect(anonymizeLine(input)).toBe(expected);
  });

  it.each(unchangedLines)("leaves %s unchanged", (line) => {
    expect(anonymizeLine(line)).toBe(line);
  });

  it("is idempotent", () => {
    for (const [input] of anonymizationTable) expect(anonymizeLine(anonymizeLine(input))).toBe(anonymizeLine(input));
  });

  it("removes the last octet of any address in any common context", () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) % 256;
    const contexts = [
      (ip: string) => `"ip":"${ip}"`,
      (ip: string) => `from ${ip} port`,
      (ip: string) => `${ip}:443`,
      (ip: string) => `[${ip}]`,
      (ip: string) => `${ip},`,
    ];
    for (let i = 0; i < 200; i++) {
      const octets = [next(), next(), next(), next() || 1];
      const ip = octets.join(".");
      const wrap = contexts[i % contexts.length];
      expect(anonymizeLine(wrap(ip))).toBe(wrap(`${octets.slice(0, 3).join(".")}.0`));
    }
  });
});

/** The stage.replace blocks of a rendered Alloy config, with Alloy string escapes undone. */
function replaceStages(alloy: string): { expression: string; replace: string }[] {
  const unescape = (s: string) => JSON.parse(`"${s}"`) as string;
  const stages = [...alloy.matchAll(/stage\.replace \{\n\s+expression = "((?:[^"\\]|\\.)*)"\n\s+replace = "((?:[^"\\]|\\.)*)"\n\s+\}/g)];
  return stages.map((m) => ({ expression: unescape(m[1]), replace: unescape(m[2]) }));
}

describe("Alloy config", () => {
  for (const target of ["compose", "kubernetes"] as const) {
    const text = renderAlloyConfig(monitoring(), testContext(target));

    it(`renders exactly the anonymisation rules, in order (${target})`, () => {
      expect(replaceStages(text)).toEqual(anonymizationRules.map((r) => ({ expression: r.expression, replace: r.replacement })));
      expect(text.match(/stage\.replace/g)?.length).toBe(anonymizationRules.length);
    });

    it(`drops successful health and metrics requests from both log formats (${target})`, () => {
      const expression = dropExpression(droppedRequestPaths(monitoring(), testContext(target)));
      const escaped = expression.replace(/\\/g, "\\\\");
      expect(text).toContain(`source = "proxy_path,proxy_status"`);
      expect(text).toContain(`source = "app_path,app_status"`);
      expect(text.split(`expression = "${escaped}"`).length - 1).toBe(2);
      // Drop before anonymise: dropped lines never need the regex work.
      expect(text.indexOf("stage.drop")).toBeLessThan(text.indexOf("stage.replace"));
    });

    it(`carries the marker the anonymisation policy looks for (${target})`, () => {
      expect(text).toContain("ballast:anonymise-client-ips");
      expect(text).toContain("// IPv4 address: the last octet becomes 0.");
      const alloy = observabilityWorkloads(monitoring(), testContext(target)).find((w) => w.name === "alloy");
      expect(alloy?.labels).toEqual({ "ballast.log-anonymisation": "on" });
    });

    it(`has balanced braces and ships to Loki (${target})`, () => {
      const code = text.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\/\/.*$/gm, "");
      expect(code.split("{").length).toBe(code.split("}").length);
      // On Kubernetes Alloy runs in the agents' namespace: Loki's name carries the application namespace.
      const loki = target === "kubernetes" ? `loki.${testContext(target).namespace}.svc` : "loki";
      expect(text).toContain(`url = "http://${loki}:3100/loki/api/v1/push"`);
    });
  }

  it("reads this Compose project's containers through the Docker socket on Compose", () => {
    const text = renderAlloyConfig(monitoring(), testContext("compose", { project: "shop" }));
    expect(text).toContain('discovery.docker "containers"');
    expect(text).toContain('values = ["com.docker.compose.project=shop"]');
    expect(text).toContain('loki.source.docker "containers"');
    expect(text).not.toContain("discovery.kubernetes");
    expect(text).not.toContain("stage.cri");
  });

  it("tails /var/log/pods of the stack's namespaces (the application's and the agents') on Kubernetes", () => {
    const text = renderAlloyConfig(monitoring(), testContext("kubernetes", { namespace: "shop" }));
    expect(text).toContain('discovery.kubernetes "pods"');
    expect(text).toContain('names = ["shop", "shop-agents"]');
    expect(text).toContain('replacement = "/var/log/pods/*$1/*.log"');
    expect(text).toContain('loki.source.file "pods"');
    expect(text).toContain("stage.cri {}");
    expect(text).not.toContain("docker.sock");
  });
});

describe("dropsLine", () => {
  const paths = droppedRequestPaths(monitoring({ alloy: { dropPaths: ["/healthz"] } }), testContext("compose"));

  it("collects the app's health and metrics paths, /ping, worker and service metrics and configured extras", () => {
    expect(paths).toEqual(["/api/v1/health", "/api/v1/health/deep", "/api/v1/metrics", "/ping", "/metrics", "/healthz"]);
  });

  const cases: [string, boolean][] = [
    ['{"RequestPath":"/api/v1/health","DownstreamStatus":200,"ClientHost":"203.0.113.9"}', true],
    ['{"RequestPath":"/ping","DownstreamStatus":200}', true],
    ['{"RequestPath":"/api/v1/metrics?format=prometheus","DownstreamStatus":200}', true],
    ['{"level":"info","path":"/api/v1/health","status":200,"duration":2}', true],
    ['{"level":"info","path":"/healthz","status":"204"}', true],
    // Failed health checks are signal, not noise.
    ['{"RequestPath":"/api/v1/health","DownstreamStatus":503}', false],
    ['{"level":"error","path":"/api/v1/health","status":500}', false],
    // Other paths, look-alike paths, lines without a status, plain text.
    ['{"RequestPath":"/api/v1/runs","DownstreamStatus":200}', false],
    ['{"level":"info","path":"/api/v1/healthcheck-report","status":200}', false],
    ['{"level":"info","path":"/api/v1/health"}', false],
    ["GET /api/v1/health 200", false],
  ];

  it.each(cases)("drops %s: %s", (line, dropped) => {
    expect(dropsLine(line, paths)).toBe(dropped);
  });
});
