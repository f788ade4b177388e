/**
 * The platform-neutral workload model.
 *
 * Components describe what they need as plain-data `WorkloadSpec`s; the two
 * targets (compose, kubernetes) turn the same specs into their own objects.
 * Nothing in here knows which target it is for. Secret *values* never appear in
 * a spec: a spec names a secret (`SecretName`) and the target resolves it
 * (a `.env` entry on Compose, a Secret key reference on Kubernetes).
 */
import type * as pulumi from "@pulumi/pulumi";

/** What kind of workload this is; decides Deployment/StatefulSet/DaemonSet/CronJob and restart behaviour. */
export type WorkloadRole =
  /** Replicated and disposable (app, workers, exporters). */
  | "stateless"
  /** Owns persistent data (Postgres, Redis, Prometheus, Loki, Grafana). One replica, retained storage. */
  | "stateful"
  /** One per node, needs host access (node-exporter, cAdvisor, Alloy). */
  | "agent"
  /** Runs to completion on a schedule (`schedule` is set). */
  | "job";

/** Name of a secret in the stack's secret set (lower-kebab-case, e.g. `postgres-password`). */
export type SecretName = string;

/** An image reference. Pinned by tag or digest; may be an Output when `@pulumi/docker` builds it. */
export type ImageRef = string | pulumi.Output<string>;

export interface PortSpec {
  /** IANA-style port name, max 15 chars (`http`, `metrics`, `postgres`). */
  name: string;
  /** Container port. */
  port: number;
  protocol?: "TCP" | "UDP";
  /**
   * Publish on the host (Compose) / expose through a LoadBalancer-free hostPort (never used on Kubernetes).
   * Only the proxy publishes ports; datastores never do.
   */
  publish?: number;
  /** Host address the published port binds to; unset: every interface. */
  publishAddress?: string;
}

/** How the platform decides that a container is healthy. */
export interface HealthCheckSpec {
  /** HTTP GET against the container (preferred for web services). */
  http?: { path: string; port: number };
  /** A command run inside the container; exit code 0 means healthy. */
  exec?: string[];
  /** A TCP connect to the port. */
  tcp?: { port: number };
  /** Seconds between checks. */
  intervalSeconds: number;
  /** Seconds before a single check counts as failed. */
  timeoutSeconds: number;
  /** Consecutive failures before the container counts as unhealthy. */
  retries: number;
  /** Grace period after start during which failures do not count. */
  startPeriodSeconds: number;
}

/** CPU in cores (0.25 = 250m), memory in MiB. */
export interface ResourceAmounts {
  cpu: number;
  memoryMiB: number;
}

export interface ResourceSpec {
  requests: ResourceAmounts;
  limits: ResourceAmounts;
}

export interface AutoscalingSpec {
  minReplicas: number;
  maxReplicas: number;
  /** Target average CPU utilisation in percent of the request (not used when `queue` is set). */
  cpuTargetPercent: number;
  /** Scale on a queue's length instead of CPU. */
  queue?: QueueTriggerSpec;
  /** The stack key of these bounds (`ballast:workers[0].autoscaling`), for messages. */
  configKey?: string;
}

/**
 * A queue in a datastore of the stack whose length decides the replicas:
 * ceil(length / targetPerReplica), within the bounds.
 */
export interface QueueTriggerSpec {
  /** `redis-list`: LLEN of the key; `redis-stream`: pending entries of the consumer group (XPENDING). */
  kind: "redis-list" | "redis-stream";
  /** Key of the list or stream. */
  key: string;
  /** Streams only: the consumer group whose pending entries count. */
  consumerGroup?: string;
  /** Jobs one replica is meant to have in hand. */
  targetPerReplica: number;
  /** The workload holding the queue (the stack's Redis). */
  datastore: string;
  /** The secret holding the datastore's password. */
  passwordSecret: SecretName;
}

