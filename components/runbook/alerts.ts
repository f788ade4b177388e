/**
 * The first action for an alert that does not name one itself (`annotations.first_action`):
 * derived from what the alert is about (its name, summary and description), written with
 * this stack's exact commands.
 */
import { workload, type WorkloadSpec } from "../spec";
import type { RunbookContext } from "./context";
import { code } from "./markdown";
import type { TargetOps } from "./ops";
import type { RunbookAlert } from "./types";

/** Section anchors the actions point to (they match the headings render.ts writes). */
export const sectionAnchors = {
  verify: "#verify",
  rollback: "#roll-back",
  logs: "#read-logs",
  database: "#database-shell",
  backups: "#backups-and-restore",
  scale: "#scale",
  secrets: "#secrets",
} as const;

/** The workload an alert is about, when its text names one of the stack's workloads. */
function workloadNamed(alert: RunbookAlert, workloads: WorkloadSpec[]): WorkloadSpec | undefined {
  const haystack = `${alert.name} ${alert.summary} ${alert.description}`.toLowerCase();
  const words = new Set(haystack.split(/[^a-z0-9-]+/));
  // Longest names first: `postgres-exporter` before `postgres`.
  return [...workloads].sort((a, b) => b.name.length - a.name.length || a.name.localeCompare(b.name)).find((w) => words.has(w.name));
}

interface Rule {
  pattern: RegExp;
  /** The action, or undefined when the stack lacks what it needs (the next rule is tried). */
  action(): string | undefined;
}

/** Labels whose value is a workload name in Ballast's series (`{container}`, `{job}` after readableAnnotation). */
const workloadLabels = ["container", "service", "job", "workload"] as const;

/**
 * A stand-in workload for an alert about "whichever workload fires it": its name is the
 * label placeholder (`<container>`), so the commands read "logs of <container>".
 */
function labelledWorkload(alert: RunbookAlert): WorkloadSpec | undefined {
  const text = `${alert.summary} ${alert.description}`;
  const label = workloadLabels.find((name) => text.includes(`{${name}}`));
  if (!label) return undefined;
  return workload({
    name: `<${label}>`,
    component: "alert",
    role: "stateless",
    description: "",
    image: "",
    resources: { requests: { cpu: 0, memoryMiB: 0 }, limits: { cpu: 0, memoryMiB: 0 } },
  });
}

export function firstAction(alert: RunbookAlert, ctx: RunbookContext, ops: TargetOps): string {
  if (alert.firstAction) return alert.firstAction;
  const named = labelledWorkload(alert) ?? workloadNamed(alert, ctx.model.workloads);
  const app = ctx.app;
  const logsOf = (w: WorkloadSpec | undefined) => (w ? (w.role === "job" ? ops.jobLogs(w) : ops.recentLogs(w)) : ops.status);
  const workers = ctx.services.filter((w) => w.component === "workers");

  const rules: Rule[] = [
    {
      // Deep health names every dependency; the app's own answer says which one is red.
      pattern: /deep health/i,
      action: () =>
        ctx.healthUrl
          ? `Open ${ctx.healthUrl}: it names the dependency that is down; then that service's log (${code(ops.status)}). If it began with a deploy, [roll back](${sectionAnchors.rollback}).`
          : undefined,
    },
    {
      pattern: /backup|drill|restore|offsite|\brpo\b/i,
      action: () => {
        const job = /drill/i.test(alert.name) && ctx.drillJob ? ctx.drillJob : named?.role === "job" ? named : ctx.backupJob;
        return job
          ? `Read the last run: ${code(ops.jobLogs(job))}; fix the cause, then run ${code(job.name)} once by hand ([Backups and restore](${sectionAnchors.backups})).`
          : `Check the backup runs ([Backups and restore](${sectionAnchors.backups})).`;
      },
    },
    {
      pattern: /cert|tls|acme|ssl/i,
      action: () => {
        const proxy = ctx.model.workloads.find((w) => w.component === "proxy");
        return proxy
          ? `Look for ACME errors in the proxy's log: ${code(ops.recentLogs(proxy))}; check that DNS of the routed hosts points at the stack and port 80 is reachable.`
          : "Check the ingress controller's certificate status and its ACME log.";
      },
    },
    {
      pattern: /disk|filesystem|volume|storage|pvc|space/i,
      action: () =>
        ops.kind === "compose"
          ? `On the host: ${code("df -h")} and ${code(ops.storage)}; prune images and build cache (never volumes) or grow the disk.`
          : `On the node it names: ${code("df -h")} (the kubelet removes unused images itself above its threshold); volumes: ${code(ops.storage)}, grown through the workload's ${code("storageGiB")} in the stack config.`,
    },
    {
      pattern: /postgres|database|\bpg_|\bsql\b|connections/i,
      action: () =>
        ctx.database
          ? `Check Postgres: ${code(logsOf(ctx.database.workload))}, then in a [database shell](${sectionAnchors.database}) ${code("SELECT count(*), state FROM pg_stat_activity GROUP BY state;")}.`
          : undefined,
    },
    {
      pattern: /queue|backlog|job.*(stuck|slow)/i,
      action: () =>
        workers.length > 0
          ? `Check the workers: ${code(logsOf(workers[0]))}; if they are healthy but behind, [scale](${sectionAnchors.scale}) them.`
          : undefined,
    },
    {
      pattern: /redis|cache/i,
      action: () =>
        ctx.redis ? `Check Redis: ${code(logsOf(ctx.redis))}; rate limiting fails open while it is down, so watch traffic.` : undefined,
    },
    {
      pattern: /\bllm|cost|spend|token|provider/i,
      action: () =>
        app
          ? `Look for a loop of LLM calls: ${code(logsOf(named ?? workers[0] ?? app))}${ctx.grafanaUrl ? ` and the LLM panels in Grafana (${ctx.grafanaUrl})` : ""}; to stop the spend at once, remove the provider's API key (no key, no calls).`
          : undefined,
    },
    {
      pattern: /memory|oom|cpu|throttl|load|saturat|pressure/i,
      action: () =>
        `See who uses it: ${code(ops.top)}; raise the workload's limit in the stack config or [scale](${sectionAnchors.scale}).`,
    },
    {
      pattern: /error|5\d\d|latency|slow|fail/i,
      action: () =>
        app
          ? `Read the app log: ${code(ops.recentLogs(named ?? app))}; if it began with a deploy, [roll back](${sectionAnchors.rollback}).`
          : undefined,
    },
    {
      pattern: /down|unreachable|absent|missing|target|restart|crash|unhealthy|\bup\b/i,
      action: () => `${code(ops.status)}, then the logs of the failing workload: ${code(logsOf(named ?? app))}.`,
    },
  ];

  // The alert's name says most precisely what it is about; the summary and description only when the name says nothing known.
  for (const text of [alert.name.replace(/([a-z])([A-Z])/g, "$1 $2"), alert.summary, alert.description]) {
    for (const rule of rules) {
      if (!rule.pattern.test(text)) continue;
      const action = rule.action();
      if (action) return action;
    }
  }
  return `${code(ops.status)}; read the logs of the workload it names ([Read logs](${sectionAnchors.logs})).`;
}
