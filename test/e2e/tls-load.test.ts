/**
 * Real TLS through the real Traefik, independent of Ballast's product code: the test host's proxy
 * image (Traefik built from Go modules by scripts/e2e/tools.sh) in a plain `docker run`, with an
 * ACME resolver pointed at the host's Pebble, a file-provider route to the e2e app, acme.json on a
 * volume. Pebble validates HTTP-01 for real: its mock DNS answers 127.0.0.1 and its HTTP-01 port is
 * the proxy's published HTTP port (host.sh pebble-start). Checks: the certificate for the route host
 * is Pebble's (not Traefik's default), HTTP redirects to HTTPS, a recreated Traefik serves the same
 * certificate from the volume without a new order, and vegeta at a constant rate sees no failure.
 */
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect } from "vitest";
import { stringify } from "yaml";
import {
  httpsGet,
  pebbleIntermediatePem,
  pebbleLog,
  pebbleOrderCount,
  pebbleRootPem,
  restartPebble,
  waitForAcmeCertificate,
  type AcmeHost,
  type ServedCertificate,
} from "./support/acme";
import { run } from "./support/harness";
import { bringUpHost, docker, freePort, get, takeDownHost, type TestHost } from "./support/host";
import { runLoad } from "./support/load";
import { E2E_APP_HOST } from "./support/stacks";
import { scenarioSteps } from "./support/steps";

const APP_HOST = E2E_APP_HOST;
/** Labels every container, network and volume this test creates (host.sh down removes leftovers by label). */
const LABELS = ["--label", "ballast.e2e=1", "--label", "ballast.e2e.test=tls-load"];
const LEGO_CA_PATH = "/etc/ballast-e2e/acme-ca.pem";

