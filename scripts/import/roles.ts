/**
 * What each compose service is to Ballast: the app, a worker, a cron job, the migration
 * one-shot, a datastore, the proxy, monitoring, or an extra service. Pure: the compose
 * file in, one role per service out (with the reason, for the summary).
 */
import type { ComposeFile, ComposeService } from "./compose-file";
import { commandOf, environmentOf, hostOfRule, labelsOf } from "./values";

export type Role =
  "app" | "worker" | "cron" | "scheduler" | "migration" | "postgres" | "redis" | "proxy" | "monitoring" | "tracing" | "service";

export interface RoleOf {
  service: ComposeService;
  role: Role;
}

/** The repository part of an image reference, without registry, tag or digest. */
export function imageRepository(image: string): string {
  const withoutDigest = image.split("@")[0];
  const lastSlash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.indexOf(":", lastSlash + 1);
  return (colon === -1 ? withoutDigest : withoutDigest.slice(0, colon)).toLowerCase();
}

const imagePatterns: [Role, RegExp][] = [
  ["proxy", /(^|\/)(traefik|caddy|nginx|nginx-proxy|haproxy|acme-companion|letsencrypt-nginx-proxy-companion|openresty)$/],
  [
    "monitoring",
    /(^|\/)(prometheus|grafana|loki|alloy|promtail|node-exporter|cadvisor|postgres-exporter|postgres_exporter|redis_exporter|redis-exporter|alertmanager|blackbox-exporter|pushgateway)$/,
  ],
  ["tracing", /(^|\/)(jaeger|all-in-one|tempo|otel\/opentelemetry-collector(-contrib)?|opentelemetry-collector(-contrib)?)$/],
  ["scheduler", /(^|\/)(ofelia)$/],
  ["postgres", /(^|\/)(postgres|pgvector|postgis|timescaledb(-ha)?)$/],
  ["redis", /(^|\/)(redis|redis-stack-server|valkey|keydb)$/],
];

function imageOf(service: ComposeService): string {
  return typeof service.spec.image === "string" ? service.spec.image : "";
}

/** A fixed role from the image alone (datastores, proxies, monitoring). */
export function imageRole(image: string): Role | undefined {
  if (!image) return undefined;
  const repository = imageRepository(image);
  return imagePatterns.find(([, pattern]) => pattern.test(repository))?.[0];
}

function commandLine(service: ComposeService): string {
  return [...(commandOf(service.spec.entrypoint) ?? []), ...(commandOf(service.spec.command) ?? [])].join(" ");
}

export function hasPorts(service: ComposeService): boolean {
  const ports = service.spec.ports;
  const expose = service.spec.expose;
  return (Array.isArray(ports) && ports.length > 0) || (Array.isArray(expose) && expose.length > 0) || traefikPort(service) !== undefined;
}

export function traefikPort(service: ComposeService): number | undefined {
  const labels = labelsOf(service.spec.labels);
  const entry = Object.entries(labels).find(([key]) => /^traefik\.http\.services\.[^.]+\.loadbalancer\.server\.port$/.test(key));
  return entry ? Number(entry[1]) || undefined : undefined;
}

/** The public host a service is routed at: a Traefik Host() rule or a VIRTUAL_HOST-style variable. */
export function routedHost(service: ComposeService): { host: string; path: (string | number)[] } | undefined {
  const labels = labelsOf(service.spec.labels);
  for (const [key, value] of Object.entries(labels)) {
    if (/^traefik\.http\.routers\.[^.]+\.rule$/.test(key)) {
      const host = hostOfRule(value);
      if (host) return { host, path: Array.isArray(service.spec.labels) ? ["labels", Object.keys(labels).indexOf(key)] : ["labels", key] };
    }
  }
  for (const entry of environmentOf(service.spec.environment)) {
    if (/^(VIRTUAL_HOST|LETSENCRYPT_HOST|CADDY_HOST|DOMAIN_NAME)$/.test(entry.name) && entry.value && !entry.value.includes("$")) {
      return { host: entry.value.split(",")[0].trim(), path: entry.path };
    }
  }
  return undefined;
}

