/**
 * Every default of the stack config, in one place. A stack file only says what differs.
 *
 * Sizes come from a sizing class: the environment (prod follows the NomosX runbook: API
 * 2 CPU / 4 GiB, HPA 3-10 at 70 %; workers 4 CPU / 8 GiB, HPA 5-20 at 80 %; staging fits a
 * 4 vCPU / 8 GiB VPS with monitoring; dev fits a laptop), or `small` for a Compose host of
 * at most 2 GiB (the AI Training Portal's 1 vCPU / 1 GB VPS: tight limits, monitoring off).
 *
 * `withDefaults` merges these under the stack file's values before the schema parses them:
 * the top-level tree, each list item (workers, cron jobs, services), and optional objects
 * when the stack gives them (a build, a health block, the S3 copy, the HNSW index ...).
 */
import { cidrProblem } from "./compose";
import { defaultImages } from "./images";
import type { Environment } from "./environment";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type SizingClass = Environment | "small";

interface Size {
  cpu: number;
  memory: string;
}

interface Sizing {
  app: Size & { replicas: number; autoscaling: JsonObject };
  worker: Size & { replicas: number; autoscaling: JsonObject };
  cron: Size;
  postgres: Size & { storageGiB: number; maxConnections: number };
  redis: Size & { maxmemory: string; storageGiB: number };
  service: Size;
  proxy: Size;
  backups: Size;
  monitoring: {
    enabled: boolean;
    parts: Record<MonitoringPart, Size>;
    storageGiB: Record<"prometheus" | "alertmanager" | "grafana" | "loki" | "tracing", number>;
    sampleRatio: number;
  };
}

type MonitoringPart =
  | "prometheus"
  | "alertmanager"
  | "grafana"
  | "loki"
  | "alloy"
  | "nodeExporter"
  | "cadvisor"
  | "dockerSocketProxy"
  | "postgresExporter"
  | "redisExporter"
  | "blackboxExporter"
  | "tracing";

const autoscalingOff = (max: number, target: number): JsonObject => ({
  enabled: false,
  minReplicas: 1,
  maxReplicas: max,
  cpuTargetPercent: target,
});

/** Staging's monitoring limits add up to at most 1.5 GiB (a test checks it): the set fits a 4 vCPU / 8 GiB VPS beside the app. */
const smallMonitoring: Sizing["monitoring"]["parts"] = {
  prometheus: { cpu: 0.5, memory: "448Mi" },
  alertmanager: { cpu: 0.1, memory: "64Mi" },
  grafana: { cpu: 0.25, memory: "192Mi" },
  loki: { cpu: 0.25, memory: "320Mi" },
  alloy: { cpu: 0.2, memory: "160Mi" },
  nodeExporter: { cpu: 0.1, memory: "48Mi" },
  cadvisor: { cpu: 0.2, memory: "160Mi" },
  dockerSocketProxy: { cpu: 0.05, memory: "32Mi" },
  postgresExporter: { cpu: 0.1, memory: "48Mi" },
  redisExporter: { cpu: 0.05, memory: "32Mi" },
  blackboxExporter: { cpu: 0.05, memory: "32Mi" },
  tracing: { cpu: 0.25, memory: "256Mi" },
};

