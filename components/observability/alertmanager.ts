/**
 * alertmanager.yml: the default receiver (`ops`) and the stack's named receivers, the
 * stack's routes (by severity and labels) in front of a default route grouped by
 * alertname and severity, critical alerts on faster timings, and inhibitions so one
 * outage pages once.
 *
 * Secrets come from the user-supplied secret `alertmanager-receiver` (the default
 * receiver) and `alertmanager-receiver-<name>` (each named one), mounted as files and read
 * through `*_file` fields. Only fields Alertmanager 0.25 accepts are written
 * (Debian's amtool checks them; 0.27 runs them): 0.25 has `api_url_file`,
 * `routing_key_file` and `auth_password_file` but no webhook `url_file`, so a webhook's
 * secret travels as a bearer token via `http_config.authorization.credentials_file`.
 */
import {
  alertReceivers,
  DEFAULT_RECEIVER,
  formatMatcher,
  parseAlertMatcher,
  type LabelMatcher,
  type MonitoringConfig,
  type ReceiverConfig,
} from "../config";
import { monitoringPaths } from "./context";
import { toYaml } from "./yaml";

/** Name of the user-supplied secret holding the receiver credential. */
export const alertmanagerReceiverSecret = "alertmanager-receiver";

/** Alertmanager route tree (exported for tests that read the rendered file back). */
export interface Route {
  receiver: string;
  group_by?: string[];
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  matchers?: string[];
  continue?: boolean;
  routes?: Route[];
}

interface InhibitRule {
  source_matchers: string[];
  target_matchers: string[];
  equal: string[];
}

interface HttpConfig {
  authorization?: { type: "Bearer"; credentials_file: string };
}

interface WebhookConfig {
  url: string;
  send_resolved: boolean;
  http_config?: HttpConfig;
}

interface EmailConfig {
  to: string;
  from: string;
  smarthost: string;
  auth_username?: string;
  auth_password_file?: string;
  require_tls: boolean;
  send_resolved: boolean;
}

interface SlackConfig {
  api_url_file: string;
  channel: string;
  send_resolved: boolean;
  title: string;
  text: string;
}

interface PagerdutyConfig {
  routing_key_file: string;
  send_resolved: boolean;
  severity: string;
  description: string;
}

interface Receiver {
  name: string;
  webhook_configs?: WebhookConfig[];
  email_configs?: EmailConfig[];
  slack_configs?: SlackConfig[];
  pagerduty_configs?: PagerdutyConfig[];
}

export interface AlertmanagerConfig {
  global: { resolve_timeout: string };
  route: Route;
  inhibit_rules: InhibitRule[];
  receivers: Receiver[];
}

export const receiverName = DEFAULT_RECEIVER;

function receiverFor(receiverName: string, receiver: ReceiverConfig, secretFile: string): Receiver {
  switch (receiver.type) {
    case "none":
      // A receiver without integrations: alerts stay visible in Grafana, nobody is notified.
      return { name: receiverName };
    case "webhook":
      return {
        name: receiverName,
        webhook_configs: [
          {
            url: receiver.url,
            send_resolved: true,
            ...(receiver.auth === "bearer" ? { http_config: { authorization: { type: "Bearer", credentials_file: secretFile } } } : {}),
          },
        ],
      };
    case "email":
      return {
        name: receiverName,
        email_configs: [
          {
            to: receiver.to,
            from: receiver.from,
            smarthost: receiver.smarthost,
            ...(receiver.username !== undefined ? { auth_username: receiver.username, auth_password_file: secretFile } : {}),
            require_tls: receiver.requireTls,
            send_resolved: true,
          },
        ],
      };
    case "slack":
      return {
        name: receiverName,
        slack_configs: [
          {
            api_url_file: secretFile,
            channel: receiver.channel,
            send_resolved: true,
            title: "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }})",
            text: "{{ range .Alerts }}*{{ .Annotations.summary }}*\n{{ .Annotations.description }}\n{{ end }}",
          },
        ],
      };
    case "pagerduty":
      return {
        name: receiverName,
        pagerduty_configs: [
          {
            routing_key_file: secretFile,
            send_resolved: true,
            severity: '{{ if eq .CommonLabels.severity "critical" }}critical{{ else }}warning{{ end }}',
            description: "{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}",
          },
        ],
      };
  }
}

/**
 * Inhibitions: the cause silences its symptoms. Labels absent on both sides count as
 * equal, so `equal` lists only labels that tell two instances apart.
 */