describe("real Traefik with an ACME certificate from Pebble, under load", () => {
  const step = scenarioSteps();
  const id = `${process.pid}-${Date.now().toString(36)}`;
  const names = {
    network: `ballast-e2e-tls-${id}`,
    volume: `ballast-e2e-tls-acme-${id}`,
    app: `ballast-e2e-tls-app-${id}`,
    traefik: `ballast-e2e-tls-traefik-${id}`,
  };
  const created = { containers: [] as string[], network: false, volume: false };
  let host: TestHost | undefined;
  let hostAttempted = false;
  let acme: AcmeHost | undefined;
  let tmp = "";
  let rootFile = "";
  let rootPem = "";
  let httpPort = 0;
  let httpsPort = 0;
  let first: ServedCertificate | undefined;

  const traefikLogs = async (): Promise<string> => {
    const logs = await run("docker", ["logs", "--tail", "40", names.traefik], { timeoutSeconds: 20 });
    return `--- docker logs --tail 40 ${names.traefik} ---\n${logs.stdout}${logs.stderr}`;
  };

  /** docker run of Traefik: published on loopback, Pebble's CA trusted for ACME, acme.json on the volume. */
  const startTraefik = async () => {
    // Recorded before the run: a `docker run` that fails to start (a port taken) leaves a created container.
    if (!created.containers.includes(names.traefik)) created.containers.push(names.traefik);
    await docker(
      [
        "run",
        "-d",
        "--name",
        names.traefik,
        ...LABELS,
        "--network",
        names.network,
        "-p",
        `127.0.0.1:${httpPort}:8000`,
        "-p",
        `127.0.0.1:${httpsPort}:8443`,
        "--add-host",
        "host.docker.internal:host-gateway",
        "-e",
        `LEGO_CA_CERTIFICATES=${LEGO_CA_PATH}`,
        "-v",
        `${acme!.caFile}:${LEGO_CA_PATH}:ro`,
        "-v",
        `${path.join(tmp, "traefik")}:/etc/traefik:ro`,
        "-v",
        `${names.volume}:/acme`,
        host!.images.proxy,
        "--configFile=/etc/traefik/traefik.yml",
      ],
      120,
    );
  };

  /** Waits until 127.0.0.1:<httpsPort> presents a certificate for the route host that Pebble's root verifies. */
  const waitForPebbleCertificate = (seconds: number): Promise<ServedCertificate> =>
    waitForAcmeCertificate(httpsPort, APP_HOST, rootPem, seconds, traefikLogs);

  step(
    "set-up: the test host (Pebble on the proxy's HTTP port), a network, the app, Traefik with an ACME resolver",
    async () => {
      hostAttempted = true;
      host = await bringUpHost();
      httpPort = await freePort();
      httpsPort = await freePort(new Set([httpPort]));
      acme = await restartPebble(host, httpPort);
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-e2e-tls-"));
      rootPem = await pebbleRootPem(acme);
      rootFile = path.join(tmp, "pebble-root.pem");
      fs.writeFileSync(rootFile, rootPem);

      const config = path.join(tmp, "traefik");
      fs.mkdirSync(config);
      fs.writeFileSync(
        path.join(config, "traefik.yml"),
        stringify({
          global: { checkNewVersion: false, sendAnonymousUsage: false },
          log: { level: "INFO", format: "json" },
          ping: { entryPoint: "ping" },
          entryPoints: {
            // The redirect names the published HTTPS port: Traefik's default for `to: websecure` would be
            // the entry point's own port inside the container (8443).
            web: { address: ":8000", http: { redirections: { entryPoint: { to: `:${httpsPort}`, scheme: "https", permanent: true } } } },
            websecure: { address: ":8443" },
            ping: { address: ":8081" },
          },
          providers: { file: { filename: "/etc/traefik/dynamic.yml", watch: false } },
          certificatesResolvers: {
            pebble: {
              acme: { email: "ops@e2e.test", storage: "/acme/acme.json", caServer: acme.directory, httpChallenge: { entryPoint: "web" } },
            },
          },
        }),
      );
      fs.writeFileSync(
        path.join(config, "dynamic.yml"),
        stringify({
          http: {
            routers: {
              app: { rule: `Host(\`${APP_HOST}\`)`, entryPoints: ["websecure"], service: "app", tls: { certResolver: "pebble" } },
            },
            services: { app: { loadBalancer: { servers: [{ url: `http://${names.app}:3000` }] } } },
          },
        }),
      );
      fs.chmodSync(tmp, 0o755);
      fs.chmodSync(config, 0o755);

      // Each is recorded before it is made: afterAll removes it even when the command failed half way.
      created.network = true;
      await docker(["network", "create", ...LABELS, names.network]);
      created.volume = true;
      await docker(["volume", "create", ...LABELS, names.volume]);
      created.containers.push(names.app);
      await docker(["run", "-d", "--name", names.app, ...LABELS, "--network", names.network, host.images.appV1], 180);
      await startTraefik();
    },
    75 * 60_000,
  );

  // Removal of what does not exist (a step failed before making it) fails quietly: run(), not runOk().
  afterAll(async () => {
    for (const name of created.containers) await run("docker", ["rm", "-f", name], { timeoutSeconds: 60 });
    if (created.network) await run("docker", ["network", "rm", names.network], { timeoutSeconds: 60 });
    if (created.volume) await run("docker", ["volume", "rm", "-f", names.volume], { timeoutSeconds: 60 });
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    if (hostAttempted) await takeDownHost(host);
  });

  step("HTTPS on the route host serves a certificate issued by Pebble's intermediate, valid for the host", async () => {
    first = await waitForPebbleCertificate(120);
    const intermediate = new X509Certificate(await pebbleIntermediatePem(acme!));
    expect(first.leaf.issuer).toBe(intermediate.subject);
    expect(first.leaf.checkIssued(intermediate)).toBe(true);
    expect(first.leaf.verify(intermediate.publicKey)).toBe(true);
    expect(first.leaf.subject + first.leaf.issuer).not.toMatch(/TRAEFIK DEFAULT CERT/);
    expect(first.leaf.subjectAltName).toContain(`DNS:${APP_HOST}`);
    expect(pebbleOrderCount(acme!)).toBe(1);
    // Real HTTP-01: Pebble fetched the token from Traefik on the published HTTP port (through its
    // mock DNS: app.e2e.test is 127.0.0.1) and the challenge completed.
    const log = pebbleLog(acme!);
    expect(log).toContain(`Attempting to validate w/ HTTP: http://${APP_HOST}:${httpPort}/.well-known/acme-challenge/`);
    expect(log).toMatch(/set VALID by completed challenge/);
    const answer = await httpsGet(httpsPort, APP_HOST, "/api/health", rootPem);
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('"version": "v1"');
  });

  step("HTTP redirects to HTTPS on the published port", async () => {
    const answer = await get(httpPort, APP_HOST, "/api/health");
    expect([301, 308]).toContain(answer.status);
    expect(answer.headers.location).toBe(`https://${APP_HOST}:${httpsPort}/api/health`);
  });

  step("a recreated Traefik with the same acme volume serves the same certificate; Pebble issued no new order", async () => {
    const orders = pebbleOrderCount(acme!);
    await docker(["rm", "-f", names.traefik], 60);
    await startTraefik();
    const again = await waitForPebbleCertificate(60);
    expect(again.leaf.serialNumber).toBe(first!.leaf.serialNumber);
    expect(again.leaf.fingerprint256).toBe(first!.leaf.fingerprint256);
    // A Traefik that wanted a new certificate would order it right after start: give it that time.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect(pebbleOrderCount(acme!), "Pebble received a new order after the restart").toBe(orders);
    const logs = await traefikLogs();
    expect(logs).not.toMatch(/Unable to obtain ACME certificate|error.*acme/i);
  });

  step("vegeta: 20 requests/s for 10 s over HTTPS (Pebble's root trusted) without a failure", async () => {
    const report = await runLoad({
      vegeta: acme!.vegeta,
      rate: 20,
      durationSeconds: 10,
      targets: [`https://${APP_HOST}:${httpsPort}/api/health`],
      caFile: rootFile,
      connectTo: { [`${APP_HOST}:${httpsPort}`]: `127.0.0.1:${httpsPort}` },
    });
    console.log(`vegeta: ${JSON.stringify(report)}`);
    expect(report.requests).toBe(200);
    expect(report.failures, report.errors.join("\n")).toBe(0);
    expect(report.statusCodes).toEqual({ "200": 200 });
  });
});
