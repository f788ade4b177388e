/**
 * Configuration of the data-safety features, as zod schemas with their defaults:
 *
 * - `backupsSchema`       -> stack key `ballast:backups` (scheduled pg_dump, retention,
 *                            offsite copy, monthly restore drill);
 * - `pgvectorIndexSchema` -> stack key `ballast:postgres.hnswIndex` (the HNSW index the
 *                            nyxcore runbook describes: m=16, ef_construction=64, cosine);
 * - `migrationSchema`     -> stack key `ballast:app.migration` (the one-shot schema
 *                            migration run before the app rolls out), with
 *                            `checkMigrationSafety` refusing schema pushes on prod.
 *
 * Messages say what is wrong and what is allowed; `parseConfigKey` prefixes them with
 * the key (`ballast:backups.retention.daily: ...`) for callers that parse one key alone.
 */
import { z } from "zod";
import type { Environment } from "../config/types";
import { maxGapHours, parseCron } from "./cron";

export type { Environment };

/** Secrets (by name) that the user supplies in `ballast:secretValues` when `backups.s3` is set. */
export const BACKUP_S3_SECRETS = {
  accessKeyId: "backup-s3-access-key-id",
  secretAccessKey: "backup-s3-secret-access-key",
} as const;

/** A Postgres identifier the scripts can quote safely: letters, digits, `_`, not starting with a digit. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** `table` or `schema.table`. */
const TABLE = /^([A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}$/;

const identifier = (what: string) =>
  z.string().regex(IDENTIFIER, {
    message: `${what} must be a Postgres identifier: letters, digits and '_', not starting with a digit, at most 63 characters`,
  });

const tableName = z.string().regex(TABLE, {
  message: 'must be a table name, optionally schema-qualified ("leads", "public.leads"), of letters, digits and \'_\'',
});

export const cronExpression = z.string().superRefine((value, ctx) => {
  const parsed = parseCron(value);
  if (typeof parsed === "string") {
    ctx.addIssue({
      code: "custom",
      message: `must be a five-field numeric cron expression in UTC such as "15 3 * * *" (${parsed})`,
    });
  }
});

/** Pinned image: a tag other than `latest`, or a digest. */
export const pinnedImageRef = z.string().superRefine((image, ctx) => {
  const digest = /@sha256:[a-f0-9]{64}$/.test(image);
  const last = image.split("/").pop() ?? "";
  const tag = last.includes(":") ? last.slice(last.indexOf(":") + 1).split("@")[0] : undefined;
  if (/\s/.test(image) || image === "") {
    ctx.addIssue({ code: "custom", message: "must be a non-empty image reference without spaces" });
  } else if (!digest && (tag === undefined || tag === "" || tag === "latest")) {
    ctx.addIssue({
      code: "custom",
      message: 'must be pinned by a tag other than "latest" (e.g. "pgvector/pgvector:pg16") or by digest',
    });
  }
});

const retentionSchema = z
  .object({
    daily: z
      .number()
      .int()
      .min(1, { message: "must be an integer of at least 1: the newest backup is always kept" })
      .max(366)
      .default(7),
    weekly: z.number().int().min(0).max(520).default(4),
    monthly: z.number().int().min(0).max(240).default(6),
  })
  .strict();

const s3Schema = z
  .object({
    /** S3 API endpoint; absent means AWS S3 itself. */
    endpoint: z
      .string()
      .regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, { message: 'must be an http(s) URL such as "https://s3.eu-central-1.amazonaws.com"' })
      .optional(),
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
      message: "must be an S3 bucket name: 3-63 lower-case letters, digits, '.' and '-'",
    }),
    /** Key prefix inside the bucket (no leading or trailing '/'); empty stores at the bucket root. */
    prefix: z
      .string()
      .regex(/^([A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*)?$/, {
        message: "must be a key prefix of path segments (letters, digits, '_', '.', '-') separated by '/', without leading or trailing '/'",
      })
      .default(""),
    region: z.string().regex(/^[a-z0-9-]{2,40}$/, { message: 'must be a region name such as "eu-central-1"' }).default("us-east-1"),
    /** When the copy runs; hourly by default so a new dump is offsite within the hour whatever `schedule` says. */
    schedule: cronExpression.default("45 * * * *"),
    /** rclone image of the offsite job (it has no shell tooling we depend on: rclone is the entrypoint). */
    image: pinnedImageRef.default("rclone/rclone:1.68.2"),
  })
  .strict();

