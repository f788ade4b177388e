/**
 * Alert rules from the runbooks (NomosX's critical set, nyxcore's LLM metrics, the Dealix
 * database/backup scenarios) plus the platform basics. Every alert carries a `severity`
 * label and `summary` + `description` annotations; the description says what to do.
 *
 * Annotation templates use only `{{ $labels.<name> }}` and `{{ printf "%.Nf" $value }}`
 * so the promtool unit test can compute the expected text. Values are in human units
 * (percent, hours, days) because the expressions compute them that way.
 */
import { BUILTIN_RULE_GROUPS, type MonitoringConfig, type RuleGroup } from "../config";
import { monitoringNames, type ObservabilityContext } from "./context";
import { errorRequestsSelector } from "./metrics-catalog";
import { partsOf } from "./parts";
import { DEEP_HEALTH_JOB } from "./prometheus";
import { toYaml } from "./yaml";

export type Severity = "critical" | "warning";

export interface AlertRule {
  alert: string;
  expr: string;
  /** Prometheus duration; absent fires on the first evaluation. */
  for?: string;
  severity: Severity;
  summary: string;
  description: string;
}

export interface AlertGroup {
  name: string;
  rules: AlertRule[];
}

/** One group of the rules file as written (Prometheus 2.42 fields only): alerting and recording rules. */
export interface RuleFileGroup {
  name: string;
  rules: (
    | { alert: string; expr: string; for?: string; labels: Record<string, string>; annotations: Record<string, string> }
    | { record: string; expr: string; labels?: Record<string, string> }
  )[];
}

/** The rules file's on-disk shape. */
interface RuleFile {
  groups: RuleFileGroup[];
}

const value = (decimals: number) => `{{ printf "%.${decimals}f" $value }}`;

/** Filesystems that are not the host's disks. */
const realFilesystems = 'fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs|fuse.lxcfs"';

