/**
 * For every alert: input series on which it must fire (with the labels and value it fires
 * with) and series on which it must stay silent. The tools suite turns these into
 * `promtool test rules` files; a unit test checks every rendered alert has a scenario.
 */
import type { Severity } from "../../components/observability/rules";

export interface InputSeries {
  series: string;
  /** promtool's expanding notation: `0+10x20` = 0, 10, ... 200. */
  values: string;
}

export interface ExpectedAlert {
  severity: Severity;
  /** Labels of the firing series, without alertname and severity. */
  labels: Record<string, string>;
  /** The alert's value, for `{{ printf "%.Nf" $value }}` in its annotations. */
  value?: number;
}

export interface AlertScenario {
  alert: string;
  /** Sample spacing and rule evaluation interval: coarse for long scenarios, since promtool's time grows with the number of evaluations. */
  interval: "1m" | "10m" | "1h" | "1d";
  evalTime: string;
  bad: InputSeries[];
  expected: ExpectedAlert[];
  healthy: InputSeries[];
}

const pgExporter = 'job="postgres-exporter",instance="postgres-exporter:9187"';
const redisExporter = 'job="redis-exporter",instance="redis-exporter:9121"';
const rootFs = 'job="node-exporter",instance="node-exporter:9100",device="/dev/sda1",fstype="ext4",mountpoint="/"';
const rootFsLabels = { job: "node-exporter", instance: "node-exporter:9100", device: "/dev/sda1", fstype: "ext4", mountpoint: "/" };
const node = 'job="node-exporter",instance="node-exporter:9100"';

const disk = (avail: number): InputSeries[] => [
  { series: `node_filesystem_avail_bytes{${rootFs}}`, values: `${avail}x30` },
  { series: `node_filesystem_size_bytes{${rootFs}}`, values: "100x30" },
  { series: `node_filesystem_readonly{${rootFs}}`, values: "0x30" },
];