const freshnessSchema = z
  .object({
    table: tableName,
    column: identifier("column"),
  })
  .strict();

const drillSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Monthly by default (Dealix runbook: the drill is required monthly). */
    schedule: cronExpression.default("30 4 1 * *"),
    /** Tables whose row counts must match the live database within `tolerancePercent`. */
    tables: z.array(tableName).max(50).default([]),
    tolerancePercent: z
      .number()
      .min(0, { message: "must be a percentage between 0 and 100" })
      .max(100, { message: "must be a percentage between 0 and 100" })
      .default(5),
    /** A timestamp column whose newest value in the restored copy must be within the RPO of the live one. */
    freshness: freshnessSchema.optional(),
    /** The drill's goal (Dealix DoD: restore completes in at most 15 minutes); a slower drill fails. */
    timeoutMinutes: z.number().int().min(1).max(24 * 60).default(15),
  })
  .strict();

const jobResourcesSchema = z
  .object({
    /** CPU limit in cores (request: half). */
    cpu: z.number().min(0.05).max(16).default(1),
    /** Memory limit in MiB (request: half). */
    memoryMiB: z.number().int().min(64).max(65536).default(512),
  })
  .strict();

export const backupsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** When the backup runs (UTC); daily at 03:15 by default. */
    schedule: cronExpression.default("15 3 * * *"),
    retention: retentionSchema.prefault({}),
    /** Size of the `backups` volume. */
    storageGiB: z.number().int().min(1).max(65536).default(20),
    /** Recovery point objective: the schedule must never leave a longer gap, the drill checks it, alerts use it. */
    rpoHours: z.number().min(1).max(24 * 31).default(24),
    /** A pg_dump that runs longer than this is killed and recorded as failed. */
    timeoutMinutes: z.number().int().min(5).max(24 * 60).default(120),
    /** Offsite copy of every dump (rclone, `copy --immutable`: never deletes or overwrites offsite). */
    s3: s3Schema.optional(),
    drill: drillSchema.prefault({}),
    /** Image of the backup and drill jobs: needs bash, pg_dump, pg_restore, psql of the server's major version or newer. */
    image: pinnedImageRef.default("pgvector/pgvector:pg16"),
    resources: jobResourcesSchema.prefault({}),
  })
  .strict()
  .superRefine((value, ctx) => {
    const cron = parseCron(value.schedule);
    if (typeof cron === "string") return;
    const gap = maxGapHours(cron);
    if (gap > value.rpoHours) {
      ctx.addIssue({
        code: "custom",
        path: ["schedule"],
        message:
          gap === Infinity
            ? `"${value.schedule}" (almost) never runs, so it cannot meet rpoHours ${value.rpoHours}`
            : `"${value.schedule}" leaves up to ${round(gap)} h between backups, longer than rpoHours ${value.rpoHours}: run it more often or raise rpoHours`,
      });
    }
  });

export type BackupsConfig = z.output<typeof backupsSchema>;
export type BackupsInput = z.input<typeof backupsSchema>;

export const HNSW_OPCLASSES = [
  "vector_cosine_ops",
  "vector_l2_ops",
  "vector_ip_ops",
  "vector_l1_ops",
  "halfvec_cosine_ops",
  "halfvec_l2_ops",
  "halfvec_ip_ops",
] as const;

/** `ballast:postgres.hnswIndex`: a pgvector HNSW index ensured after every migration. */
export const pgvectorIndexSchema = z
  .object({
    table: tableName,
    column: identifier("column"),
    /** Index name; default `<table>_<column>_hnsw_idx`. */
    name: identifier("name").optional(),
    /** Max connections per layer (pgvector: 2..100). */
    m: z.number().int().min(2).max(100).default(16),
    /** Candidate list size at build time (pgvector: 4..1000 and at least 2 × m). */
    efConstruction: z.number().int().min(4).max(1000).default(64),
    opclass: z.enum(HNSW_OPCLASSES).default("vector_cosine_ops"),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.efConstruction < 2 * value.m) {
      ctx.addIssue({
        code: "custom",
        path: ["efConstruction"],
        message: `must be at least 2 × m = ${2 * value.m} (pgvector refuses a smaller ef_construction)`,
      });
    }
    const name = value.name ?? defaultIndexName(value.table, value.column);
    if (name.length > 63) {
      ctx.addIssue({
        code: "custom",
        path: ["name"],
        message: `the default index name "${name}" is longer than 63 characters: set a shorter name`,
      });
    }
  });

