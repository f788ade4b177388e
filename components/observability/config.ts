/**
 * `ballast:monitoring`: the observability part of the stack config.
 *
 * The schema holds every environment-independent default; sizes (resources and storage)
 * depend on the environment and are filled by `resolveMonitoring` from
 * `monitoringSizing`, so staging fits its 1.5 GiB budget and prod gets room to grow.
 * Unknown keys are refused at every level: a misspelled key must fail, not be ignored.
 */
import { z } from "zod";
import { ConfigError, nearestKey, showValue } from "../config/errors";
import type { Environment } from "../config/types";

const positiveInt = z.number().int().positive();
const pinnedImage = z
  .string()
  .regex(/^\S+$/, "expected an image reference such as prom/prometheus:v2.53.0")
  .refine((ref) => /:[^/]+$/.test(ref) || ref.includes("@sha256:"), {
  message: "images must be pinned by tag or digest",
}).refine((ref) => !/:latest$/.test(ref), { message: "the `latest` tag is not a pin" });

/** Limits of one container; requests are derived (half) by `resourceSpec`. */
const resourcesSchema = z
  .object({
    /** CPU cores of the limit. */
    cpu: z.number().positive().max(64),
    /** Memory limit in MiB. */
    memoryMiB: z.number().int().min(16).max(262_144),
  })
  .strict();

/** Env-dependent size knobs: absent means "the environment default". */
const sized = {
  resources: resourcesSchema.optional(),
};
const sizedWithStorage = {
  ...sized,
  /** Size of the persistent volume in GiB. */
  storageGiB: positiveInt.max(16_384).optional(),
};

const emailAddress = z.string().regex(/^[^\s@]+@[^\s@]+$/, "expected an e-mail address");

/**
 * Where Alertmanager sends notifications. Secret parts never live in config: they come from
 * the user-supplied secret `alertmanager-receiver`, mounted as a file and referenced with
 * Alertmanager's `*_file` fields that Alertmanager 0.25 (Debian's amtool) already accepts.
 * 0.25 has no `url_file` for webhooks, so a webhook's URL is plain config and its secret is a
 * bearer token (`http_config.authorization.credentials_file`).
 */
const receiverSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("none") }).strict(),
  z
    .object({
      type: z.literal("webhook"),
      /** Endpoint that receives Alertmanager's JSON payload. */
      url: z.string().regex(/^https?:\/\/\S+$/, "expected an http(s) URL"),
      /** `bearer`: send the `alertmanager-receiver` secret as `Authorization: Bearer`; `none`: no secret. */
      auth: z.enum(["bearer", "none"]).default("bearer"),
    })
    .strict(),
  z
    .object({
      type: z.literal("email"),
      to: emailAddress,
      from: emailAddress,
      /** `host:port` of the SMTP relay. */
      smarthost: z.string().regex(/^[^\s:]+:\d{1,5}$/, "expected host:port"),
      /** SMTP login; when set, the password is the `alertmanager-receiver` secret. */
      username: z.string().min(1).optional(),
      requireTls: z.boolean().default(true),
    })
    .strict(),
  z
    .object({
      type: z.literal("slack"),
      /** `#channel`; the incoming-webhook URL is the `alertmanager-receiver` secret. */
      channel: z.string().regex(/^[#@][\w.-]+$/, "expected #channel or @user"),
    })
    .strict(),
  z
    .object({
      type: z.literal("pagerduty"),
      /** The Events API v2 routing key is the `alertmanager-receiver` secret. */
    })
    .strict(),
]);

const appMetricNames = z
  .object({
    httpRequestsTotal: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/).default("http_requests_total"),
    errorsTotal: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/).default("errors_total"),
    /** A histogram: `<name>_bucket` is queried. */
    httpRequestDurationSeconds: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/).default("http_request_duration_seconds"),
    queueWaitingCount: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/).default("queue_waiting_count"),
    /** A histogram of job processing time (NomosX `job_duration_seconds`). */
    jobDurationSeconds: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/).default("job_duration_seconds"),
    costPerRunUsd: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/).default("cost_per_run_usd"),
  })
  .strict();

