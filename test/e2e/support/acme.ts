/**
 * The test host's ACME test CA (Pebble, started by scripts/e2e/host.sh) and TLS probes against a
 * proxy published on loopback.
 *
 * Pebble's ACME endpoint is reached by containers as host.docker.internal (run them with
 * `--add-host host.docker.internal:host-gateway`) over HTTPS signed by the per-run CA in
 * BALLAST_E2E_ACME_CA_FILE (Traefik: mount it and set LEGO_CA_CERTIFICATES to it). Pebble validates
 * HTTP-01 on 127.0.0.1:<httpPort>: `restartPebble(host, port)` with the port the test publishes its
 * proxy's HTTP entry point on. Certificates Pebble issues chain to its root, `pebbleRootPem`.
 */
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import * as tls from "node:tls";
import { repoRoot, runOk } from "./harness";
import { hostScript, readHostEnv, type TestHost } from "./host";

export interface AcmeHost {
  /** ACME directory URL as containers see it (https://host.docker.internal:<port>/dir). */
  directory: string;
  /** PEM of the CA that signs Pebble's HTTPS endpoints (ACME and management). */
  caFile: string;
  /** Pebble's management API on loopback (roots, intermediates). */
  management: string;
  /** The port Pebble validates HTTP-01 challenges on (127.0.0.1). */
  httpPort: number;
  pebbleLog: string;
  vegeta: string;
  traefikVersion: string;
}

function acmeFromValues(values: Record<string, string>): AcmeHost {
  const need = (key: string): string => {
    const value = values[key];
    if (!value)
      throw new Error(
        `host.env lacks ${key}: the test host predates Pebble; run \`bash scripts/e2e/host.sh down && bash scripts/e2e/host.sh up\``,
      );
    return value;
  };
  return {
    directory: need("BALLAST_E2E_ACME_DIRECTORY"),
    caFile: need("BALLAST_E2E_ACME_CA_FILE"),
    management: need("BALLAST_E2E_PEBBLE_MANAGEMENT"),
    httpPort: Number(need("BALLAST_E2E_ACME_HTTP_PORT")),
    pebbleLog: need("BALLAST_E2E_PEBBLE_LOG"),
    vegeta: need("BALLAST_E2E_VEGETA"),
    traefikVersion: need("BALLAST_E2E_TRAEFIK_VERSION"),
  };
}

export function acmeOf(host: TestHost): AcmeHost {
  return acmeFromValues(host.values);
}

/**
 * `host.sh pebble-start <httpPort>`: Pebble restarted to validate HTTP-01 on 127.0.0.1:<httpPort>.
 * A restarted Pebble has a new root and intermediate and no accounts or orders.
 */
export async function restartPebble(host: TestHost, httpPort: number): Promise<AcmeHost> {
  await runOk(`scripts/e2e/host.sh pebble-start ${httpPort}`, "bash", [hostScript, "pebble-start", String(httpPort)], {
    cwd: repoRoot,
    env: { ...process.env, BALLAST_E2E_STATE: host.state },
    timeoutSeconds: 90,
  });
  const values = readHostEnv(path.join(host.state, "host.env"));
  host.values = values;
  const acme = acmeFromValues(values);
  if (acme.httpPort !== httpPort) throw new Error(`host.sh pebble-start ${httpPort} left BALLAST_E2E_ACME_HTTP_PORT=${acme.httpPort}`);
  return acme;
}

/** GET on Pebble's management API (trusting the per-run CA), bounded. */
export function pebbleManagementGet(acme: AcmeHost, urlPath: string, timeoutMs = 5000): Promise<string> {
  const ca = fs.readFileSync(acme.caFile);
  return new Promise((resolve, reject) => {
    const request = https.get(`${acme.management}${urlPath}`, { ca, timeout: timeoutMs }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () =>
        response.statusCode === 200
          ? resolve(body)
          : reject(new Error(`GET ${acme.management}${urlPath}: HTTP ${response.statusCode} ${body.slice(0, 200)}`)),
      );
    });
    request.on("timeout", () => request.destroy(new Error(`GET ${acme.management}${urlPath}: no answer within ${timeoutMs} ms`)));
    request.on("error", reject);
  });
}

/** PEM of the root that Pebble's issued certificates chain to (changes with every Pebble start). */
export const pebbleRootPem = (acme: AcmeHost) => pebbleManagementGet(acme, "/roots/0");
/** PEM of the intermediate that signs Pebble's issued certificates. */
export const pebbleIntermediatePem = (acme: AcmeHost) => pebbleManagementGet(acme, "/intermediates/0");

