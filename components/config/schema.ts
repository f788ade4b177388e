/**
 * The zod schema of the stack config. Input is what `Pulumi.<stack>.yaml` holds after
 * the environment presets (./presets.ts) are merged under it; output is `PlatformConfig`.
 * Objects are strict: an unknown key is an error (with a "did you mean" suggestion).
 */
import { isIP } from "node:net";
import { z } from "zod";
import { backupsSchema, migrationSchema, pgvectorIndexSchema } from "../backups/config";
import { bootstrapSchema } from "../host/config";
import { monitoringSchema } from "../observability/config";

/** DNS-1123 label: a Compose service / Kubernetes object name. */
export const dnsLabel = z
  .string()
  .regex(/^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/, {
    message: "must be a DNS label: lower-case letters, digits and '-', starting with a letter, at most 40 characters",
  });

/**
 * An image pinned by a tag other than `latest`, or by digest. An untagged image
 * means `latest`, which the nyxcore runbook shows drifting under a running stack.
 */
export const pinnedImage = z.string().superRefine((image, ctx) => {
  const digest = /@sha256:[a-f0-9]{64}$/.test(image);
  const lastSegment = image.split("/").pop() ?? "";
  const tag = lastSegment.includes(":") ? lastSegment.split(":").pop() : undefined;
  if (!digest && (tag === undefined || tag === "" || tag === "latest")) {
    ctx.addIssue({
      code: "custom",
      message: `image must be pinned by a tag other than "latest" (e.g. "redis:7.4.1-alpine") or by digest ("name@sha256:...")`,
    });
  }
  if (/\s/.test(image) || image.length === 0) {
    ctx.addIssue({ code: "custom", message: "image must be a non-empty reference without spaces" });
  }
});

/** CPU as cores (`2`, `0.5`) or millicores (`"500m"`). */
const cpu = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const cores =
    typeof value === "number" ? value : /^\d+m$/.test(value) ? Number(value.slice(0, -1)) / 1000 : /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(cores) || cores < 0.01 || cores > 64) {
    ctx.addIssue({ code: "custom", message: "cpu must be cores between 0.01 and 64 (e.g. 2, 0.5 or \"500m\")" });
    return z.NEVER;
  }
  return cores;
});

/** Memory as `"512Mi"`, `"4Gi"` (Kubernetes binary units). */
const memory = z.string().transform((value, ctx) => {
  const match = /^(\d+)(Mi|Gi)$/.exec(value);
  const mib = match ? Number(match[1]) * (match[2] === "Gi" ? 1024 : 1) : NaN;
  if (!Number.isFinite(mib) || mib < 16 || mib > 1024 * 1024) {
    ctx.addIssue({ code: "custom", message: 'memory must be a size in Mi or Gi between 16Mi and 1024Gi (e.g. "512Mi", "4Gi")' });
    return z.NEVER;
  }
  return mib;
});

export const resourcesSchema = z
  .strictObject({ cpu, memory })
  .transform(({ cpu: cores, memory: memoryMiB }) => ({ cpu: cores, memoryMiB }));

const port = z.number().int().min(1).max(65535);
const replicas = z.number().int().min(0).max(100);

export const autoscalingSchema = z
  .strictObject({
    enabled: z.boolean(),
    minReplicas: z.number().int().min(1).max(100),
    maxReplicas: z.number().int().min(1).max(500),
    cpuTargetPercent: z.number().int().min(10).max(100),
  })
  .superRefine((value, ctx) => {
    if (value.minReplicas > value.maxReplicas) {
      ctx.addIssue({
        code: "custom",
        message: `minReplicas (${value.minReplicas}) must not exceed maxReplicas (${value.maxReplicas})`,
      });
    }
  });

