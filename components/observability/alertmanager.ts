/**
 * alertmanager.yml: one receiver from config, a default route grouped by alertname and
 * severity, critical alerts on their own faster route, and inhibitions so one outage
 * pages once.
 *
 * Secrets come from the user-supplied secret `alertmanager-receiver`, mounted as a file
 * and read through `*_file` fields. Only fields Alertmanager 0.25 accepts are written
 * (Debian's amtool checks them; 0.27 runs them): 0.25 has `api_url_file`,
 * `routing_key_file` and `auth_password_file` but no webhook `url_file`, so a webhook's
 * secret travels as a bearer token via `http_config.authorization.credentials_file`.
 */
import type { MonitoringConfig, ReceiverConfig } from "../config";
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

export const receiverName = "ops";


function receiverFor(receiver: ReceiverConfig, secretFile: string): Receiver {
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
            title: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }})',
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
  { source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ["alertname", "instance", "mountpoint"] },
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
}

/** Pure: alertmanager.yml text. */
export function renderAlertmanagerConfig(
  monitoring: MonitoringConfig,
  options: AlertmanagerRenderOptions = { receiverSecretFile: monitoringPaths.alertmanagerReceiverSecret },
): string {
  const config: AlertmanagerConfig = {
    global: { resolve_timeout: "5m" },
    route: {
      receiver: receiverName,
      group_by: ["alertname", "severity"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
      routes: [
        // Critical: sooner first notice and a shorter reminder while it lasts.
        { receiver: receiverName, matchers: ['severity="critical"'], group_wait: "10s", group_interval: "1m", repeat_interval: "1h" },
      ],
    },
    inhibit_rules: inhibitRules,
    receivers: [receiverFor(monitoring.alertmanager.receiver, options.receiverSecretFile)],
  };
  return toYaml(config, "Rendered by Ballast (components/observability/alertmanager.ts). Do not edit.");
}

export function alertmanagerArgs(): string[] {
  return [
    `--config.file=${monitoringPaths.alertmanagerConfig}`,
    `--storage.path=${monitoringPaths.alertmanagerData}`,
    // Single instance: no gossip port, no peers to look for.
    "--cluster.listen-address=",
  ];
}
