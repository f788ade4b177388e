/**
 * `monitoring`: Prometheus, Alertmanager, Grafana, Loki, Alloy, the exporters and tracing, with
 * the alert thresholds, the team's own rules and dashboards, and the SLOs. Every part runs a pinned
 * image sized per environment (dev, staging and the `small` class share one set of small limits);
 * schema: ../monitoring.ts and ../alerting.ts, defaults: ../defaults.ts.
 */
import type { ResourcesArgs } from "./shared";

/** Prometheus, Alertmanager, Grafana, Loki, Alloy, the exporters and tracing. */
export interface MonitoringArgs {
  /**
   * Master switch: false deploys no monitoring at all, whatever the parts below say.
   * @default true (dev, staging, prod), false (small: a Compose host of at most 2 GiB)
   */
  enabled?: boolean;
  /**
   * Metrics: scrapes the app, workers, services, proxy, exporters and itself, and evaluates the alert rules.
   * @default on, "prom/prometheus:v2.53.0", 0.5 CPU / 448Mi (prod 1 / 2Gi), 5 GiB (dev, small), 10 GiB (staging), 50 GiB (prod), 30 days, every 15 s
   */
  prometheus?: PrometheusArgs;
  /**
   * Routes Prometheus' alerts to receivers (deployed with Prometheus).
   * @default on, "prom/alertmanager:v0.27.0", 0.1 CPU / 64Mi (prod 0.2 / 128Mi), 1 GiB, receiver `none`, no other receivers or routes
   */
  alertmanager?: AlertmanagerArgs;
  /**
   * Dashboards, served at `<subdomain>.<domain>` to the ranges of `allowFrom`.
   * @default on, "grafana/grafana:11.3.0", 0.25 CPU / 192Mi (prod 0.5 / 512Mi), 1 GiB (prod 5 GiB), at `grafana.<domain>`, see {@link GrafanaArgs}
   */
  grafana?: GrafanaArgs;
  /**
   * Log store for the containers' logs that Alloy ships (compactor retention).
   * @default on, "grafana/loki:3.4.2", 0.25 CPU / 320Mi (prod 1 / 1Gi), 5 GiB (dev, small), 10 GiB (staging), 50 GiB (prod), 7 days
   */
  loki?: LokiArgs;
  /**
   * Collects the containers' logs and ships them to Loki (deployed with Loki).
   * @default on, "grafana/alloy:v1.7.1", 0.2 CPU / 160Mi (prod 0.5 / 384Mi), no extra dropped paths
   */
  alloy?: AlloyArgs;
  /**
   * Host metrics (disk, memory, CPU) for Prometheus.
   * @default on, "prom/node-exporter:v1.8.0", 0.1 CPU / 48Mi (prod 0.2 / 96Mi)
   */
  nodeExporter?: MonitoringPartArgs;
  /**
   * Container metrics: cAdvisor on Compose; on Kubernetes the kubelet's own are scraped instead, and `enabled` switches those.
   * @default on, "gcr.io/cadvisor/cadvisor:v0.49.1", 0.2 CPU / 160Mi (prod 0.5 / 384Mi)
   */
  cadvisor?: MonitoringPartArgs;
  /**
   * Compose only: the read-only Docker API proxy that cAdvisor and Alloy read container metadata through; the only
   * service that mounts the Docker socket. Deployed with either of them.
   * @default "wollomatic/socket-proxy:1.12.2", 0.05 CPU / 32Mi (prod 0.1 / 64Mi)
   */
  dockerSocketProxy?: MonitoringContainerArgs;
  /**
   * Postgres metrics for Prometheus (DatabaseDown, PostgresTooManyConnections).
   * @default on, "prometheuscommunity/postgres-exporter:v0.15.0", 0.1 CPU / 48Mi (prod 0.2 / 128Mi)
   */
  postgresExporter?: MonitoringPartArgs;
  /**
   * Redis metrics for Prometheus (RedisDown, RedisNearMaxmemory); deployed only when the stack runs Redis.
   * @default on, "oliver006/redis_exporter:v1.62.0", 0.05 CPU / 32Mi (prod 0.1 / 64Mi)
   */
  redisExporter?: MonitoringPartArgs;
  /**
   * Probes the app's deep health path through the stack's network (DeepHealthFailing); deployed only when the app declares one.
   * @default on, "prom/blackbox-exporter:v0.25.0", 0.05 CPU / 32Mi (prod 0.1 / 64Mi)
   */
  blackboxExporter?: MonitoringPartArgs;
  /**
   * Traces: Grafana Tempo or Jaeger v2, fed over OTLP by the app, workers, cron jobs and traced services.
   * @default off, backend `tempo`, see {@link TracingArgs}
   */
  tracing?: TracingArgs;
  /**
   * Thresholds of Ballast's built-in alerts, the app's metric names they read, and the team's own rules.
   * @default the NomosX thresholds, see {@link AlertsArgs}
   */
  alerts?: AlertsArgs;
  /**
   * Service level objectives: multi-window, multi-burn-rate alerts (`SLOErrorBudgetBurn`), recording rules and the
   * `<titlePrefix> - SLOs` dashboard, on a scraped workload's own series. Names must be unique.
   * @default []
   */
  slos?: SloArgs[];
}

