/**
 * What the observability renderers need to know about the rest of the stack, and the
 * names and ports of the monitoring workloads (their Compose service / Kubernetes Service
 * names, so other configs can address them by DNS).
 */
import type { Environment, TargetKind, TeamDashboard, TeamRuleFile } from "../config";
import type { PostgresEndpoint } from "../names";

export interface ObservabilityContext {
  target: TargetKind;
  environment: Environment;
  /** Compose project name (labels `com.docker.compose.project`) / Kubernetes part-of label. */
  project: string;
  /** Kubernetes namespace of the stack (unused on Compose). */
  namespace: string;
  /** Public domain; Grafana is served at `<grafana.subdomain>.<domain>`. */
  domain: string;
  tls: boolean;
  app: {
    name: string;
    /** Absent when the app exposes no metrics (`ballast:app.metrics: false`): no scrape target, no AppDown. */
    metrics?: { port: number; path: string };
    /** Paths the app answers health on (dropped from the logs). */
    healthPaths: string[];
    /** Deep health, probed through the stack's network by the blackbox exporter. */
    deepHealth?: { path: string; port: number };
  };
  workers: { name: string; metrics?: { port: number; path: string } }[];
  /** Extra services: scraped when they expose metrics, traced unless they opt out. */
  services: { name: string; metrics?: { port: number; path: string }; tracing: boolean }[];
  /** The stack's own scheduled jobs (`ballast:cronJobs`): traced like workers. Absent: none. */
  cronJobs?: { name: string }[];
  postgres: PostgresEndpoint & { maxConnections: number; service?: string };
  /** Absent when the stack has no Redis. */
  redis?: { host: string; port: number };
  /** Workload name of the reverse proxy; its metrics entrypoint listens on 8082. */
  proxyName: string;
  /** The team's own dashboards and rule files from the repository (`ballast:monitoring.grafana.dashboards`, `.alerts.ruleFiles`). */
  team: { dashboards: TeamDashboard[]; ruleFiles: TeamRuleFile[] };
}

export const monitoringNames = {
  prometheus: "prometheus",
  alertmanager: "alertmanager",
  grafana: "grafana",
  loki: "loki",
  alloy: "alloy",
  nodeExporter: "node-exporter",
  cadvisor: "cadvisor",
  dockerSocketProxy: "docker-socket-proxy",
  postgresExporter: "postgres-exporter",
  redisExporter: "redis-exporter",
  blackboxExporter: "blackbox-exporter",
  tempo: "tempo",
  jaeger: "jaeger",
} as const;

export const monitoringPorts = {
  prometheus: 9090,
  alertmanager: 9093,
  grafana: 3000,
  loki: 3100,
  alloy: 12345,
  nodeExporter: 9100,
  cadvisor: 8080,
  /** The Docker API proxy's TCP listener (Compose, docker-api network only). */
  dockerSocketProxy: 2375,
  postgresExporter: 9187,
  redisExporter: 9121,
  blackboxExporter: 9115,
  tempo: 3200,
  otlpGrpc: 4317,
  otlpHttp: 4318,
  /** Jaeger's query API and UI (Grafana's jaeger datasource). */
  jaegerQuery: 16686,
  /** Jaeger's own metrics (the collector telemetry's Prometheus reader). */
  jaegerMetrics: 8888,
  /** Jaeger's healthcheckv2 extension (`/status`). */
  jaegerHealth: 13133,
  /** Traefik's `metrics` entrypoint. */
  proxyMetrics: 8082,
} as const;

/** Where rendered files live inside the containers. */
export const monitoringPaths = {
  prometheusConfig: "/etc/prometheus/prometheus.yml",
  prometheusRules: "/etc/prometheus/rules/ballast.rules.yml",
  /** The team's rule groups (inline and from rule files), beside Ballast's. */
  prometheusTeamRules: "/etc/prometheus/rules/team.rules.yml",
  prometheusData: "/prometheus",
  alertmanagerConfig: "/etc/alertmanager/alertmanager.yml",
  alertmanagerData: "/alertmanager",
  /** The user-supplied `alertmanager-receiver` secret, mounted as a file. */
  alertmanagerReceiverSecret: "/etc/alertmanager/secrets/receiver",
  grafanaProvisioning: "/etc/grafana/provisioning",
  grafanaDashboards: "/etc/grafana/dashboards",
  grafanaData: "/var/lib/grafana",
  lokiConfig: "/etc/loki/loki.yaml",
  lokiData: "/loki",
  alloyConfig: "/etc/alloy/config.alloy",
  alloyData: "/var/lib/alloy/data",
  postgresExporterQueries: "/etc/postgres-exporter/queries.yaml",
  blackboxConfig: "/etc/blackbox_exporter/blackbox.yml",
  tempoConfig: "/etc/tempo/tempo.yaml",
  tempoData: "/var/tempo",
  jaegerConfig: "/etc/jaeger/config.yaml",
  /**
   * Badger's directory. The image declares `VOLUME /tmp` (mode 1777), so a fresh Compose volume
   * mounted there is writable by Jaeger's uid 10001 without a chown step; fsGroup does it on Kubernetes.
   */
  jaegerData: "/tmp",
  /** Where Kubernetes mounts a pod's service-account token and CA. */
  serviceAccount: "/var/run/secrets/kubernetes.io/serviceaccount",
} as const;
