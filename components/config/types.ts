/**
 * The typed, validated stack configuration. `loadConfig` (./load.ts) is the only
 * producer; every component consumes these types and never reads Pulumi config itself.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { BackupsConfig, MigrationConfig, PgvectorIndexConfig } from "../backups/config";
import type { BootstrapConfig } from "../host/config";
import type { MonitoringConfig } from "../observability/config";

export type Environment = "dev" | "staging" | "prod";
export type TargetKind = "compose" | "kubernetes";

export interface Resources {
  /** CPU cores of the limit (requests are derived: half the limit, at least 0.05). */
  cpu: number;
  /** Memory limit in MiB (request: half the limit). */
  memoryMiB: number;
}

export interface Autoscaling {
  enabled: boolean;
  minReplicas: number;
  maxReplicas: number;
  cpuTargetPercent: number;
}

/** Build an image with @pulumi/docker instead of pulling a pinned one. */
export interface ImageBuild {
  /** Docker build context, relative to the project directory. */
  context: string;
  /** Dockerfile path relative to the context. */
  dockerfile: string;
  /** Image name to tag the build with (the stack name is the tag). */
  name: string;
}

export interface AppConfig {
  /** Pinned image; ignored when `build` is set. */
  image: string;
  build?: ImageBuild;
  port: number;
  healthPath: string;
  metricsPath: string;
  /** Sub-domain label of `domain`; empty string serves the apex domain. */
  subdomain: string;
  replicas: number;
  resources: Resources;
  autoscaling: Autoscaling;
  command?: string[];
  env: Record<string, string>;
  /** ENV_NAME -> secret name (built-in or declared in `ballast:secrets`). */
  secretEnv: Record<string, string>;
  /** One-shot migration run before the app rolls out. */
  migration?: MigrationConfig;
}

export interface WorkerConfig {
  name: string;
  /** Defaults to the app image. */
  image: string;
  command?: string[];
  replicas: number;
  resources: Resources;
  autoscaling: Autoscaling;
  env: Record<string, string>;
  secretEnv: Record<string, string>;
  /** Port and path of a metrics endpoint, when the worker exposes one. */
  metrics?: { port: number; path: string };
  /** A health command (workers serve no HTTP); default: none, the process staying up is the check. */
  healthCommand?: string[];
}

export interface CronJobConfig {
  name: string;
  /** Five-field cron expression, UTC. */
  schedule: string;
  /** Defaults to the app image. */
  image: string;
  command: string[];
  resources: Resources;
  timeoutSeconds: number;
  env: Record<string, string>;
  secretEnv: Record<string, string>;
}

export interface PostgresConfig {
  image: string;
  database: string;
  user: string;
  storageGiB: number;
  resources: Resources;
  /** Extensions created at init, `vector` always first. */
  extensions: string[];
  /** SQL run once when the database is created (RLS policies, roles ...). */
  initSql: string;
  maxConnections: number;
  /** pgvector HNSW index ensured after migrations. */
  hnswIndex?: PgvectorIndexConfig;
}

export interface RedisConfig {
  image: string;
  /** Redis maxmemory, e.g. `4gb`, `256mb`. */
  maxmemory: string;
  evictionPolicy: string;
  /** RDB save policy, e.g. `900 1 300 10 60 10000`; empty disables snapshots. */
  save: string;
  appendonly: boolean;
  storageGiB: number;
  resources: Resources;
}

export interface ExtraServiceConfig {
  name: string;
  image: string;
  port: number;
  command?: string[];
  env: Record<string, string>;
  secretEnv: Record<string, string>;
  resources: Resources;
  /** Public route `<subdomain>.<domain>`; absent keeps the service internal. */
  route?: { subdomain: string; pathPrefix: string };
  healthPath?: string;
  /** Persistent data directory (e.g. ollama models). */
  storage?: { mountPath: string; sizeGiB: number };
  /** Extra services allowed to call it besides app and workers. */
  allowFrom: string[];
}