/** A container of the monitoring set: a pinned image with its limits. Its defaults are the part's: see the key holding it. */
export interface MonitoringContainerArgs {
  /**
   * Container image, pinned by an exact version tag or a digest (`latest` is refused; a moving tag only passes in dev, with a warning).
   * @default the part's pinned image (see the `@default` of the key holding this)
   */
  image?: string;
  /**
   * CPU and memory limits of the part.
   * @default the part's size for the environment (see the `@default` of the key holding this)
   */
  resources?: ResourcesArgs;
}

/** A monitoring part that can be switched off on its own. */
export interface MonitoringPartArgs extends MonitoringContainerArgs {
  /**
   * Deploy this part (when `monitoring.enabled` is on; exporters, Alertmanager and cAdvisor also need Prometheus, Alloy needs Loki).
   * @default true
   */
  enabled?: boolean;
}

/** A monitoring part that keeps its data on a persistent volume. */
export interface StatefulMonitoringPartArgs extends MonitoringPartArgs {
  /**
   * Size of the part's persistent volume in GiB (1 to 16384).
   * @default the part's size for the environment (see the `@default` of the key holding this)
   */
  storageGiB?: number;
}

/** Prometheus. */
export interface PrometheusArgs extends StatefulMonitoringPartArgs {
  /**
   * Days of metrics kept (`--storage.tsdb.retention.time`), at most 3650.
   * @default 30
   */
  retentionDays?: number;
  /**
   * Seconds between scrapes, 5 to 300; also the rule evaluation interval.
   * @default 15
   */
  scrapeIntervalSeconds?: number;
}

/** Alertmanager: the default receiver, more named receivers, and the routes between them. */
export interface AlertmanagerArgs extends StatefulMonitoringPartArgs {
  /**
   * The default receiver, named `ops` in routes: gets every alert no route takes. Its credential, when its type reads
   * one, is the secret `alertmanager-receiver`.
   * @default { type: "none" }
   */
  receiver?: ReceiverArgs;
  /**
   * More receivers of the same types by name (lowercase letters, digits and single dashes, not `ops`); each one's
   * credential is the secret `alertmanager-receiver-<name>`.
   * @default {}
   */
  receivers?: Record<string, ReceiverArgs>;
  /**
   * Tried in order before the default receiver: the first route whose matchers all hold takes the alert (unless it says `continue`).
   * @default []
   */
  routes?: AlertRouteArgs[];
}

/**
 * Where Alertmanager sends notifications, by `type`. Secret parts never live in the declaration: they are the
 * secret `alertmanager-receiver` (`alertmanager-receiver-<name>` for a receiver under `receivers`), mounted as a file.
 */
export type ReceiverArgs = NoReceiverArgs | WebhookReceiverArgs | EmailReceiverArgs | SlackReceiverArgs | PagerDutyReceiverArgs;

/** No notifications. */
export interface NoReceiverArgs {
  /**
   * The receiver type: `none` sends no notifications and reads no secret.
   * @default none (required: picks the receiver type)
   */
  type: "none";
}

