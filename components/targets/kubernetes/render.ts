/**
 * The pure render step: a StackModel in, plain Kubernetes objects out (and their
 * YAML files for review). No Pulumi resources, no I/O.
 */
import * as pulumi from "@pulumi/pulumi";
import { Document, isScalar, visit } from "yaml";
import type { SecretName, StackModel } from "../../spec";
import type { RenderedFile } from "../target";
import { createContext, type KubernetesRenderConfig } from "./context";
import { ingress } from "./ingress";
import { namespaceObjects } from "./namespace";
import { queueScaler } from "./keda";
import { defaultDenyPolicies, workloadPolicy } from "./network";
import type { KubernetesObject, SecretValue } from "./objects";
import { apiAccess, serviceAccount } from "./rbac";
import { redactedSecretValue, registryPullSecret, secretObject } from "./secrets";
import { autoscaler, configMap, controller, disruptionBudget, services, standaloneClaims } from "./workloads";

/** What a rendered file shows for a value only known at deploy time (an image built by Pulumi). */
export const deployTimeValue = "<known at deploy time>";

/** Label values: at most 63 characters, alphanumeric at both ends, `-_.` inside. */
const labelValuePattern = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** What the API server would reject later, refused now with the workload's name. */
function checkModel(model: StackModel): void {
  const names = model.workloads.map((workload) => workload.name);
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate) throw new Error(`two workloads are named "${duplicate}"`);
  for (const workload of model.workloads) {
    for (const [key, value] of Object.entries(workload.labels)) {
      if (value.length > 63 || !labelValuePattern.test(value)) {
        throw new Error(`workload "${workload.name}": label ${key}="${value}" is not a valid Kubernetes label value`);
      }
    }
  }
}

/**
 * Every object of the stack, in apply-and-review order: namespace, secret,
 * config maps, RBAC, volume claims, workloads, services, autoscalers (HPAs, KEDA's queue scalers), disruption
 * budgets, ingress, network policies.
 *
 * `secretData` (secret name -> value) fills the Secret; without it the Secret
 * lists its keys with a redacted placeholder instead of values.
 */
export function renderKubernetesObjects(
  model: StackModel,
  config: KubernetesRenderConfig,
  secretData?: Record<SecretName, SecretValue>,
): KubernetesObject[] {
  checkModel(model);
  const ctx = createContext(model, config);
  const each = <T>(render: (workload: (typeof ctx.workloads)[number]) => T[]): T[] => ctx.workloads.flatMap(render);
  return [
    ...namespaceObjects(ctx),
    secretObject(ctx, secretData),
    ...registryPullSecret(ctx, secretData),
    ...each((workload) => configMap(ctx, workload)),
    ...each((workload) => [serviceAccount(ctx, workload), ...apiAccess(ctx, workload)]),
    ...standaloneClaims(ctx),
    ...each((workload) => [controller(ctx, workload)]),
    ...each((workload) => services(ctx, workload)),
    ...each((workload) => autoscaler(ctx, workload)),
    ...each((workload) => queueScaler(ctx, workload)),
    ...each((workload) => disruptionBudget(ctx, workload)),
    ...each((workload) => ingress(ctx, workload)),
    ...defaultDenyPolicies(ctx),
    ...each((workload) => workloadPolicy(ctx, workload)),
  ];
}

/** A copy with every Pulumi Output replaced by a marker: files show structure, never deploy-time values. */
function withoutOutputs(value: unknown): unknown {
  if (pulumi.Output.isInstance(value)) return deployTimeValue;
  if (Array.isArray(value)) return value.map(withoutOutputs);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, withoutOutputs(entry)]));
  }
  return value;
}

/**
 * Secret values never reach a file, whatever the objects were rendered with. The file holds
 * `data` (the marker, base64), not `stringData`: the API server stores only `data`, so a
 * `stringData` file makes every client-side `kubectl apply` patch the Secret ("configured") again.
 */
function redacted(object: KubernetesObject): unknown {
  if (object.kind !== "Secret") return object;
  const { stringData, ...rest } = object;
  const marker = Buffer.from(redactedSecretValue, "utf8").toString("base64");
  return { ...rest, data: Object.fromEntries(Object.keys(stringData).map((key) => [key, marker])) };
}

/** The comment a Secret's review file starts with. */
const secretFileComment = ` Values are redacted: each key holds "${redactedSecretValue}" (base64); pulumi up sets the real ones.`;

/** Plain scalars the YAML 1.2 core schema reads as null, a boolean or a number (0o17 is a string in YAML 1.1). */
const yaml12Typed =
  /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

/**
 * YAML text that every reader types the same way. Kubernetes, kubectl and most GitOps tools read
 * YAML 1.1, where unquoted `on`, `off`, `yes`, `no`, `y`, `n`, octal-looking (`0755`) and
 * sexagesimal-looking (`22:22`) scalars are booleans and numbers: writing as YAML 1.1 quotes every
 * such string; the few strings only YAML 1.2 readers (kustomize's kyaml) would type, such as `0o17`,
 * are quoted too. No `%YAML` directive is written.
 */
export function kubernetesYaml(value: unknown): string {
  const document = new Document(value, { version: "1.1", aliasDuplicateObjects: false });
  visit(document, {
    Scalar(_, node) {
      if (isScalar(node) && typeof node.value === "string" && yaml12Typed.test(node.value)) node.type = "QUOTE_DOUBLE";
    },
  });
  return document.toString({ lineWidth: 0 });
}

/** What a review file holds for an object: Secret values redacted, deploy-time values marked. */
export function reviewObject(object: KubernetesObject): unknown {
  return withoutOutputs(redacted(object));
}

/** One YAML document per object, named `NN-<kind>-<name>.yaml` in apply order. */
export function renderKubernetesFiles(objects: KubernetesObject[]): RenderedFile[] {
  const width = Math.max(2, String(objects.length - 1).length);
  return objects.map((object, index) => ({
    path: `${String(index).padStart(width, "0")}-${object.kind.toLowerCase()}-${object.metadata.name}.yaml`,
    content: `${object.kind === "Secret" ? `#${secretFileComment}\n` : ""}${kubernetesYaml(reviewObject(object))}`,
  }));
}