/** Five-field cron expression (minute hour day-of-month month day-of-week), UTC. */
export const cronSchedule = z.string().superRefine((schedule, ctx) => {
  const fields = schedule.trim().split(/\s+/);
  const ranges: [number, number][] = [
    [0, 59],
    [0, 23],
    [1, 31],
    [1, 12],
    [0, 7],
  ];
  const valid =
    fields.length === 5 &&
    fields.every((field, i) =>
      field.split(",").every((part) => {
        const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
        if (!match) return false;
        const [, , from, to, step] = match;
        const [lo, hi] = ranges[i];
        const inRange = (n: string | undefined) => n === undefined || (Number(n) >= lo && Number(n) <= hi);
        return inRange(from) && inRange(to) && (step === undefined || Number(step) > 0);
      }),
    );
  if (!valid) {
    ctx.addIssue({
      code: "custom",
      message: 'schedule must be a five-field cron expression with numeric fields, e.g. "15 3 * * *" (minute hour day month weekday, UTC)',
    });
  }
});

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, { message: "environment variable names must match [A-Z_][A-Z0-9_]*" });
export const secretName = z
  .string()
  .regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, { message: "secret names must be lower-kebab-case, e.g. \"openai-api-key\"" });

const env = z.record(envName, z.string());
const secretEnv = z.record(envName, secretName);
const commandSchema = z.array(z.string().min(1)).min(1);

const imageBuildSchema = z.strictObject({
  context: z.string().min(1),
  dockerfile: z.string().min(1),
  name: z.string().regex(/^[a-z0-9][a-z0-9._\/-]*$/, { message: "must be an image name without tag, e.g. \"ghcr.io/acme/app\"" }),
});

const urlPath = z.string().regex(/^\/[A-Za-z0-9._~\/-]*$/, { message: "must be an absolute URL path such as \"/api/health\"" });
const subdomain = z.string().regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$/, { message: "must be a DNS label or \"\" for the apex domain" });

export const appSchema = z.strictObject({
  image: pinnedImage,
  build: imageBuildSchema.optional(),
  port,
  healthPath: urlPath,
  metricsPath: urlPath,
  subdomain,
  replicas,
  resources: resourcesSchema,
  autoscaling: autoscalingSchema,
  command: commandSchema.optional(),
  env,
  secretEnv,
  /** One-shot schema migration before the app rolls out (refused on prod when it pushes the schema). */
  migration: migrationSchema.optional(),
});

export const workerSchema = z.strictObject({
  name: dnsLabel,
  image: pinnedImage,
  command: commandSchema.optional(),
  replicas,
  resources: resourcesSchema,
  autoscaling: autoscalingSchema,
  env,
  secretEnv,
  metrics: z.strictObject({ port, path: urlPath }).optional(),
  healthCommand: commandSchema.optional(),
});

export const cronJobSchema = z.strictObject({
  name: dnsLabel,
  schedule: cronSchedule,
  image: pinnedImage,
  command: commandSchema,
  resources: resourcesSchema,
  timeoutSeconds: z.number().int().min(10).max(86400),
  env,
  secretEnv,
});

/** Redis memory sizes as redis.conf accepts them. */
const redisSize = z.string().regex(/^\d+(kb|mb|gb)$/, { message: 'must be a size like "256mb" or "4gb"' });
const evictionPolicies = [
  "noeviction",
  "allkeys-lru",
  "allkeys-lfu",
  "allkeys-random",
  "volatile-lru",
  "volatile-lfu",
  "volatile-random",
  "volatile-ttl",
] as const;

export const postgresSchema = z.strictObject({
  image: pinnedImage,
  database: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, { message: "must be a lower-case SQL identifier" }),
  user: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, { message: "must be a lower-case SQL identifier" }),
  storageGiB: z.number().int().min(1).max(65536),
  resources: resourcesSchema,
  extensions: z.array(z.string().regex(/^[a-z_][a-z0-9_]*$/, { message: "must be an extension name such as \"vector\"" })),
  initSql: z.string(),
  maxConnections: z.number().int().min(10).max(10000),
  /** pgvector HNSW index ensured after every migration. */
  hnswIndex: pgvectorIndexSchema.optional(),
});

export const redisSchema = z.strictObject({
  image: pinnedImage,
  maxmemory: redisSize,
  evictionPolicy: z.enum(evictionPolicies),
  save: z.string().regex(/^(\d+ \d+( \d+ \d+)*)?$/, { message: 'must be pairs of "<seconds> <changes>", e.g. "900 1 300 10 60 10000", or "" to disable snapshots' }),
  appendonly: z.boolean(),
  storageGiB: z.number().int().min(1).max(65536),
  resources: resourcesSchema,
});

