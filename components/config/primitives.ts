/**
 * Field schemas shared by the area schemas. Every one carries a message that says in words
 * what is allowed, so no raw validator text ("must match pattern /^[a-z]…/") reaches a user.
 * No defaults here: defaults live in ./defaults.ts.
 */
import { z } from "zod";
import { parseCron } from "./cron";

/** DNS-1123 label: a Compose service / Kubernetes object name. */
export const dnsLabel = z.string().regex(/^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/, {
  message: "must be a DNS label: lower-case letters, digits and '-', starting with a letter, at most 40 characters",
});

/** A DNS label or "" (the apex domain). */
export const subdomain = z.string().regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$/, {
  message: "must be a DNS label (lower-case letters, digits and '-') or \"\" for the apex domain",
});

export const domainName = z.string().regex(/^(localhost|([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,})$/, {
  message: 'must be a domain name such as "example.com" ("localhost" for dev)',
});

/** CPU as cores (`2`, `0.5`) or millicores (`"500m"`). */
export const cpu = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const cores =
    typeof value === "number"
      ? value
      : /^\d+m$/.test(value)
        ? Number(value.slice(0, -1)) / 1000
        : /^\d+(\.\d+)?$/.test(value)
          ? Number(value)
          : NaN;
  if (!Number.isFinite(cores) || cores < 0.01 || cores > 64) {
    ctx.addIssue({ code: "custom", message: 'cpu must be cores between 0.01 and 64 (e.g. 2, 0.5 or "500m")' });
    return z.NEVER;
  }
  return cores;
});

/** Memory as `"512Mi"`, `"4Gi"` (Kubernetes binary units). */
export const memory = z.string().transform((value, ctx) => {
  const match = /^(\d+)(Mi|Gi)$/.exec(value);
  const mib = match ? Number(match[1]) * (match[2] === "Gi" ? 1024 : 1) : NaN;
  if (!Number.isFinite(mib) || mib < 16 || mib > 1024 * 1024) {
    ctx.addIssue({ code: "custom", message: 'memory must be a size in Mi or Gi between 16Mi and 1024Gi (e.g. "512Mi", "4Gi")' });
    return z.NEVER;
  }
  return mib;
});

/**
 * The one resources shape of every workload key: `{cpu, memory}` in, cores and MiB out.
 * Requests are derived (half the limit) by components/resources.ts.
 */
export const resources = z.strictObject({ cpu, memory }).transform(({ cpu: cores, memory: memoryMiB }) => ({ cpu: cores, memoryMiB }));

export const port = z
  .number()
  .int()
  .min(1, { message: "must be a port number between 1 and 65535" })
  .max(65535, { message: "must be a port number between 1 and 65535" });
export const replicas = z.number().int().min(0).max(100);

/** The bounds and CPU target every autoscaled workload has; workers add a queue trigger (./workloads.ts). */
export const autoscalingFields = {
  enabled: z.boolean(),
  minReplicas: z.number().int().min(1).max(100),
  maxReplicas: z.number().int().min(1).max(500),
  cpuTargetPercent: z.number().int().min(10).max(100),
};

/** Refuses bounds that cross. */
export function checkReplicaBounds(value: { minReplicas: number; maxReplicas: number }, ctx: z.RefinementCtx): void {
  if (value.minReplicas > value.maxReplicas) {
    ctx.addIssue({ code: "custom", message: `minReplicas (${value.minReplicas}) must not exceed maxReplicas (${value.maxReplicas})` });
  }
}

export const autoscaling = z.strictObject(autoscalingFields).superRefine(checkReplicaBounds);

/** Five-field numeric cron expression (minute hour day-of-month month day-of-week), UTC, same on both targets. */
export const cronSchedule = z.string().superRefine((value, ctx) => {
  const parsed = parseCron(value);
  if (typeof parsed === "string") {
    ctx.addIssue({ code: "custom", message: `must be a five-field numeric cron expression in UTC such as "15 3 * * *" (${parsed})` });
  }
});

export const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, {
  message: "environment variable names are upper-case letters, digits and '_', not starting with a digit (e.g. OPENAI_API_KEY)",
});

export const secretName = z.string().regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, {
  message: 'secret names are lower-kebab-case, e.g. "openai-api-key"',
});

/**
 * Plain environment. Numbers and booleans are taken as their text: `pulumi config set --path
 * 'ballast:app.env.PORT' 3000` stores a number, and YAML reads `DEBUG: true` as a boolean.
 */
export const env = z.record(
  envName,
  z
    .union([z.string(), z.number(), z.boolean()], { error: "must be a string (numbers and true/false are taken as text)" })
    .transform(String),
);

/**
 * ENV_NAME -> secret name; `false` drops a default entry (e.g. `REDIS_URL: false` for a
 * worker that never touches Redis), so no workload holds a secret it does not use.
 */
export const secretEnv = z
  .record(
    envName,
    z.union([secretName, z.literal(false)], { error: 'must be a secret name such as "openai-api-key", or false to drop a default entry' }),
  )
  .transform((entries) => Object.fromEntries(Object.entries(entries).filter((entry): entry is [string, string] => entry[1] !== false)));

export const command = z
  .array(z.string().min(1, { message: "must not contain empty arguments" }))
  .min(1, { message: 'must name a command, e.g. ["node", "dist/worker.js"]' });

export const urlPath = z.string().regex(/^\/[A-Za-z0-9._~/-]*$/, { message: 'must be an absolute URL path such as "/api/health"' });

export const absolutePath = z
  .string()
  .regex(/^\/[A-Za-z0-9._/-]+$/, { message: "must be an absolute path of letters, digits, '.', '_', '-' and '/'" });

/** A Postgres identifier the scripts can quote safely. */
export const sqlIdentifier = (what: string) =>
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, {
    message: `${what} must be a Postgres identifier: letters, digits and '_', not starting with a digit, at most 63 characters`,
  });

/** A lower-case SQL name (database and role names Ballast creates). */
export const lowerSqlName = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, {
  message: "must be a lower-case SQL name: letters, digits and '_', not starting with a digit, at most 63 characters",
});

/** `table` or `schema.table`. */
export const tableName = z.string().regex(/^([A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}$/, {
  message: 'must be a table name, optionally schema-qualified ("leads", "public.leads"), of letters, digits and \'_\'',
});

/** A Prometheus metric or label name. */
export const metricName = z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, {
  message: "must be a Prometheus metric name: letters, digits, '_' and ':', not starting with a digit (e.g. http_requests_total)",
});
export const labelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, {
  message: "must be a Prometheus label name: letters, digits and '_', not starting with a digit (e.g. status_code)",
});

export const httpUrl = z
  .string()
  .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, { message: 'must be an http(s) URL such as "https://example.com/path"' });

export const emailAddress = z.string().regex(/^[^\s@]+@[^\s@]+$/, { message: 'must be an e-mail address such as "ops@example.com"' });

/** json-file / size strings such as `10m`, `512k`, `1g`. */
export const logSize = z.string().regex(/^[1-9]\d*[kmg]$/, { message: 'must be a size such as "10m", "512k" or "1g"' });
