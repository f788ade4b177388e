/**
 * The host scripts of the Compose target: deploy.sh, destroy.sh, maintenance.sh and autoscale.sh. Their bash
 * lives next to this file (scripts/*.sh, shellcheck reads them as they are); this module checks
 * every setting and puts them in front of the body as quoted readonly variables, so nothing on
 * the host takes arguments that could be got wrong. Needs on the host: bash 4+, coreutils
 * (timeout, base64), diffutils (cmp), util-linux flock, curl, awk, docker with compose v2.20+, cron for jobs.
 *
 * Host layout:  <base>/releases/<UTC time>-<bundle hash 12>/   one directory per release (0700)
 *               <base>/current -> releases/<id>                 the live release (relative link)
 *               <base>/routing/                                 Traefik's file provider (routers, servers)
 *               <base>/.ballast/destroy.sh                      what Pulumi's delete runs
 *               <base>/.deploy.lock                             serialises deploys and destroys
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { QueueScaledService, ReleasePlan } from "./release";

export interface HealthGateSettings {
  /** Public URL of the app's (deep) health endpoint (`https://app.example.com/health/deep`). */
  url: string;
  /** curl `--resolve` entry sending that host to the proxy on this machine (`app.example.com:443:127.0.0.1`). */
  resolve: string;
  /** https: accept the proxy's certificate even if it is not (yet) the ACME one. */
  tls: boolean;
  attempts: number;
  delaySeconds: number;
}

export interface ScriptSettings {
  project: string;
  releaseBase: string;
  /** `docker compose` or `docker-compose`. */
  composeCommand: string;
  /** Fixed names of the external volumes. */
  volumes: string[];
  /** The stack has scheduled jobs (services in the `jobs` profile). */
  hasJobs: boolean;
  /** Bound for `docker compose down`/`stop`: the longest stop grace period plus slack. */
  stopTimeoutSeconds: number;
  lockTimeoutSeconds: number;
}

export interface DeployScriptSettings extends ScriptSettings {
  keepReleases: number;
  /** How long new containers may take to become healthy. */
  deployTimeoutSeconds: number;
  /** Bound for `docker compose pull`. */
  pullTimeoutSeconds: number;
  healthGate: HealthGateSettings;
  plan: ReleasePlan;
  /** Per one-shot step: seconds before it is killed. */
  oneShotTimeouts: Record<string, number>;
  /** Traefik's API on the host's loopback (`http://127.0.0.1:8099`), where the switch is confirmed. */
  adminUrl: string;
  /** Seconds Traefik may take to show the new servers. */
  routeSwitchTimeoutSeconds: number;
  /** Install the release's crontab as the deploy user's (host cron runs scheduled jobs). */
  cron: boolean;
  /** Run maintenance.sh after each release. */
  maintenance: boolean;
}

export interface AutoscaleScriptSettings extends ScriptSettings {
  scaled: QueueScaledService[];
  /** The Redis service the queues are read in. */
  redisService: string;
  /** Environment variable of the Redis container holding its password (read there, never here). */
  redisPasswordEnv: string;
  /** Seconds after a scale-up before the worker may scale down. */
  cooldownSeconds: number;
}

export interface DestroyScriptSettings extends ScriptSettings {
  /** Also remove the volumes and the release directories. */
  allowDataLoss: boolean;
}

export interface MaintenanceScriptSettings extends ScriptSettings {
  /** `docker builder prune --keep-storage`. */
  buildCacheKeep: string;
}

