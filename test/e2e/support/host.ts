/**
 * The compose scenarios' test host (scripts/e2e/host.sh): brought up before, taken down after,
 * plus small bounded probes against it (HTTP through the proxy, SQL in the Postgres container).
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { repoRoot, runOk } from "./harness";

export interface TestHost {
  state: string;
  project: string;
  sshHost: string;
  sshPort: number;
  sshUser: string;
  sshKeyFile: string;
  sshHostKey: string;
  remoteDir: string;
  images: { appV1: string; appV2: string; appFailing: string; postgres: string; redis: string; proxy: string };
  /** True when this process brought the host up (and so takes it down). */
  ownedByUs: boolean;
  /** Every `BALLAST_E2E_*` value of host.env (the ACME and tool keys are read by support/acme.ts). */
  values: Record<string, string>;
}

export const hostScript = path.join(repoRoot, "scripts", "e2e", "host.sh");

/** Parses host.sh's `KEY='value'` env file. */
export function readHostEnv(file: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const match = /^([A-Z0-9_]+)='(.*)'$/.exec(line);
    if (match) values[match[1]] = match[2];
  }
  return values;
}

function hostFromEnv(values: Record<string, string>, ownedByUs: boolean): TestHost {
  const need = (key: string): string => {
    const value = values[key];
    if (!value) throw new Error(`host.env lacks ${key}: run \`bash scripts/e2e/host.sh down && bash scripts/e2e/host.sh up\``);
    return value;
  };
  return {
    state: need("BALLAST_E2E_STATE"),
    project: need("BALLAST_E2E_PROJECT"),
    sshHost: need("BALLAST_E2E_SSH_HOST"),
    sshPort: Number(need("BALLAST_E2E_SSH_PORT")),
    sshUser: need("BALLAST_E2E_SSH_USER"),
    sshKeyFile: need("BALLAST_E2E_SSH_KEY_FILE"),
    sshHostKey: need("BALLAST_E2E_SSH_HOST_KEY"),
    remoteDir: need("BALLAST_E2E_REMOTE_DIR"),
    images: {
      appV1: need("BALLAST_E2E_IMAGE_APP_V1"),
      appV2: need("BALLAST_E2E_IMAGE_APP_V2"),
      appFailing: need("BALLAST_E2E_IMAGE_APP_FAILING"),
      postgres: need("BALLAST_E2E_IMAGE_POSTGRES"),
      redis: need("BALLAST_E2E_IMAGE_REDIS"),
      proxy: need("BALLAST_E2E_IMAGE_PROXY"),
    },
    ownedByUs,
    values,
  };
}

/**
 * `host.sh up` (first run: packages, the compose and test-tool builds (Traefik from Go modules takes
 * 10-20 min), debootstrap and image builds; later runs reuse the caches), or, with
 * BALLAST_E2E_HOST_ENV set, a host someone else brought up.
 */
export async function bringUpHost(): Promise<TestHost> {
  const external = process.env.BALLAST_E2E_HOST_ENV;
  if (external) {
    if (!fs.existsSync(external)) throw new Error(`BALLAST_E2E_HOST_ENV=${external} does not exist: run \`bash scripts/e2e/host.sh up\``);
    return hostFromEnv(readHostEnv(external), false);
  }
  if (process.getuid?.() !== 0) {
    throw new Error(
      "the compose end-to-end scenarios run as root: scripts/e2e/host.sh installs packages, starts dockerd and sshd, creates a user",
    );
  }
  await runOk("scripts/e2e/host.sh up", "bash", [hostScript, "up"], {
    cwd: repoRoot,
    timeoutSeconds: 70 * 60,
    echo: "[host]",
  });
  const state = process.env.BALLAST_E2E_STATE ?? "/run/ballast-e2e";
  return hostFromEnv(readHostEnv(path.join(state, "host.env")), true);
}

export async function takeDownHost(host: TestHost | undefined): Promise<void> {
  // Also when `up` failed half way: down removes whatever exists.
  if (host && !host.ownedByUs) return;
  if (!host && process.env.BALLAST_E2E_HOST_ENV) return;
  await runOk("scripts/e2e/host.sh down", "bash", [hostScript, "down"], { cwd: repoRoot, timeoutSeconds: 300, echo: "[host]" });
}