const sizing: Record<SizingClass, Sizing> = {
  dev: {
    app: { cpu: 0.5, memory: "512Mi", replicas: 1, autoscaling: autoscalingOff(2, 70) },
    worker: { cpu: 0.5, memory: "512Mi", replicas: 1, autoscaling: autoscalingOff(2, 80) },
    cron: { cpu: 0.25, memory: "256Mi" },
    postgres: { cpu: 0.5, memory: "512Mi", storageGiB: 5, maxConnections: 50 },
    redis: { cpu: 0.25, memory: "192Mi", maxmemory: "128mb", storageGiB: 1 },
    service: { cpu: 0.5, memory: "512Mi" },
    proxy: { cpu: 0.25, memory: "128Mi" },
    backups: { cpu: 1, memory: "512Mi" },
    monitoring: {
      enabled: true,
      parts: smallMonitoring,
      storageGiB: { prometheus: 5, alertmanager: 1, grafana: 1, loki: 5, tracing: 2 },
      sampleRatio: 1,
    },
  },
  staging: {
    app: { cpu: 0.5, memory: "1Gi", replicas: 1, autoscaling: autoscalingOff(3, 70) },
    worker: { cpu: 0.5, memory: "1Gi", replicas: 1, autoscaling: autoscalingOff(3, 80) },
    cron: { cpu: 0.25, memory: "256Mi" },
    postgres: { cpu: 0.5, memory: "1536Mi", storageGiB: 20, maxConnections: 100 },
    redis: { cpu: 0.25, memory: "768Mi", maxmemory: "512mb", storageGiB: 2 },
    service: { cpu: 0.25, memory: "512Mi" },
    proxy: { cpu: 0.25, memory: "256Mi" },
    backups: { cpu: 1, memory: "512Mi" },
    monitoring: {
      enabled: true,
      parts: smallMonitoring,
      storageGiB: { prometheus: 10, alertmanager: 1, grafana: 1, loki: 10, tracing: 10 },
      sampleRatio: 1,
    },
  },
  prod: {
    app: { cpu: 2, memory: "4Gi", replicas: 3, autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 10, cpuTargetPercent: 70 } },
    worker: { cpu: 4, memory: "8Gi", replicas: 5, autoscaling: { enabled: true, minReplicas: 5, maxReplicas: 20, cpuTargetPercent: 80 } },
    cron: { cpu: 0.5, memory: "1Gi" },
    postgres: { cpu: 4, memory: "16Gi", storageGiB: 200, maxConnections: 300 },
    redis: { cpu: 2, memory: "5Gi", maxmemory: "4gb", storageGiB: 20 },
    service: { cpu: 1, memory: "2Gi" },
    proxy: { cpu: 1, memory: "512Mi" },
    backups: { cpu: 1, memory: "512Mi" },
    monitoring: {
      enabled: true,
      parts: {
        prometheus: { cpu: 1, memory: "2Gi" },
        alertmanager: { cpu: 0.2, memory: "128Mi" },
        grafana: { cpu: 0.5, memory: "512Mi" },
        loki: { cpu: 1, memory: "1Gi" },
        alloy: { cpu: 0.5, memory: "384Mi" },
        nodeExporter: { cpu: 0.2, memory: "96Mi" },
        cadvisor: { cpu: 0.5, memory: "384Mi" },
        dockerSocketProxy: { cpu: 0.1, memory: "64Mi" },
        postgresExporter: { cpu: 0.2, memory: "128Mi" },
        redisExporter: { cpu: 0.1, memory: "64Mi" },
        blackboxExporter: { cpu: 0.1, memory: "64Mi" },
        tracing: { cpu: 0.5, memory: "1Gi" },
      },
      storageGiB: { prometheus: 50, alertmanager: 1, grafana: 5, loki: 50, tracing: 50 },
      sampleRatio: 0.2,
    },
  },
  // A 1 vCPU / 1 GB VPS (AI Training Portal): app + Postgres + proxy + the largest one-shot
  // job stay within 1 GiB of limits and 1 CPU; monitoring is off (turn it on with a bigger host).
  small: {
    app: { cpu: 0.5, memory: "320Mi", replicas: 1, autoscaling: autoscalingOff(2, 70) },
    worker: { cpu: 0.25, memory: "192Mi", replicas: 1, autoscaling: autoscalingOff(2, 80) },
    cron: { cpu: 0.25, memory: "128Mi" },
    postgres: { cpu: 0.3, memory: "256Mi", storageGiB: 5, maxConnections: 20 },
    redis: { cpu: 0.1, memory: "48Mi", maxmemory: "24mb", storageGiB: 1 },
    service: { cpu: 0.25, memory: "256Mi" },
    proxy: { cpu: 0.1, memory: "64Mi" },
    backups: { cpu: 0.25, memory: "128Mi" },
    monitoring: {
      enabled: false,
      parts: smallMonitoring,
      storageGiB: { prometheus: 5, alertmanager: 1, grafana: 1, loki: 5, tracing: 2 },
      sampleRatio: 1,
    },
  },
};