export function isOneShot(service: ComposeService, file: ComposeFile): boolean {
  const restart = service.spec.restart;
  const noRestart = restart === "no" || restart === false || restart === "on-failure";
  const awaited = file.services.some((other) => {
    const dependsOn = other.spec.depends_on;
    if (typeof dependsOn !== "object" || dependsOn === null || Array.isArray(dependsOn)) return false;
    const condition = (dependsOn as Record<string, { condition?: string } | null>)[service.name]?.condition;
    return condition === "service_completed_successfully";
  });
  return awaited || (noRestart && /\b(migrat|alembic|db:push|db push|flyway|liquibase|knex|sequelize|typeorm)/i.test(commandLine(service)));
}

const workerCommand = /\b(worker|workers|queue|celery|bullmq|bull|sidekiq|rq\b|dramatiq|consumer|consume|jobs?:work|horizon)\b/i;
const cronCommand = /\b(crond|cron -f|supercronic|go-crond)\b|while\s+(true|:)\s*;?\s*do[\s\S]*\bsleep\s+\d+/i;

/** Ofelia labels on a container (`ofelia.job-exec.<job>.schedule`), which schedule jobs inside it. */
export function ofeliaJobs(service: ComposeService): string[] {
  const labels = labelsOf(service.spec.labels);
  const names = Object.keys(labels)
    .map((key) => /^ofelia\.job-(exec|run|local)\.([^.]+)\.schedule$/.exec(key)?.[2])
    .filter((name): name is string => name !== undefined);
  return [...new Set(names)];
}

function isCron(service: ComposeService): boolean {
  const labels = labelsOf(service.spec.labels);
  if (Object.keys(labels).some((key) => /(^|\.)(schedule|cron)$/.test(key) && !key.startsWith("ofelia."))) return true;
  if (cronCommand.test(commandLine(service))) return true;
  return /(^|[-_])cron($|[-_])/.test(service.name) || /(^|[-_/])cron($|[-_:])/.test(imageRepository(imageOf(service)));
}

const appNames = /^(app|web|api|frontend|server|backend|site|www|webapp|web-app|api-server)$/;

/** Picks the app: routed first, then an app-like name with ports, then the first service with ports. */
function pickApp(candidates: ComposeService[]): ComposeService | undefined {
  return (
    candidates.find((s) => routedHost(s) !== undefined) ??
    candidates.find((s) => appNames.test(s.name) && hasPorts(s)) ??
    candidates.find((s) => hasPorts(s) && !workerCommand.test(commandLine(s)))
  );
}

/** One role per service; `appName` overrides the choice of the app. */
export function assignRoles(file: ComposeFile, appName?: string): RoleOf[] {
  const roles = new Map<string, Role>();
  let postgresSeen = false;
  let redisSeen = false;
  for (const service of file.services) {
    const role = service.spec.build === undefined ? imageRole(imageOf(service)) : undefined;
    if (role === "postgres") {
      // One Postgres is Ballast's; a second one is an extra service (mapService says so).
      roles.set(service.name, postgresSeen ? "service" : "postgres");
      postgresSeen = true;
    } else if (role === "redis") {
      roles.set(service.name, redisSeen ? "service" : "redis");
      redisSeen = true;
    } else if (role) {
      roles.set(service.name, role);
    }
  }
  const open = () => file.services.filter((s) => !roles.has(s.name));
  for (const service of open()) if (isOneShot(service, file)) roles.set(service.name, "migration");
  const app = appName ? file.services.find((s) => s.name === appName) : pickApp(open().filter((s) => !isCron(s)));
  if (app) roles.set(app.name, "app");
  for (const service of open()) {
    if (isCron(service)) roles.set(service.name, "cron");
    else if (!hasPorts(service) || workerCommand.test(commandLine(service))) roles.set(service.name, "worker");
    else roles.set(service.name, "service");
  }
  return file.services.map((service) => ({ service, role: roles.get(service.name)! }));
}