const alertsSchema = z
  .object({
    /** Errors / requests over 5 minutes (NomosX: 5 %). */
    errorRateThreshold: z.number().gt(0).lt(1).default(0.05),
    /** The latency SLO: P95 of HTTP requests in seconds (NomosX: "P95 latency > 5s"). */
    latencyP95Seconds: z.number().positive().default(5),
    /** Waiting jobs in one queue (NomosX: 1000). */
    queueBacklog: positiveInt.default(1000),
    /** Average cost of one run in USD (NomosX: $5). */
    costPerRunUsd: z.number().positive().default(5),
    /** Prefix of the app's LLM metrics (nyxcore: `nyxcore_llm_cost_usd_total`). */
    llmMetricPrefix: z.string().regex(/^([a-zA-Z_][a-zA-Z0-9_]*_)?$/, "expected empty or a prefix ending in _").default("nyxcore_"),
    /** LLM spend in USD over the last hour. */
    llmSpendPerHourUsd: z.number().positive().default(10),
    /** Token rate over the last hour vs the last day's average that counts as an anomaly. */
    tokenAnomalyFactor: z.number().gt(1).default(3),
    /** Recovery point objective: the last good backup may be at most this old. */
    rpoHours: positiveInt.max(24 * 31).default(24),
    /** A restore drill must have succeeded within this many days (monthly drill + slack). */
    restoreDrillMaxAgeDays: positiveInt.max(366).default(35),
    /** A drill's restore must finish within this many minutes (Dealix runbook: 15). */
    restoreDrillMaxMinutes: positiveInt.default(15),
    /** Share of Postgres max_connections in use that raises a warning. */
    postgresConnectionsRatio: z.number().gt(0).lt(1).default(0.8),
    /** Share of Redis maxmemory in use that raises a warning. */
    redisMemoryRatio: z.number().gt(0).lt(1).default(0.9),
    /** Free share of a host filesystem below which a warning / a critical alert fires. */
    diskFreeWarningRatio: z.number().gt(0).lt(1).default(0.15),
    diskFreeCriticalRatio: z.number().gt(0).lt(1).default(0.05),
    /** Available share of host memory below which memory pressure is reported. */
    memoryAvailableRatio: z.number().gt(0).lt(1).default(0.1),
    /** Days before a TLS certificate expires that the warning fires. */
    tlsExpiryDays: positiveInt.default(14),
    metrics: appMetricNames.prefault({}),
  })
  .strict()
  .refine((a) => a.diskFreeCriticalRatio < a.diskFreeWarningRatio, {
    message: "diskFreeCriticalRatio must be below diskFreeWarningRatio",
    path: ["diskFreeCriticalRatio"],
  });

/** A monitoring part: can be switched off, runs a pinned image. */
const part = <T extends z.ZodRawShape>(defaultImage: string, shape: T) =>
  z.object({ enabled: z.boolean().default(true), image: pinnedImage.default(defaultImage), ...shape }).strict();

export const monitoringSchema = z
  .object({
    /** Master switch: false deploys no monitoring at all. */
    enabled: z.boolean().default(true),
    prometheus: part("prom/prometheus:v2.53.0", {
      ...sizedWithStorage,
      retentionDays: positiveInt.max(3650).default(30),
      scrapeIntervalSeconds: positiveInt.min(5).max(300).default(15),
    }).prefault({}),
    alertmanager: part("prom/alertmanager:v0.27.0", {
      ...sizedWithStorage,
      receiver: receiverSchema.prefault({ type: "none" }),
    }).prefault({}),
    grafana: part("grafana/grafana:11.3.0", {
      ...sizedWithStorage,
      /** Public host is `<subdomain>.<domain>`. */
      subdomain: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "expected a DNS label").default("grafana"),
      adminUser: z.string().min(1).default("admin"),
    }).prefault({}),
    loki: part("grafana/loki:3.4.2", {
      ...sizedWithStorage,
      retentionDays: positiveInt.max(3650).default(7),
    }).prefault({}),
    alloy: part("grafana/alloy:v1.7.1", {
      ...sized,
      /** Request paths dropped from the logs besides the app's health and metrics paths and `/ping`. */
      dropPaths: z.array(z.string().regex(/^\/\S*$/, "expected a path starting with /")).default([]),
    }).prefault({}),
    nodeExporter: part("prom/node-exporter:v1.8.0", sized).prefault({}),
    cadvisor: part("gcr.io/cadvisor/cadvisor:v0.49.1", sized).prefault({}),
    postgresExporter: part("prometheuscommunity/postgres-exporter:v0.15.0", sized).prefault({}),
    redisExporter: part("oliver006/redis_exporter:v1.62.0", sized).prefault({}),
    tracing: z
      .object({
        enabled: z.boolean().default(false),
        backend: z.literal("tempo").default("tempo"),
        image: pinnedImage.default("grafana/tempo:2.6.1"),
        ...sizedWithStorage,
        retentionHours: positiveInt.max(24 * 90).default(72),
        /** Share of root traces sampled; absent: 1 on dev/staging, 0.2 on prod. */
        sampleRatio: z.number().gt(0).max(1).optional(),
      })
      .strict()
      .prefault({}),
    alerts: alertsSchema.prefault({}),
  })
  .strict();