export const extraServiceSchema = z.strictObject({
  name: dnsLabel,
  image: pinnedImage,
  port,
  command: commandSchema.optional(),
  env,
  secretEnv,
  resources: resourcesSchema,
  route: z.strictObject({ subdomain, pathPrefix: urlPath }).optional(),
  healthPath: urlPath.optional(),
  storage: z.strictObject({ mountPath: z.string().regex(/^\/.+/, { message: "must be an absolute path" }), sizeGiB: z.number().int().min(1) }).optional(),
  allowFrom: z.array(dnsLabel),
});

export const proxySchema = z.strictObject({
  image: pinnedImage,
  resources: resourcesSchema,
  httpPort: port,
  httpsPort: port,
  bindAddress: z.string().refine((value) => value === "" || isIP(value) !== 0, {
    message: 'must be an IPv4 or IPv6 address of the host (e.g. "127.0.0.1", "203.0.113.7", "::1"), or "" for every interface',
  }),
  acmeStaging: z.boolean(),
});

const hostKey = z
  .string()
  .regex(/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+\/=]+( .*)?$/, {
    message: 'must be a public host key line such as "ssh-ed25519 AAAA..." (ssh-keyscan -t ed25519 <host>)',
  });

export const sshSchema = z.strictObject({
  host: z.string().min(1),
  port,
  user: z.string().regex(/^[a-z_][a-z0-9_-]*$/, { message: "must be a Unix user name" }),
  hostKey: hostKey.optional(),
  remoteDir: z.string().regex(/^\/[A-Za-z0-9._\/-]+$/, { message: "must be an absolute path without spaces" }),
  dialTimeoutSeconds: z.number().int().min(1).max(120),
  dialAttempts: z.number().int().min(1).max(20),
});

export const composeSchema = z.strictObject({
  mode: z.enum(["ssh", "local"]),
  project: dnsLabel,
  ssh: sshSchema.optional(),
  localDir: z.string().min(1),
  keepReleases: z.number().int().min(2).max(50),
  deployTimeoutSeconds: z.number().int().min(30).max(3600),
  composeCommand: z.enum(["docker compose", "docker-compose"]),
  /** Host preparation over SSH before the first deploy (Docker, firewall, fail2ban, upgrades). */
  bootstrap: bootstrapSchema,
});

export const kubernetesSchema = z.strictObject({
  namespace: dnsLabel,
  storageClass: z.string(),
  ingressClass: z.string().min(1),
  deployTraefik: z.boolean(),
  context: z.string(),
  renderYamlToDirectory: z.string(),
  /** Namespace of an existing ingress controller (when Ballast does not deploy Traefik). */
  ingressControllerNamespace: dnsLabel,
});

export const hostSchema = z.strictObject({
  cpus: z.number().min(1).max(512),
  memoryGiB: z.number().min(1).max(4096),
});

const domain = z
  .string()
  .regex(/^(localhost|([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,})$/, { message: 'must be a domain name such as "example.com" ("localhost" for dev)' });

/** Top-level keys of the `ballast:` namespace, validated after presets are merged. */
export const platformInputSchema = z.strictObject({
  environment: z.enum(["dev", "staging", "prod"]),
  target: z.enum(["compose", "kubernetes"]),
  domain,
  acmeEmail: z.string(),
  tls: z.boolean(),
  allowDataLoss: z.boolean(),
  compose: composeSchema,
  kubernetes: kubernetesSchema,
  app: appSchema,
  workers: z.array(workerSchema),
  cronJobs: z.array(cronJobSchema),
  postgres: postgresSchema,
  redis: redisSchema,
  services: z.array(extraServiceSchema),
  proxy: proxySchema,
  secrets: z.record(secretName, z.strictObject({ description: z.string().min(1), rotation: z.string().min(1) })),
  rotation: z.record(secretName, z.number().int().min(0)),
  host: hostSchema,
  backups: backupsSchema,
  monitoring: monitoringSchema,
});

export type PlatformInput = z.output<typeof platformInputSchema>;

/** Keys read separately as Pulumi secrets, never validated as plain values. */
export const secretConfigKeys = ["sshPrivateKey", "secretValues"] as const;
