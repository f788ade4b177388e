/**
 * Schema of `ballast:monitoring`: Prometheus, Alertmanager, Grafana, Loki, Alloy, the
 * exporters and tracing. Sizes depend on the environment and, like every other default,
 * come from ./defaults.ts.
 */
import { z } from "zod";
import { imageRef } from "./images";
import { emailAddress, metricName, resources, subdomain, urlPath } from "./primitives";
import { DEFAULT_RECEIVER, receiverKey, routeSchema, slosSchema } from "./alerting";

const positiveInt = z.number().int().positive();
const storageGiB = positiveInt.max(16_384);

/**
 * Where Alertmanager sends notifications. Secret parts never live in config: they come from
 * the user-supplied secret `alertmanager-receiver` (`alertmanager-receiver-<name>` for a
 * receiver under `receivers`), mounted as a file and referenced with
 * Alertmanager's `*_file` fields that Alertmanager 0.25 (Debian's amtool) already accepts.
 * 0.25 has no `url_file` for webhooks, so a webhook's URL is plain config and its secret is a
 * bearer token (`http_config.authorization.credentials_file`).
 */
export const receiverSchema = z.discriminatedUnion(
  "type",
  [
    z.strictObject({ type: z.literal("none") }),
    z.strictObject({
      type: z.literal("webhook"),
      /** Endpoint that receives Alertmanager's JSON payload. */
      url: z.string().regex(/^https?:\/\/\S+$/, { message: 'must be an http(s) URL such as "https://hooks.example.com/alerts"' }),
      /** `bearer`: send the `alertmanager-receiver` secret as `Authorization: Bearer`; `none`: no secret. */
      auth: z.enum(["bearer", "none"]),
    }),
    z.strictObject({
      type: z.literal("email"),
      to: emailAddress,
      from: emailAddress,
      /** `host:port` of the SMTP relay. */
      smarthost: z.string().regex(/^[^\s:]+:\d{1,5}$/, { message: 'must be host:port of the SMTP relay, e.g. "smtp.example.com:587"' }),
      /** SMTP login; when set, the password is the `alertmanager-receiver` secret. */
      username: z.string().min(1).optional(),
      requireTls: z.boolean(),
    }),
    z.strictObject({
      type: z.literal("slack"),
      /** `#channel`; the incoming-webhook URL is the `alertmanager-receiver` secret. */
      channel: z.string().regex(/^[#@][\w.-]+$/, { message: 'must be "#channel" or "@user"' }),
    }),
    /** The Events API v2 routing key is the `alertmanager-receiver` secret. */
    z.strictObject({ type: z.literal("pagerduty") }),
  ],
  { error: 'must be one of type "none", "webhook", "email", "slack", "pagerduty" with that type\'s fields' },
);

const appMetricNames = z.strictObject({
  httpRequestsTotal: metricName,
  errorsTotal: metricName,
  /** A histogram: `<name>_bucket` is queried. */
  httpRequestDurationSeconds: metricName,
  queueWaitingCount: metricName,
  /** A histogram of job processing time (NomosX `job_duration_seconds`). */
  jobDurationSeconds: metricName,
  costPerRunUsd: metricName,
});

const ratio = z.number().gt(0, { message: "must be a ratio between 0 and 1" }).lt(1, { message: "must be a ratio between 0 and 1" });

const alertsSchema = z
  .strictObject({
    /** Errors / requests over 5 minutes (NomosX: 5 %). */
    errorRateThreshold: ratio,
    /** The latency SLO: P95 of HTTP requests in seconds (NomosX: "P95 latency > 5s"). */
    latencyP95Seconds: z.number().positive(),
    /** Waiting jobs in one queue (NomosX: 1000). */
    queueBacklog: positiveInt,
    /** Average cost of one run in USD (NomosX: $5). */
    costPerRunUsd: z.number().positive(),
    /** Prefix of the app's LLM metrics (nyxcore: `nyxcore_llm_cost_usd_total`). */
    llmMetricPrefix: z.string().regex(/^([a-zA-Z_][a-zA-Z0-9_]*_)?$/, { message: 'must be "" or a metric-name prefix ending in "_", e.g. "nyxcore_"' }),
    /** LLM spend in USD over the last hour. */
    llmSpendPerHourUsd: z.number().positive(),
    /** Token rate over the last hour vs the last day's average that counts as an anomaly. */
    tokenAnomalyFactor: z.number().gt(1, { message: "must be a factor above 1" }),
    /** Recovery point objective: the last good backup may be at most this old (default: ballast:backups.rpoHours). */
    rpoHours: positiveInt.max(24 * 31),
    /** A restore drill must have succeeded within this many days (monthly drill + slack). */
    restoreDrillMaxAgeDays: positiveInt.max(366),
    /** A drill's restore must finish within this many minutes (default: ballast:backups.drill.timeoutMinutes). */
    restoreDrillMaxMinutes: positiveInt,
    /** Share of Postgres max_connections in use that raises a warning. */
    postgresConnectionsRatio: ratio,
    /** Share of Redis maxmemory in use that raises a warning. */
    redisMemoryRatio: ratio,
    /** Free share of a host filesystem below which a warning / a critical alert fires. */
    diskFreeWarningRatio: ratio,
    diskFreeCriticalRatio: ratio,
    /** Available share of host memory below which memory pressure is reported. */
    memoryAvailableRatio: ratio,
    /** Days before a TLS certificate expires that the warning fires. */
    tlsExpiryDays: positiveInt,
    metrics: appMetricNames,
  })
  .superRefine((a, ctx) => {
    if (a.diskFreeCriticalRatio >= a.diskFreeWarningRatio) {
      ctx.addIssue({ code: "custom", path: ["diskFreeCriticalRatio"], message: "must be below diskFreeWarningRatio" });
    }
  });

/** Receivers named in routes exist; `ops` stays the default receiver's name. */
function routeProblems(alertmanager: { receivers: Record<string, unknown>; routes: { receiver: string }[] }, ctx: z.RefinementCtx): void {
  const named = Object.keys(alertmanager.receivers);
  if (named.includes(DEFAULT_RECEIVER)) {
    ctx.addIssue({
      code: "custom",
      path: ["receivers", DEFAULT_RECEIVER],
      message: `"${DEFAULT_RECEIVER}" is the name of the default receiver (ballast:monitoring.alertmanager.receiver); give this one another name`,
    });
  }
  const allowed = [DEFAULT_RECEIVER, ...named.filter((name) => name !== DEFAULT_RECEIVER)];
  alertmanager.routes.forEach((route, i) => {
    if (!allowed.includes(route.receiver)) {
      ctx.addIssue({
        code: "custom",
        path: ["routes", i, "receiver"],
        message: `${JSON.stringify(route.receiver)} is not a receiver; allowed: ${allowed.join(", ")} (${DEFAULT_RECEIVER} is ballast:monitoring.alertmanager.receiver, the others are keys of ballast:monitoring.alertmanager.receivers)`,
      });
    }
  });
}

/** A monitoring part: can be switched off, runs a pinned image, sized per environment. */
const part = <T extends z.ZodRawShape>(shape: T) => z.strictObject({ enabled: z.boolean(), image: imageRef, resources, ...shape });

export const monitoringSchema = z.strictObject({
  /** Master switch: false deploys no monitoring at all. */
  enabled: z.boolean(),
  prometheus: part({ storageGiB, retentionDays: positiveInt.max(3650), scrapeIntervalSeconds: positiveInt.min(5).max(300) }),
  alertmanager: part({
    storageGiB,
    /** The default receiver (`ops` in routes): gets every alert no route takes. */
    receiver: receiverSchema,
    /** More receivers by name; each one's credential is the secret `alertmanager-receiver-<name>`. */
    receivers: z.record(receiverKey, receiverSchema),
    /** Tried in order; the first whose matchers all hold takes the alert (unless it says `continue`). */
    routes: z.array(routeSchema),
  }).superRefine(routeProblems),
  grafana: part({
    storageGiB,
    /** Public host is `<subdomain>.<domain>`. */
    subdomain,
    adminUser: z.string().min(1),
  }),
  loki: part({ storageGiB, retentionDays: positiveInt.max(3650) }),
  alloy: part({
    /** Request paths dropped from the logs besides the app's health and metrics paths and `/ping`. */
    dropPaths: z.array(urlPath),
  }),
  nodeExporter: part({}),
  cadvisor: part({}),
  postgresExporter: part({}),
  redisExporter: part({}),
  /** Probes the app's deep health through the stack's network (DeepHealthFailing alert). */
  blackboxExporter: part({}),
  tracing: z.strictObject({
    enabled: z.boolean(),
    backend: z.literal("tempo"),
    image: imageRef,
    resources,
    storageGiB,
    retentionHours: positiveInt.max(24 * 90),
    /** Share of root traces sampled (1 on dev/staging, 0.2 on prod). */
    sampleRatio: z.number().gt(0).max(1),
  }),
  alerts: alertsSchema,
  /** Service level objectives: multi-window, multi-burn-rate alerts and the SLO dashboard. */
  slos: slosSchema,
});
