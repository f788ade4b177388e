/**
 * The operations scenario's stack (test/e2e/operations.test.ts): the e2e compose stack with
 * monitoring and backups on, run by the test host's real cron, Prometheus and Alertmanager.
 */
import type { TestHost } from "./host";
import { composeStackConfig } from "./stacks";

/** The Debian-built monitoring images host.sh pushes (scripts/e2e/images/monitoring), by stack part. */
export interface MonitoringImages {
  prometheus: string;
  alertmanager: string;
  nodeExporter: string;
  postgresExporter: string;
  redisExporter: string;
  blackboxExporter: string;
}

/** Reads the backup and monitoring image references from host.env; throws naming what to rebuild. */
export function operationsImages(host: TestHost): { backup: string; monitoring: MonitoringImages } {
  const need = (key: string): string => {
    const value = host.values[key];
    if (!value)
      throw new Error(
        `host.env lacks ${key}: the test host predates the operations images; run \`bash scripts/e2e/host.sh down && bash scripts/e2e/host.sh up\``,
      );
    return value;
  };
  return {
    backup: need("BALLAST_E2E_IMAGE_BACKUP"),
    monitoring: {
      prometheus: need("BALLAST_E2E_IMAGE_MONITORING_PROMETHEUS"),
      alertmanager: need("BALLAST_E2E_IMAGE_MONITORING_ALERTMANAGER"),
      nodeExporter: need("BALLAST_E2E_IMAGE_MONITORING_NODE_EXPORTER"),
      postgresExporter: need("BALLAST_E2E_IMAGE_MONITORING_POSTGRES_EXPORTER"),
      redisExporter: need("BALLAST_E2E_IMAGE_MONITORING_REDIS_EXPORTER"),
      blackboxExporter: need("BALLAST_E2E_IMAGE_MONITORING_BLACKBOX_EXPORTER"),
    },
  };
}

export interface OperationsStackInputs {
  project: string;
  ssh: { host: string; port: number; user: string; hostKey: string; remoteDir: string };
  images: { app: string; postgres: string; redis: string; proxy: string; backup: string; monitoring: MonitoringImages };
  httpPort: number;
  httpsPort: number;
  adminPort: number;
  /** Where Alertmanager's default receiver posts: the test's webhook server. */
  webhookUrl: string;
  /** The table whose row counts the drill compares. */
  drillTable: string;
}

/**
 * The e2e compose stack (plain HTTP: TLS is the compose and TLS scenarios' subject) plus:
 * - monitoring: Prometheus scraping every 5 s (the shortest the schema allows), Alertmanager with
 *   a webhook receiver, node/postgres/redis/blackbox exporters; Grafana, Loki, Alloy and cAdvisor
 *   off (no package or module to build them from here: docs/e2e.md);
 * - backups every minute (and the drill every minute) so the test can wait for the host's cron,
 *   with a 1 h RPO (the smallest allowed) and the drill comparing `drillTable` exactly.
 */
export function operationsStackConfig(inputs: OperationsStackInputs): Record<string, unknown> {
  const base = composeStackConfig({
    project: inputs.project,
    ssh: inputs.ssh,
    images: { app: inputs.images.app, postgres: inputs.images.postgres, redis: inputs.images.redis, proxy: inputs.images.proxy },
    httpPort: inputs.httpPort,
    httpsPort: inputs.httpsPort,
    adminPort: inputs.adminPort,
  });
  const images = inputs.images.monitoring;
  return {
    ...base,
    backups: {
      enabled: true,
      schedule: "* * * * *",
      rpoHours: 1,
      image: inputs.images.backup,
      drill: { enabled: true, schedule: "* * * * *", tables: [inputs.drillTable], tolerancePercent: 0 },
    },
    monitoring: {
      enabled: true,
      prometheus: { image: images.prometheus, scrapeIntervalSeconds: 5 },
      alertmanager: { image: images.alertmanager, receiver: { type: "webhook", url: inputs.webhookUrl, auth: "none" } },
      nodeExporter: { image: images.nodeExporter },
      postgresExporter: { image: images.postgresExporter },
      redisExporter: { image: images.redisExporter },
      blackboxExporter: { image: images.blackboxExporter },
      grafana: { enabled: false },
      loki: { enabled: false },
      alloy: { enabled: false },
      cadvisor: { enabled: false },
    },
  };
}