/** What a stack file may write under `ballast:monitoring`. */
export type MonitoringInput = z.input<typeof monitoringSchema>;
type ParsedMonitoring = z.output<typeof monitoringSchema>;
export type ReceiverConfig = ParsedMonitoring["alertmanager"]["receiver"];
export type AlertsConfig = ParsedMonitoring["alerts"];
export type AppMetricNames = AlertsConfig["metrics"];

export interface PartResources {
  cpu: number;
  memoryMiB: number;
}

/** Parts whose size is environment-dependent. */
export type SizedPart =
  | "prometheus"
  | "alertmanager"
  | "grafana"
  | "loki"
  | "alloy"
  | "nodeExporter"
  | "cadvisor"
  | "postgresExporter"
  | "redisExporter"
  | "tracing";
export type StoragePart = "prometheus" | "alertmanager" | "grafana" | "loki" | "tracing";

export interface MonitoringSizing {
  resources: Record<SizedPart, PartResources>;
  storageGiB: Record<StoragePart, number>;
  sampleRatio: number;
}

/** Resolved monitoring config: every size filled in. */
export type MonitoringConfig = {
  [K in keyof ParsedMonitoring]: K extends SizedPart
    ? Omit<ParsedMonitoring[K], "resources" | "storageGiB" | "sampleRatio"> & { resources: PartResources } & (K extends StoragePart
          ? { storageGiB: number }
          : unknown) &
        (K extends "tracing" ? { sampleRatio: number } : unknown)
    : ParsedMonitoring[K];
};

/**
 * Sizes per environment. Staging's limits add up to at most 1.5 GiB (checked by a test)
 * so the whole set fits beside app, workers and datastores on a 4 vCPU / 8 GiB VPS.
 */
export function monitoringSizing(environment: Environment): MonitoringSizing {
  if (environment === "prod") {
    return {
      resources: {
        prometheus: { cpu: 1, memoryMiB: 2048 },
        alertmanager: { cpu: 0.2, memoryMiB: 128 },
        grafana: { cpu: 0.5, memoryMiB: 512 },
        loki: { cpu: 1, memoryMiB: 1024 },
        alloy: { cpu: 0.5, memoryMiB: 384 },
        nodeExporter: { cpu: 0.2, memoryMiB: 96 },
        cadvisor: { cpu: 0.5, memoryMiB: 384 },
        postgresExporter: { cpu: 0.2, memoryMiB: 128 },
        redisExporter: { cpu: 0.1, memoryMiB: 64 },
        tracing: { cpu: 0.5, memoryMiB: 1024 },
      },
      storageGiB: { prometheus: 50, alertmanager: 1, grafana: 5, loki: 50, tracing: 50 },
      sampleRatio: 0.2,
    };
  }
  // dev and staging share the small set: dev runs on a laptop, staging on a shared VPS.
  return {
    resources: {
      prometheus: { cpu: 0.5, memoryMiB: 448 },
      alertmanager: { cpu: 0.1, memoryMiB: 64 },
      grafana: { cpu: 0.25, memoryMiB: 192 },
      loki: { cpu: 0.25, memoryMiB: 320 },
      alloy: { cpu: 0.2, memoryMiB: 160 },
      nodeExporter: { cpu: 0.1, memoryMiB: 48 },
      cadvisor: { cpu: 0.2, memoryMiB: 160 },
      postgresExporter: { cpu: 0.1, memoryMiB: 48 },
      redisExporter: { cpu: 0.05, memoryMiB: 32 },
      tracing: { cpu: 0.25, memoryMiB: 256 },
    },
    storageGiB: {
      prometheus: environment === "dev" ? 5 : 10,
      alertmanager: 1,
      grafana: 1,
      loki: environment === "dev" ? 5 : 10,
      tracing: environment === "dev" ? 2 : 10,
    },
    sampleRatio: 1,
  };
}

