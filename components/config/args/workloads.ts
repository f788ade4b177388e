/** The stack's own workloads: the app, queue workers, cron jobs and extra services, and the shapes they share. */
import type { ResourcesArgs } from "./shared";

/**
 * Build the image from a Dockerfile with `@pulumi/docker`, push it to `repository` (tagged with the
 * stack name; the local dev engine skips the push) and deploy it by digest. Logs in with `registry`.
 */
export interface BuildArgs {
  /** Build context, relative to the project directory (`"."`, `"apps/llm-gateway"`). @default none (required) */
  context: string;
  /** Dockerfile, relative to the context. @default "Dockerfile" */
  dockerfile?: string;
  /** Repository the image is pushed to, without tag (`"ghcr.io/acme/app"`); the tag is the stack name. @default none (required) */
  repository: string;
  /** Stage of a multi-stage Dockerfile to build. @default none (the last stage) */
  target?: string;
  /** Build arguments. Never secrets: they end up in the image history. @default {} */
  args?: Record<string, string>;
}

/**
 * Health checks of a workload. Liveness never checks a datastore (a database outage must not
 * restart every container); readiness gates traffic; deep health checks every dependency and
 * gates a Compose release and the `DeepHealthFailing` alert.
 */
export interface HealthArgs {
  /** URL path that says the process is alive, with no dependency checks. @default "/api/health" (app), none (workers, services) */
  liveness?: string;
  /** URL path that says the workload may receive traffic. @default the liveness path */
  readiness?: string;
  /** URL path that checks every dependency (Postgres, Redis, LLM providers ...). @default the readiness path */
  deep?: string;
  /** Port the health paths are served on. @default the workload's `port` (a worker's: its metrics port) */
  port?: number;
  /**
   * A command run in the container instead of the HTTP checks, for images without an HTTP client
   * (exit code 0 is healthy).
   * @default none (the HTTP paths)
   */
  command?: string[];
  /** Seconds after start during which failed checks do not count. @default 60 (app), 30 (workers, services) */
  startPeriodSeconds?: number;
}

/** Where Prometheus scrapes the app: its endpoint, or `false` for none. */
export interface AppMetricsArgs {
  /** URL path of the metrics endpoint. @default "/api/v1/metrics" */
  path?: string;
  /** Port the endpoint is served on. @default the app's `port` */
  port?: number;
}

/** Where Prometheus scrapes an extra service. */
export interface MetricsArgs {
  /** URL path of the metrics endpoint (`"/metrics"`). @default none (required) */
  path: string;
  /** Port the endpoint is served on. @default the service's `port` */
  port?: number;
}

/** Where Prometheus scrapes a worker, which serves no HTTP of its own otherwise. */
export interface WorkerMetricsArgs {
  /** Port of the metrics endpoint (also where a worker's health paths are served by default). @default none (required) */
  port: number;
  /** URL path of the metrics endpoint (`"/metrics"`). @default none (required) */
  path: string;
}

/**
 * Replica bounds and CPU target: a HorizontalPodAutoscaler on Kubernetes. Compose has no CPU
 * autoscaler: an autoscaled app or service runs `minReplicas` there.
 */
export interface AutoscalingArgs {
  /** Scale between the bounds instead of running a fixed `replicas`. @default see the `autoscaling` key holding this */
  enabled?: boolean;
  /** Fewest replicas (1-100). @default see the `autoscaling` key holding this */
  minReplicas?: number;
  /** Most replicas (1-500), at least `minReplicas`. @default see the `autoscaling` key holding this */
  maxReplicas?: number;
  /** Average CPU use, in percent of the requests, the autoscaler holds (10-100). @default see the `autoscaling` key holding this */
  cpuTargetPercent?: number;
}

/**
 * Scale a worker on the length of a queue in the stack's Redis instead of CPU: replicas =
 * ceil(length / `targetPerReplica`) within the bounds. Kubernetes: a KEDA ScaledObject (needs
 * `kubernetes.keda.enabled`); Compose: the host's cron runs the release's autoscale script every minute.
 */
export interface QueueTriggerArgs {
  /**
   * `redis-list`: the length of a list (LLEN, e.g. BullMQ's `bull:<queue>:wait`); `redis-stream`: the
   * pending entries of `consumerGroup` (XPENDING).
   * @default none (required)
   */
  kind: "redis-list" | "redis-stream";
  /** Redis key of the list or stream (`"bull:analyst:wait"`). @default none (required) */
  name: string;
  /** Consumer group whose pending entries count; only with `kind: "redis-stream"`, where it is required. @default none */
  consumerGroup?: string;
  /** Jobs one replica is meant to have in hand (1-1000000). @default none (required) */
  targetPerReplica: number;
}

/** A worker's autoscaling: the shared bounds, plus an optional queue trigger that replaces CPU. */
export interface WorkerAutoscalingArgs extends AutoscalingArgs {
  /**
   * Scale on a queue's length instead of CPU; needs `enabled: true`. Without it, a worker on Compose
   * must keep `enabled: false` (Compose has no CPU autoscaler).
   * @default none (CPU on Kubernetes)
   */
  queue?: QueueTriggerArgs;
}

