/**
 * Facts the runbook sections share, computed once from the input: the public URLs,
 * which workloads are services, jobs, datastores and monitoring, the database login,
 * and the config path (`ballast:workers[0]`) that declares each workload.
 */
import type { RouteSpec, StackModel, WorkloadSpec } from "../spec";
import type { RunbookInput } from "./types";

export interface DatabaseFacts {
  workload: WorkloadSpec;
  user: string;
  database: string;
}

export interface RunbookContext {
  input: RunbookInput;
  model: StackModel;
  stack: string;
  /** Long-running workloads (everything but jobs), in declaration order. */
  services: WorkloadSpec[];
  /** Scheduled and one-shot jobs. */
  jobs: WorkloadSpec[];
  app?: WorkloadSpec;
  /** Public URL of the app's route, e.g. `https://app.example.com/`. */
  appUrl?: string;
  /** The app's health endpoint through the proxy. */
  healthUrl?: string;
  database?: DatabaseFacts;
  redis?: WorkloadSpec;
  /** Grafana's public URL, when monitoring with a route is part of the stack. */
  grafanaUrl?: string;
  /** Grafana's admin login (`GF_SECURITY_ADMIN_USER`), when set. */
  grafanaAdmin?: string;
  /** A log shipper (Alloy) is part of the stack. */
  shipsLogs: boolean;
  /** Loki is part of the stack (logs are searchable in Grafana Explore). */
  hasLoki: boolean;
  /** The Loki stream label that names the workload, when the log shipper's config sets one (`service`). */
  lokiServiceLabel?: string;
  /** Workloads that write to the database and must stop for a real restore (stateless holders of its credentials). */
  databaseWriters: WorkloadSpec[];
  /** Scheduled jobs that write to the database (suspended during a real restore on Kubernetes). */
  databaseWriterJobs: WorkloadSpec[];
  backupJob?: WorkloadSpec;
  offsiteJob?: WorkloadSpec;
  drillJob?: WorkloadSpec;
}

/** Secrets that grant access to Postgres. */
const databaseCredentials = new Set(["database-url", "postgres-password"]);

/** Backup workloads by their fixed names (components/backups). */
const backupNames = { backup: "backup", offsite: "backup-offsite", drill: "restore-drill" } as const;

function isProxy(workload: WorkloadSpec): boolean {
  return workload.component === "proxy" || workload.ports.some((port) => port.publish !== undefined);
}

/**
 * Base URL of a route as users reach it: the scheme from TLS and, on Compose, the
 * proxy's published port when it is not the scheme's default (dev serves on :8080).
 */
export function routeUrl(route: RouteSpec, model: StackModel, target: RunbookInput["target"]): string {
  const scheme = route.tls ? "https" : "http";
  let port = "";
  if (target === "compose") {
    const proxy = model.workloads.find(isProxy);
    const entry = proxy?.ports.find((p) => (route.tls ? p.name === "websecure" : p.name === "web"));
    const published = entry?.publish;
    if (published !== undefined && published !== (route.tls ? 443 : 80)) port = `:${published}`;
  }
  return `${scheme}://${route.host}${port}${route.pathPrefix}`;
}

function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}

/** The stream label Alloy puts the workload name in: `service` when its config targets that label. */
function serviceLabel(shipper: WorkloadSpec | undefined): string | undefined {
  const config = shipper?.configFiles.map((f) => f.content).join("\n") ?? "";
  return /target_label\s*=\s*"service"/.test(config) ? "service" : undefined;
}

function usesSecret(workload: WorkloadSpec, secrets: ReadonlySet<string>): boolean {
  return Object.values(workload.secretEnv).some((s) => secrets.has(s)) || workload.secretFiles.some((f) => secrets.has(f.secret));
}

export function createContext(input: RunbookInput): RunbookContext {
  const { model } = input;
  const services = model.workloads.filter((w) => w.role !== "job");
  const jobs = model.workloads.filter((w) => w.role === "job");
  const byName = new Map(model.workloads.map((w) => [w.name, w] as const));
  // Found by role, not by name: the stack names its app, database and cache (ballast:app.name ...).
  const app = model.workloads.find((w) => w.component === "app" && w.role === "stateless");
  const appUrl = app?.route ? routeUrl(app.route, model, input.target) : undefined;
  const healthPath = app?.deepHealth?.path ?? app?.health?.http?.path;
  const healthUrl = appUrl && healthPath ? joinUrl(appUrl, healthPath) : undefined;

  const postgres = model.workloads.find((w) => w.component === "postgres" && w.role === "stateful");
  const database: DatabaseFacts | undefined = postgres
    ? {
        workload: postgres,
        user: postgres.env.POSTGRES_USER ?? "postgres",
        database: postgres.env.POSTGRES_DB ?? postgres.env.POSTGRES_USER ?? "postgres",
      }
    : undefined;

  const grafana = byName.get("grafana");
  const grafanaUrl = grafana?.route ? routeUrl(grafana.route, model, input.target) : undefined;

  const writesDatabase = (w: WorkloadSpec) => w !== postgres && w.component !== "backups" && usesSecret(w, databaseCredentials);
  return {
    input,
    model,
    stack: model.stack,
    services,
    jobs,
    app,
    appUrl,
    healthUrl,
    database,
    redis: model.workloads.find((w) => w.component === "redis" && w.role === "stateful"),
    grafanaUrl,
    grafanaAdmin: grafana?.env.GF_SECURITY_ADMIN_USER,
    shipsLogs: byName.has("alloy"),
    hasLoki: byName.has("loki"),
    lokiServiceLabel: serviceLabel(byName.get("alloy")),
    databaseWriters: services.filter((w) => w.role === "stateless" && writesDatabase(w)),
    databaseWriterJobs: jobs.filter((w) => w.schedule !== undefined && writesDatabase(w)),
    backupJob: byName.get(backupNames.backup),
    offsiteJob: byName.get(backupNames.offsite),
    drillJob: byName.get(backupNames.drill),
  };
}

/**
 * The stack-config path that declares a workload's size, for `pulumi config set --path`:
 * `ballast:app`, `ballast:workers[0]`, `ballast:services[1]`, `ballast:cronJobs[0]`.
 * Undefined for workloads Ballast declares itself (datastores, proxy, monitoring).
 */
export function configPath(model: StackModel, workload: WorkloadSpec): string | undefined {
  const listKey: Record<string, string> = { workers: "workers", services: "services", cron: "cronJobs" };
  if (workload.component === "app" && workload.role === "stateless") return "ballast:app";
  const key = listKey[workload.component];
  if (!key) return undefined;
  const index = model.workloads.filter((w) => w.component === workload.component).indexOf(workload);
  return `ballast:${key}[${index}]`;
}

/** The env var a workload reads a secret from, if any (`POSTGRES_PASSWORD` for `postgres-password`). */
export function envVarFor(workload: WorkloadSpec, secret: string): string | undefined {
  return Object.entries(workload.secretEnv).find(([, name]) => name === secret)?.[0];
}
