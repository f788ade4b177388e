/**
 * The one Secret that holds every secret of the stack. Containers reference its
 * keys (`secretKeyRef`, secret-file mounts); its values exist only in the apply step.
 */
import * as pulumi from "@pulumi/pulumi";
import { dockerConfigJson, type SecretName } from "../../spec";
import { registrySecretName, secretObjectName, stackLabels, type RenderContext } from "./context";
import type { SecretObject, SecretValue } from "./objects";

/** What the pure render writes instead of a value. */
export const redactedSecretValue = "<redacted: set by pulumi up>";

/** Every secret name a rendered workload refers to must be a secret of the stack. */
function checkReferences(ctx: RenderContext): void {
  const known = new Set(ctx.model.secrets.map((secret) => secret.name));
  for (const workload of ctx.workloads) {
    const used = [...Object.values(workload.secretEnv), ...workload.secretFiles.map((file) => file.secret)];
    const unknown = used.find((name) => !known.has(name));
    if (unknown) throw new Error(`workload "${workload.name}" uses secret "${unknown}", which the stack does not declare`);
  }
}

export function secretObject(ctx: RenderContext, values?: Record<SecretName, SecretValue>): SecretObject {
  checkReferences(ctx);
  const stringData: Record<string, SecretValue> = {};
  // The registry login lives only in the pull secret: no container needs it.
  for (const secret of ctx.model.secrets.filter((s) => s.name !== ctx.model.registry?.passwordSecret)) {
    if (!values) {
      stringData[secret.name] = redactedSecretValue;
      continue;
    }
    const value = values[secret.name];
    if (value === undefined) throw new Error(`no value for secret "${secret.name}"`);
    stringData[secret.name] = value;
  }
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: secretObjectName(ctx.model), namespace: ctx.namespace, labels: stackLabels(ctx.model) },
    type: "Opaque",
    stringData,
  };
}

/** The `kubernetes.io/dockerconfigjson` Secret pods pull built images with, when the stack has a registry login. */
export function registryPullSecret(ctx: RenderContext, values?: Record<SecretName, SecretValue>): SecretObject[] {
  const registry = ctx.model.registry;
  if (!registry) return [];
  let config: SecretValue = redactedSecretValue;
  if (values) {
    const password = values[registry.passwordSecret];
    if (password === undefined) throw new Error(`no value for secret "${registry.passwordSecret}"`);
    config = pulumi.secret(pulumi.output(password).apply((p) => dockerConfigJson(registry.server, registry.username, p)));
  }
  return [
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: registrySecretName(ctx.model), namespace: ctx.namespace, labels: stackLabels(ctx.model) },
      type: "kubernetes.io/dockerconfigjson",
      stringData: { ".dockerconfigjson": config },
    },
  ];
}