/** An HTTP endpoint that receives Alertmanager's JSON payload. */
export interface WebhookReceiverArgs {
  /**
   * The receiver type: `webhook` posts Alertmanager's JSON payload to `url`.
   * @default none (required: picks the receiver type)
   */
  type: "webhook";
  /**
   * Endpoint that receives the payload, an http(s) URL; plain config (Alertmanager 0.25 has no `url_file`), so put no secret in it.
   * @default none (required)
   */
  url: string;
  /**
   * `bearer`: send the receiver's secret as `Authorization: Bearer`; `none`: no secret.
   * @default "bearer"
   */
  auth?: "bearer" | "none";
}

/** E-mail through an SMTP relay. */
export interface EmailReceiverArgs {
  /**
   * The receiver type: `email` sends mail through the SMTP relay `smarthost`.
   * @default none (required: picks the receiver type)
   */
  type: "email";
  /**
   * Address the notifications go to, e.g. `"ops@example.com"`.
   * @default none (required)
   */
  to: string;
  /**
   * Sender address of the notifications.
   * @default none (required)
   */
  from: string;
  /**
   * `host:port` of the SMTP relay, e.g. `"smtp.example.com:587"`.
   * @default none (required)
   */
  smarthost: string;
  /**
   * SMTP login; when set, the password is the receiver's secret.
   * @default none (no SMTP login, no secret)
   */
  username?: string;
  /**
   * Require TLS with the relay (Alertmanager `require_tls`).
   * @default true
   */
  requireTls?: boolean;
}

/** A Slack channel through an incoming webhook. */
export interface SlackReceiverArgs {
  /**
   * The receiver type: `slack` posts to `channel`; the incoming-webhook URL is the receiver's secret.
   * @default none (required: picks the receiver type)
   */
  type: "slack";
  /**
   * `"#channel"` or `"@user"` the notifications are posted to.
   * @default none (required)
   */
  channel: string;
}

/** PagerDuty through the Events API v2. */
export interface PagerDutyReceiverArgs {
  /**
   * The receiver type: `pagerduty` opens incidents; the Events API v2 routing key is the receiver's secret.
   * @default none (required: picks the receiver type)
   */
  type: "pagerduty";
}

/** One Alertmanager route: which alerts go to which receiver. */
export interface AlertRouteArgs {
  /**
   * Alertmanager matchers that must all hold: label, one of `=` `!=` `=~` `!~`, value (`"severity=critical"`,
   * `'service=~"api|worker"'`). A route selecting `severity=critical` notifies on the critical timing (10 s wait, 1 h repeat).
   * @default none (required, at least one)
   */
  matchers: string[];
  /**
   * The receiver that gets the alert: `ops` (the default `receiver`) or a key of `receivers`.
   * @default none (required)
   */
  receiver: string;
  /**
   * Keep matching the next routes too (Alertmanager `continue`), so several receivers are notified.
   * @default false
   */
  continue?: boolean;
}

/** Grafana. */
export interface GrafanaArgs extends StatefulMonitoringPartArgs {
  /**
   * Grafana's public host is `<subdomain>.<domain>`; a DNS label, or `""` for the apex domain.
   * @default "grafana"
   */
  subdomain?: string;
  /**
   * Login of Grafana's admin; the password is the generated secret `grafana-admin-password`.
   * @default "admin"
   */
  adminUser?: string;
  /**
   * Source ranges (CIDR) that may reach Grafana's route (Traefik `ipAllowList`); everyone else gets 403.
   * `["0.0.0.0/0", "::/0"]` is everyone. On Compose a range inside Docker's own networks is refused.
   * @default everyone (dev, and the local engine); on a Compose VPS `compose.bootstrap.sshAllowFrom` (required when that is empty); on Kubernetes the private ranges 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7
   */
  allowFrom?: string[];
  /**
   * Title prefix of every provisioned dashboard, `<titlePrefix> - Overview` (NomosX: `"NomosX"`); 1 to 40 characters without quotes or backslashes.
   * @default "Ballast"
   */
  titlePrefix?: string;
  /**
   * Grafana dashboard JSON files of the repository, relative to the project root, provisioned beside the built-ins.
   * Checked when the stack is read: the file exists, is a dashboard (`title`, `panels`), has a uid not starting
   * `ballast-`, and its Prometheus queries are PromQL. On Kubernetes they may add up to at most 768 KiB.
   * @default []
   */
  dashboards?: string[];
}