/** A Compose host this small (GiB) gets the `small` sizing class. */
export const SMALL_HOST_MAX_MEMORY_GIB = 2;
const defaultHost = { cpus: 4, memoryGiB: 8 };

export interface DefaultsContext {
  environment: Environment;
  stack: string;
  project: string;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep merge of plain objects; arrays and scalars from `override` replace `base`. */
export function deepMerge(base: JsonObject, override: JsonObject): JsonObject {
  const result: JsonObject = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = result[key];
    result[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : value;
  }
  return result;
}

/** The target the stack names, else its environment's default (prod: Kubernetes, else Compose). */
function targetOf(environment: Environment, values: JsonObject): string {
  return typeof values.target === "string" ? values.target : environment === "prod" ? "kubernetes" : "compose";
}

/** The sizing class of a stack: `small` for a Compose host of at most 2 GiB, else its environment. */
export function sizingClassOf(environment: Environment, values: JsonObject): SizingClass {
  const target = targetOf(environment, values);
  const host = isObject(values.host) ? values.host : {};
  const memoryGiB = typeof host.memoryGiB === "number" ? host.memoryGiB : defaultHost.memoryGiB;
  return target === "compose" && memoryGiB <= SMALL_HOST_MAX_MEMORY_GIB ? "small" : environment;
}

const size = (s: Size): JsonObject => ({ cpu: s.cpu, memory: s.memory });

/** Memory of the Jaeger backend in every environment unless the stack sizes it (prod's tracing size). */
const JAEGER_MIN_MEMORY = "1Gi";

/** The connection secrets a workload of the stack gets unless it drops them (`REDIS_URL: false`). */
function connectionSecretEnv(values: JsonObject): JsonObject {
  const redis = isObject(values.redis) ? values.redis : {};
  return { DATABASE_URL: "database-url", ...(redis.enabled === false ? {} : { REDIS_URL: "redis-url" }) };
}

function monitoringDefaults(s: Sizing): JsonObject {
  const parts = s.monitoring.parts;
  const part = (name: MonitoringPart, image: string, extra: JsonObject = {}): JsonObject => ({
    enabled: true,
    image,
    resources: size(parts[name]),
    ...extra,
  });
  const storage = s.monitoring.storageGiB;
  return {
    enabled: s.monitoring.enabled,
    prometheus: part("prometheus", defaultImages.prometheus, {
      storageGiB: storage.prometheus,
      retentionDays: 30,
      scrapeIntervalSeconds: 15,
    }),
    alertmanager: part("alertmanager", defaultImages.alertmanager, {
      storageGiB: storage.alertmanager,
      receiver: { type: "none" },
      receivers: {},
      routes: [],
    }),
    grafana: part("grafana", defaultImages.grafana, {
      storageGiB: storage.grafana,
      subdomain: "grafana",
      adminUser: "admin",
      titlePrefix: "Ballast",
      dashboards: [],
    }),
    loki: part("loki", defaultImages.loki, { storageGiB: storage.loki, retentionDays: 7 }),
    alloy: part("alloy", defaultImages.alloy, { dropPaths: [] }),
    nodeExporter: part("nodeExporter", defaultImages.nodeExporter),
    cadvisor: part("cadvisor", defaultImages.cadvisor),
    dockerSocketProxy: { image: defaultImages.dockerSocketProxy, resources: size(parts.dockerSocketProxy) },
    postgresExporter: part("postgresExporter", defaultImages.postgresExporter),
    redisExporter: part("redisExporter", defaultImages.redisExporter),
    blackboxExporter: part("blackboxExporter", defaultImages.blackboxExporter),
    tracing: {
      enabled: false,
      backend: "tempo",
      image: defaultImages.tempo,
      resources: size(parts.tracing),
      storageGiB: storage.tracing,
      retentionHours: 72,
      sampleRatio: s.monitoring.sampleRatio,
    },
    alerts: {
      errorRateThreshold: 0.05,
      latencyP95Seconds: 5,
      queueBacklog: 1000,
      costPerRunUsd: 5,
      llmMetricPrefix: "nyxcore_",
      llmSpendPerHourUsd: 10,
      tokenAnomalyFactor: 3,
      restoreDrillMaxAgeDays: 35,
      postgresConnectionsRatio: 0.8,
      redisMemoryRatio: 0.9,
      diskFreeWarningRatio: 0.15,
      diskFreeCriticalRatio: 0.05,
      memoryAvailableRatio: 0.1,
      tlsExpiryDays: 14,
      metrics: {
        httpRequestsTotal: "http_requests_total",
        errorsTotal: "errors_total",
        httpRequestDurationSeconds: "http_request_duration_seconds",
        queueWaitingCount: "queue_waiting_count",
        jobDurationSeconds: "job_duration_seconds",
        costPerRunUsd: "cost_per_run_usd",
      },
      groups: [],
      ruleFiles: [],
      ruleTests: [],
    },
    slos: [],
  };
}

/** Top-level defaults (lists are filled per item by `itemDefaults`). */
export function topLevelDefaults(context: DefaultsContext, values: JsonObject): JsonObject {
  const { environment, stack, project } = context;
  const s = sizing[sizingClassOf(environment, values)];
  const local = environment === "dev";
  const postgres = isObject(values.postgres) ? values.postgres : {};
  const composeValues = isObject(values.compose) ? values.compose : {};
  const mode = typeof composeValues.mode === "string" ? composeValues.mode : local ? "local" : "ssh";
  return {
    target: local ? "compose" : environment === "prod" ? "kubernetes" : "compose",
    domain: local ? "localhost" : "example.com",
    acmeEmail: "",
    tls: !local,
    allowDataLoss: false,
    compose: {
      mode,
      project,
      localDir: `.ballast/${stack}`,
      keepReleases: 5,
      deployTimeoutSeconds: 300,
      composeCommand: "docker compose",
      bootstrap: {
        enabled: !local,
        user: "root",
        adminUser: "ballast-admin",
        adminKeys: [],
        sshAllowFrom: [],
        authorizedKeys: [],
        operatorKeys: [],
        unattendedUpgrades: true,
        hardenSsh: true,
        fail2ban: { maxRetry: 5, findTimeSeconds: 600, banTimeSeconds: 3600, ignoreFrom: [] },
        dockerLogs: { maxSize: "10m", maxFile: 3 },
      },
      // Pruning a developer's own engine is not the stack's business: only VPS hosts.
      maintenance: { enabled: mode === "ssh", schedule: "30 4 * * 0", buildCacheKeep: "5g" },
    },
    kubernetes: {
      namespace: project,
      storageClass: "",
      ingressClass: "traefik",
      deployTraefik: true,
      context: "",
      renderYamlToDirectory: "",
      ingressControllerNamespace: "kube-system",
      progressDeadlineSeconds: 240,
      publicService: "LoadBalancer",
      nodePorts: { http: 0, https: 0 },
      readinessTimeoutSeconds: 600,
      awaitIngressAddress: true,
      keda: { enabled: false, namespace: "keda" },
      internetEgressPorts: [443],
    },
    app: {
      name: "app",
      port: 3000,
      health: { liveness: "/api/health", startPeriodSeconds: 60 },
      metrics: { path: "/api/v1/metrics" },
      subdomain: local ? "" : "app",
      replicas: s.app.replicas,
      resources: size(s.app),
      autoscaling: s.app.autoscaling,
      env: {},
      secretEnv: connectionSecretEnv(values),
      stopGracePeriodSeconds: 30,
    },
    workers: [],
    cronJobs: [],
    postgres: {
      external: false,
      name: "postgres",
      image: defaultImages.postgres,
      database: "app",
      user: "app",
      roles: { app: "ballast_app", monitor: "ballast_monitor", backup: "ballast_backup" },
      storageGiB: s.postgres.storageGiB,
      resources: size(s.postgres),
      extensions: ["vector"],
      initSql: "",
      maxConnections: s.postgres.maxConnections,
    },
    redis: {
      enabled: true,
      name: "redis",
      image: defaultImages.redis,
      maxmemory: s.redis.maxmemory,
      evictionPolicy: "allkeys-lru",
      save: "900 1 300 10 60 10000",
      appendonly: false,
      storageGiB: s.redis.storageGiB,
      resources: size(s.redis),
    },
    services: [],
    proxy: {
      image: defaultImages.traefik,
      resources: size(s.proxy),
      httpPort: local ? 8080 : 80,
      httpsPort: local ? 8443 : 443,
      // The local engine serves this machine: its ports stay on loopback unless the stack says otherwise.
      bindAddress: local ? "127.0.0.1" : "",
      acmeStaging: false,
      acmeDirectory: "",
      acmeCaCertificate: "",
      extraHosts: [],
      adminPort: 8099,
    },
    secrets: {},
    rotation: {},
    host: defaultHost,
    backups: {
      // A managed database backs itself up (Supabase PITR, RDS snapshots): opt in to pg_dump it too.
      enabled: postgres.external !== true,
      schedule: "15 3 * * *",
      retention: { daily: 7, weekly: 4, monthly: 6 },
      storageGiB: 20,
      rpoHours: 24,
      timeoutMinutes: 120,
      drill: { enabled: true, schedule: "30 4 1 * *", tables: [], tolerancePercent: 5, timeoutMinutes: 15 },
      // Redis is usually a cache: snapshotting it is the stack's choice. The config archive is small and always useful.
      redis: false,
      config: true,
      // pg_dump must be the server's major version or newer: follow the database image.
      image: typeof postgres.image === "string" ? postgres.image : defaultImages.postgres,
      resources: size(s.backups),
    },
    monitoring: monitoringDefaults(s),
  };
}

/** Defaults for one item of a list key, given the stack file's values (the app image, Redis on or off). */
export function itemDefaults(context: DefaultsContext, list: "workers" | "cronJobs" | "services", values: JsonObject): JsonObject {
  const s = sizing[sizingClassOf(context.environment, values)];
  const app = isObject(values.app) ? values.app : {};
  // Workers and jobs run the app's image unless they name their own (or their own build).
  const appImage: JsonObject = typeof app.image === "string" ? { image: app.image } : {};
  switch (list) {
    case "workers":
      return {
        ...appImage,
        replicas: s.worker.replicas,
        resources: size(s.worker),
        // Compose has no CPU autoscaler: a worker there scales only on a queue it declares
        // (autoscaling.queue, enabled true); by default it runs its fixed `replicas`.
        autoscaling:
          targetOf(context.environment, values) === "compose" ? { ...s.worker.autoscaling, enabled: false } : s.worker.autoscaling,
        env: {},
        secretEnv: connectionSecretEnv(values),
        // Workers finish the job in hand before they stop.
        stopGracePeriodSeconds: 120,
      };
    case "cronJobs":
      return { ...appImage, resources: size(s.cron), timeoutSeconds: 3600, env: {}, secretEnv: connectionSecretEnv(values) };
    case "services":
      return {
        resources: size(s.service),
        replicas: 1,
        autoscaling: autoscalingOff(3, 70),
        env: {},
        secretEnv: {},
        allowFrom: [],
        tracing: true,
        readOnlyRootFilesystem: false,
        runAsRoot: false,
        stopGracePeriodSeconds: 30,
      };
  }
}

/** Defaults of optional objects, merged under them only when the stack file gives them. */
const optionalDefaults = {
  ssh: { port: 22, user: "deploy", remoteDir: "/opt/ballast", dialTimeoutSeconds: 10, dialAttempts: 3 },
  build: { dockerfile: "Dockerfile", args: {} },
  health: { startPeriodSeconds: 30 },
  migration: { timeoutSeconds: 600 },
  hnswIndex: { m: 16, efConstruction: 64, opclass: "vector_cosine_ops" },
  s3: { prefix: "", region: "us-east-1", schedule: "45 * * * *", image: defaultImages.rclone },
  receiver: { webhook: { auth: "bearer" }, email: { requireTls: true } } as Record<string, JsonObject>,
  route: { continue: false },
  // The SRE workbook's window: the burn-rate factors 14.4 / 6 / 1 are for 30 days.
  slo: { windowDays: 30 },
} satisfies Record<string, JsonObject>;

function mergeOptional(parent: Json | undefined, key: string, defaults: JsonObject): void {
  if (isObject(parent) && isObject(parent[key])) parent[key] = deepMerge(defaults, parent[key] as JsonObject);
}

/** Readiness defaults to liveness, deep health to readiness. */
function completeHealth(parent: Json | undefined): void {
  if (!isObject(parent) || !isObject(parent.health)) return;
  const health = parent.health;
  if (health.readiness === undefined && health.liveness !== undefined) health.readiness = health.liveness;
  if (health.deep === undefined && health.readiness !== undefined) health.deep = health.readiness;
}

/** Everyone, as source ranges. */
export const EVERYONE = ["0.0.0.0/0", "::/0"];
/** RFC 1918 and unique-local ranges: VPNs, office networks, a cluster's nodes. */
export const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"];

/** The ranges a route is restricted to, or undefined when everyone may connect (both of `EVERYONE`, or none given). */
export function restrictedRanges(ranges: readonly string[]): string[] | undefined {
  const everyone = EVERYONE.every((range) => ranges.includes(range));
  return everyone || ranges.length === 0 ? undefined : [...ranges];
}

/**
 * Who may reach Grafana when the stack does not say: everyone in dev and on the local engine;
 * outside dev, on a Compose VPS whoever may SSH to it (ballast:compose.bootstrap.sshAllowFrom),
 * on Kubernetes private ranges (the public Service keeps client addresses: externalTrafficPolicy Local).
 */
function grafanaAllowFromDefault(merged: JsonObject, context: DefaultsContext): JsonObject[string] {
  if (context.environment === "dev") return EVERYONE;
  if (merged.target === "kubernetes") return PRIVATE_RANGES;
  const compose = isObject(merged.compose) ? merged.compose : {};
  // The local engine serves this machine (its published ports follow ballast:proxy.bindAddress).
  if (compose.mode === "local") return EVERYONE;
  const bootstrap = isObject(compose.bootstrap) ? compose.bootstrap : {};
  // Only the valid ranges: a bad one is reported once, under sshAllowFrom.
  const ssh = Array.isArray(bootstrap.sshAllowFrom)
    ? bootstrap.sshAllowFrom.filter((range) => typeof range === "string" && cidrProblem(range) === undefined)
    : [];
  // No SSH allow-list to follow: a check asks for an explicit one (private ranges are Docker's own on Compose).
  return ssh.length > 0 ? ssh : [];
}

/** Every default merged under the stack file's values, ready for the schema. */
export function withDefaults(values: JsonObject, context: DefaultsContext): JsonObject {
  const merged = deepMerge(topLevelDefaults(context, values), { ...values, environment: context.environment });
  const compose = merged.compose as JsonObject;
  mergeOptional(compose, "ssh", optionalDefaults.ssh);
  for (const list of ["workers", "cronJobs", "services"] as const) {
    const items = merged[list];
    if (!Array.isArray(items)) continue;
    merged[list] = items.map((item) => (isObject(item) ? deepMerge(itemDefaults(context, list, values), item) : item));
  }
  const workloads = [
    merged.app,
    ...[merged.workers, merged.cronJobs, merged.services].flatMap((items) => (Array.isArray(items) ? items : [])),
  ];
  for (const workload of workloads) {
    mergeOptional(workload, "build", optionalDefaults.build);
    if (workload !== merged.app) mergeOptional(workload, "health", optionalDefaults.health);
    completeHealth(workload);
  }
  mergeOptional(merged.app, "migration", optionalDefaults.migration);
  mergeOptional(merged.postgres, "hnswIndex", optionalDefaults.hnswIndex);
  mergeOptional(merged.backups, "s3", optionalDefaults.s3);

  const monitoring = merged.monitoring as JsonObject;
  const alertmanager = isObject(monitoring.alertmanager) ? monitoring.alertmanager : undefined;
  const receiver = alertmanager && isObject(alertmanager.receiver) ? alertmanager.receiver : undefined;
  if (alertmanager && receiver && typeof receiver.type === "string" && optionalDefaults.receiver[receiver.type]) {
    alertmanager.receiver = deepMerge(optionalDefaults.receiver[receiver.type], receiver);
  }
  const grafana = isObject(monitoring.grafana) ? monitoring.grafana : undefined;
  const givenGrafana = isObject(values.monitoring) && isObject(values.monitoring.grafana) ? values.monitoring.grafana : {};
  if (grafana && !("allowFrom" in givenGrafana)) grafana.allowFrom = grafanaAllowFromDefault(merged, context);
  // The image follows the tracing backend unless the stack names one.
  const tracing = isObject(monitoring.tracing) ? monitoring.tracing : undefined;
  const givenTracing = isObject(values.monitoring) && isObject(values.monitoring.tracing) ? values.monitoring.tracing : {};
  if (tracing && tracing.backend === "jaeger") {
    if (!("image" in givenTracing)) tracing.image = defaultImages.jaeger;
    // Badger's default caches alone (256 MiB block cache, up to 5 x 64 MiB memtables) outgrow Tempo's small sizes.
    if (!("resources" in givenTracing) && isObject(tracing.resources))
      tracing.resources = { ...tracing.resources, memory: JAEGER_MIN_MEMORY };
  }
  if (alertmanager && isObject(alertmanager.receivers)) {
    for (const [name, named] of Object.entries(alertmanager.receivers)) {
      if (isObject(named) && typeof named.type === "string" && optionalDefaults.receiver[named.type]) {
        alertmanager.receivers[name] = deepMerge(optionalDefaults.receiver[named.type], named);
      }
    }
  }
  if (alertmanager && Array.isArray(alertmanager.routes)) {
    alertmanager.routes = alertmanager.routes.map((route) => (isObject(route) ? deepMerge(optionalDefaults.route, route) : route));
  }
  if (Array.isArray(monitoring.slos)) {
    monitoring.slos = monitoring.slos.map((slo) => (isObject(slo) ? deepMerge(optionalDefaults.slo, slo) : slo));
  }
  // One RPO and one drill goal for the stack: the alerts follow ballast:backups unless set explicitly.
  const alerts = isObject(monitoring.alerts) ? monitoring.alerts : undefined;
  const backups = merged.backups as JsonObject;
  if (alerts) {
    const givenAlerts = isObject(values.monitoring) && isObject(values.monitoring.alerts) ? values.monitoring.alerts : {};
    if (!("rpoHours" in givenAlerts)) alerts.rpoHours = backups.rpoHours;
    if (!("restoreDrillMaxMinutes" in givenAlerts) && isObject(backups.drill)) alerts.restoreDrillMaxMinutes = backups.drill.timeoutMinutes;
  }
  return merged;
}