/** A command run once, to completion, before the app rolls out (a Kubernetes Job, a Compose one-shot). */
export interface MigrationArgs {
  /** The migration command (`["npx", "prisma", "migrate", "deploy"]`); a schema push with data loss is refused on prod. @default none (required) */
  command: string[];
  /** Seconds the migration may run before it is stopped and the rollout fails (10-21600). @default 600 */
  timeoutSeconds?: number;
}

/** A public route to an extra service: `<subdomain>.<domain><pathPrefix>` through the proxy. */
export interface ServiceRouteArgs {
  /** Sub-domain label of `domain`; `""` routes on the apex domain. @default none (required) */
  subdomain: string;
  /** URL path prefix routed to the service (`"/"`, `"/v1"`). @default none (required) */
  pathPrefix: string;
}

/** A persistent data directory of an extra service; the service becomes one stateful replica. */
export interface ServiceStorageArgs {
  /** Absolute path of the directory in the container (`"/root/.ollama"`). @default none (required) */
  mountPath: string;
  /** Size of the volume in GiB (1-65536). @default none (required) */
  sizeGiB: number;
}

/** The web/API service: the one workload the proxy serves at `<subdomain>.<domain>`. */
export interface AppArgs {
  /** Service / object name, a DNS label (`"web"` for the AI Training Portal). @default "app" */
  name?: string;
  /** Pinned image (an exact version tag or a digest; never `latest`). @default none (required unless `build`) */
  image?: string;
  /** Build and push the image instead of naming `image`. @default none (see {@link BuildArgs}) */
  build?: BuildArgs;
  /** Container port the app listens on. @default 3000 */
  port?: number;
  /** Probes, the release gate and the deep-health alert. @default {liveness: "/api/health", startPeriodSeconds: 60} (see {@link HealthArgs}) */
  health?: HealthArgs;
  /** Prometheus endpoint; `false`: the app exposes no metrics (no scrape target, no `*Down` alert). @default {path: "/api/v1/metrics"} on `port` */
  metrics?: false | AppMetricsArgs;
  /** Sub-domain label of `domain` the app is served at; `""` serves the apex domain. @default "" (dev), "app" (staging, prod) */
  subdomain?: string;
  /** Replicas when not autoscaled (0-100). @default 1 (dev, staging, small), 3 (prod) */
  replicas?: number;
  /**
   * CPU and memory limits.
   * @default {cpu: 0.5, memory: "512Mi"} (dev), {cpu: 0.5, memory: "1Gi"} (staging), {cpu: 2, memory: "4Gi"} (prod), {cpu: 0.5, memory: "320Mi"} (small)
   */
  resources?: ResourcesArgs;
  /** CPU autoscaling (a HorizontalPodAutoscaler; Compose runs `minReplicas`). @default on, 3-10 replicas at 70 % CPU (prod); off, bounds 1-3 (staging), 1-2 (dev, small) */
  autoscaling?: AutoscalingArgs;
  /** Replaces the image's entrypoint. @default none (the image's) */
  command?: string[];
  /** Plain environment variables; numbers and booleans are taken as their text. @default {} */
  env?: Record<string, string | number | boolean>;
  /**
   * Environment variables from secrets: ENV_NAME to secret name (`AUTH_SECRET: "auth-secret"`);
   * `false` drops a default entry.
   * @default {DATABASE_URL: "database-url", REDIS_URL: "redis-url"} (no REDIS_URL without Redis)
   */
  secretEnv?: Record<string, string | false>;
  /** Seconds a stopping container gets to finish in-flight requests (raise it for long streamed LLM responses). @default 30 */
  stopGracePeriodSeconds?: number;
  /** One-shot migration run before the app rolls out. @default none (no migration) */
  migration?: MigrationArgs;
}

/** A queue worker: the app's image (by default) running a worker command, with no HTTP route. */
export interface WorkerArgs {
  /** Service / object name, a DNS label. @default none (required) */
  name: string;
  /** Pinned image. @default the app's image (or the app's build) */
  image?: string;
  /** Build and push the worker's own image. @default none (the app's image or build) */
  build?: BuildArgs;
  /** Replaces the image's entrypoint (`["node", "dist/worker.js"]`). @default none (the image's) */
  command?: string[];
  /** Replicas when not autoscaled (0-100). @default 1 (dev, staging, small), 5 (prod) */
  replicas?: number;
  /**
   * CPU and memory limits.
   * @default {cpu: 0.5, memory: "512Mi"} (dev), {cpu: 0.5, memory: "1Gi"} (staging), {cpu: 4, memory: "8Gi"} (prod), {cpu: 0.25, memory: "192Mi"} (small)
   */
  resources?: ResourcesArgs;
  /**
   * CPU autoscaling on Kubernetes, or scaling on a queue's length on either target.
   * @default on, 5-20 replicas at 80 % CPU (prod on Kubernetes); off, bounds 5-20 (prod on Compose), 1-3 (staging), 1-2 (dev, small)
   */
  autoscaling?: WorkerAutoscalingArgs;
  /** Plain environment variables; numbers and booleans are taken as their text. @default {} */
  env?: Record<string, string | number | boolean>;
  /**
   * Environment variables from secrets: ENV_NAME to secret name; `false` drops a default entry
   * (`REDIS_URL: false` for a worker that never touches Redis).
   * @default {DATABASE_URL: "database-url", REDIS_URL: "redis-url"} (no REDIS_URL without Redis)
   */
  secretEnv?: Record<string, string | false>;
  /** Prometheus endpoint of the worker. @default none (not scraped) */
  metrics?: WorkerMetricsArgs;
  /** Health checks: a command, or paths on a port (workers serve no HTTP otherwise). @default none (a TCP check on the metrics port, if any) */
  health?: HealthArgs;
  /** Seconds a worker gets to finish the job in hand after SIGTERM. @default 120 */
  stopGracePeriodSeconds?: number;
}