export interface ProxyConfig {
  image: string;
  resources: Resources;
  /** Publish 80/443 on these host ports (Compose). */
  httpPort: number;
  httpsPort: number;
  /**
   * Host address the published ports bind to (Compose): "" binds every interface; an address keeps
   * the proxy off the others (a host behind a tunnel or load balancer, a test host on loopback).
   */
  bindAddress: string;
  /** Let's Encrypt staging CA (for test stacks that would hit rate limits). */
  acmeStaging: boolean;
}

export interface SshConnection {
  host: string;
  port: number;
  user: string;
  /** Pinned host public key (`ssh-ed25519 AAAA...`). Required outside dev. */
  hostKey?: string;
  /** Where releases live on the host. */
  remoteDir: string;
  /** Seconds per dial attempt and number of attempts: an unreachable host fails fast. */
  dialTimeoutSeconds: number;
  dialAttempts: number;
}

export interface ComposeConfig {
  /** `ssh`: a VPS over SSH; `local`: the Docker engine of this machine (dev). */
  mode: "ssh" | "local";
  /** Compose project name; volumes are named `<project>_<volume>`. */
  project: string;
  ssh?: SshConnection;
  /** Release directory for `local` mode. */
  localDir: string;
  /** Releases kept on the host for rollback. */
  keepReleases: number;
  /** Seconds `docker compose up --wait` may take before the release counts as failed. */
  deployTimeoutSeconds: number;
  /** Docker binary invocation on the host (`docker compose` or `docker-compose`). */
  composeCommand: string;
  /** Host preparation run over SSH before the first release. */
  bootstrap: BootstrapConfig;
}

export interface KubernetesConfig {
  namespace: string;
  /** StorageClass of volume claims; empty uses the cluster default. */
  storageClass: string;
  ingressClass: string;
  /** Deploy Traefik as the ingress controller, or rely on an existing one. */
  deployTraefik: boolean;
  /** kubeconfig context; empty uses the ambient one. */
  context: string;
  /** Write YAML instead of talking to a cluster (end-to-end tests only; writes Secrets in plaintext). */
  renderYamlToDirectory: string;
  /** Namespace of an existing ingress controller, allowed to reach routed pods. */
  ingressControllerNamespace: string;
}

export interface HostSize {
  cpus: number;
  memoryGiB: number;
}

export interface PlatformConfig {
  /** Pulumi project name. */
  project: string;
  /** Pulumi stack name. */
  stack: string;
  environment: Environment;
  target: TargetKind;
  domain: string;
  acmeEmail: string;
  /** HTTPS with Let's Encrypt; false only on dev. */
  tls: boolean;
  /** Allow a destroy or replacement to delete stateful volumes. */
  allowDataLoss: boolean;
  compose: ComposeConfig;
  kubernetes: KubernetesConfig;
  app: AppConfig;
  workers: WorkerConfig[];
  cronJobs: CronJobConfig[];
  postgres: PostgresConfig;
  redis: RedisConfig;
  services: ExtraServiceConfig[];
  proxy: ProxyConfig;
  /** User-declared secrets (values in `ballast:secretValues`): name -> description. */
  secrets: Record<string, { description: string; rotation: string }>;
  /** Rotation counter per generated secret: bumping it regenerates the secret. */
  rotation: Record<string, number>;
  /** Declared size of the Compose host; the footprint must fit it. */
  host: HostSize;
  /** Scheduled pg_dump, offsite copy, restore drill (components/backups). */
  backups: BackupsConfig;
  /** Prometheus, Alertmanager, Grafana, Loki, Alloy, exporters, tracing (components/observability). */
  monitoring: MonitoringConfig;
}

/** Secret inputs read from config; always Pulumi secrets, never plain values. */
export interface SecretConfig {
  /** SSH private key for the Compose host (`ballast:sshPrivateKey`). */
  sshPrivateKey?: pulumi.Output<string>;
  /** Supplied secret values by secret name (`ballast:secretValues`). */
  values: Record<string, pulumi.Output<string>>;
}
