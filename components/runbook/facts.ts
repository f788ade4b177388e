/**
 * Pure helpers that gather the runbook's input from the same data that deploys the
 * stack: `runbookInput` from the validated PlatformConfig and the StackModel,
 * `alertsFromModel` from the Prometheus rule files the model ships.
 */
import { parse } from "yaml";
import { builtinSecrets, ENCRYPTION_KEY_PREVIOUS_SECRET, ROTATE_ALL, rotationCounters, type PlatformConfig } from "../config";
import { burnAlerts, errorBudget, sloPromise, type BurnWindow } from "../observability/slos";
import type { StackModel } from "../spec";
import type { RunbookAlert, RunbookInput, RunbookSlo, SecretSource } from "./types";

export interface RunbookInputOptions {
  /** Secret names with a value in `ballast:secretValues` (the rest of the built-ins are generated). */
  suppliedSecrets?: Iterable<string>;
  /** Alert rules to list; default: read from the model's rule files. */
  alerts?: RunbookAlert[];
  backupGuide?: string;
}

/** Pure: the runbook input for a stack, from its validated config and its model. */
export function runbookInput(model: StackModel, config: PlatformConfig, options: RunbookInputOptions = {}): RunbookInput {
  const supplied = new Set(options.suppliedSecrets ?? []);
  const secretSources: Record<string, SecretSource> = {};
  for (const secret of model.secrets) {
    const builtin = builtinSecrets[secret.name];
    if (builtin?.derived) secretSources[secret.name] = "derived";
    else if (supplied.has(secret.name) || (!builtin && secret.name in config.secrets)) secretSources[secret.name] = "supplied";
    else if (builtin?.generated || secret.name === ENCRYPTION_KEY_PREVIOUS_SECRET) secretSources[secret.name] = "generated";
  }
  const twoKeys = config.encryptionKeyRotation;
  const slos = config.monitoring.enabled ? config.monitoring.slos.map(runbookSlo) : [];
  const input: RunbookInput = {
    model,
    target: config.target,
    environment: config.environment,
    secretSources,
    rotation: {
      all: config.rotation[ROTATE_ALL] ?? 0,
      ...(twoKeys && !supplied.has("encryption-key")
        ? {
            encryptionKey: {
              previousKeyEnv: twoKeys.previousKeyEnv,
              generation: rotationCounters(config, [...supplied])["encryption-key"] ?? 0,
              reencrypted: twoKeys.reencrypted,
            },
          }
        : {}),
    },
    ...(slos.length > 0 ? { slos } : {}),
    ...(options.alerts ? { alerts: options.alerts } : {}),
    ...(options.backupGuide ? { backupGuide: options.backupGuide } : {}),
  };
  if (config.target === "compose") {
    const compose = config.compose;
    const ssh = compose.mode === "ssh" ? compose.ssh : undefined;
    input.compose = {
      mode: compose.mode,
      project: compose.project,
      // Local mode keeps the configured (relative) path: the runbook must not hold one machine's absolute path.
      releaseDir: (ssh ? ssh.remoteDir : compose.localDir).replace(/\/+$/, ""),
      ...(ssh ? { ssh: { host: ssh.host, port: ssh.port, user: ssh.user } } : {}),
      ...(ssh && compose.bootstrap?.enabled && compose.bootstrap.sshAllowFrom.length > 0
        ? { sshAllowFrom: [...compose.bootstrap.sshAllowFrom] }
        : {}),
      composeCommand: compose.composeCommand,
      keepReleases: compose.keepReleases,
      deployTimeoutSeconds: compose.deployTimeoutSeconds,
    };
  } else {
    input.kubernetes = {
      namespace: config.kubernetes.namespace,
      context: config.kubernetes.context,
      secretName: `${model.project}-secrets`,
    };
  }
  return input;
}

const burnText = (w: BurnWindow) => `${w.factor}x over ${w.long} (and still over the last ${w.short})`;