export type VolumeSpec =
  /** Persistent data: a named volume (Compose) or a StatefulSet volume claim (Kubernetes). */
  | {
      kind: "persistent";
      name: string;
      mountPath: string;
      sizeGiB: number;
      readOnly?: boolean;
      /**
       * Compose: the volume and what is in it belong to this uid:gid, given before any service
       * starts (Docker creates volumes root-owned). Kubernetes: fsGroup does it.
       */
      owner?: { uid: number; gid: number };
    }
  /** Scratch space that may be lost on restart (tmpfs on Compose, emptyDir on Kubernetes). */
  | { kind: "scratch"; name: string; mountPath: string; sizeMiB?: number; readOnly?: false }
  /** A path on the host (agents only: /proc, /sys, /var/lib/docker ...). */
  | { kind: "host"; name: string; mountPath: string; hostPath: string; readOnly: boolean }
  /** The Docker engine socket (Compose only; ignored on Kubernetes). Always read-only. */
  | { kind: "docker-socket"; name: string; mountPath: string; readOnly: true }
  /**
   * The non-secret configuration the target rendered for the whole stack, read-only (the backup
   * job archives it). Compose: the release's docker-compose.yml and every config/<workload>/<file>
   * (never .env or secrets/); Kubernetes: every ConfigMap of the stack, as <workload>/<file>.
   */
  | { kind: "stack-config"; name: string; mountPath: string; readOnly: true };

/** A non-secret file rendered by Ballast and mounted read-only into the container. */
export interface ConfigFileSpec {
  /** Unique within the workload, used as file/key name (`prometheus.yml`). */
  name: string;
  /** Absolute path of the file inside the container. */
  mountPath: string;
  content: string;
  /** Octal mode, default 0o444. */
  mode?: number;
}

/** A file whose content is a secret, mounted read-only (e.g. Alertmanager receiver credentials). */
export interface SecretFileSpec {
  secret: SecretName;
  mountPath: string;
}

/** A public HTTP route through the proxy. */
export interface RouteSpec {
  /** Fully qualified host name. */
  host: string;
  /** Path prefix, `/` for the whole host. */
  pathPrefix: string;
  /** Container port that receives the traffic. */
  port: number;
  /** TLS through Let's Encrypt (false only for the local dev stack). */
  tls: boolean;
  /** Source ranges allowed to connect (Traefik ipAllowList, 403 for others); absent: everyone. */
  allowFrom?: string[];
}

/** Where Prometheus finds the workload's metrics. */
export interface MetricsSpec {
  port: number;
  path: string;
}

/** Security settings; defaults are the hardened ones, agents relax what they must. */
export interface SecuritySpec {
  /** UID to run as on Kubernetes (`runAsNonRoot`); undefined keeps the image's user. */
  runAsUser?: number;
  runAsGroup?: number;
  fsGroup?: number;
  /** Root filesystem is read-only (scratch volumes provide writable paths). */
  readOnlyRootFilesystem: boolean;
  /** Capabilities added back after dropping ALL. */
  addCapabilities: string[];
  /** Needs the real root user (some official images' entrypoints chown their data directory). */
  runAsRoot: boolean;
  privileged: boolean;
  hostPid: boolean;
  hostNetwork: boolean;
  /** Kubernetes API access (a ServiceAccount token is mounted only when true). */
  kubernetesApi?: KubernetesApiAccess;
}

/** The hardened default as the unprivileged `nobody` (65534): what most monitoring workloads run as. */
export const NOBODY_SECURITY: SecuritySpec = {
  readOnlyRootFilesystem: true,
  addCapabilities: [],
  runAsRoot: false,
  privileged: false,
  hostPid: false,
  hostNetwork: false,
  runAsUser: 65534,
  runAsGroup: 65534,
};

/** Least-privilege read access to the Kubernetes API for agents that discover targets. */
export interface KubernetesApiAccess {
  /** Cluster-wide rules (nodes, node metrics); namespaced rules are preferred. */
  clusterRules: PolicyRule[];
  namespacedRules: PolicyRule[];
  /** Also connects to the kubelets' HTTPS port (10250) on the nodes: Prometheus' cAdvisor scrape. */
  kubeletPort?: boolean;
}

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  nonResourceURLs?: string[];
}

/** Which networks a Compose service joins and which peers may reach it on Kubernetes. */
export interface NetworkSpec {
  /** Reachable from the proxy (Compose: joins the `edge` network; Kubernetes: ingress controller may connect). */
  fromProxy: boolean;
  /** Names of workloads in the stack allowed to connect to this workload's ports. */
  allowFrom: string[];
  /**
   * Ports (by name) that only some of the `allowFrom` peers may reach: port name -> those peers
   * (a collector's OTLP ports admit exactly the traced workloads, not Grafana or Prometheus).
   * Ports not listed stay open to every `allowFrom` peer. Enforced by Kubernetes NetworkPolicies;
   * Compose networks cannot filter by port.
   */
  portsOnlyFrom?: Record<string, string[]>;
  /** Needs to reach the internet (LLM APIs, ACME, S3). Datastores never do. */
  egressInternet: boolean;
}