/** Single-quotes text for bash. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A script body shipped next to this file, without its first paragraph (the note about the template). */
function body(name: "common" | "deploy" | "destroy" | "maintenance" | "autoscale"): string {
  return readFileSync(join(__dirname, "scripts", `${name}.sh`), "utf8").replace(/^(#[^\n]*\n)+\n/, "");
}

function composeWords(composeCommand: string): string[] {
  const words = composeCommand.trim().split(/\s+/);
  if (words.length === 0 || words.some((word) => !/^[A-Za-z0-9._/-]+$/.test(word))) {
    throw new Error(`compose command "${composeCommand}" must be plain words such as "docker compose"`);
  }
  return words;
}

function positiveInteger(name: string, value: number, minimum = 1): number {
  if (!Number.isInteger(value) || value < minimum) throw new Error(`${name} must be an integer of at least ${minimum} (got ${value})`);
  return value;
}

const serviceName = /^[a-z0-9][a-z0-9_-]*$/;

function names(what: string, list: string[]): string[] {
  for (const name of list) if (!serviceName.test(name)) throw new Error(`${what}: "${name}" is not a compose service name`);
  return list;
}

/** Command words that need no quoting, joined by spaces (deploy.sh splits them again). */
function plainWords(what: string, words: string[]): string {
  if (words.length === 0 || words.some((word) => !/^[A-Za-z0-9._/=-]+$/.test(word)))
    throw new Error(`${what}: ${JSON.stringify(words)} must be plain words`);
  return words.join(" ");
}

function bashArray(words: string[]): string {
  return `(${words.map(shellQuote).join(" ")})`;
}

function bashMap(entries: Record<string, string | number>): string {
  return `(${Object.entries(entries)
    .map(([key, value]) => `[${shellQuote(key)}]=${shellQuote(String(value))}`)
    .join(" ")})`;
}

/** The settings every script shares, then common.sh. */
function prelude(name: string, settings: ScriptSettings, extra: string[]): string {
  if (!settings.releaseBase.startsWith("/") || settings.releaseBase === "/") {
    throw new Error(`release directory "${settings.releaseBase}" must be an absolute path below /`);
  }
  if (!serviceName.test(settings.project)) throw new Error(`compose project "${settings.project}" is not a compose project name`);
  return [
    "#!/usr/bin/env bash",
    `# ${name}: rendered by Ballast for compose project ${settings.project}. Settings first, then the shared helpers and the script.`,
    "# shellcheck disable=SC2034 # the settings and helpers are shared: each script uses its part",
    `readonly PROJECT=${shellQuote(settings.project)}`,
    `readonly BASE_DIR=${shellQuote(settings.releaseBase)}`,
    `readonly -a COMPOSE=${bashArray(composeWords(settings.composeCommand))}`,
    `readonly -a PROFILE_ARGS=${bashArray(settings.hasJobs ? ["--profile", "jobs"] : [])}`,
    `readonly -a EXTERNAL_VOLUMES=${bashArray(settings.volumes)}`,
    `readonly STOP_TIMEOUT=${positiveInteger("stop timeout", settings.stopTimeoutSeconds)}`,
    `readonly LOCK_TIMEOUT=${positiveInteger("lock timeout", settings.lockTimeoutSeconds)}`,
    ...extra,
    body("common"),
  ].join("\n");
}

export function renderDeployScript(settings: DeployScriptSettings): string {
  const gate = settings.healthGate;
  if (!/^https?:\/\/[A-Za-z0-9.-]+(:\d+)?\/[A-Za-z0-9._~/%?=&-]*$/.test(gate.url)) {
    throw new Error(`health gate URL "${gate.url}" must be an http(s) URL with a plain host and path`);
  }
  const { plan } = settings;
  const routed = plan.routed;
  const extra = [
    `readonly KEEP_RELEASES=${positiveInteger("keepReleases", settings.keepReleases, 2)}`,
    `readonly WAIT_TIMEOUT=${positiveInteger("deployTimeoutSeconds", settings.deployTimeoutSeconds)}`,
    `readonly PULL_TIMEOUT=${positiveInteger("pull timeout", settings.pullTimeoutSeconds)}`,
    `readonly HEALTH_URL=${shellQuote(gate.url)}`,
    `readonly HEALTH_RESOLVE=${shellQuote(gate.resolve)}`,
    `readonly HEALTH_ATTEMPTS=${positiveInteger("health gate attempts", gate.attempts)}`,
    `readonly HEALTH_DELAY=${positiveInteger("health gate delay", gate.delaySeconds)}`,
    // -k: on a first deploy Traefik may still be fetching the ACME certificate; the gate proves the release answers through the proxy.
    `readonly HEALTH_INSECURE=${gate.tls ? 1 : 0}`,
    `readonly ADMIN_URL=${shellQuote(settings.adminUrl)}`,
    `readonly ROUTE_SWITCH_TIMEOUT=${positiveInteger("route switch timeout", settings.routeSwitchTimeoutSeconds)}`,
    `readonly CRON_ENABLED=${settings.cron ? 1 : 0}`,
    `readonly MAINTENANCE_ENABLED=${settings.maintenance ? 1 : 0}`,
    `readonly -a SINGLETONS=${bashArray(names("singletons", plan.singletons))}`,
    `readonly -a PREPARERS=${bashArray(names("preparing steps", plan.preparers))}`,
    `readonly -a ONE_SHOTS=${bashArray(names("one-shot steps", plan.oneShots))}`,
    `readonly -a ROLLING=${bashArray(
      names(
        "rolling services",
        plan.rolling.map((r) => r.name),
      ),
    )}`,
    `readonly -a ROUTED=${bashArray(
      names(
        "routed services",
        routed.map((r) => r.name),
      ),
    )}`,
    `declare -rA REPLICAS=${bashMap(Object.fromEntries(plan.rolling.map((r) => [r.name, positiveInteger(`replicas of ${r.name}`, r.replicas)])))}`,
    // Queue-scaled services: a release starts as many as run now (what autoscale.sh left), within these bounds.
    `declare -rA SCALE_MIN=${bashMap(Object.fromEntries(plan.scaled.map((s) => [s.name, positiveInteger(`minimum replicas of ${s.name}`, s.min)])))}`,
    `declare -rA SCALE_MAX=${bashMap(Object.fromEntries(plan.scaled.map((s) => [s.name, positiveInteger(`maximum replicas of ${s.name}`, s.max)])))}`,
    `declare -rA ROUTE_PORT=${bashMap(Object.fromEntries(routed.map((r) => [r.name, positiveInteger(`port of ${r.name}`, r.port)])))}`,
    `declare -rA ROUTE_HEALTH=${bashMap(Object.fromEntries(routed.filter((r) => r.healthPath).map((r) => [r.name, r.healthPath as string])))}`,
    // Parallel arrays: service, secret file (secrets/<name> in the release), command words (plain, space-separated).
    `readonly -a LIVE_SERVICES=${bashArray(
      names(
        "live secret services",
        plan.liveSecrets.map((l) => l.service),
      ),
    )}`,
    `readonly -a LIVE_SECRETS=${bashArray(
      names(
        "live secrets",
        plan.liveSecrets.map((l) => l.secret),
      ),
    )}`,
    `readonly -a LIVE_COMMANDS=${bashArray(plan.liveSecrets.map((l) => plainWords(`apply command of ${l.secret}`, l.apply)))}`,
    `declare -rA ONE_SHOT_TIMEOUT=${bashMap(
      Object.fromEntries(
        [...plan.preparers, ...plan.oneShots].map((job) => [job, positiveInteger(`timeout of ${job}`, settings.oneShotTimeouts[job] ?? 0)]),
      ),
    )}`,
  ];
  for (const route of routed) {
    if (route.healthPath !== undefined && !/^\/[A-Za-z0-9._~/-]*$/.test(route.healthPath)) {
      throw new Error(`health path "${route.healthPath}" of ${route.name} must be a plain URL path`);
    }
  }
  return `${prelude("deploy.sh", settings, extra)}\n${body("deploy")}`;
}

export function renderDestroyScript(settings: DestroyScriptSettings): string {
  return `${prelude("destroy.sh", settings, [`readonly ALLOW_DATA_LOSS=${settings.allowDataLoss ? 1 : 0}`])}\n${body("destroy")}`;
}

/** A Redis key as autoscale.sh passes it to redis-cli: one plain word (the config schema allows no more). */
const redisKeyPattern = /^[A-Za-z0-9_.:{}/@#+=-]{1,200}$/;

export function renderAutoscaleScript(settings: AutoscaleScriptSettings): string {
  if (settings.scaled.length === 0) throw new Error("autoscale.sh needs at least one queue-scaled service");
  if (!serviceName.test(settings.redisService)) throw new Error(`Redis service "${settings.redisService}" is not a compose service name`);
  if (!/^[A-Z_][A-Z0-9_]*$/.test(settings.redisPasswordEnv))
    throw new Error(`"${settings.redisPasswordEnv}" is not an environment variable name`);
  for (const s of settings.scaled) {
    if (!redisKeyPattern.test(s.key) || (s.consumerGroup !== undefined && !redisKeyPattern.test(s.consumerGroup))) {
      throw new Error(`queue of ${s.name}: "${s.key}" / "${s.consumerGroup ?? ""}" must be plain Redis keys`);
    }
    if (s.kind === "redis-stream" && s.consumerGroup === undefined)
      throw new Error(`queue of ${s.name}: a stream needs its consumer group`);
    positiveInteger(`minimum replicas of ${s.name}`, s.min);
    if (s.max < s.min) throw new Error(`replicas of ${s.name}: maximum ${s.max} is below minimum ${s.min}`);
  }
  const scaled = names(
    "queue-scaled services",
    settings.scaled.map((s) => s.name),
  );
  const map = (value: (s: QueueScaledService) => string | number) =>
    bashMap(Object.fromEntries(settings.scaled.map((s) => [s.name, value(s)])));
  const extra = [
    `readonly REDIS_SERVICE=${shellQuote(settings.redisService)}`,
    // Runs in the Redis container: the password comes from its own environment (REDISCLI_AUTH, not -a).
    "# shellcheck disable=SC2016 # expanded by the Redis container's shell, not here",
    `readonly REDIS_CLI=${shellQuote(`export REDISCLI_AUTH="$${settings.redisPasswordEnv}"; exec redis-cli "$@"`)}`,
    `readonly COOLDOWN_SECONDS=${positiveInteger("cooldown", settings.cooldownSeconds)}`,
    // Scaling down waits for the removed containers' stop grace period.
    `readonly SCALE_TIMEOUT=${positiveInteger("scale timeout", settings.stopTimeoutSeconds + 120)}`,
    `readonly -a SCALED=${bashArray(scaled)}`,
    `declare -rA QUEUE_KIND=${map((s) => s.kind)}`,
    `declare -rA QUEUE_KEY=${map((s) => s.key)}`,
    `declare -rA QUEUE_GROUP=${map((s) => s.consumerGroup ?? "")}`,
    `declare -rA QUEUE_TARGET=${map((s) => positiveInteger(`target per replica of ${s.name}`, s.targetPerReplica))}`,
    `declare -rA SCALE_MIN=${map((s) => s.min)}`,
    `declare -rA SCALE_MAX=${map((s) => s.max)}`,
  ];
  return `${prelude("autoscale.sh", settings, extra)}\n${body("autoscale")}`;
}

export function renderMaintenanceScript(settings: MaintenanceScriptSettings): string {
  if (!/^[1-9]\d*[kmg]$/.test(settings.buildCacheKeep)) throw new Error(`build cache size "${settings.buildCacheKeep}" must be like "5g"`);
  return `${prelude("maintenance.sh", settings, [`readonly BUILD_CACHE_KEEP=${shellQuote(settings.buildCacheKeep)}`])}\n${body("maintenance")}`;
}
