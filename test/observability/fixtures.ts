/** Shared inputs for the observability tests: a context like the Platform builds, and configs. */
import type { Environment, TargetKind } from "../../components/config/types";
import { resolveMonitoring, type MonitoringConfig, type ObservabilityContext } from "../../components/observability";

export function testContext(target: TargetKind, overrides: Partial<ObservabilityContext> = {}): ObservabilityContext {
  return {
    target,
    environment: "staging",
    project: "ballast",
    namespace: "ballast",
    domain: "example.com",
    tls: true,
    app: { name: "app", metricsPort: 3000, metricsPath: "/api/v1/metrics", healthPath: "/api/v1/health" },
    workers: [{ name: "worker", metrics: { port: 9464, path: "/metrics" } }, { name: "mailer" }],
    postgres: { host: "postgres", port: 5432, database: "nomosx", user: "nomosx", maxConnections: 100 },
    redis: { host: "redis", port: 6379 },
    proxyName: "traefik",
    ...overrides,
  };
}

export function monitoring(input: unknown = {}, environment: Environment = "staging"): MonitoringConfig {
  return resolveMonitoring(input, environment);
}

export const targets: TargetKind[] = ["compose", "kubernetes"];

/** One Alertmanager receiver config per type (and variant), as a stack file would write it. */
export const receiverInputs = {
  none: { type: "none" },
  webhook: { type: "webhook", url: "https://hooks.example.com/alertmanager" },
  webhookNoAuth: { type: "webhook", url: "https://hooks.example.com/alertmanager", auth: "none" },
  email: { type: "email", to: "ops@example.com", from: "alertmanager@example.com", smarthost: "smtp.example.com:587", username: "alertmanager" },
  emailRelay: { type: "email", to: "ops@example.com", from: "alertmanager@example.com", smarthost: "relay.internal:25", requireTls: false },
  slack: { type: "slack", channel: "#incidents" },
  pagerduty: { type: "pagerduty" },
} as const;
