/**
 * Calls policies the way the CrossGuard server does, without starting one: hand-built
 * `ResourceValidationArgs` / `StackValidationArgs` and a `reportViolation` collector.
 * Also builders for the two targets' resources (Kubernetes objects, the Compose release
 * command whose `triggers[0]` is the compose YAML).
 */
import type {
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { stringify } from "yaml";

export interface Violation {
  policy: string;
  message: string;
  urn?: string;
}

export interface ResourceInput {
  type: string;
  name: string;
  props: Record<string, unknown>;
  /** Stack name used in the URN (decides the environment); default "prod". */
  stack?: string;
  urn?: string;
  /** `protect` etc.; default: protect false. */
  opts?: Partial<PolicyResourceOptions> & { retainOnDelete?: boolean };
}

export function urnOf(stack: string, type: string, name: string): string {
  return `urn:pulumi:${stack}::ballast::${type}::${name}`;
}

function options(opts: ResourceInput["opts"]): PolicyResourceOptions {
  return {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...opts,
  };
}

class NotApplicable extends Error {}

export function resourceArgs(input: ResourceInput, config: object = {}): ResourceValidationArgs {
  return {
    type: input.type,
    name: input.name,
    props: input.props,
    urn: input.urn ?? urnOf(input.stack ?? "prod", input.type, input.name),
    opts: options(input.opts),
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: <T extends object>() => config as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
}

export function policyResource(input: ResourceInput): PolicyResource {
  return {
    type: input.type,
    name: input.name,
    props: input.props,
    urn: input.urn ?? urnOf(input.stack ?? "prod", input.type, input.name),
    opts: options(input.opts),
    dependencies: [],
    propertyDependencies: {},
    isType: () => false,
    asType: () => undefined,
  };
}

export function stackArgs(resources: ResourceInput[], config: object = {}): StackValidationArgs {
  return {
    resources: resources.map(policyResource),
    stackTags: new Map(),
    getConfig: <T extends object>() => config as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
}

/** Runs a resource policy's validateResource(s) and returns the reported messages. */
export async function validateResource(policy: ResourceValidationPolicy, input: ResourceInput, config: object = {}): Promise<string[]> {
  const messages: string[] = [];
  const validations = Array.isArray(policy.validateResource)
    ? policy.validateResource
    : policy.validateResource
      ? [policy.validateResource]
      : [];
  for (const validation of validations) {
    await validation(resourceArgs(input, config), (message) => messages.push(message));
  }
  return messages;
}

export async function validateStack(policy: StackValidationPolicy, resources: ResourceInput[], config: object = {}): Promise<Violation[]> {
  const violations: Violation[] = [];
  await policy.validateStack(stackArgs(resources, config), (message, urn) => violations.push({ policy: policy.name, message, urn }));
  return violations;
}

// ---------- Kubernetes builders ----------

export interface ContainerInput {
  name?: string;
  image?: string;
  limits?: { cpu?: string; memory?: string } | null;
  env?: Record<string, unknown>[];
  readinessProbe?: object;
  livenessProbe?: object;
  securityContext?: object;
  volumeMounts?: object[];
  ports?: object[];
}

export function container(c: ContainerInput = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: c.name ?? "main",
    image: c.image ?? "ghcr.io/acme/app:1.0.0",
  };
  if (c.limits !== null) out.resources = { limits: c.limits ?? { cpu: "500m", memory: "512Mi" } };
  for (const key of ["env", "readinessProbe", "livenessProbe", "securityContext", "volumeMounts", "ports"] as const) {
    if (c[key] !== undefined) out[key] = c[key];
  }
  return out;
}

export const httpProbe = { httpGet: { path: "/api/health", port: 3000 } };

export interface PodInput {
  name: string;
  component?: string;
  containers?: Record<string, unknown>[];
  initContainers?: Record<string, unknown>[];
  pod?: Record<string, unknown>;
  labels?: Record<string, string>;
}

function podTemplate(input: PodInput) {
  const labels = {
    "app.kubernetes.io/name": input.name,
    ...(input.component ? { "app.kubernetes.io/component": input.component } : {}),
    ...input.labels,
  };
  return {
    metadata: { labels },
    spec: {
      containers: input.containers ?? [container({ name: input.name })],
      ...(input.initContainers ? { initContainers: input.initContainers } : {}),
      ...input.pod,
    },
  };
}

function meta(input: PodInput) {
  return {
    name: input.name,
    namespace: "ballast",
    labels: {
      "app.kubernetes.io/name": input.name,
      ...(input.component ? { "app.kubernetes.io/component": input.component } : {}),
      ...input.labels,
    },
  };
}

export function deployment(input: PodInput, stack = "prod"): ResourceInput {
  return {
    type: "kubernetes:apps/v1:Deployment",
    name: `deployment-${input.name}`,
    stack,
    props: { apiVersion: "apps/v1", kind: "Deployment", metadata: meta(input), spec: { template: podTemplate(input) } },
  };
}

export function statefulSet(input: PodInput & { spec?: Record<string, unknown> }, opts?: ResourceInput["opts"]): ResourceInput {
  return {
    type: "kubernetes:apps/v1:StatefulSet",
    name: `statefulset-${input.name}`,
    opts,
    props: {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: meta(input),
      spec: {
        serviceName: `${input.name}-headless`,
        persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
        volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { resources: { requests: { storage: "1Gi" } } } }],
        template: podTemplate(input),
        ...input.spec,
      },
    },
  };
}

