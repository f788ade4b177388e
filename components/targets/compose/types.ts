/**
 * The subset of the compose-spec that Ballast renders, typed so the renderer cannot
 * emit a key the spec does not have. Field names are the compose-spec's own.
 */

export type HealthcheckTest = ["CMD", ...string[]] | ["CMD-SHELL", string];

export interface ComposeHealthcheck {
  test: HealthcheckTest;
  interval: string;
  timeout: string;
  retries: number;
  start_period: string;
}

export interface ComposeLogging {
  driver: "json-file";
  options: { "max-size": string; "max-file": string };
}

export interface ComposeResourceAmounts {
  /** Cores as a decimal string ("0.5"). */
  cpus: string;
  /** Memory with a unit suffix ("512M"). */
  memory: string;
}

export interface ComposeDeploy {
  replicas?: number;
  /** `limits.pids`: most processes and threads the container may hold (a fork bomb stays inside it). */
  resources: { limits: ComposeResourceAmounts & { pids: number }; reservations: ComposeResourceAmounts };
}

export type DependsOnCondition = "service_healthy" | "service_started" | "service_completed_successfully";

/** Long-form volume entry (binds); short strings are used for named volumes and the docker socket. */
export interface ComposeBindMount {
  type: "bind";
  source: string;
  target: string;
  read_only: boolean;
}

export type ComposeServiceVolume = string | ComposeBindMount;

export interface ComposeServiceSecret {
  source: string;
  target: string;
}

export interface ComposeService {
  image: string;
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: ComposeHealthcheck;
  restart: "unless-stopped" | "no";
  profiles?: string[];
  logging: ComposeLogging;
  deploy: ComposeDeploy;
  stop_grace_period: string;
  security_opt: string[];
  cap_drop: string[];
  cap_add?: string[];
  read_only: boolean;
  user?: string;
  privileged?: true;
  pid?: "host";
  network_mode?: "host" | "none";
  tmpfs?: string[];
  volumes?: ComposeServiceVolume[];
  secrets?: ComposeServiceSecret[];
  depends_on?: Record<string, { condition: DependsOnCondition }>;
  ports?: string[];
  networks?: string[];
  extra_hosts?: string[];
  labels?: Record<string, string>;
  /** Compose ignores `x-` fields: the public route Traefik serves (from routing/routers.yml), for reviewers and the policy pack. */
  "x-ballast-route"?: { rule: string; entryPoints: string[]; tls?: { certResolver: string } };
  /** The host cron's schedule of a job (UTC), for reviewers and the policy pack. */
  "x-ballast-schedule"?: string;
}

export interface ComposeNetwork {
  name: string;
  driver: "bridge";
  internal?: true;
}

export interface ComposeExternalVolume {
  external: true;
  name: string;
}

export interface ComposeSecretFile {
  file: string;
}

export interface ComposeDocument {
  name: string;
  services: Record<string, ComposeService>;
  networks: Record<string, ComposeNetwork>;
  volumes?: Record<string, ComposeExternalVolume>;
  secrets?: Record<string, ComposeSecretFile>;
}
