/**
 * The metric names each scraped source provides. Alert rules and dashboards may only
 * query names listed here (a test parses every expression and checks), so a typo or a
 * metric an exporter does not have fails in review instead of showing an empty panel.
 */
import type { AlertsConfig, ErrorsMetric } from "../config";
import { customQueryMetricNames } from "./postgres-queries";

export type MetricType = "counter" | "gauge" | "histogram" | "summary";

export type MetricSource =
  | "prometheus-scrape"
  | "app"
  | "traefik"
  | "node-exporter"
  | "cadvisor"
  | "postgres-exporter"
  | "redis-exporter"
  | "blackbox-exporter"
  | "prometheus"
  | "alertmanager"
  | "loki"
  | "alloy"
  | "grafana";

export interface CatalogMetric {
  name: string;
  type: MetricType;
  source: MetricSource;
}

const entries = (source: MetricSource, type: MetricType, names: string[]): CatalogMetric[] => names.map((name) => ({ name, type, source }));

/** The metric that counts failed requests: the errors counter, or the requests counter with a status label. */
export function errorsMetricName(errors: ErrorsMetric): string {
  return typeof errors === "string" ? errors : errors.metric;
}

/**
 * The vector selector of failed requests, for `rate(...)`: `errors_total`, or
 * `nyxcore_http_requests_total{status_code=~"5.."}` when the stack declares a status label.
 */
export function errorRequestsSelector(errors: ErrorsMetric): string {
  return typeof errors === "string" ? errors : `${errors.metric}{${errors.statusLabel}=~"${errors.errorStatus}"}`;
}

/** The app's metrics: the configured NomosX-style names plus the prefixed LLM/workflow set (nyxcore). */
function appMetrics(alerts: AlertsConfig): CatalogMetric[] {
  const m = alerts.metrics;
  const p = alerts.llmMetricPrefix;
  return [
    ...entries("app", "counter", [...new Set([m.httpRequestsTotal, errorsMetricName(m.errorsTotal)])]),
    ...entries("app", "histogram", [m.httpRequestDurationSeconds, m.jobDurationSeconds]),
    ...entries("app", "gauge", [m.queueWaitingCount, m.costPerRunUsd]),
    ...entries("app", "histogram", [`${p}llm_call_duration_seconds`, `${p}workflow_duration_seconds`, `${p}discussion_duration_seconds`]),
    ...entries("app", "counter", [
      `${p}llm_calls_total`,
      `${p}llm_tokens_total`,
      `${p}llm_cost_usd_total`,
      `${p}workflow_steps_total`,
      `${p}rate_limit_hits_total`,
    ]),
    ...entries("app", "gauge", [`${p}active_workflows`, `${p}active_discussions`, `${p}sse_connections_active`]),
  ];
}

const infrastructureMetrics: CatalogMetric[] = [
  // Synthetic series Prometheus writes for every target.
  ...entries("prometheus-scrape", "gauge", ["up", "scrape_duration_seconds", "scrape_samples_scraped"]),
  // The blackbox exporter's probe of the app's deep health.
  ...entries("blackbox-exporter", "gauge", ["probe_success", "probe_duration_seconds", "probe_http_status_code"]),
  // Traefik v3 with the prometheus metrics provider (router and service labels on).
  ...entries("traefik", "counter", [
    "traefik_entrypoint_requests_total",
    "traefik_router_requests_total",
    "traefik_service_requests_total",
  ]),
  ...entries("traefik", "histogram", ["traefik_entrypoint_request_duration_seconds", "traefik_service_request_duration_seconds"]),
  ...entries("traefik", "gauge", ["traefik_open_connections", "traefik_tls_certs_not_after", "traefik_config_last_reload_success"]),
  ...entries("node-exporter", "counter", [
    "node_cpu_seconds_total",
    "node_network_receive_bytes_total",
    "node_network_transmit_bytes_total",
    "node_disk_read_bytes_total",
    "node_disk_written_bytes_total",
    "node_disk_io_time_seconds_total",
    "node_vmstat_pgmajfault",
  ]),
  ...entries("node-exporter", "gauge", [
    "node_load1",
    "node_load5",
    "node_load15",
    "node_memory_MemAvailable_bytes",
    "node_memory_MemTotal_bytes",
    "node_filesystem_avail_bytes",
    "node_filesystem_size_bytes",
    "node_filesystem_readonly",
    "node_boot_time_seconds",
    "node_time_seconds",
  ]),
  // cAdvisor on Compose, the kubelet's embedded cAdvisor on Kubernetes: same names.
  ...entries("cadvisor", "counter", [
    "container_cpu_usage_seconds_total",
    "container_cpu_cfs_periods_total",
    "container_cpu_cfs_throttled_periods_total",
    "container_oom_events_total",
  ]),
  ...entries("cadvisor", "gauge", [
    "container_memory_working_set_bytes",
    "container_spec_memory_limit_bytes",
    "container_start_time_seconds",
    "container_last_seen",
  ]),
  ...entries("postgres-exporter", "gauge", [
    "pg_up",
    "pg_stat_activity_count",
    "pg_stat_activity_max_tx_duration",
    "pg_settings_max_connections",
    "pg_database_size_bytes",
    "pg_locks_count",
    "pg_postmaster_start_time_seconds",
  ]),
  ...entries("postgres-exporter", "counter", [
    "pg_stat_database_xact_commit",
    "pg_stat_database_xact_rollback",
    "pg_stat_database_blks_hit",
    "pg_stat_database_blks_read",
    "pg_stat_database_deadlocks",
  ]),
  ...entries("postgres-exporter", "gauge", customQueryMetricNames()),
  ...entries("redis-exporter", "gauge", [
    "redis_up",
    "redis_memory_used_bytes",
    "redis_memory_max_bytes",
    "redis_connected_clients",
    "redis_db_keys",
  ]),
  ...entries("redis-exporter", "counter", [
    "redis_commands_processed_total",
    "redis_keyspace_hits_total",
    "redis_keyspace_misses_total",
    "redis_evicted_keys_total",
    "redis_rejected_connections_total",
  ]),
  // ALERTS is written by Prometheus's own rule evaluation.
  ...entries("prometheus", "gauge", ["prometheus_tsdb_head_series", "ALERTS"]),
  ...entries("prometheus", "counter", ["prometheus_rule_evaluation_failures_total", "prometheus_notifications_dropped_total"]),
  ...entries("alertmanager", "counter", ["alertmanager_notifications_total", "alertmanager_notifications_failed_total"]),
  ...entries("loki", "counter", ["loki_distributor_lines_received_total"]),
  // Alloy's drop stage counts every line it discards, by drop_counter_reason.
  ...entries("alloy", "counter", ["loki_process_dropped_lines_total"]),
];

/** Every metric Ballast's scrape targets expose, for the given app metric names. */
export function metricsCatalog(alerts: AlertsConfig): CatalogMetric[] {
  return [...appMetrics(alerts), ...infrastructureMetrics];
}

/** Names that may appear in PromQL: histograms expand to `_bucket`, `_sum`, `_count`; summaries to `_sum`, `_count`. */
export function queryableMetricNames(catalog: CatalogMetric[]): Set<string> {
  const names = new Set<string>();
  for (const metric of catalog) {
    if (metric.type === "histogram") {
      for (const suffix of ["_bucket", "_sum", "_count"]) names.add(metric.name + suffix);
    } else if (metric.type === "summary") {
      names.add(metric.name);
      for (const suffix of ["_sum", "_count"]) names.add(metric.name + suffix);
    } else {
      names.add(metric.name);
    }
  }
  return names;
}