export const alertScenarios: AlertScenario[] = [
  {
    alert: "AppDown",
    interval: "1m",
    evalTime: "10m",
    bad: [{ series: 'up{job="app",instance="10.0.0.5:3000"}', values: "0x15" }],
    expected: [{ severity: "critical", labels: {} }],
    healthy: [{ series: 'up{job="app",instance="10.0.0.5:3000"}', values: "1x15" }],
  },
  {
    alert: "DeepHealthFailing",
    interval: "1m",
    evalTime: "10m",
    bad: [{ series: 'probe_success{job="deep-health",instance="http://app:3000/api/v1/health/deep"}', values: "0x15" }],
    expected: [{ severity: "critical", labels: { instance: "http://app:3000/api/v1/health/deep" } }],
    healthy: [{ series: 'probe_success{job="deep-health",instance="http://app:3000/api/v1/health/deep"}', values: "1x15" }],
  },
  {
    alert: "HighErrorRate",
    interval: "1m",
    evalTime: "15m",
    bad: [
      { series: 'errors_total{job="app"}', values: "0+10x20" },
      { series: 'http_requests_total{job="app"}', values: "0+100x20" },
    ],
    expected: [{ severity: "critical", labels: {}, value: 10 }],
    healthy: [
      { series: 'errors_total{job="app"}', values: "0+1x20" },
      { series: 'http_requests_total{job="app"}', values: "0+100x20" },
    ],
  },
  {
    alert: "HighLatencyP95",
    interval: "1m",
    evalTime: "20m",
    bad: [
      { series: 'http_request_duration_seconds_bucket{job="app",le="1"}', values: "0x30" },
      { series: 'http_request_duration_seconds_bucket{job="app",le="5"}', values: "0x30" },
      { series: 'http_request_duration_seconds_bucket{job="app",le="10"}', values: "0+100x30" },
      { series: 'http_request_duration_seconds_bucket{job="app",le="+Inf"}', values: "0+100x30" },
    ],
    // All requests between 5 s and 10 s: p95 interpolates to 5 + 5 * 0.95.
    expected: [{ severity: "warning", labels: {}, value: 9.75 }],
    healthy: ["1", "5", "10", "+Inf"].map((le) => ({
      series: `http_request_duration_seconds_bucket{job="app",le="${le}"}`,
      values: "0+100x30",
    })),
  },
  {
    alert: "QueueBacklog",
    interval: "1m",
    evalTime: "15m",
    bad: [{ series: 'queue_waiting_count{job="worker",queue="analyst"}', values: "1500x20" }],
    expected: [{ severity: "warning", labels: { queue: "analyst" }, value: 1500 }],
    healthy: [{ series: 'queue_waiting_count{job="worker",queue="analyst"}', values: "5x20" }],
  },
  {
    alert: "HighCostPerRun",
    interval: "1m",
    evalTime: "100m",
    bad: [{ series: 'cost_per_run_usd{job="worker"}', values: "7x120" }],
    expected: [{ severity: "warning", labels: {}, value: 7 }],
    healthy: [{ series: 'cost_per_run_usd{job="worker"}', values: "1x120" }],
  },
  {
    alert: "LLMSpendHigh",
    interval: "1m",
    evalTime: "100m",
    bad: [{ series: 'nyxcore_llm_cost_usd_total{job="app",provider="openai",model="gpt-4o"}', values: "0+0.5x130" }],
    expected: [{ severity: "warning", labels: {}, value: 30 }],
    healthy: [{ series: 'nyxcore_llm_cost_usd_total{job="app",provider="openai",model="gpt-4o"}', values: "0+0.05x130" }],
  },
  {
    alert: "LLMTokenAnomaly",
    interval: "10m",
    evalTime: "1540m",
    // A day at 100 tokens/min, then 1000/min: the last hour runs at 6.15x the day's average.
    bad: [
      {
        series: 'nyxcore_llm_tokens_total{job="app",provider="openai",model="gpt-4o",type="prompt"}',
        values: "0+1000x144 154000+10000x20",
      },
    ],
    expected: [{ severity: "warning", labels: {}, value: 1000 / 60 / (234000 / 86400) }],
    healthy: [{ series: 'nyxcore_llm_tokens_total{job="app",provider="openai",model="gpt-4o",type="prompt"}', values: "0+1000x170" }],
  },
  {
    alert: "DatabaseDown",
    interval: "1m",
    evalTime: "5m",
    bad: [{ series: `pg_up{${pgExporter}}`, values: "0x10" }],
    expected: [{ severity: "critical", labels: { job: "postgres-exporter", instance: "postgres-exporter:9187" } }],
    healthy: [{ series: `pg_up{${pgExporter}}`, values: "1x10" }],
  },
  {
    alert: "PostgresDown",
    interval: "1m",
    evalTime: "5m",
    bad: [{ series: `up{${pgExporter}}`, values: "0x10" }],
    expected: [{ severity: "critical", labels: {} }],
    healthy: [{ series: `up{${pgExporter}}`, values: "1x10" }],
  },
  {
    alert: "PostgresTooManyConnections",
    interval: "1m",
    evalTime: "10m",
    bad: [
      { series: `pg_stat_activity_count{${pgExporter},datname="nomosx",state="active"}`, values: "60x20" },
      { series: `pg_stat_activity_count{${pgExporter},datname="nomosx",state="idle"}`, values: "30x20" },
      { series: `pg_settings_max_connections{${pgExporter}}`, values: "100x20" },
    ],
    expected: [{ severity: "warning", labels: {}, value: 90 }],
    healthy: [
      { series: `pg_stat_activity_count{${pgExporter},datname="nomosx",state="active"}`, values: "10x20" },
      { series: `pg_settings_max_connections{${pgExporter}}`, values: "100x20" },
    ],
  },
  {
    alert: "BackupTooOld",
    interval: "1h",
    evalTime: "26h",
    // 0 = no successful backup ever recorded.
    bad: [{ series: `ballast_backup_last_success_timestamp_seconds{${pgExporter}}`, values: "0x40" }],
    expected: [{ severity: "critical", labels: { job: "postgres-exporter", instance: "postgres-exporter:9187" }, value: 26 }],
    healthy: [{ series: `ballast_backup_last_success_timestamp_seconds{${pgExporter}}`, values: "90000x40" }],
  },
  {
    alert: "RestoreDrillOverdue",
    interval: "1d",
    evalTime: "37d",
    bad: [{ series: `ballast_restore_drill_last_success_timestamp_seconds{${pgExporter}}`, values: "0x40" }],
    expected: [{ severity: "warning", labels: { job: "postgres-exporter", instance: "postgres-exporter:9187" }, value: 37 }],
    healthy: [{ series: `ballast_restore_drill_last_success_timestamp_seconds{${pgExporter}}`, values: `${35 * 86400}x40` }],
  },
  {
    alert: "RestoreDrillTooSlow",
    interval: "1m",
    evalTime: "5m",
    bad: [{ series: `ballast_restore_drill_last_duration_seconds{${pgExporter}}`, values: "1200x10" }],
    expected: [{ severity: "warning", labels: { job: "postgres-exporter", instance: "postgres-exporter:9187" }, value: 20 }],
    healthy: [{ series: `ballast_restore_drill_last_duration_seconds{${pgExporter}}`, values: "600x10" }],
  },
  {
    alert: "RedisDown",
    interval: "1m",
    evalTime: "5m",
    bad: [{ series: `redis_up{${redisExporter}}`, values: "0x10" }],
    expected: [{ severity: "critical", labels: { job: "redis-exporter", instance: "redis-exporter:9121" } }],
    healthy: [{ series: `redis_up{${redisExporter}}`, values: "1x10" }],
  },
  {
    alert: "RedisNearMaxmemory",
    interval: "1m",
    evalTime: "15m",
    bad: [
      { series: `redis_memory_used_bytes{${redisExporter}}`, values: "950x20" },
      { series: `redis_memory_max_bytes{${redisExporter}}`, values: "1000x20" },
    ],
    expected: [{ severity: "warning", labels: { job: "redis-exporter", instance: "redis-exporter:9121" }, value: 95 }],
    // No maxmemory set (0): never "near" it, however much is used.
    healthy: [
      { series: `redis_memory_used_bytes{${redisExporter}}`, values: "5000x20" },
      { series: `redis_memory_max_bytes{${redisExporter}}`, values: "0x20" },
    ],
  },
  {
    alert: "HostDiskAlmostFull",
    interval: "1m",
    evalTime: "20m",
    bad: disk(10),
    expected: [{ severity: "warning", labels: rootFsLabels, value: 10 }],
    healthy: disk(50),
  },
  {
    alert: "HostDiskAlmostFull",
    interval: "1m",
    evalTime: "20m",
    // Below the critical line both tiers fire; Alertmanager's inhibition keeps the warning quiet.
    bad: disk(3),
    expected: [
      { severity: "warning", labels: rootFsLabels, value: 3 },
      { severity: "critical", labels: rootFsLabels, value: 3 },
    ],
    healthy: disk(50),
  },
  {
    alert: "HostMemoryPressure",
    interval: "1m",
    evalTime: "15m",
    bad: [
      { series: `node_memory_MemAvailable_bytes{${node}}`, values: "5x20" },
      { series: `node_memory_MemTotal_bytes{${node}}`, values: "100x20" },
    ],
    expected: [{ severity: "warning", labels: { job: "node-exporter", instance: "node-exporter:9100" }, value: 5 }],
    healthy: [
      { series: `node_memory_MemAvailable_bytes{${node}}`, values: "60x20" },
      { series: `node_memory_MemTotal_bytes{${node}}`, values: "100x20" },
    ],
  },
  {
    alert: "ContainerRestarting",
    interval: "1m",
    evalTime: "25m",
    // A new start time every minute: 15 restarts in the 15-minute window.
    bad: [{ series: 'container_start_time_seconds{job="cadvisor",container="app",replica="ballast-app-1"}', values: "100+60x30" }],
    expected: [{ severity: "warning", labels: { job: "cadvisor", container: "app", replica: "ballast-app-1" }, value: 15 }],
    healthy: [{ series: 'container_start_time_seconds{job="cadvisor",container="app",replica="ballast-app-1"}', values: "100x30" }],
  },
  {
    alert: "ContainerOOMKilled",
    interval: "1m",
    evalTime: "20m",
    bad: [{ series: 'container_oom_events_total{job="cadvisor",container="worker",replica="ballast-worker-1"}', values: "0x10 1x20" }],
    expected: [{ severity: "warning", labels: { job: "cadvisor", container: "worker", replica: "ballast-worker-1" }, value: 1 }],
    healthy: [{ series: 'container_oom_events_total{job="cadvisor",container="worker",replica="ballast-worker-1"}', values: "0x30" }],
  },
  {
    alert: "ScrapeTargetDown",
    interval: "1m",
    evalTime: "10m",
    bad: [{ series: 'up{job="loki",instance="loki:3100"}', values: "0x15" }],
    expected: [{ severity: "warning", labels: { job: "loki", instance: "loki:3100" } }],
    healthy: [{ series: 'up{job="loki",instance="loki:3100"}', values: "1x15" }],
  },
  {
    alert: "TLSCertificateExpiringSoon",
    interval: "1m",
    evalTime: "90m",
    // Expires 10 days after the test's epoch start.
    bad: [{ series: 'traefik_tls_certs_not_after{job="traefik",cn="example.com",sans="example.com",serial="4d2"}', values: "864000x120" }],
    expected: [
      {
        severity: "warning",
        labels: { job: "traefik", cn: "example.com", sans: "example.com", serial: "4d2" },
        value: (864000 - 5400) / 86400,
      },
    ],
    healthy: [
      {
        series: 'traefik_tls_certs_not_after{job="traefik",cn="example.com",sans="example.com",serial="4d2"}',
        values: `${60 * 86400}x120`,
      },
    ],
  },
];
