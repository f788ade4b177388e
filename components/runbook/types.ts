/**
 * What the runbook renderer needs: the StackModel the target deploys, plus the few
 * facts of the stack config that decide how an operator reaches the stack (target,
 * SSH host and release directory, namespace). Plain data, no secret values: the model
 * names secrets, it never holds them.
 */
import type { StackModel } from "../spec";

/** One Prometheus alert rule as the runbook lists it. */
export interface RunbookAlert {
  /** The rule's `alert:` name. */
  name: string;
  /** `labels.severity` (`critical`, `warning`, `info` ...); `none` when the rule sets none. */
  severity: string;
  /** `annotations.summary`: one line. */
  summary: string;
  /** `annotations.description`: what it means. */
  description: string;
  /** What to do first; when absent the renderer derives it from the alert and the stack. */
  firstAction?: string;
  /** `for:` of the rule (`5m`), when set. */
  for?: string;
  /** The rule group, when known (sorting and display). */
  group?: string;
}

/** One service level objective as the runbook lists it. */
export interface RunbookSlo {
  name: string;
  service: string;
  /** What it promises, in words (`99.9 % of api's requests succeed over 30 days`). */
  promise: string;
  objective: number;
  windowDays: number;
  /** Error budget in percent of requests. */
  budgetPercent: number;
  /** When the critical burn alert pages, in words. */
  page: string;
  /** When the warning burn alert opens a ticket, in words. */
  ticket: string;
}

export interface ComposeFacts {
  /** `ssh`: a VPS reached over SSH; `local`: the Docker engine of the machine running `pulumi up` (dev). */
  mode: "ssh" | "local";
  /** Compose project name (`docker compose -p <project>`). */
  project: string;
  /** Directory holding `releases/<id>/` and the `current` link (on the host, or on this machine for `local`). */
  releaseDir: string;
  /** SSH connection of the host (mode `ssh`). */
  ssh?: { host: string; port: number; user: string };
  /** Source ranges the host's firewall admits SSH from, when Ballast prepared the host. */
  sshAllowFrom?: string[];
  /** How Docker Compose is invoked on the host (`docker compose` or `docker-compose`). */
  composeCommand: string;
  /** Releases kept on the host: how far back a manual rollback can go. */
  keepReleases: number;
  /** Seconds `docker compose up --wait` may take before a release counts as failed. */
  deployTimeoutSeconds: number;
}

export interface KubernetesFacts {
  namespace: string;
  /** kubeconfig context; empty uses the ambient one. */
  context: string;
  /** The Secret that holds every secret of the stack (`<project>-secrets`). */
  secretName: string;
}

/** Where the value of a secret comes from. */
export type SecretSource =
  /** Generated with @pulumi/random, kept (encrypted) in the Pulumi state. */
  | "generated"
  /** Supplied by the operator in `ballast:secretValues.<name>` (encrypted in the stack file). */
  | "supplied"
  /** Built from other secrets (connection URLs). */
  | "derived";

export interface RotationFacts {
  /** `ballast:rotation.all` today. */
  all: number;
  /** Present when the app reads two encryption keys (`ballast:encryptionKeyRotation`). */
  encryptionKey?: { previousKeyEnv: string; generation: number; reencrypted: number };
}

export interface RunbookInput {
  model: StackModel;
  target: "compose" | "kubernetes";
  /** `dev`, `staging`, `prod`: decides which defaults the stack got (shown for orientation only). */
  environment: string;
  /** Present when `target` is `compose`. */
  compose?: ComposeFacts;
  /** Present when `target` is `kubernetes`. */
  kubernetes?: KubernetesFacts;
  /** Where each secret's value comes from; secrets not listed are shown as "generated or supplied". */
  secretSources?: Record<string, SecretSource>;
  /** The stack's rotation counters, for the "rotate all" procedure. */
  rotation?: RotationFacts;
  /**
   * The alert rules that ship with the stack. When absent, the renderer reads them from
   * the Prometheus rule files in the model (`alertsFromModel`); pass `[]` to list none.
   */
  alerts?: RunbookAlert[];
  /** The stack's SLOs (`ballast:monitoring.slos`); none listed when absent. */
  slos?: RunbookSlo[];
  /** Path of the backup and restore guide, relative to the runbook file. Default `../backup-restore.md`. */
  backupGuide?: string;
}