export const inhibitRules: InhibitRule[] = [
  // The critical tier of an alert makes its warning tier redundant (HostDiskAlmostFull).
  // `service` and `slo` tell SLO burn alerts apart: a paging burn of one SLO holds back its own ticket only.
  {
    source_matchers: ['severity="critical"'],
    target_matchers: ['severity="warning"'],
    equal: ["alertname", "instance", "mountpoint", "service", "slo"],
  },
  // Database down: connections, errors, latency, queues and backups follow from it.
  {
    source_matchers: ['alertname="DatabaseDown"'],
    target_matchers: ['alertname=~"PostgresTooManyConnections|HighErrorRate|HighLatencyP95|QueueBacklog|BackupTooOld"'],
    equal: [],
  },
  // Postgres unobserved: its exporter's own scrape failure and stale connection counts say nothing new.
  {
    source_matchers: ['alertname="PostgresDown"'],
    target_matchers: ['alertname=~"ScrapeTargetDown|PostgresTooManyConnections"', 'job="postgres-exporter"'],
    equal: [],
  },
  { source_matchers: ['alertname="RedisDown"'], target_matchers: ['alertname="RedisNearMaxmemory"'], equal: ["instance"] },
  // App down: no traffic means error ratio and latency are noise, and its targets are down by definition.
  { source_matchers: ['alertname="AppDown"'], target_matchers: ['alertname=~"HighErrorRate|HighLatencyP95"'], equal: [] },
];

export interface AlertmanagerRenderOptions {
  /** Path of the mounted `alertmanager-receiver` secret (tests point it at a temp file). */
  receiverSecretFile: string;
  /** Path of a named receiver's mounted secret (default: next to the default receiver's). */
  namedReceiverSecretFile?: (receiver: string) => string;
}

/** Where a named receiver's secret is mounted: `<default receiver's file>-<name>`. */
export function namedReceiverSecretPath(receiver: string): string {
  return `${monitoringPaths.alertmanagerReceiverSecret}-${receiver}`;
}

/** Critical alerts: sooner first notice and a shorter reminder while they last. */
const criticalTiming = { group_wait: "10s", group_interval: "1m", repeat_interval: "1h" } as const;

const isCriticalMatcher = (m: LabelMatcher | undefined) => m?.label === "severity" && m.op === "=" && m.value === "critical";

/** The stack's routes, in order; one that selects `severity="critical"` gets the critical timing. */
function stackRoutes(monitoring: MonitoringConfig): Route[] {
  return monitoring.alertmanager.routes.map((route) => {
    const matchers = route.matchers.map((text) => parseAlertMatcher(text));
    return {
      receiver: route.receiver,
      matchers: matchers.map((m, i) => (m ? formatMatcher(m) : route.matchers[i])),
      ...(route.continue ? { continue: true } : {}),
      ...(matchers.some(isCriticalMatcher) ? criticalTiming : {}),
    };
  });
}

/** Pure: alertmanager.yml text. */
export function renderAlertmanagerConfig(
  monitoring: MonitoringConfig,
  options: AlertmanagerRenderOptions = { receiverSecretFile: monitoringPaths.alertmanagerReceiverSecret },
): string {
  const namedSecret = options.namedReceiverSecretFile ?? namedReceiverSecretPath;
  const config: AlertmanagerConfig = {
    global: { resolve_timeout: "5m" },
    route: {
      receiver: receiverName,
      group_by: ["alertname", "severity"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
      routes: [
        ...stackRoutes(monitoring),
        // Critical alerts no route took: the default receiver, on the critical timing.
        { receiver: receiverName, matchers: ['severity="critical"'], ...criticalTiming },
      ],
    },
    inhibit_rules: inhibitRules,
    receivers: alertReceivers(monitoring).map((r) =>
      receiverFor(r.name, r.config, r.name === receiverName ? options.receiverSecretFile : namedSecret(r.name)),
    ),
  };
  return toYaml(config, "Rendered by Ballast (components/observability/alertmanager.ts). Do not edit.");
}

/** Whether every matcher of a route holds for an alert's labels (an absent label is ""). */
function matches(matchers: string[] | undefined, labels: Record<string, string>): boolean {
  return (matchers ?? []).every((text) => {
    const m = parseAlertMatcher(text);
    if (!m) return false;
    const value = labels[m.label] ?? "";
    switch (m.op) {
      case "=":
        return value === m.value;
      case "!=":
        return value !== m.value;
      case "=~":
        return new RegExp(`^(?:${m.value})$`).test(value);
      case "!~":
        return !new RegExp(`^(?:${m.value})$`).test(value);
    }
  });
}

/**
 * Pure: the receivers an alert with these labels reaches, as Alertmanager routes it:
 * depth first, the first matching child wins unless it says `continue`, and a route none
 * of whose children match keeps the alert itself. The runbook's routing table uses it; a
 * test holds it to `amtool config routes test`.
 */
export function routeReceivers(route: Route, labels: Record<string, string>): string[] {
  const receivers: string[] = [];
  for (const child of route.routes ?? []) {
    if (!matches(child.matchers, labels)) continue;
    receivers.push(...routeReceivers({ ...child, receiver: child.receiver || route.receiver }, labels));
    if (!child.continue) break;
  }
  return receivers.length > 0 ? receivers : [route.receiver];
}

export function alertmanagerArgs(): string[] {
  return [
    `--config.file=${monitoringPaths.alertmanagerConfig}`,
    `--storage.path=${monitoringPaths.alertmanagerData}`,
    // Single instance: no gossip port, no peers to look for.
    "--cluster.listen-address=",
  ];
}
