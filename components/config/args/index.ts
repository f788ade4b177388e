/**
 * The stack declaration as a TypeScript program writes it (`new Platform(name, args)`): the keys of
 * the `ballast:` namespace of a stack file, every one optional, each documented with its default.
 * Defaults depend on `environment` (dev / staging / prod) and, for a Compose host of at most 2 GiB,
 * on the `small` sizing class; they live once in ../defaults.ts. `resolvePlatformArgs` (../load.ts)
 * merges them and validates with the same pipeline as `pulumi up` on a stack file, so an error
 * names the same `ballast:` key either way.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { BackupsArgs } from "./backups";
import type { ComposeArgs } from "./compose";
import type { PostgresArgs, RedisArgs } from "./datastores";
import type { HostArgs, RegistryArgs } from "./host";
import type { KubernetesArgs } from "./kubernetes";
import type { MonitoringArgs } from "./monitoring";
import type { ProxyArgs } from "./proxy";
import type { AppArgs, CronJobArgs, ExtraServiceArgs, WorkerArgs } from "./workloads";

// Every area's interfaces, nested shapes included (a program may type a worker or an S3 copy on its own).
export type * from "./backups";
export type * from "./compose";
export type * from "./datastores";
export type * from "./host";
export type * from "./kubernetes";
export type * from "./monitoring";
export type * from "./proxy";
export type * from "./shared";
export type * from "./workloads";

export interface StackArgs {
  /**
   * Which defaults apply: sizes, replicas, autoscaling, TLS, the host bootstrap.
   * @default the stack name, when it is `dev`, `staging` or `prod` (required otherwise)
   */
  environment?: "dev" | "staging" | "prod";
  /**
   * Where the stack runs: Docker Compose on one host (over SSH, or the local engine), or a Kubernetes cluster.
   * @default "compose" (dev, staging), "kubernetes" (prod)
   */
  target?: "compose" | "kubernetes";
  /**
   * Public domain; the app is served at `<app.subdomain>.<domain>`.
   * @default "localhost" (dev), "example.com" (staging, prod)
   */
  domain?: string;
  /**
   * Let's Encrypt contact address; required when `tls` is on.
   * @default ""
   */
  acmeEmail?: string;
  /**
   * HTTPS through ACME (Let's Encrypt); prod must keep it on.
   * @default false (dev), true (staging, prod)
   */
  tls?: boolean;
  /**
   * Let a destroy or a replacement delete stateful volumes and claims. The only switch that does.
   * @default false
   */
  allowDataLoss?: boolean;
  /** The Compose target: host, SSH, bootstrap, maintenance. @default see {@link ComposeArgs} */
  compose?: ComposeArgs;
  /** The Kubernetes target: namespace, storage, ingress, KEDA. @default see {@link KubernetesArgs} */
  kubernetes?: KubernetesArgs;
  /**
   * Login to the registry built images are pushed to and pulled from (password: the secret `registry-password`);
   * required when an image is built for Kubernetes.
   * @default none (pushes use the operator's own `docker login`)
   */
  registry?: RegistryArgs;
  /** The web/API service. @default see {@link AppArgs} */
  app?: AppArgs;
  /** Queue workers. @default [] */
  workers?: WorkerArgs[];
  /** Scheduled jobs (5-field cron, UTC). @default [] */
  cronJobs?: CronJobArgs[];
  /** Postgres with pgvector, in the stack or external. @default see {@link PostgresArgs} */
  postgres?: PostgresArgs;
  /** Redis. @default see {@link RedisArgs} */
  redis?: RedisArgs;
  /** Extra services (model servers, gateways, sidecar APIs). @default [] */
  services?: ExtraServiceArgs[];
  /** Traefik and its ACME settings. @default see {@link ProxyArgs} */
  proxy?: ProxyArgs;
  /**
   * Secrets the team supplies (values in `secretValues`), by name, with what they are and how to rotate them.
   * @default {}
   */
  secrets?: Record<
    string,
    {
      /** What the secret is and who uses it (shown in the runbook). @default none (required) */
      description: string;
      /** How to rotate it, in words: the runbook's rotation step for this secret. @default none (required) */
      rotation: string;
    }
  >;
  /**
   * Rotation counters: bump a generated secret's counter to regenerate it; `all` bumps every generated, rotatable secret.
   * @default {}
   */
  rotation?: Record<string, number>;
  /**
   * Opt-in for an app that decrypts with two keys, which makes `encryption-key` rotatable.
   * @default none (the encryption key never rotates)
   */
  encryptionKeyRotation?: {
    /** Env var the app reads the previous key from. @default none (required) */
    previousKeyEnv: string;
    /** The key generation the stored data is re-encrypted to. @default none (required) */
    reencrypted: number;
  };
  /** The declared Compose host size, which limits must fit. @default see {@link HostArgs} */
  host?: HostArgs;
  /** Scheduled dumps, the offsite copy and the restore drill. @default see {@link BackupsArgs} */
  backups?: BackupsArgs;
  /** Prometheus, Alertmanager, Grafana, Loki, Alloy, exporters, tracing. @default see {@link MonitoringArgs} */
  monitoring?: MonitoringArgs;
}

/** The whole Platform: the stack declaration, the secret inputs, and where it runs in Pulumi's terms. */
export interface PlatformArgs extends StackArgs {
  /**
   * SSH private key of the Compose host's deploy user (a stack file's `ballast:sshPrivateKey`). Kept a Pulumi secret.
   * @default none (the SSH agent's keys)
   */
  sshPrivateKey?: pulumi.Input<string>;
  /**
   * SSH private key of the host bootstrap's admin user, never the deploy key (`ballast:bootstrapSshPrivateKey`).
   * @default none (the SSH agent's keys)
   */
  bootstrapSshPrivateKey?: pulumi.Input<string>;
  /**
   * Secret values by secret name (`ballast:secretValues`): supplied secrets, and generated ones you want to set yourself.
   * @default {}
   */
  secretValues?: Record<string, pulumi.Input<string>>;
  /**
   * The Pulumi project name (the Compose project and Kubernetes namespace default to it).
   * @default pulumi.getProject()
   */
  project?: string;
  /**
   * The Pulumi stack name (picks `environment` when that is not given).
   * @default pulumi.getStack()
   */
  stack?: string;
  /**
   * Directory that repository files named by the declaration (dashboards, rule files) are relative to.
   * @default the Pulumi project's directory
   */
  projectRoot?: string;
}