/** An SLO with its burn-rate alerts in words. */
function runbookSlo(slo: PlatformConfig["monitoring"]["slos"][number]): RunbookSlo {
  const [page, ticket] = burnAlerts(slo.windowDays);
  return {
    name: slo.name,
    service: slo.service,
    promise: slo.description ? `${slo.description}: ${sloPromise(slo)}` : sloPromise(slo),
    objective: slo.objective,
    windowDays: slo.windowDays,
    budgetPercent: +(errorBudget(slo) * 100).toPrecision(12),
    page: page.windows.map(burnText).join(" or "),
    ticket: ticket.windows.map(burnText).join(" or "),
  };
}

interface RawRule {
  alert?: unknown;
  for?: unknown;
  labels?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

function text(value: unknown): string {
  return typeof value === "string" ? value.trim().replace(/\s+/g, " ") : "";
}

/**
 * Annotation text for a reader instead of Alertmanager: template calls become named
 * placeholders (`{{ printf "%.1f" $value }}` -> `{value}`, `{{ $labels.cn }}` -> `{cn}`).
 */
export function readableAnnotation(value: unknown): string {
  return text(value)
    .replace(/\{\{-?\s*(?:printf\s+"[^"]*"\s+|humanize\w*\s+)?\$value(?:\s*\|\s*\w+)*\s*-?\}\}/g, "{value}")
    .replace(/\{\{-?\s*\$labels\.([A-Za-z_][A-Za-z0-9_]*)(?:\s*\|\s*\w+)*\s*-?\}\}/g, "{$1}");
}

/** Annotation keys that carry the first thing to do, in order of preference. */
const actionAnnotations = ["first_action", "action", "runbook"] as const;

/**
 * Pure: every alerting rule in the model's Prometheus rule files (a config file whose
 * YAML has `groups[].rules[].alert`), in file and rule order, duplicates dropped.
 */
export function alertsFromModel(model: StackModel): RunbookAlert[] {
  const alerts: RunbookAlert[] = [];
  const seen = new Set<string>();
  for (const workload of model.workloads) {
    for (const file of workload.configFiles) {
      if (!/\.ya?ml$/.test(file.name) || !/\balert\s*:/.test(file.content)) continue;
      let document: unknown;
      try {
        document = parse(file.content);
      } catch {
        continue;
      }
      const groups = (document as { groups?: unknown })?.groups;
      if (!Array.isArray(groups)) continue;
      for (const group of groups as { name?: unknown; rules?: unknown }[]) {
        if (!Array.isArray(group?.rules)) continue;
        for (const rule of group.rules as RawRule[]) {
          const name = text(rule?.alert);
          // The same name in another group is another rule (a team's HighErrorRate beside Ballast's).
          const id = `${text(group.name)}/${name}`;
          if (!name || seen.has(id)) continue;
          seen.add(id);
          const annotations = rule.annotations ?? {};
          const action = actionAnnotations.map((key) => readableAnnotation(annotations[key])).find((value) => value !== "");
          alerts.push({
            name,
            severity: text(rule.labels?.severity) || "none",
            summary: readableAnnotation(annotations.summary),
            description: readableAnnotation(annotations.description),
            ...(action ? { firstAction: action } : {}),
            ...(text(rule.for) ? { for: text(rule.for) } : {}),
            ...(text(group.name) ? { group: text(group.name) } : {}),
          });
        }
      }
    }
  }
  return alerts;
}

/** A Grafana dashboard the model provisions. */
export interface RunbookDashboard {
  title: string;
  uid: string;
}

/** Pure: the dashboards of the model's Grafana (its `*.json` config files), in provisioning order. */
export function dashboardsFromModel(model: StackModel): RunbookDashboard[] {
  const dashboards: RunbookDashboard[] = [];
  for (const workload of model.workloads) {
    for (const file of workload.configFiles) {
      if (!file.name.endsWith(".json") || !file.mountPath.startsWith("/etc/grafana/dashboards/")) continue;
      try {
        const json = JSON.parse(file.content) as { title?: unknown; uid?: unknown };
        if (typeof json.title === "string" && typeof json.uid === "string") dashboards.push({ title: json.title, uid: json.uid });
      } catch {
        continue;
      }
    }
  }
  return dashboards;
}
