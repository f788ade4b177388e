/**
 * Alert routing as the runbook shows it, read from what the stack deploys: the
 * alertmanager.yml and the Prometheus rule files in the model. Each alert (name, severity
 * and its static labels) goes through the rendered route tree with `routeReceivers`, the
 * evaluator a test holds to `amtool config routes test`.
 */
import { parse } from "yaml";
import { routeReceivers, type AlertmanagerConfig } from "../observability/alertmanager";
import type { StackModel } from "../spec";

export interface RoutedAlert {
  name: string;
  severity: string;
  /** Static labels of the rule besides `severity` (an SLO alert's `slo` and `service`). */
  labels: Record<string, string>;
  receivers: string[];
}

export interface ReceiverTarget {
  name: string;
  /** Where it notifies, in words (`Slack #incidents`, `PagerDuty`). */
  target: string;
  /** Reads a mounted credential (a `*_file` field). */
  hasCredential: boolean;
}

export interface AlertRouting {
  receivers: ReceiverTarget[];
  alerts: RoutedAlert[];
  /** Inhibition rules in words. */
  inhibitions: string[];
}

function configFileOf(model: StackModel, name: string): string[] {
  return model.workloads.flatMap((w) => w.configFiles.filter((f) => f.name === name).map((f) => f.content));
}

function receiverTarget(receiver: Record<string, unknown>): string {
  const first = (key: string) => (Array.isArray(receiver[key]) ? (receiver[key] as Record<string, unknown>[])[0] : undefined);
  const slack = first("slack_configs");
  if (slack) return `Slack ${String(slack.channel)}`;
  if (first("pagerduty_configs")) return "PagerDuty (Events API v2)";
  const email = first("email_configs");
  if (email) return `e-mail to ${String(email.to)} via ${String(email.smarthost)}`;
  const webhook = first("webhook_configs");
  if (webhook) return `webhook ${String(webhook.url)}`;
  return "nobody (no integration: alerts show in Alertmanager and Grafana only)";
}

/** Distinct alerting rules (name, severity, static labels) of the model's rule files, in file order. */
function ruleAlerts(model: StackModel): { name: string; severity: string; labels: Record<string, string> }[] {
  const seen = new Set<string>();
  const alerts: { name: string; severity: string; labels: Record<string, string> }[] = [];
  for (const workload of model.workloads) {
    for (const file of workload.configFiles) {
      if (!/\.ya?ml$/.test(file.name) || !/\balert\s*:/.test(file.content)) continue;
      const groups = (parse(file.content) as { groups?: { rules?: { alert?: unknown; labels?: Record<string, unknown> }[] }[] } | null)
        ?.groups;
      for (const rule of (groups ?? []).flatMap((g) => g.rules ?? [])) {
        if (typeof rule.alert !== "string") continue;
        const { severity, ...rest } = Object.fromEntries(Object.entries(rule.labels ?? {}).map(([k, v]) => [k, String(v)]));
        const key = JSON.stringify([rule.alert, severity, rest]);
        if (seen.has(key)) continue;
        seen.add(key);
        alerts.push({ name: rule.alert, severity: severity ?? "none", labels: rest });
      }
    }
  }
  return alerts;
}

/** Pure: the stack's alert routing, or undefined when it runs no Alertmanager. */
export function alertRoutingFromModel(model: StackModel): AlertRouting | undefined {
  const [text] = configFileOf(model, "alertmanager.yml");
  if (text === undefined) return undefined;
  const config = parse(text) as AlertmanagerConfig;
  const receivers = (config.receivers as unknown as Record<string, unknown>[]).map((r) => ({
    name: String(r.name),
    target: receiverTarget(r),
    hasCredential: /_file"/.test(JSON.stringify(r)),
  }));
  const alerts = ruleAlerts(model).map((alert) => ({
    ...alert,
    receivers: [...new Set(routeReceivers(config.route, { alertname: alert.name, severity: alert.severity, ...alert.labels }))],
  }));
  const inhibitions = config.inhibit_rules.map(
    (rule) =>
      `${rule.target_matchers.map((m) => `\`${m}\``).join(" and ")} is held back while ${rule.source_matchers.map((m) => `\`${m}\``).join(" and ")} fires` +
      (rule.equal.length > 0 ? ` with the same ${rule.equal.join(", ")}` : ""),
  );
  return { receivers, alerts, inhibitions };
}