/**
 * The kernel's range for the local ports of outgoing connections (the source port of every SSH,
 * HTTP and registry connection the scenarios make).
 */
export function ephemeralPortRange(file = "/proc/sys/net/ipv4/ip_local_port_range"): { low: number; high: number } {
  try {
    const [low, high] = fs.readFileSync(file, "utf8").trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low > 0 && high >= low) return { low, high };
  } catch {
    // No procfs: Linux's default range.
  }
  return { low: 32768, high: 60999 };
}

/** Lowest port freePort hands out: above the well-known and most registered service ports. */
const FREE_PORT_FLOOR = 20000;

/** Resolves true when nothing listens on `port` on `host` (the bind itself is the test). */
function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * A port that is free now and that no outgoing connection can take later: it lies below the
 * kernel's ephemeral range. The proxy's published ports are bound again by every release (the
 * container is recreated); a port from listen(0) is an ephemeral one, and a CI run lost a
 * redeploy when an SSH connection's source port happened to be the published port
 * ("bind: address already in use"). Checked on 127.0.0.1 and on all interfaces, where compose's
 * networks publish.
 */
export async function freePort(taken: ReadonlySet<number> = new Set()): Promise<number> {
  const { low } = ephemeralPortRange();
  const ceiling = low - 1;
  if (ceiling <= FREE_PORT_FLOOR) throw new Error(`no port range below the ephemeral range (starts at ${low}) above ${FREE_PORT_FLOOR}`);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = FREE_PORT_FLOOR + Math.floor(Math.random() * (ceiling - FREE_PORT_FLOOR + 1));
    if (taken.has(port)) continue;
    if ((await canBind(port, "127.0.0.1")) && (await canBind(port, "0.0.0.0"))) return port;
  }
  throw new Error(`no free port in ${FREE_PORT_FLOOR}-${ceiling} after 200 attempts`);
}

export interface HttpAnswer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** One GET to 127.0.0.1:<port> with a Host header, as a client of the declared route would send it. */
export function get(port: number, host: string, urlPath: string, timeoutMs = 5000): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: "127.0.0.1", port, path: urlPath, method: "GET", headers: { Host: host }, timeout: timeoutMs },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body, headers: response.headers }));
      },
    );
    request.on("timeout", () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on("error", reject);
    request.end();
  });
}

/** GETs until `accept` holds, at most `seconds`; throws with the last answer or error. */
export async function waitForAnswer(
  port: number,
  host: string,
  urlPath: string,
  accept: (answer: HttpAnswer) => boolean,
  seconds: number,
): Promise<HttpAnswer> {
  const deadline = Date.now() + seconds * 1000;
  let last = "nothing yet";
  while (Date.now() < deadline) {
    try {
      const answer = await get(port, host, urlPath);
      if (accept(answer)) return answer;
      last = `HTTP ${answer.status} ${answer.body.trim().slice(0, 200)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error(`GET http://${host}:${port}${urlPath} (via 127.0.0.1) did not answer as expected within ${seconds}s; last: ${last}`);
}

/** `docker <args>` on this machine's engine (the SSH host's engine), bounded. */
export async function docker(args: string[], timeoutSeconds = 60): Promise<string> {
  const result = await runOk(`docker ${args.join(" ")}`, "docker", args, { timeoutSeconds });
  return result.stdout.trim();
}

/** The running container of a compose service of the test project, or a clear error. */
export async function serviceContainer(project: string, service: string): Promise<string> {
  const ids = (
    await docker([
      "ps",
      "-q",
      "--filter",
      `label=com.docker.compose.project=${project}`,
      "--filter",
      `label=com.docker.compose.service=${service}`,
    ])
  )
    .split("\n")
    .filter(Boolean);
  if (ids.length !== 1) throw new Error(`expected one running ${service} container of project ${project}, found ${ids.length}`);
  return ids[0];
}

/** Runs SQL in the Postgres container over its private socket (trusted locally), unaligned tuples only. */
export async function psql(project: string, sql: string, database = "app", user = "app"): Promise<string> {
  const container = await serviceContainer(project, "postgres");
  return docker(["exec", container, "psql", "-v", "ON_ERROR_STOP=1", "-h", "/var/run/postgresql", "-U", user, "-d", database, "-tAc", sql]);
}
