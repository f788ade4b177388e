/** Shared inputs for the observability tests: a context like the Platform builds, and configs. */
import type { Environment, MonitoringConfig, TargetKind } from "../../components/config";
import type { ObservabilityContext } from "../../components/observability";
import { monitoringFor } from "../fixtures/config";

export function testContext(target: TargetKind, overrides: Partial<ObservabilityContext> = {}): ObservabilityContext {
  return {
    target,
    environment: "staging",
    project: "ballast",
    namespace: "ballast",
    domain: "example.com",
    tls: true,
    app: {
      name: "app",
      metrics: { port: 3000, path: "/api/v1/metrics" },
      healthPaths: ["/api/v1/health", "/api/v1/health/deep"],
      deepHealth: { path: "/api/v1/health/deep", port: 3000 },
    },
    workers: [{ name: "worker", metrics: { port: 9464, path: "/metrics" } }, { name: "mailer" }],
    services: [{ name: "llm-gateway", metrics: { port: 8000, path: "/metrics" }, tracing: true }],
    postgres: {
      kind: "in-stack",
      host: "postgres",
      port: 5432,
      database: "nomosx",
      user: "nomosx",
      roles: { app: "ballast_app", monitor: "ballast_monitor", backup: "ballast_backup" },
      maxConnections: 100,
      service: "postgres",
    },
    redis: { host: "redis", port: 6379 },
    proxyName: "traefik",
    team: { dashboards: [], ruleFiles: [] },
    ...overrides,
  };
}

/** `ballast:monitoring` as the config pipeline parses it (`pulumi up`'s path). */
export function monitoring(input: Record<string, unknown> = {}, environment: Environment = "staging"): MonitoringConfig {
  return monitoringFor(input, environment);
}

export const targets: TargetKind[] = ["compose", "kubernetes"];

/** One Alertmanager receiver config per type (and variant), as a stack file would write it. */
export const receiverInputs = {
  none: { type: "none" },
  webhook: { type: "webhook", url: "https://hooks.example.com/alertmanager" },
  webhookNoAuth: { type: "webhook", url: "https://hooks.example.com/alertmanager", auth: "none" },
  email: {
    type: "email",
    to: "ops@example.com",
    from: "alertmanager@example.com",
    smarthost: "smtp.example.com:587",
    username: "alertmanager",
  },
  emailRelay: { type: "email", to: "ops@example.com", from: "alertmanager@example.com", smarthost: "relay.internal:25", requireTls: false },
  slack: { type: "slack", channel: "#incidents" },
  pagerduty: { type: "pagerduty" },
} as const;