/** A scheduled job: Kubernetes CronJob, or the Compose host's crontab. */
export interface CronJobArgs {
  /** Job name, a DNS label. @default none (required) */
  name: string;
  /** Five-field numeric cron expression in UTC (`"15 3 * * *"`); no names or macros. @default none (required) */
  schedule: string;
  /** Pinned image. @default the app's image (or the app's build) */
  image?: string;
  /** Build and push the job's own image. @default none (the app's image or build) */
  build?: BuildArgs;
  /** The command the job runs (replaces the image's entrypoint). @default none (required) */
  command: string[];
  /**
   * CPU and memory limits.
   * @default {cpu: 0.25, memory: "256Mi"} (dev, staging), {cpu: 0.5, memory: "1Gi"} (prod), {cpu: 0.25, memory: "128Mi"} (small)
   */
  resources?: ResourcesArgs;
  /** Seconds a run may take before it is stopped (10-86400). @default 3600 */
  timeoutSeconds?: number;
  /** Plain environment variables; numbers and booleans are taken as their text. @default {} */
  env?: Record<string, string | number | boolean>;
  /**
   * Environment variables from secrets: ENV_NAME to secret name; `false` drops a default entry.
   * @default {DATABASE_URL: "database-url", REDIS_URL: "redis-url"} (no REDIS_URL without Redis)
   */
  secretEnv?: Record<string, string | false>;
}

/** An extra service (a model server, an LLM gateway, a sidecar API): internal unless it has a `route`. */
export interface ExtraServiceArgs {
  /** Service / object name, a DNS label. @default none (required) */
  name: string;
  /** Pinned image (an exact version tag or a digest; never `latest`). @default none (required unless `build`) */
  image?: string;
  /** Build and push the image instead of naming `image`. @default none (see {@link BuildArgs}) */
  build?: BuildArgs;
  /** Container port the service listens on. @default none (required) */
  port: number;
  /** Replaces the image's entrypoint. @default none (the image's) */
  command?: string[];
  /** Replaces the image's arguments (its CMD). @default none (the image's) */
  args?: string[];
  /** Plain environment variables; numbers and booleans are taken as their text. @default {} */
  env?: Record<string, string | number | boolean>;
  /** Environment variables from secrets: ENV_NAME to secret name; `false` drops an entry. @default {} */
  secretEnv?: Record<string, string | false>;
  /**
   * CPU and memory limits.
   * @default {cpu: 0.5, memory: "512Mi"} (dev), {cpu: 0.25, memory: "512Mi"} (staging), {cpu: 1, memory: "2Gi"} (prod), {cpu: 0.25, memory: "256Mi"} (small)
   */
  resources?: ResourcesArgs;
  /** Replicas when not autoscaled (0-100). @default 1 */
  replicas?: number;
  /** CPU autoscaling (a HorizontalPodAutoscaler; Compose runs `minReplicas`). @default off, bounds 1-3 at 70 % CPU */
  autoscaling?: AutoscalingArgs;
  /** Health checks. @default none (a TCP check on `port`) */
  health?: HealthArgs;
  /** Prometheus endpoint; `false` or absent: not scraped. @default none (not scraped) */
  metrics?: false | MetricsArgs;
  /** Public route `<subdomain>.<domain><pathPrefix>` through the proxy. @default none (internal only) */
  route?: ServiceRouteArgs;
  /** Persistent data directory (ollama's models); the service becomes one stateful replica. @default none (no volume) */
  storage?: ServiceStorageArgs;
  /** Workloads of the stack allowed to call it besides the app and the workers. @default [] */
  allowFrom?: string[];
  /** Give the service the OTLP tracing settings when tracing is on. @default true */
  tracing?: boolean;
  /** Mount the root filesystem read-only (most third-party images write somewhere). @default false */
  readOnlyRootFilesystem?: boolean;
  /** Fixed non-root uid (and gid) for images that need one. @default none (the image's user; root is refused on Kubernetes) */
  runAsUser?: number;
  /**
   * Explicit opt-in to run as root, for an upstream image that requires it (ollama); labelled
   * `ballast.dev/runs-as-root` for the policy pack.
   * @default false
   */
  runAsRoot?: boolean;
  /** Seconds a stopping container gets to finish in-flight requests. @default 30 */
  stopGracePeriodSeconds?: number;
}