/** The ports of `target` that `peer` may connect to (none unless `peer` is in its `allowFrom`). */
export function portsReachableBy(target: WorkloadSpec, peer: string): PortSpec[] {
  if (!target.network.allowFrom.includes(peer)) return [];
  const only = target.network.portsOnlyFrom ?? {};
  return target.ports.filter((port) => only[port.name] === undefined || only[port.name].includes(peer));
}

/**
 * Plain env var holding the rotation counters of the secrets a workload uses (platform.ts):
 * bumping one changes the workload's definition, so exactly its users roll.
 */
export const SECRET_REVISIONS_ENV = "BALLAST_SECRET_REVISIONS";

export interface WorkloadSpec {
  /** DNS-1123 label, unique in the stack; the Compose service name and Kubernetes object name. */
  name: string;
  /** The component that declared it (`app`, `workers`, `postgres`, `observability` ...), used as a label. */
  component: string;
  role: WorkloadRole;
  /** One line for humans: shows in the generated runbook and as an annotation. */
  description: string;
  image: ImageRef;
  /** Set when `pulumi up` builds the image from a Dockerfile and pushes it (renders show this instead of a digest). */
  builtFrom?: { repository: string; context: string; dockerfile: string };
  /** Replaces the image entrypoint. */
  command?: string[];
  /** Replaces the image CMD. */
  args?: string[];
  ports: PortSpec[];
  /** Plain environment. Never secret: values here are rendered in the clear. */
  env: Record<string, string>;
  /** Environment variables filled from secrets: ENV_NAME -> secret name. */
  secretEnv: Record<string, SecretName>;
  /** Readiness: may it receive traffic (Compose healthcheck, Kubernetes readiness probe). */
  health?: HealthCheckSpec;
  /** Liveness when it differs from readiness (Kubernetes liveness and startup probes); never checks a datastore. */
  liveness?: Pick<HealthCheckSpec, "http" | "exec" | "tcp">;
  /** Deep health (every dependency), HTTP: the release gate and the DeepHealthFailing alert. */
  deepHealth?: { path: string; port: number };
  resources: ResourceSpec;
  /** The stack key that sizes this workload (`ballast:app.resources`), for footprint messages. */
  sizedBy?: string;
  /** Desired replicas when not autoscaled; 1 for stateful, ignored for agents. */
  replicas: number;
  autoscaling?: AutoscalingSpec;
  volumes: VolumeSpec[];
  configFiles: ConfigFileSpec[];
  secretFiles: SecretFileSpec[];
  /**
   * Secret files (listed in `secretFiles` too) the running workload takes in place, without a
   * restart: rotating one leaves the workload running (no revision stamp, no recreation) and the
   * targets get the new value into it before its clients switch. Postgres' own role password.
   */
  liveSecrets?: LiveSecretSpec[];
  route?: RouteSpec;
  metrics?: MetricsSpec;
  /** Workloads that must be healthy before this one starts (Compose `depends_on`; init ordering on Kubernetes is by readiness). */
  dependsOn: string[];
  /** For `job`: five-field cron schedule (UTC). */
  schedule?: string;
  /** For `job`: seconds before a run is killed. */
  jobTimeoutSeconds?: number;
  /**
   * For a `job` without schedule: runs before any service of a release starts, not after the
   * singletons like a migration (Compose: the step that gives volumes to their non-root owners).
   */
  runsFirst?: boolean;
  /**
   * Compose: most processes and threads the container may hold (`pids_limit`); default by role
   * (components/targets/compose/render.ts). Kubernetes limits PIDs per pod in the kubelet.
   */
  pidsLimit?: number;
  network: NetworkSpec;
  security: SecuritySpec;
  /** Compose: extra /etc/hosts entries (`name:address` or `name:host-gateway`). */
  extraHosts?: string[];
  /** Extra labels (Traefik middlewares etc. are rendered by the targets, not here). */
  labels: Record<string, string>;
  /** Seconds the workload gets to shut down gracefully. */
  stopGracePeriodSeconds: number;
}

/**
 * A secret file a running workload re-reads. Kubernetes mounts it as a directory (the kubelet
 * updates it in place; the container watches it); Compose runs `apply` in the running container
 * with the release's value on stdin before the clients roll, and again with the previous value
 * on a rollback.
 */