/** Loki. */
export interface LokiArgs extends StatefulMonitoringPartArgs {
  /**
   * Days of logs kept (compactor retention), at most 3650.
   * @default 7
   */
  retentionDays?: number;
}

/** Alloy, the log collector. */
export interface AlloyArgs extends MonitoringPartArgs {
  /**
   * Request paths (absolute URL paths) whose successful (2xx, 3xx) requests are dropped from the logs as noise, besides
   * the health and metrics paths of the app, workers and services, `/ping` and `/metrics`.
   * @default []
   */
  dropPaths?: string[];
}

/** Tracing: the backend that stores and searches traces, and how much the workloads sample. */
export interface TracingArgs {
  /**
   * Deploy the tracing backend and point the app, workers, cron jobs and `services[]` with `tracing: true` at it
   * (`OTEL_EXPORTER_OTLP_ENDPOINT`, sampler, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`); Grafana gets its datasource.
   * @default false
   */
  enabled?: boolean;
  /**
   * Where traces are stored and searched: Grafana Tempo, or Jaeger v2 (Badger storage on the persistent volume).
   * @default "tempo"
   */
  backend?: "tempo" | "jaeger";
  /**
   * The backend's image, pinned; an image of the other backend (or Jaeger v1's all-in-one) is refused.
   * @default "grafana/tempo:2.6.1" (tempo), "jaegertracing/jaeger:2.19.0" (jaeger)
   */
  image?: string;
  /**
   * CPU and memory limits of the backend.
   * @default 0.25 CPU / 256Mi (prod 0.5 / 1Gi); with `jaeger` the memory is 1Gi everywhere (Badger's caches)
   */
  resources?: ResourcesArgs;
  /**
   * Size of the backend's persistent volume in GiB (1 to 16384).
   * @default 2 (dev, small), 10 (staging), 50 (prod)
   */
  storageGiB?: number;
  /**
   * Hours traces are kept (Tempo block retention, Jaeger span TTL), at most 2160 (90 days).
   * @default 72
   */
  retentionHours?: number;
  /**
   * Share of root traces sampled, above 0 and at most 1.
   * @default 1 (dev, staging, small), 0.2 (prod)
   */
  sampleRatio?: number;
}

