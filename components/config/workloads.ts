/**
 * Schemas of the stack's own workloads: `ballast:app`, `ballast:workers[]`,
 * `ballast:cronJobs[]` and `ballast:services[]`, and the parts they share (build, health,
 * metrics, migration). Defaults: ./defaults.ts.
 */
import { z } from "zod";
import { imageRef } from "./images";
import {
  absolutePath,
  autoscaling,
  autoscalingFields,
  checkReplicaBounds,
  command,
  cronSchedule,
  dnsLabel,
  env,
  port,
  replicas,
  resources,
  secretEnv,
  subdomain,
  urlPath,
} from "./primitives";

/**
 * Build the image from a Dockerfile with `@pulumi/docker` and push it to the registry the
 * target pulls from (`ballast:registry`); the stack deploys it by digest.
 */
export const buildSchema = z.strictObject({
  /** Build context, relative to the project directory. */
  context: z.string().min(1, { message: 'must be a directory such as "." or "apps/llm-gateway"' }),
  /** Dockerfile, relative to the context. */
  dockerfile: z.string().min(1, { message: 'must be a file name such as "Dockerfile"' }),
  /** Repository the image is pushed to, without tag (`ghcr.io/acme/app`); the tag is the stack name. */
  repository: z.string().regex(/^[a-z0-9][a-z0-9._-]*(:\d+)?(\/[a-z0-9][a-z0-9._-]*)+$|^[a-z0-9][a-z0-9._-]*$/, {
    message: 'must be an image repository without tag, such as "ghcr.io/acme/app"',
  }),
  /** Multi-stage target. */
  target: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, { message: "must be a stage name of the Dockerfile" })
    .optional(),
  /** Build arguments (never secrets: they end up in the image history). */
  args: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "build argument names are letters, digits and '_'" }), z.string()),
});

/**
 * Health of an HTTP (or command-checked) workload. Liveness must never depend on a
 * datastore: a database outage must not restart every pod. Readiness gates traffic;
 * deep health (every dependency) gates a release and feeds the DeepHealthFailing alert.
 */
export const healthSchema = z.strictObject({
  /** Is the process alive (no dependency checks). */
  liveness: urlPath.optional(),
  /** May it receive traffic; default: the liveness path. */
  readiness: urlPath.optional(),
  /** Every dependency (Postgres, Redis, LLM providers, …); default: the readiness path. */
  deep: urlPath.optional(),
  /** Port the paths are served on; default: the workload's port. */
  port: port.optional(),
  /** A command run in the container instead of the HTTP probes (images without wget/curl). */
  command: command.optional(),
  /** Seconds after start during which failures do not count. */
  startPeriodSeconds: z.number().int().min(0).max(3600),
});

/** Where Prometheus scrapes the workload; `false`: it exposes no metrics (no target, no *Down alert). */
export const metricsSchema = z.union([z.literal(false), z.strictObject({ path: urlPath, port: port.optional() })], {
  error: 'must be false or {path: "/metrics", port: 9464}',
});

/** `ballast:app.migration`: the command run once, before the app rolls out. */
export const migrationSchema = z.strictObject({
  command,
  timeoutSeconds: z
    .number()
    .int()
    .min(10)
    .max(6 * 3600),
});

/** Fields every long-running workload shares. */
const image = imageRef.optional();
const stopGracePeriodSeconds = z.number().int().min(1).max(3600);

export const appSchema = z.strictObject({
  /** Service / object name (the AI Training Portal's `web`). */
  name: dnsLabel,
  /** Pinned image; not needed with `build`. */
  image,
  build: buildSchema.optional(),
  port,
  health: healthSchema,
  metrics: metricsSchema,
  /** Sub-domain label of `domain`; "" serves the apex domain. */
  subdomain,
  replicas,
  resources,
  autoscaling,
  command: command.optional(),
  env,
  secretEnv,
  /** Seconds a stopping container gets to finish in-flight requests (streamed LLM responses). */
  stopGracePeriodSeconds,
  migration: migrationSchema.optional(),
});

/**
 * A Redis key the scalers read: printable, no spaces or quotes (it is passed as one argument to
 * redis-cli on Compose and as KEDA trigger metadata on Kubernetes).
 */
const redisKey = z.string().regex(/^[A-Za-z0-9_.:{}/@#+=-]{1,200}$/, {
  message: 'must be a Redis key of letters, digits and _ . : { } / @ # + = - (at most 200 characters), such as "bull:analyst:wait"',
});