export function alertGroups(monitoring: MonitoringConfig, ctx: ObservabilityContext): AlertGroup[] {
  const a = monitoring.alerts;
  const m = a.metrics;
  const llm = a.llmMetricPrefix;
  const parts = partsOf(monitoring, ctx);
  const pct = (ratio: number) => +(ratio * 100).toFixed(4);

  const healthPaths = ctx.app.healthPaths.join(", ") || "its health endpoint";
  const app: AlertRule[] = [
    // Only when the app exposes metrics: without a scrape target this would fire forever.
    ...(ctx.app.metrics
      ? [
          {
            alert: "AppDown",
            expr: `absent(up{job="${ctx.app.name}"} == 1)`,
            for: "2m",
            severity: "critical" as const,
            summary: "No app instance answers",
            description:
              `No instance of ${ctx.app.name} has answered on its metrics endpoint for 2 minutes. ` +
              `Check the app containers/pods and the public health endpoint (${healthPaths}); if a deploy just happened, roll back to the previous release.`,
          },
        ]
      : []),
    ...(parts.blackboxExporter && ctx.app.deepHealth
      ? [
          {
            alert: "DeepHealthFailing",
            expr: `min by (instance) (probe_success{job="${DEEP_HEALTH_JOB}"}) == 0`,
            for: "2m",
            severity: "critical" as const,
            summary: "The app's deep health check fails",
            description:
              `${ctx.app.name}${ctx.app.deepHealth.path} has failed for 2 minutes: one of its dependencies (Postgres, Redis, an LLM provider) is down for the app. ` +
              "Open the URL to see which check is red; liveness stays green, so nothing restarts by itself.",
          },
        ]
      : []),
    {
      alert: "HighErrorRate",
      expr: `100 * sum(rate(${errorRequestsSelector(m.errorsTotal)}[5m])) / sum(rate(${m.httpRequestsTotal}[5m])) > ${pct(a.errorRateThreshold)}`,
      for: "5m",
      severity: "critical",
      summary: `More than ${pct(a.errorRateThreshold)}% of requests fail`,
      description:
        `${value(1)}% of requests failed over the last 5 minutes (threshold ${pct(a.errorRateThreshold)}%). ` +
        "Look for the failing routes in the Logs dashboard, check the LLM providers' status pages, and roll back if a deploy just happened.",
    },
    {
      alert: "HighLatencyP95",
      expr: `histogram_quantile(0.95, sum by (le) (rate(${m.httpRequestDurationSeconds}_bucket[5m]))) > ${a.latencyP95Seconds}`,
      for: "10m",
      severity: "warning",
      summary: `P95 latency is above the ${a.latencyP95Seconds}s SLO`,
      description:
        `P95 request latency is ${value(2)}s (SLO ${a.latencyP95Seconds}s). ` +
        "Check CPU throttling and memory of the app containers, slow queries in pg_stat_statements and LLM provider latency; scale the app up if it is saturated.",
    },
    {
      alert: "QueueBacklog",
      expr: `max by (queue) (${m.queueWaitingCount}) > ${a.queueBacklog}`,
      for: "10m",
      severity: "warning",
      summary: "Queue {{ $labels.queue }} has a backlog",
      description:
        `${value(0)} jobs are waiting in queue {{ $labels.queue }} (threshold ${a.queueBacklog}) for 10 minutes. ` +
        "Check worker health and logs, scale the worker pool up, and look for stuck jobs before clearing any.",
    },
    {
      alert: "HighCostPerRun",
      expr: `avg(avg_over_time(${m.costPerRunUsd}[1h])) > ${a.costPerRunUsd}`,
      for: "30m",
      severity: "warning",
      summary: `Average cost per run is above $${a.costPerRunUsd}`,
      description:
        `Runs cost $${value(2)} on average over the last hour (threshold $${a.costPerRunUsd}). ` +
        "Find the expensive operations on the LLM cost dashboard; move simple tasks to cheaper models, cache embeddings and cap retries.",
    },
  ];

  const llmAlerts: AlertRule[] = [
    {
      alert: "LLMSpendHigh",
      expr: `sum(increase(${llm}llm_cost_usd_total[1h])) > ${a.llmSpendPerHourUsd}`,
      for: "15m",
      severity: "warning",
      summary: `LLM spend is above $${a.llmSpendPerHourUsd} per hour`,
      description:
        `LLM calls cost $${value(2)} in the last hour (budget $${a.llmSpendPerHourUsd}/h). ` +
        "Find the provider and model driving it on the LLM cost dashboard; if it is runaway usage, disable the feature or remove the tenant's provider key.",
    },
    {
      alert: "LLMTokenAnomaly",
      expr:
        `sum(rate(${llm}llm_tokens_total[1h])) / sum(rate(${llm}llm_tokens_total[1d])) > ${a.tokenAnomalyFactor}` +
        ` and sum(rate(${llm}llm_tokens_total[1d])) > 0`,
      for: "30m",
      severity: "warning",
      summary: "LLM token usage is far above its daily average",
      description:
        `Tokens per second over the last hour are ${value(1)}x the last day's average (threshold ${a.tokenAnomalyFactor}x). ` +
        "Look for workflows stuck in retry loops and for abuse of LLM endpoints (LLM dashboard by model); pause the offending workflow.",
    },
  ];

  const datastores: AlertRule[] = [];
  if (parts.postgresExporter) {
    datastores.push(
      {
        alert: "DatabaseDown",
        expr: "pg_up == 0",
        for: "1m",
        severity: "critical",
        summary: "PostgreSQL refuses connections",
        description:
          "postgres-exporter cannot connect to the database (the same path the app uses) for 1 minute. " +
          "Check the postgres container/pod status and logs; a full disk is the most common cause; restart it; if it cannot start, restore the latest backup into a new database.",
      },
      {
        alert: "PostgresDown",
        expr: `absent(up{job="${monitoringNames.postgresExporter}"} == 1)`,
        for: "2m",
        severity: "critical",
        summary: "No PostgreSQL health signal",
        description:
          "postgres-exporter has not been scraped successfully for 2 minutes, so the database state is unknown. " +
          "Check the postgres-exporter and postgres workloads and their logs; treat the database as down until checked.",
      },
      {
        alert: "PostgresTooManyConnections",
        expr: `100 * sum(pg_stat_activity_count) / max(pg_settings_max_connections) > ${pct(a.postgresConnectionsRatio)}`,
        for: "5m",
        severity: "warning",
        summary: "PostgreSQL is close to max_connections",
        description:
          `${value(0)}% of max_connections (${ctx.postgres.maxConnections} configured) are in use (threshold ${pct(a.postgresConnectionsRatio)}%). ` +
          "Look for connection leaks or oversized pools in app and workers; restart the app to drop stale connections; raise max_connections only with memory to back it.",
      },
      {
        alert: "BackupTooOld",
        expr: `(time() - ballast_backup_last_success_timestamp_seconds) / 3600 > ${a.rpoHours}`,
        for: "15m",
        severity: "critical",
        summary: `The last good backup is older than the ${a.rpoHours}h RPO`,
        description:
          `The last successful backup finished ${value(1)} hours ago (RPO ${a.rpoHours}h; a huge number means none ever succeeded). ` +
          "Read the latest rows of ballast.backup_runs and the backup job's logs, fix the cause, and run a backup by hand now.",
      },
      {
        alert: "RestoreDrillOverdue",
        expr: `(time() - ballast_restore_drill_last_success_timestamp_seconds) / 86400 > ${a.restoreDrillMaxAgeDays}`,
        for: "1h",
        severity: "warning",
        summary: `No restore drill succeeded in ${a.restoreDrillMaxAgeDays} days`,
        description:
          `The last successful restore drill was ${value(0)} days ago (at most ${a.restoreDrillMaxAgeDays}). ` +
          "Run the restore drill: restore the latest backup into a scratch database, compare row counts and the newest timestamp against production, and record the run.",
      },
      {
        alert: "RestoreDrillTooSlow",
        expr: `ballast_restore_drill_last_duration_seconds / 60 > ${a.restoreDrillMaxMinutes}`,
        severity: "warning",
        summary: `The last restore drill took longer than ${a.restoreDrillMaxMinutes} minutes`,
        description:
          `The last successful restore drill took ${value(1)} minutes (target ${a.restoreDrillMaxMinutes}). ` +
          "A real restore would miss its recovery time objective: check backup size growth, restore parallelism and disk speed.",
      },
    );
  }
  if (parts.redisExporter) {
    datastores.push(
      {
        alert: "RedisDown",
        expr: "redis_up == 0",
        for: "1m",
        severity: "critical",
        summary: "Redis is unreachable",
        description:
          "redis-exporter cannot reach Redis for 1 minute. Rate limiting fails open and queues stop: " +
          "check the redis container/pod logs, its memory and disk, and restart it.",
      },
      {
        alert: "RedisNearMaxmemory",
        expr: `100 * redis_memory_used_bytes / redis_memory_max_bytes > ${pct(a.redisMemoryRatio)} and redis_memory_max_bytes > 0`,
        for: "10m",
        severity: "warning",
        summary: "Redis is close to maxmemory",
        description:
          `Redis uses ${value(0)}% of its maxmemory (threshold ${pct(a.redisMemoryRatio)}%). ` +
          "With an LRU policy it is evicting cache entries, with noeviction writes will fail: check big keys and the queue backlog, and raise maxmemory if the host has room.",
      },
    );
  }

  const host: AlertRule[] = [];
  if (parts.nodeExporter) {
    const freeDisk = (ratio: number) =>
      `100 * node_filesystem_avail_bytes{${realFilesystems}} / node_filesystem_size_bytes{${realFilesystems}} < ${pct(ratio)}` +
      ` and node_filesystem_readonly{${realFilesystems}} == 0`;
    const diskHelp =
      "Prune unused images and build cache (docker system prune -af && docker builder prune -af), rotate old backups " +
      "(never delete active WAL), and grow the volume if the data keeps growing.";
    host.push(
      {
        alert: "HostDiskAlmostFull",
        expr: freeDisk(a.diskFreeWarningRatio),
        for: "15m",
        severity: "warning",
        summary: "Disk {{ $labels.mountpoint }} is filling up",
        description: `Only ${value(1)}% is free on {{ $labels.mountpoint }} of {{ $labels.instance }} (warning below ${pct(a.diskFreeWarningRatio)}%). ${diskHelp}`,
      },
      {
        alert: "HostDiskAlmostFull",
        expr: freeDisk(a.diskFreeCriticalRatio),
        for: "5m",
        severity: "critical",
        summary: "Disk {{ $labels.mountpoint }} is almost full",
        description: `Only ${value(1)}% is free on {{ $labels.mountpoint }} of {{ $labels.instance }} (critical below ${pct(a.diskFreeCriticalRatio)}%); Postgres and Prometheus stop when it is full. ${diskHelp}`,
      },
      {
        alert: "HostMemoryPressure",
        expr: `100 * node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < ${pct(a.memoryAvailableRatio)}`,
        for: "10m",
        severity: "warning",
        summary: "Host {{ $labels.instance }} is low on memory",
        description:
          `Only ${value(1)}% of memory is available on {{ $labels.instance }} (threshold ${pct(a.memoryAvailableRatio)}%). ` +
          "Find the largest containers on the Containers dashboard; lower limits or move workloads before the OOM killer picks one.",
      },
    );
  }

  const containers: AlertRule[] = [];
  if (parts.containerMetrics) {
    containers.push(
      {
        alert: "ContainerRestarting",
        expr: 'changes(container_start_time_seconds{container!=""}[15m]) > 2',
        for: "5m",
        severity: "warning",
        summary: "{{ $labels.container }} keeps restarting",
        description:
          `{{ $labels.replica }} (workload {{ $labels.container }}) restarted ${value(0)} times in 15 minutes. ` +
          "Read its logs just before each restart (Logs dashboard) and check for failed health checks, OOM kills and missing config or secrets.",
      },
      {
        alert: "ContainerOOMKilled",
        expr: 'increase(container_oom_events_total{container!=""}[15m]) > 0',
        severity: "warning",
        summary: "{{ $labels.container }} was killed for running out of memory",
        description:
          `{{ $labels.replica }} (workload {{ $labels.container }}) hit its memory limit ${value(0)} time(s) in 15 minutes and was OOM-killed. ` +
          "Raise the workload's memoryMiB in the stack config or find the leak; for workers, lower their concurrency.",
      },
    );
  }

  const platform: AlertRule[] = [
    {
      alert: "ScrapeTargetDown",
      expr: "up == 0",
      for: "5m",
      severity: "warning",
      summary: "Prometheus cannot scrape {{ $labels.job }}",
      description:
        "Scraping {{ $labels.job }} at {{ $labels.instance }} has failed for 5 minutes. " +
        "Check that the workload runs and its metrics port answers; a network policy change can also block Prometheus.",
    },
    {
      alert: "TLSCertificateExpiringSoon",
      expr: `(traefik_tls_certs_not_after - time()) / 86400 < ${a.tlsExpiryDays}`,
      for: "1h",
      severity: "warning",
      summary: "The TLS certificate for {{ $labels.cn }} expires soon",
      description:
        `The certificate for {{ $labels.cn }} expires in ${value(1)} days (warning below ${a.tlsExpiryDays}). ` +
        "Let's Encrypt renews 30 days ahead, so renewal is failing: check Traefik's logs for ACME errors, DNS records, port 80 reachability and rate limits.",
    },
  ];

  const [appGroup, llmGroup, datastoresGroup, hostGroup, containersGroup, platformGroup] = BUILTIN_RULE_GROUPS;
  return [
    { name: appGroup, rules: app },
    { name: llmGroup, rules: llmAlerts },
    { name: datastoresGroup, rules: datastores },
    { name: hostGroup, rules: host },
    { name: containersGroup, rules: containers },
    { name: platformGroup, rules: platform },
  ].filter((group) => group.rules.length > 0);
}