export interface LiveSecretSpec {
  secret: SecretName;
  /** Plain words: an executable inside the container that applies the value read on stdin. */
  apply: string[];
}

/** A secret the stack owns: generated with @pulumi/random or supplied in config. */
export interface SecretSpec {
  name: SecretName;
  /** Who uses it and how to rotate it: rendered into the runbook. */
  description: string;
  rotation: string;
  /** Never regenerate: data depends on it (the encryption key). */
  immutable: boolean;
}

/** Everything a target needs to deploy the stack, apart from secret values. */
export interface StackModel {
  /** Compose project name / Kubernetes label `app.kubernetes.io/part-of`. */
  project: string;
  /** Stack name (`dev`, `staging`, `prod`). */
  stack: string;
  /** Public domain; routes are sub-domains of it. */
  domain: string;
  workloads: WorkloadSpec[];
  secrets: SecretSpec[];
  /** When false (default) stateful storage survives destroy and replacement. */
  allowDataLoss: boolean;
  /** Registry login the target pulls built images with (its password is the secret `passwordSecret`). */
  registry?: { server: string; username: string; passwordSecret: SecretName };
}

/** `~/.docker/config.json` text granting pulls from one registry (Compose host, Kubernetes pull secret). */
export function dockerConfigJson(server: string, username: string, password: string): string {
  return `${JSON.stringify({ auths: { [server]: { auth: Buffer.from(`${username}:${password}`, "utf8").toString("base64") } } })}\n`;
}

/** Defaults shared by every component: hardened security, modest health-check timings. */
export const hardenedSecurity: SecuritySpec = {
  readOnlyRootFilesystem: true,
  addCapabilities: [],
  runAsRoot: false,
  privileged: false,
  hostPid: false,
  hostNetwork: false,
};

/** Hardened security running as a fixed non-root user (and group, and volume group). */
export function runAs(uid: number, gid = uid, fsGroup?: number): SecuritySpec {
  return { ...hardenedSecurity, runAsUser: uid, runAsGroup: gid, ...(fsGroup !== undefined ? { fsGroup } : {}) };
}

export function healthCheck(
  probe: Pick<HealthCheckSpec, "http" | "exec" | "tcp">,
  timing: Partial<Omit<HealthCheckSpec, "http" | "exec" | "tcp">> = {},
): HealthCheckSpec {
  return {
    ...probe,
    intervalSeconds: timing.intervalSeconds ?? 10,
    timeoutSeconds: timing.timeoutSeconds ?? 5,
    retries: timing.retries ?? 5,
    startPeriodSeconds: timing.startPeriodSeconds ?? 30,
  };
}

/** Builds a spec with the hardened defaults filled in; components override what they need. */
export function workload(
  spec: Pick<WorkloadSpec, "name" | "component" | "role" | "description" | "image" | "resources"> & Partial<WorkloadSpec>,
): WorkloadSpec {
  return {
    ports: [],
    env: {},
    secretEnv: {},
    replicas: 1,
    volumes: [],
    configFiles: [],
    secretFiles: [],
    dependsOn: [],
    labels: {},
    stopGracePeriodSeconds: 30,
    ...spec,
    network: spec.network ?? { fromProxy: false, allowFrom: [], egressInternet: false },
    security: { ...hardenedSecurity, ...spec.security },
  };
}

/** Kubernetes quantity for CPU cores (0.5 -> "500m", 2 -> "2"). */
export function cpuQuantity(cores: number): string {
  const milli = Math.round(cores * 1000);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Kubernetes quantity for MiB (4096 -> "4Gi", 300 -> "300Mi"). */
export function memoryQuantity(mib: number): string {
  return mib % 1024 === 0 ? `${mib / 1024}Gi` : `${mib}Mi`;
}

/** The secret files whose change must restart the workload: all but the ones it takes in place (`liveSecrets`). */
export function restartingSecretFiles(workload: WorkloadSpec): SecretFileSpec[] {
  const live = new Set((workload.liveSecrets ?? []).map((secret) => secret.secret));
  return workload.secretFiles.filter((file) => !live.has(file.secret));
}

/** Environment-variable name of a secret (`postgres-password` -> `POSTGRES_PASSWORD`). */
export function secretEnvName(secret: SecretName): string {
  return secret.toUpperCase().replace(/[^A-Z0-9]+/g, "_");
}