export function daemonSet(input: PodInput): ResourceInput {
  return {
    type: "kubernetes:apps/v1:DaemonSet",
    name: `daemonset-${input.name}`,
    props: { apiVersion: "apps/v1", kind: "DaemonSet", metadata: meta(input), spec: { template: podTemplate(input) } },
  };
}

export function cronJob(input: PodInput & { schedule?: string; suspend?: boolean }): ResourceInput {
  return {
    type: "kubernetes:batch/v1:CronJob",
    name: `cronjob-${input.name}`,
    props: {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: meta(input),
      spec: {
        ...(input.schedule !== undefined ? { schedule: input.schedule } : {}),
        ...(input.suspend !== undefined ? { suspend: input.suspend } : {}),
        jobTemplate: { spec: { template: podTemplate(input) } },
      },
    },
  };
}

export function k8sObject(type: string, name: string, props: Record<string, unknown>, stack = "prod"): ResourceInput {
  return { type, name, stack, props };
}

// ---------- Compose builders ----------

/** A compose project as the Compose target renders it (edge + internal networks). */
export function composeDocument(
  services: Record<string, Record<string, unknown>>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name: "ballast",
    services,
    networks: {
      edge: { name: "ballast_edge", driver: "bridge" },
      internal: { name: "ballast_internal", driver: "bridge", internal: true },
    },
    ...extra,
  };
}

/** A compose service with the hardened defaults the renderer emits. */
export function composeService(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    image: "ghcr.io/acme/app:1.0.0",
    restart: "unless-stopped",
    deploy: { resources: { limits: { cpus: "0.5", memory: "512M", pids: 512 }, reservations: { cpus: "0.25", memory: "256M" } } },
    networks: ["internal"],
    labels: { "ballast.component": "services", "ballast.role": "stateless" },
    // Hardened as Ballast renders every service (containers-hardened).
    read_only: true,
    cap_drop: ["ALL"],
    security_opt: ["no-new-privileges:true"],
    ...overrides,
  };
}

/** The release command carrying the compose YAML in triggers[0]. */
export function releaseCommand(
  document: Record<string, unknown> | string,
  options: { stack?: string; remote?: boolean; connection?: Record<string, unknown>; name?: string } = {},
): ResourceInput {
  const remote = options.remote ?? true;
  const yaml = typeof document === "string" ? document : `# Rendered by Ballast\n${stringify(document, { lineWidth: 0, version: "1.1" })}`;
  const props: Record<string, unknown> = { create: "bash -c 'deploy'", triggers: [yaml, "0".repeat(64)] };
  if (remote) {
    props.connection = options.connection ?? {
      host: "203.0.113.10",
      port: 22,
      user: "deploy",
      privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nredacted\n-----END OPENSSH PRIVATE KEY-----",
      hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBallastStagingHostKey staging",
      dialErrorLimit: 3,
      perDialTimeout: 10,
    };
  }
  return {
    type: remote ? "command:remote:Command" : "command:local:Command",
    name: options.name ?? "ballast-release",
    stack: options.stack ?? (remote ? "staging" : "dev"),
    props,
  };
}