/** Thresholds of Ballast's built-in alerts (NomosX runbook values), the app's metric names, and the team's own rules. */
export interface AlertsArgs {
  /**
   * Share of failed requests over 5 minutes that fires HighErrorRate (critical); between 0 and 1.
   * @default 0.05
   */
  errorRateThreshold?: number;
  /**
   * The latency SLO: P95 of HTTP requests in seconds above which HighLatencyP95 warns.
   * @default 5
   */
  latencyP95Seconds?: number;
  /**
   * Waiting jobs in one queue that fire QueueBacklog (warning).
   * @default 1000
   */
  queueBacklog?: number;
  /**
   * Average cost of one run in USD over the last hour that fires HighCostPerRun (warning).
   * @default 5
   */
  costPerRunUsd?: number;
  /**
   * Prefix of the app's LLM metrics (`<prefix>llm_cost_usd_total`, `<prefix>llm_tokens_total`): `""` or a metric-name
   * prefix ending in `_` (nyxcore: `nyxcore_`).
   * @default "nyxcore_"
   */
  llmMetricPrefix?: string;
  /**
   * LLM spend in USD over the last hour that fires LLMSpendHigh (warning).
   * @default 10
   */
  llmSpendPerHourUsd?: number;
  /**
   * Token rate over the last hour against the last day's average that fires LLMTokenAnomaly (warning); above 1.
   * @default 3
   */
  tokenAnomalyFactor?: number;
  /**
   * Recovery point objective in hours: BackupTooOld (critical) fires when the last good backup is older (at most 744).
   * @default `backups.rpoHours` (24)
   */
  rpoHours?: number;
  /**
   * A restore drill must have succeeded within this many days, else RestoreDrillOverdue warns (at most 366).
   * @default 35 (the monthly drill with slack)
   */
  restoreDrillMaxAgeDays?: number;
  /**
   * A drill's restore must finish within this many minutes, else RestoreDrillTooSlow warns.
   * @default `backups.drill.timeoutMinutes` (15)
   */
  restoreDrillMaxMinutes?: number;
  /**
   * Share of Postgres `max_connections` in use that fires PostgresTooManyConnections (warning); between 0 and 1.
   * @default 0.8
   */
  postgresConnectionsRatio?: number;
  /**
   * Share of Redis `maxmemory` in use that fires RedisNearMaxmemory (warning); between 0 and 1.
   * @default 0.9
   */
  redisMemoryRatio?: number;
  /**
   * Free share of a host filesystem below which HostDiskAlmostFull warns; between 0 and 1, above `diskFreeCriticalRatio`.
   * @default 0.15
   */
  diskFreeWarningRatio?: number;
  /**
   * Free share of a host filesystem below which HostDiskAlmostFull is critical; between 0 and 1, below `diskFreeWarningRatio`.
   * @default 0.05
   */
  diskFreeCriticalRatio?: number;
  /**
   * Available share of host memory below which HostMemoryPressure is reported; between 0 and 1.
   * @default 0.1
   */
  memoryAvailableRatio?: number;
  /**
   * Days before a TLS certificate expires that TLSCertificateExpiringSoon warns.
   * @default 14
   */
  tlsExpiryDays?: number;
  /**
   * Names of the app's metrics that the built-in alerts and dashboards query.
   * @default the NomosX names, see {@link AppMetricNamesArgs}
   */
  metrics?: AppMetricNamesArgs;
  /**
   * The team's own Prometheus rule groups, rendered into `team.rules.yml` beside Ballast's (same Alertmanager). A name
   * of Ballast's own groups (`ballast-app`, ...) or a repeated one is refused.
   * @default []
   */
  groups?: AlertRuleGroupArgs[];
  /**
   * Prometheus rule files of the repository (`groups:` of alerting rules, `.yml`/`.yaml`, relative to the project root),
   * checked like `groups` and rendered beside Ballast's.
   * @default []
   */
  ruleFiles?: string[];
  /**
   * `promtool test rules` files of the repository (`.yml`/`.yaml`, relative to the project root), run against the
   * rendered rules by `npm run test:rules`.
   * @default []
   */
  ruleTests?: string[];
}

/** The app's Prometheus metric names (NomosX's by default). */
export interface AppMetricNamesArgs {
  /**
   * Counter of HTTP requests (HighErrorRate's denominator, the request panels).
   * @default "http_requests_total"
   */
  httpRequestsTotal?: string;
  /**
   * Failed requests: a counter of its own (NomosX `errors_total`), or the requests counter filtered by its status label
   * (nyxcore `{metric: "nyxcore_http_requests_total", statusLabel: "status_code", errorStatus: "5.."}`).
   * @default "errors_total"
   */
  errorsTotal?: string | ErrorRequestsArgs;
  /**
   * Histogram of request durations in seconds (its `_bucket` series is queried: HighLatencyP95, latency panels).
   * @default "http_request_duration_seconds"
   */
  httpRequestDurationSeconds?: string;
  /**
   * Gauge of waiting jobs, labelled by `queue` (QueueBacklog, the queue panels).
   * @default "queue_waiting_count"
   */
  queueWaitingCount?: string;
  /**
   * Histogram of job processing time in seconds (NomosX `job_duration_seconds`; the job panels).
   * @default "job_duration_seconds"
   */
  jobDurationSeconds?: string;
  /**
   * Cost of one run in USD (HighCostPerRun).
   * @default "cost_per_run_usd"
   */
  costPerRunUsd?: string;
}

