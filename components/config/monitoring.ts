/**
 * Schema of `ballast:monitoring`: Prometheus, Alertmanager, Grafana, Loki, Alloy, the
 * exporters and tracing. Sizes depend on the environment and, like every other default,
 * come from ./defaults.ts.
 */
import { z } from "zod";
import { cidr } from "./compose";
import { imageRef } from "./images";
import { emailAddress, labelName, metricName, resources, subdomain, urlPath } from "./primitives";
import { promqlSyntaxProblem } from "./promql";
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

/**
 * Failed requests: a counter of its own (NomosX `errors_total`), or the requests counter
 * filtered by its status label (nyxcore `nyxcore_http_requests_total{status_code=~"5.."}`).
 */
const errorsMetric = z.union(
  [
    metricName,
    z.strictObject({
      metric: metricName,
      /** The label that carries the HTTP status (`status_code`, `code`, `status`). */
      statusLabel: labelName,
      /** Regex (RE2, anchored by Prometheus) of the statuses that count as errors, e.g. `5..`. */
      errorStatus: z
        .string()
        .min(1)
        .refine((value) => !/["\\\n]/.test(value) && isRegex(value), {
          message: 'must be a regular expression of status values without quotes or backslashes, e.g. "5.." or "5..|429"',
        }),
    }),
  ],
  {
    error:
      'must be a metric name such as "errors_total", or {metric, statusLabel, errorStatus} such as {metric: http_requests_total, statusLabel: status_code, errorStatus: "5.."}',
  },
);

function isRegex(value: string): boolean {
  try {
    new RegExp(value);
    return true;
  } catch {
    return false;
  }
}

const appMetricNames = z.strictObject({
  httpRequestsTotal: metricName,
  errorsTotal: errorsMetric,
  /** A histogram: `<name>_bucket` is queried. */
  httpRequestDurationSeconds: metricName,
  queueWaitingCount: metricName,
  /** A histogram of job processing time (NomosX `job_duration_seconds`). */
  jobDurationSeconds: metricName,
  costPerRunUsd: metricName,
});

/** A Prometheus duration such as `5m` or `1h30m`. */
const duration = z
  .string()
  .regex(/^((\d+)(ms|s|m|h|d|w|y))+$/, { message: 'must be a Prometheus duration such as "30s", "5m" or "1h30m"' });

/** PromQL, checked for its structure here (quotes, brackets, matchers, ranges); promtool parses it fully in the tests. */
const promql = z.string().superRefine((expr, ctx) => {
  const problem = promqlSyntaxProblem(expr);
  if (problem) ctx.addIssue({ code: "custom", message: `is not valid PromQL: ${problem}` });
});

/** Alert rules a team adds beside Ballast's (inline in the stack file, or in rule files of the repository). */
export const alertRuleSchema = z.strictObject({
  alert: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, {
    message: "must be an alert name: letters, digits and '_', not starting with a digit (e.g. TrustScoreLow)",
  }),
  expr: promql,
  /** How long the condition must hold before the alert fires; absent fires on the first evaluation. */
  for: duration.optional(),
  /** `severity` (critical | warning) picks the route, like Ballast's own alerts. */
  labels: z.record(labelName, z.string()).optional(),
  /** `summary`, `description`; `first_action` becomes the runbook's first step. */
  annotations: z.record(labelName, z.string()).optional(),
});

export const ruleGroupSchema = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, {
    message: "must be a rule group name of letters, digits, '_', '.' and '-' (e.g. nomosx-critical)",
  }),
  /** Evaluation interval of the group (default: the scrape interval). */
  interval: duration.optional(),
  rules: z.array(alertRuleSchema).min(1, { message: "must hold at least one rule" }),
});

/** The rule groups Ballast renders itself; a team group may not take one of these names. */
export const BUILTIN_RULE_GROUPS = [
  "ballast-app",
  "ballast-llm",
  "ballast-datastores",
  "ballast-host",
  "ballast-containers",
  "ballast-platform",
] as const;

/** A file of the repository, relative to the project root (the directory of Pulumi.yaml); never outside it. */
export const repositoryFile = (extensions: string[]) =>
  z.string().regex(new RegExp(`^(?!/)(?!.*(^|/)\\.\\.(/|$))[A-Za-z0-9._/-]+\\.(${extensions.join("|")})$`), {
    message: `must be a path relative to the project root (where Pulumi.yaml is), inside it, ending in ${extensions.map((e) => `.${e}`).join(" or ")}`,
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
    llmMetricPrefix: z
      .string()
      .regex(/^([a-zA-Z_][a-zA-Z0-9_]*_)?$/, { message: 'must be "" or a metric-name prefix ending in "_", e.g. "nyxcore_"' }),
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
    /** The team's own rule groups, rendered beside Ballast's (NomosX's nomosx-critical). */
    groups: z.array(ruleGroupSchema),
    /** Prometheus rule files of the repository (`groups:` of alerting rules), rendered beside Ballast's. */
    ruleFiles: z.array(repositoryFile(["yml", "yaml"])),
    /** `promtool test rules` files of the repository, run against the rendered rules (`npm run test:rules`). */
    ruleTests: z.array(repositoryFile(["yml", "yaml"])),
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
/** Where traces are stored and searched: Grafana Tempo, or Jaeger v2 (all-in-one, Badger storage). */
export const TRACING_BACKENDS = ["tempo", "jaeger"] as const;

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
    /**
     * Source ranges that may reach Grafana's route (Traefik `ipAllowList`); everyone else gets 403.
     * Default outside dev: the SSH allow-list on Compose, private ranges on Kubernetes; dev: everyone.
     */
    allowFrom: z.array(cidr),
    /** Title prefix of every provisioned dashboard: `<titlePrefix> - Overview` (NomosX: "NomosX"). */
    titlePrefix: z.string().regex(/^[^\s"\\][^"\\]{0,39}$/, {
      message: "must be 1 to 40 characters without quotes or backslashes, not starting with a space (e.g. NomosX)",
    }),
    /** Grafana dashboard JSON files of the repository, provisioned beside the built-ins. */
    dashboards: z.array(repositoryFile(["json"])),
  }),
  loki: part({ storageGiB, retentionDays: positiveInt.max(3650) }),
  alloy: part({
    /** Request paths dropped from the logs besides the app's health and metrics paths and `/ping`. */
    dropPaths: z.array(urlPath),
  }),
  nodeExporter: part({}),
  cadvisor: part({}),
  /**
   * Compose: the read-only Docker API proxy that cAdvisor and Alloy read container metadata
   * through; the only service that mounts the Docker socket. Deployed with either of them.
   */
  dockerSocketProxy: z.strictObject({ image: imageRef, resources }),
  postgresExporter: part({}),
  redisExporter: part({}),
  /** Probes the app's deep health through the stack's network (DeepHealthFailing alert). */
  blackboxExporter: part({}),
  tracing: z.strictObject({
    enabled: z.boolean(),
    backend: z.enum(TRACING_BACKENDS),
    /** Default: the backend's pinned image (grafana/tempo or jaegertracing/jaeger). */
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