/** Pure: the Prometheus rules file; `extra` groups (the SLOs' rules) follow the alert groups. */
export function renderAlertRules(groups: AlertGroup[], extra: RuleFileGroup[] = []): string {
  const alertGroupsOnDisk: RuleFileGroup[] = groups.map((group) => ({
    name: group.name,
    rules: group.rules.map((rule) => ({
      alert: rule.alert,
      expr: rule.expr,
      ...(rule.for ? { for: rule.for } : {}),
      labels: { severity: rule.severity },
      annotations: { summary: rule.summary, description: rule.description },
    })),
  }));
  const file: RuleFile = { groups: [...alertGroupsOnDisk, ...extra] };
  return toYaml(file, "Rendered by Ballast (components/observability/rules.ts). Do not edit.");
}

/** The team's rule groups: inline in the stack file first, then each rule file's, in declaration order. */
export function teamRuleGroups(monitoring: MonitoringConfig, ctx: ObservabilityContext): RuleGroup[] {
  return [...monitoring.alerts.groups, ...ctx.team.ruleFiles.flatMap((file) => file.groups)];
}

/** Pure: the team's rules file, beside Ballast's (same Prometheus, same Alertmanager routes). */
export function renderTeamRules(groups: RuleGroup[]): string {
  const file = {
    groups: groups.map((group) => ({
      name: group.name,
      ...(group.interval ? { interval: group.interval } : {}),
      rules: group.rules.map((rule) => ({
        alert: rule.alert,
        expr: rule.expr,
        ...(rule.for ? { for: rule.for } : {}),
        ...(rule.labels && Object.keys(rule.labels).length > 0 ? { labels: rule.labels } : {}),
        ...(rule.annotations && Object.keys(rule.annotations).length > 0 ? { annotations: rule.annotations } : {}),
      })),
    })),
  };
  return toYaml(
    file,
    "Rendered by Ballast from ballast:monitoring.alerts.groups and .ruleFiles (components/observability/rules.ts). Do not edit.",
  );
}