export type PgvectorIndexConfig = z.output<typeof pgvectorIndexSchema>;

export function defaultIndexName(table: string, column: string): string {
  return `${table.split(".").pop()}_${column}_hnsw_idx`;
}

/** `ballast:app.migration`: the command run once, before the app rolls out. */
export const migrationSchema = z
  .object({
    command: z
      .array(z.string().min(1, { message: "must not contain empty arguments" }))
      .min(1, { message: 'must name the migration command, e.g. ["npx", "prisma", "migrate", "deploy"]' }),
    timeoutSeconds: z.number().int().min(10).max(6 * 3600).default(600),
  })
  .strict();

export type MigrationConfig = z.output<typeof migrationSchema>;

/**
 * Commands that rewrite the schema from the model instead of applying reviewed
 * migrations. Matched on the whole command line, so `sh -c "npx prisma db push"` is
 * caught as well as `["npx", "prisma", "db", "push"]`.
 */
const SCHEMA_PUSHES: ReadonlyArray<{ pattern: RegExp; what: string }> = [
  { pattern: /\bprisma\s+db\s+push\b/, what: "`prisma db push`" },
  { pattern: /(^|[\s"'])--accept-data-loss\b/, what: "`--accept-data-loss`" },
  { pattern: /(^|[\s"'])--force-reset\b/, what: "`--force-reset`" },
  { pattern: /\bprisma\s+migrate\s+(reset|dev)\b/, what: "`prisma migrate reset/dev`" },
  { pattern: /\b(npm|pnpm|yarn|bun)\s+(run\s+)?db:push\b/, what: "a `db:push` script" },
  { pattern: /\bdrizzle-kit\s+push\b/, what: "`drizzle-kit push`" },
];

/**
 * Refuses, on prod, a migration command that pushes the schema instead of applying
 * migrations. Returns the error message (naming the key, the value and what is
 * allowed), or undefined when the command is acceptable.
 */
export function checkMigrationSafety(environment: Environment, command: readonly string[]): string | undefined {
  if (environment !== "prod") return undefined;
  const line = command.join(" ");
  const hits = SCHEMA_PUSHES.filter((p) => p.pattern.test(line)).map((p) => p.what);
  if (hits.length === 0) return undefined;
  return (
    `ballast:app.migration.command: ${JSON.stringify(command)} is refused on prod: it uses ${hits.join(" and ")}, ` +
    "which makes the database match the schema file by dropping what the file does not describe; " +
    "pgvector embedding columns (Unsupported(\"vector\") in Prisma) are dropped with their data " +
    '(nyxcore runbook: "Never use db push on production — it drops pgvector embedding columns"). ' +
    'Allowed: a command that applies reviewed migration files, e.g. ["npx", "prisma", "migrate", "deploy"] ' +
    "or your own migration script; schema pushes are for dev and staging only."
  );
}

/** Secret names the backups need supplied, by feature. */
export function requiredBackupSecrets(backups: BackupsConfig): string[] {
  return backups.enabled && backups.s3 ? [BACKUP_S3_SECRETS.accessKeyId, BACKUP_S3_SECRETS.secretAccessKey] : [];
}

/** Error messages for S3 credentials that are not supplied in `ballast:secretValues`. */
export function checkBackupSecrets(backups: BackupsConfig, supplied: readonly string[]): string[] {
  return requiredBackupSecrets(backups)
    .filter((name) => !supplied.includes(name))
    .map(
      (name) =>
        `ballast:secretValues.${name}: required because ballast:backups.s3 is set (offsite copy credentials); ` +
        `supply it with \`pulumi config set --secret --path 'ballast:secretValues.${name}' <value>\``,
    );
}

/** Things that are allowed but weaken the safety net; the caller logs them as warnings. */
export function backupWarnings(backups: BackupsConfig, environment: Environment): string[] {
  const warnings: string[] = [];
  if (environment === "dev") return warnings;
  if (!backups.enabled) {
    warnings.push(`ballast:backups.enabled is false on ${environment}: nothing backs up the database`);
    return warnings;
  }
  if (!backups.s3) {
    warnings.push(
      "ballast:backups.s3 is not set: backups stay on the same host/cluster as the database and are lost with it",
    );
  }
  if (!backups.drill.enabled) {
    warnings.push("ballast:backups.drill.enabled is false: nobody proves that the backups restore");
  } else {
    if (backups.drill.tables.length === 0) {
      warnings.push("ballast:backups.drill.tables is empty: the restore drill does not compare row counts");
    }
    if (!backups.drill.freshness) {
      warnings.push("ballast:backups.drill.freshness is not set: the restore drill cannot check the data against the RPO");
    }
  }
  return warnings;
}

/**
 * Parses one config key with its schema; throws an Error whose lines each name the
 * full key, what is wrong and the offending value.
 */
export function parseConfigKey<S extends z.ZodType>(key: string, schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw ?? {});
  if (result.success) return result.data;
  throw new Error(formatIssues(key, result.error, raw).join("\n"));
}

export function parseBackups(raw: unknown): BackupsConfig {
  return parseConfigKey("ballast:backups", backupsSchema, raw);
}

export function parsePgvectorIndex(raw: unknown): PgvectorIndexConfig {
  return parseConfigKey("ballast:postgres.hnswIndex", pgvectorIndexSchema, raw);
}

/** Parses `ballast:app.migration` and applies the prod safety check. */
export function parseMigration(raw: unknown, environment: Environment): MigrationConfig {
  const migration = parseConfigKey("ballast:app.migration", migrationSchema, raw);
  const refusal = checkMigrationSafety(environment, migration.command);
  if (refusal) throw new Error(refusal);
  return migration;
}

/** `ballast:backups` + `["retention", "daily"]` -> `ballast:backups.retention.daily`. */
export function keyOf(key: string, path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>(
    (k, part) => (typeof part === "number" ? `${k}[${part}]` : `${k}.${String(part)}`),
    key,
  );
}

function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let current: unknown = input;
  for (const part of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[part as string];
  }
  return current;
}

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function formatIssues(key: string, error: z.ZodError, input: unknown): string[] {
  return error.issues.map((issue) => {
    const where = keyOf(key, issue.path);
    const got = `(got ${show(valueAt(input, issue.path))})`;
    switch (issue.code) {
      case "unrecognized_keys":
        return issue.keys
          .map((k) => `${keyOf(key, [...issue.path, k])}: unknown key (allowed here: ${allowedKeys(key, issue.path)})`)
          .join("\n");
      case "invalid_type":
        return valueAt(input, issue.path) === undefined
          ? `${where}: required, expected ${issue.expected}`
          : `${where}: expected ${issue.expected} ${got}`;
      case "invalid_value":
        return `${where}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")} ${got}`;
      case "too_small":
        return `${where}: ${customOr(issue.message, `must be at least ${String(issue.minimum)}${unit(issue.origin)}`)} ${got}`;
      case "too_big":
        return `${where}: ${customOr(issue.message, `must be at most ${String(issue.maximum)}${unit(issue.origin)}`)} ${got}`;
      default:
        return `${where}: ${issue.message} ${got}`;
    }
  });
}

/** zod's own range messages start with "Too small"/"Too big"; ours say what is allowed. */
function customOr(message: string, fallback: string): string {
  return /^Too (small|big)/.test(message) ? fallback : message;
}

function unit(origin: string): string {
  return origin === "array" ? " items" : origin === "string" ? " characters" : "";
}

const SHAPES: Record<string, Record<string, readonly string[]>> = {
  "ballast:backups": {
    "": Object.keys(backupsSchema.shape),
    retention: Object.keys(retentionSchema.shape),
    s3: Object.keys(s3Schema.shape),
    drill: Object.keys(drillSchema.shape),
    "drill.freshness": Object.keys(freshnessSchema.shape),
    resources: Object.keys(jobResourcesSchema.shape),
  },
  "ballast:postgres.hnswIndex": { "": Object.keys(pgvectorIndexSchema.shape) },
  "ballast:app.migration": { "": Object.keys(migrationSchema.shape) },
};

function allowedKeys(key: string, path: ReadonlyArray<PropertyKey>): string {
  const shapes = SHAPES[key] ?? {};
  return (shapes[path.filter((p) => typeof p === "string").join(".")] ?? []).join(", ");
}

function round(hours: number): number {
  return Math.round(hours * 10) / 10;
}
