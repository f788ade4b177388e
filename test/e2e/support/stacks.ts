/**
 * The e2e compose stack's config, shared by the compose scenario (against the real test host)
 * and the policy scenario (preview only, no host needed); the prod declaration's plain config for
 * the Kubernetes scenarios.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export const E2E_DOMAIN = "e2e.test";
export const E2E_APP_HOST = `app.${E2E_DOMAIN}`;

export interface ComposeStackInputs {
  project: string;
  ssh: { host: string; port: number; user: string; hostKey: string; remoteDir: string };
  images: { app: string; postgres: string; redis: string; proxy: string };
  httpPort: number;
  httpsPort: number;
  /** Traefik's API (the release's routing confirmation) on 127.0.0.1: a free port, not the default 8099. */
  adminPort: number;
  /**
   * Real TLS: the proxy's ACME resolver uses this CA (Pebble on the test host) instead of Let's
   * Encrypt. Without it the stack serves plain HTTP.
   */
  acme?: { directory: string; caCertificate: string };
}

/** The e2e worker: the app image in worker mode (scripts/e2e/images/app/server.py), a Redis queue consumer. */
export const E2E_WORKER = "worker";

/**
 * `ballast:` config of the e2e stack: compose over SSH with the host key pinned, images built
 * locally, TLS from the test host's ACME CA when `acme` is given, the app and a queue worker, no
 * backups or monitoring (their images are not built here), no host bootstrap (the test host is
 * prepared by scripts/e2e/host.sh).
 */
export function composeStackConfig(inputs: ComposeStackInputs): Record<string, unknown> {
  return {
    environment: "staging",
    target: "compose",
    domain: E2E_DOMAIN,
    // Every key Pulumi.yaml declares is set: the CLI refuses a stack that lacks one of them.
    acmeEmail: `ops@${E2E_DOMAIN}`,
    tls: inputs.acme !== undefined,
    allowDataLoss: false,
    compose: {
      mode: "ssh",
      project: inputs.project,
      keepReleases: 3,
      // The app's health check has a 5 s start period and 5 x 10 s retries: a failing release
      // shows as unhealthy after ~55 s, within this bound.
      deployTimeoutSeconds: 180,
      ssh: { ...inputs.ssh, dialTimeoutSeconds: 5, dialAttempts: 3 },
      // scripts/e2e/host.sh prepares the test host (Docker, compose, the deploy user); the VPS
      // bootstrap (ufw, sshd hardening, packages) is not for a developer's or CI's machine.
      bootstrap: { enabled: false },
    },
    app: { image: inputs.images.app, health: { liveness: "/api/health", startPeriodSeconds: 5 } },
    // Two consumers of the app's Redis queue; the heartbeat file is their health (no HTTP).
    workers: [
      {
        name: E2E_WORKER,
        command: ["python3", "/srv/app/server.py", "worker"],
        replicas: 2,
        secretEnv: { DATABASE_URL: false },
        health: {
          command: ["sh", "-c", "test $(( $(date +%s) - $(stat -c %Y /tmp/worker-heartbeat) )) -lt 30"],
          startPeriodSeconds: 5,
        },
      },
    ],
    // Debian has no pgvector package: the e2e Postgres image is plain PostgreSQL 15.
    postgres: { image: inputs.images.postgres, extensions: [] },
    redis: { image: inputs.images.redis },
    // The e2e proxy image is the real Traefik, built from Go modules (scripts/e2e/tools.sh, images/proxy).
    // Loopback only: the test host's ports never listen on the machine's other interfaces.
    proxy: {
      image: inputs.images.proxy,
      httpPort: inputs.httpPort,
      httpsPort: inputs.httpsPort,
      adminPort: inputs.adminPort,
      bindAddress: "127.0.0.1",
      ...(inputs.acme
        ? {
            acmeDirectory: inputs.acme.directory,
            acmeCaCertificate: inputs.acme.caCertificate,
            // Pebble listens on the test host: containers reach it as host.docker.internal.
            extraHosts: ["host.docker.internal:host-gateway"],
          }
        : {}),
    },
    backups: { enabled: false },
    monitoring: { enabled: false },
  };
}

/**
 * The plain `ballast:` config of `<root>/Pulumi.prod.yaml` (key without namespace -> value;
 * encrypted values left out: a scenario sets its own throwaway secrets), with the Kubernetes
 * provider's `renderYamlToDirectory` pointed at `yamlDir`: no cluster, the objects go to files.
 */
export function prodRenderConfig(root: string, yamlDir: string): Record<string, unknown> {
  const prod = parse(fs.readFileSync(path.join(root, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> };
  const config: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(prod.config)) {
    if (typeof value === "object" && value !== null && "secure" in value) continue;
    config[name.replace(/^ballast:/, "")] = value;
  }
  return { ...config, kubernetes: { ...(config.kubernetes as Record<string, unknown>), renderYamlToDirectory: yamlDir } };
}
