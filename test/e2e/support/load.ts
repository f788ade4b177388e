/**
 * Bounded HTTP(S) load with vegeta (github.com/tsenart/vegeta, built by scripts/e2e/tools.sh; the
 * test host's host.env names it as BALLAST_E2E_VEGETA): a constant request rate for a fixed time,
 * then vegeta's JSON report, summarised.
 *
 *   const report = await runLoad({
 *     vegeta: host.values.BALLAST_E2E_VEGETA,
 *     rate: 20, durationSeconds: 10,
 *     targets: [`https://app.e2e.test:${httpsPort}/api/health`],
 *     caFile: pebbleRootFile,                                         // trusted for https targets
 *     connectTo: { [`app.e2e.test:${httpsPort}`]: `127.0.0.1:${httpsPort}` },
 *   });
 *   expect(report.failures, report.errors.join("\n")).toBe(0);
 *
 * Start it without awaiting to put a release under load, await it afterwards. Every run is bounded:
 * the attack by its duration plus the request timeout plus a margin (the process group is killed
 * past that, and the call throws), the report by 60 s. Traffic goes only where `targets` and
 * `connectTo` say: keep both on loopback.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describeRun, run } from "./harness";

export interface LoadTarget {
  method?: string;
  url: string;
  headers?: Record<string, string>;
}

export interface LoadOptions {
  /** Path of the vegeta binary (host.env's BALLAST_E2E_VEGETA). */
  vegeta: string;
  /** Requests per second, constant over the run. */
  rate: number;
  durationSeconds: number;
  /** URLs (GET) or full targets; vegeta cycles through them round-robin. */
  targets: Array<string | LoadTarget>;
  /** PEM file of the roots trusted for https targets (vegeta -root-certs); without it, the system's. */
  caFile?: string;
  /** "host:port" of a target URL -> "ip:port" to connect to instead (vegeta -connect-to); SNI and Host stay the URL's. */
  connectTo?: Record<string, string>;
  /** Timeout of one request (default 5 s): a request slower than that counts as a failure. */
  requestTimeoutSeconds?: number;
  /** Redirects to follow (default 0: a 3xx answer is the result; vegeta counts 3xx as success). */
  redirects?: number;
  /** Reuse connections (default true). false: a new TCP (and TLS) connection per request. */
  keepalive?: boolean;
  /**
   * Stop early when this settles (e.g. the `pulumi up` the load spans): vegeta gets SIGINT, stops
   * the attack and still writes its results. `durationSeconds` stays the upper bound.
   */
  until?: Promise<unknown>;
}

export interface LoadReport {
  requests: number;
  /** Requests without a 2xx/3xx answer: transport errors and timeouts (status 0) and 4xx/5xx. */
  failures: number;
  /** Status code (as a string, "0" for no answer) -> count. */
  statusCodes: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The distinct errors vegeta saw (transport errors and non-2xx statuses), as it words them. */
  errors: string[];
  /** Requests per second vegeta really sent. */
  rate: number;
}

interface VegetaJsonReport {
  latencies: { "50th": number; "99th": number; max: number };
  requests: number;
  rate: number;
  status_codes: Record<string, number> | null;
  errors: string[] | null;
}

function targetsFile(targets: Array<string | LoadTarget>): string {
  if (targets.length === 0) throw new Error("runLoad: no targets");
  return targets
    .map((target) => {
      const t = typeof target === "string" ? { url: target } : target;
      const headers = Object.entries(t.headers ?? {}).map(([name, value]) => `${name}: ${value}`);
      return [`${t.method ?? "GET"} ${t.url}`, ...headers].join("\n");
    })
    .join("\n\n")
    .concat("\n");
}

/** Summarises vegeta's `report -type=json` output (exported for unit tests of the parsing). */
export function summariseVegetaReport(json: string): LoadReport {
  const parsed = JSON.parse(json) as VegetaJsonReport;
  const statusCodes = parsed.status_codes ?? {};
  let failures = 0;
  for (const [code, count] of Object.entries(statusCodes)) {
    const status = Number(code);
    if (!(status >= 200 && status < 400)) failures += count;
  }
  const ms = (ns: number) => Math.round((ns / 1e6) * 100) / 100;
  return {
    requests: parsed.requests,
    failures,
    statusCodes,
    p50Ms: ms(parsed.latencies["50th"]),
    p99Ms: ms(parsed.latencies["99th"]),
    maxMs: ms(parsed.latencies.max),
    errors: parsed.errors ?? [],
    rate: Math.round(parsed.rate * 100) / 100,
  };
}

/** Runs `vegeta attack` at a constant rate for a fixed time, then `vegeta report -type=json`. */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const { vegeta, rate, durationSeconds } = options;
  if (!vegeta || !fs.existsSync(vegeta)) {
    throw new Error(`vegeta is not at "${vegeta}": scripts/e2e/tools.sh builds it (host.sh up writes BALLAST_E2E_VEGETA into host.env)`);
  }
  if (!(rate > 0) || !(durationSeconds > 0))
    throw new Error(`runLoad: rate (${rate}) and durationSeconds (${durationSeconds}) must be positive`);
  const requestTimeout = options.requestTimeoutSeconds ?? 5;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-e2e-load-"));
  try {
    const targets = path.join(dir, "targets.txt");
    const results = path.join(dir, "results.bin");
    fs.writeFileSync(targets, targetsFile(options.targets));
    const args = [
      "attack",
      `-rate=${rate}/1s`,
      `-duration=${durationSeconds}s`,
      `-timeout=${requestTimeout}s`,
      `-targets=${targets}`,
      `-output=${results}`,
      `-redirects=${options.redirects ?? 0}`,
      `-keepalive=${options.keepalive ?? true}`,
      "-max-body=4096",
    ];
    if (options.caFile) args.push(`-root-certs=${options.caFile}`);
    for (const [from, to] of Object.entries(options.connectTo ?? {})) args.push(`-connect-to=${from}:${to}`);
    const attackBound = durationSeconds + requestTimeout + 30;
    // Settling a moment after `until`: the load covers the end of what it spans.
    const interrupt = options.until?.then(
      () => new Promise((resolve) => setTimeout(resolve, 2000)),
      () => undefined,
    );
    const attack = await run(vegeta, args, { timeoutSeconds: attackBound, interrupt });
    if (attack.timedOut || attack.code !== 0) throw new Error(describeRun(`vegeta ${args.join(" ")}`, attack, attackBound));
    const report = await run(vegeta, ["report", "-type=json", results], { timeoutSeconds: 60 });
    if (report.timedOut || report.code !== 0) throw new Error(describeRun(`vegeta report -type=json ${results}`, report, 60));
    return summariseVegetaReport(report.stdout);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