export const QUEUE_KINDS = ["redis-list", "redis-stream"] as const;

/**
 * `workers[].autoscaling.queue`: scale on the length of a queue in the stack's Redis instead of
 * CPU (NomosX: "target queue length 50 jobs/worker"). Replicas = ceil(length / targetPerReplica)
 * within min/max. Kubernetes: a KEDA ScaledObject (`ballast:kubernetes.keda`); Compose: the host's
 * cron runs the release's autoscale.sh every minute.
 */
export const queueTriggerSchema = z
  .strictObject({
    /** `redis-list`: LLEN of a list (BullMQ's `bull:<queue>:wait`); `redis-stream`: the consumer group's pending entries (XPENDING). */
    kind: z.enum(QUEUE_KINDS),
    /** Key of the list or stream. */
    name: redisKey,
    /** Consumer group whose pending entries count (streams only). */
    consumerGroup: redisKey.optional(),
    /** Jobs one replica is meant to have in hand. */
    targetPerReplica: z
      .number()
      .int()
      .min(1, { message: "must be a whole number of jobs between 1 and 1000000" })
      .max(1_000_000, { message: "must be a whole number of jobs between 1 and 1000000" }),
  })
  .superRefine((value, ctx) => {
    if (value.kind === "redis-stream" && value.consumerGroup === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["consumerGroup"],
        message: 'required with kind "redis-stream": the consumer group whose pending entries are counted',
      });
    }
    if (value.kind === "redis-list" && value.consumerGroup !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["consumerGroup"],
        message: 'only used with kind "redis-stream"; a list has no consumer group (remove it)',
      });
    }
  });

/** A worker's autoscaling: the shared bounds, plus an optional queue trigger that replaces CPU. */
export const workerAutoscalingSchema = z
  .strictObject({ ...autoscalingFields, queue: queueTriggerSchema.optional() })
  .superRefine(checkReplicaBounds);

export const workerSchema = z.strictObject({
  name: dnsLabel,
  /** Default: the app's image (or the app's build). */
  image,
  build: buildSchema.optional(),
  command: command.optional(),
  replicas,
  resources,
  autoscaling: workerAutoscalingSchema,
  env,
  secretEnv,
  metrics: z.strictObject({ port, path: urlPath }).optional(),
  /** Workers serve no HTTP: a health command (or paths on a port) when the image has one. */
  health: healthSchema.optional(),
  /** Seconds a worker gets to finish the job in hand after SIGTERM. */
  stopGracePeriodSeconds,
});

export const cronJobSchema = z.strictObject({
  name: dnsLabel,
  schedule: cronSchedule,
  /** Default: the app's image (or the app's build). */
  image,
  build: buildSchema.optional(),
  command,
  resources,
  timeoutSeconds: z.number().int().min(10).max(86400),
  env,
  secretEnv,
});

export const extraServiceSchema = z.strictObject({
  name: dnsLabel,
  image,
  build: buildSchema.optional(),
  port,
  command: command.optional(),
  args: command.optional(),
  env,
  secretEnv,
  resources,
  replicas,
  autoscaling,
  health: healthSchema.optional(),
  metrics: metricsSchema.optional(),
  /** Public route `<subdomain>.<domain><pathPrefix>`; absent keeps the service internal. */
  route: z.strictObject({ subdomain, pathPrefix: urlPath }).optional(),
  /** Persistent data directory (ollama models); the service becomes a single stateful replica. */
  storage: z.strictObject({ mountPath: absolutePath, sizeGiB: z.number().int().min(1).max(65536) }).optional(),
  /** Workloads allowed to call it besides the app and workers. */
  allowFrom: z.array(dnsLabel),
  /** OTLP tracing settings when tracing is on. */
  tracing: z.boolean(),
  /** Root filesystem read-only (most third-party images write somewhere: default false). */
  readOnlyRootFilesystem: z.boolean(),
  /** Fixed non-root uid for images that need one; absent keeps the image's user (refused if it is root on Kubernetes). */
  runAsUser: z.number().int().min(1).max(2147483647).optional(),
  /**
   * Explicit opt-in to run as root for an upstream image that requires it (ollama). Visible to
   * the policy pack (label `ballast.dev/runs-as-root`), never a default.
   */
  runAsRoot: z.boolean(),
  stopGracePeriodSeconds,
});