/** Fills the environment-dependent sizes of an already parsed config. */
export function applyMonitoringSizing(parsed: ParsedMonitoring, environment: Environment): MonitoringConfig {
  const sizing = monitoringSizing(environment);
  const withSize = <K extends SizedPart>(key: K) => ({
    ...parsed[key],
    resources: parsed[key].resources ?? sizing.resources[key],
  });
  const withStorage = <K extends StoragePart>(key: K) => ({
    ...withSize(key),
    storageGiB: parsed[key].storageGiB ?? sizing.storageGiB[key],
  });
  return {
    ...parsed,
    prometheus: withStorage("prometheus"),
    alertmanager: withStorage("alertmanager"),
    grafana: withStorage("grafana"),
    loki: withStorage("loki"),
    alloy: withSize("alloy"),
    nodeExporter: withSize("nodeExporter"),
    cadvisor: withSize("cadvisor"),
    postgresExporter: withSize("postgresExporter"),
    redisExporter: withSize("redisExporter"),
    tracing: { ...withStorage("tracing"), sampleRatio: parsed.tracing.sampleRatio ?? sizing.sampleRatio },
  };
}

/** `ballast:monitoring.alertmanager.receiver.url: <message> (got "x")` for each problem. */
export function monitoringIssues(error: z.ZodError, input: unknown): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
    const key = `ballast:monitoring${path}`;
    if (issue.code === "unrecognized_keys") {
      const allowed = knownKeysAt(monitoringSchema, issue.path, input);
      const named = issue.keys.map((k) => {
        const suggestion = nearestKey(k, allowed);
        return suggestion ? `\`${k}\` (did you mean \`${suggestion}\`?)` : `\`${k}\``;
      });
      return `${key}: unknown key(s) ${named.join(", ")}; allowed: ${allowed.join(", ")}`;
    }
    return `${key}: ${issue.message} (got ${showValue(valueAt(input, issue.path))})`;
  });
}

/** Parses `ballast:monitoring` for an environment; throws a ConfigError naming every bad key. */
export function resolveMonitoring(input: unknown, environment: Environment): MonitoringConfig {
  const result = monitoringSchema.safeParse(input ?? {});
  if (!result.success) throw new ConfigError(monitoringIssues(result.error, input));
  return applyMonitoringSizing(result.data, environment);
}

function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let value: unknown = input;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Zod's internal definition, read only to list the keys a config object may have. */
interface SchemaDef {
  type: string;
  innerType?: { _zod: { def: SchemaDef } };
  shape?: Record<string, { _zod: { def: SchemaDef } }>;
  options?: { _zod: { def: SchemaDef } }[];
  discriminator?: string;
}

/** Keys allowed at `path`: unwraps defaults and, for the receiver union, picks the option of the given `type`. */
function knownKeysAt(schema: { _zod: { def: SchemaDef } }, path: ReadonlyArray<PropertyKey>, input: unknown): string[] {
  let def: SchemaDef = schema._zod.def;
  let value: unknown = input;
  const unwrap = () => {
    while (def.innerType) def = def.innerType._zod.def;
    if (def.type === "union" && def.options && def.discriminator) {
      const chosen = value !== null && typeof value === "object" ? (value as Record<string, unknown>)[def.discriminator] : undefined;
      const option = def.options.find((o) => {
        const literal = o._zod.def.shape?.[def.discriminator!]?._zod.def as { values?: unknown[] } | undefined;
        return literal?.values?.includes(chosen);
      });
      if (option) def = option._zod.def;
    }
  };
  unwrap();
  for (const key of path) {
    const next = def.shape?.[String(key)];
    if (!next) return [];
    def = next._zod.def;
    value = value !== null && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[key] : undefined;
    unwrap();
  }
  return Object.keys(def.shape ?? {});
}