/** Failed requests as the requests counter filtered by its status label. */
export interface ErrorRequestsArgs {
  /**
   * The requests counter, e.g. `"nyxcore_http_requests_total"`.
   * @default none (required)
   */
  metric: string;
  /**
   * The label that carries the HTTP status (`status_code`, `code`, `status`).
   * @default none (required)
   */
  statusLabel: string;
  /**
   * Regular expression (RE2, anchored by Prometheus) of the statuses that count as errors, without quotes or backslashes, e.g. `"5.."` or `"5..|429"`.
   * @default none (required)
   */
  errorStatus: string;
}

/** A Prometheus rule group of the team. */
export interface AlertRuleGroupArgs {
  /**
   * Name of the group: letters, digits, `_`, `.` and `-` (e.g. `nomosx-critical`); unique, and not one of Ballast's.
   * @default none (required)
   */
  name: string;
  /**
   * Evaluation interval of the group, a Prometheus duration such as `"1m"`.
   * @default the scrape interval (`monitoring.prometheus.scrapeIntervalSeconds`)
   */
  interval?: string;
  /**
   * The group's alerting rules, at least one.
   * @default none (required)
   */
  rules: AlertRuleArgs[];
}

/** An alerting rule of the team. */
export interface AlertRuleArgs {
  /**
   * Alert name: letters, digits and `_`, not starting with a digit (e.g. `TrustScoreLow`).
   * @default none (required)
   */
  alert: string;
  /**
   * PromQL expression; the alert fires for each series it returns. Its structure is checked when the stack is read.
   * @default none (required)
   */
  expr: string;
  /**
   * How long the condition must hold before the alert fires, a Prometheus duration such as `"5m"`.
   * @default none (fires on the first evaluation)
   */
  for?: string;
  /**
   * Labels of the alert; `severity` (`critical` | `warning`) picks the route, like Ballast's own alerts.
   * @default {}
   */
  labels?: Record<string, string>;
  /**
   * Annotations: `summary`, `description`; `first_action` becomes the runbook's first step.
   * @default {}
   */
  annotations?: Record<string, string>;
}

/** A service level objective, by `type`. */
export type SloArgs = AvailabilitySloArgs | LatencySloArgs;

/** What every SLO declares. */
export interface SloBaseArgs {
  /**
   * Names the SLO (a DNS label) in alerts (`slo` label), recording rules and the dashboard; unique among `slos`.
   * @default none (required)
   */
  name: string;
  /**
   * The scraped workload (the app, a worker or an extra service with metrics) whose series the SLO reads: `job="<service>"` is added to its selectors.
   * @default none (required)
   */
  service: string;
  /**
   * Share of good events over the window, strictly between 0 and 1, e.g. 0.999 for 99.9 %.
   * @default none (required)
   */
  objective: number;
  /**
   * The compliance window the error budget spans, 7 to 90 days (the burn-rate factors 14.4 / 6 / 1 are for 30).
   * @default 30
   */
  windowDays?: number;
  /**
   * One line for the runbook and the dashboard: what the SLO promises.
   * @default none
   */
  description?: string;
}

/** An availability SLO: failed requests among all requests. */
export interface AvailabilitySloArgs extends SloBaseArgs {
  /**
   * The SLO type: `availability` counts `errors` among `total`.
   * @default none (required)
   */
  type: "availability";
  /**
   * All requests: a counter selector such as `"http_requests_total"` (no `job` matcher).
   * @default none (required for an availability SLO)
   */
  total: string;
  /**
   * Failed requests, a subset of `total`: a counter selector such as `'http_requests_total{status=~"5.."}'` (no `job` matcher).
   * @default none (required for an availability SLO)
   */
  errors: string;
}

/** A latency SLO: requests slower than a histogram bucket bound. */
export interface LatencySloArgs extends SloBaseArgs {
  /**
   * The SLO type: `latency` counts requests of `histogram` slower than `thresholdSeconds`.
   * @default none (required)
   */
  type: "latency";
  /**
   * The histogram, e.g. `"http_request_duration_seconds"` (its `_bucket` and `_count` series are read), optionally with
   * label matchers (no `job` or `le`).
   * @default none (required for a latency SLO)
   */
  histogram: string;
  /**
   * A request is good when faster than this many seconds; one of the histogram's bucket bounds, e.g. 2.5.
   * @default none (required for a latency SLO)
   */
  thresholdSeconds: number;
}