/** Pebble's log since its last start (the file spans `pebble-start` restarts). */
export function pebbleLog(acme: AcmeHost): string {
  const log = fs.existsSync(acme.pebbleLog) ? fs.readFileSync(acme.pebbleLog, "utf8") : "";
  return log.slice(Math.max(log.lastIndexOf("Starting Pebble ACME server"), 0));
}

/** Orders Pebble holds (from its log: "There are now N orders in the db"); 0 before the first. */
export function pebbleOrderCount(acme: AcmeHost): number {
  const matches = [...pebbleLog(acme).matchAll(/There are now (\d+) orders in the db/g)];
  return matches.length === 0 ? 0 : Number(matches[matches.length - 1][1]);
}

export interface ServedCertificate {
  leaf: X509Certificate;
  /** The served chain, leaf first (as far as the server sent it). */
  chain: X509Certificate[];
  /** The chain verifies against the `ca` given (Node's verdict; hostname checked separately). */
  authorized: boolean;
  authorizationError?: string;
  /** undefined when the certificate is valid for the server name. */
  hostnameError?: string;
}

/** Connects to 127.0.0.1:<port> with SNI <serverName> and returns what the server presented. */
export function servedCertificate(port: number, serverName: string, ca?: string, timeoutMs = 5000): Promise<ServedCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: "127.0.0.1", port, servername: serverName, ca, rejectUnauthorized: false, timeout: timeoutMs },
      () => {
        const peer = socket.getPeerCertificate(true);
        const chain: X509Certificate[] = [];
        const seen = new Set<string>();
        for (let c: tls.DetailedPeerCertificate | undefined = peer; c?.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
          seen.add(c.fingerprint256);
          chain.push(new X509Certificate(c.raw));
        }
        const hostnameError = tls.checkServerIdentity(serverName, peer);
        socket.end();
        if (chain.length === 0) return reject(new Error(`127.0.0.1:${port} (SNI ${serverName}) presented no certificate`));
        resolve({
          leaf: chain[0],
          chain,
          authorized: socket.authorized,
          authorizationError: socket.authorizationError ? String(socket.authorizationError) : undefined,
          hostnameError: hostnameError?.message,
        });
      },
    );
    socket.on("timeout", () =>
      socket.destroy(new Error(`TLS handshake with 127.0.0.1:${port} (SNI ${serverName}) took over ${timeoutMs} ms`)),
    );
    socket.on("error", reject);
  });
}

/** One HTTPS request to 127.0.0.1:<port> with SNI and Host <host>, trusting `ca`, bounded (the whole answer, streamed ones included). */
export function httpsRequest(
  method: "GET" | "POST",
  port: number,
  host: string,
  urlPath: string,
  ca: string,
  timeoutMs = 5000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      { host: "127.0.0.1", port, path: urlPath, method, servername: host, headers: { Host: `${host}:${port}` }, ca, timeout: timeoutMs },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        response.on("error", reject);
      },
    );
    request.on("timeout", () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on("error", reject);
    request.end();
  });
}

/** One HTTPS GET to 127.0.0.1:<port> with SNI and Host <host>, trusting `ca`, bounded. */
export function httpsGet(
  port: number,
  host: string,
  urlPath: string,
  ca: string,
  timeoutMs = 5000,
): Promise<{ status: number; body: string }> {
  return httpsRequest("GET", port, host, urlPath, ca, timeoutMs);
}

/**
 * Waits until 127.0.0.1:<port> presents a certificate for `host` that `rootPem` verifies (Pebble's
 * root): Traefik serves its default certificate until the ACME order completes.
 */
export async function waitForAcmeCertificate(
  port: number,
  host: string,
  rootPem: string,
  seconds: number,
  context: () => Promise<string> = async () => "",
): Promise<ServedCertificate> {
  const deadline = Date.now() + seconds * 1000;
  let last = "nothing yet";
  while (Date.now() < deadline) {
    try {
      const served = await servedCertificate(port, host, rootPem);
      if (served.authorized && !served.hostnameError) return served;
      last = `issuer "${served.leaf.issuer.replace(/\n/g, ", ")}", subject "${served.leaf.subject.replace(/\n/g, ", ")}": ${served.authorizationError ?? served.hostnameError}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error(`no certificate from the ACME CA on https://${host}:${port} within ${seconds}s; last: ${last}\n${await context()}`);
}
