/**
 * The e2e compose stack's config, shared by the compose scenario (against the real test host)
 * and the policy scenario (preview only, no host needed).
 */

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
}

/**
 * `ballast:` config of the e2e stack: compose over SSH with the host key pinned, images built
 * locally, no TLS (no ACME on loopback), no backups or monitoring (their images are not built here),
 * no host bootstrap (the test host is prepared by scripts/e2e/host.sh).
 */
export function composeStackConfig(inputs: ComposeStackInputs): Record<string, unknown> {
  return {
    environment: "staging",
    target: "compose",
    domain: E2E_DOMAIN,
    // Every key Pulumi.yaml declares is set: the CLI refuses a stack that lacks one of them.
    acmeEmail: `ops@${E2E_DOMAIN}`,
    tls: false,
    allowDataLoss: false,
    compose: {
      mode: "ssh",
      project: inputs.project,
      keepReleases: 3,
      // The app's health check has a 60 s start period and 5 x 10 s retries: a failing release
      // shows as unhealthy after ~110 s, within this bound.
      deployTimeoutSeconds: 180,
      ssh: { ...inputs.ssh, dialTimeoutSeconds: 5, dialAttempts: 3 },
      // scripts/e2e/host.sh prepares the test host (Docker, compose, the deploy user); the VPS
      // bootstrap (ufw, sshd hardening, packages) is not for a developer's or CI's machine.
      bootstrap: { enabled: false },
    },
    app: { image: inputs.images.app },
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
    },
    backups: { enabled: false },
    monitoring: { enabled: false },
  };
}
