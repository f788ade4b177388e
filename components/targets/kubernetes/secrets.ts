/**
 * The one Secret that holds every secret of the stack. Containers reference its
 * keys (`secretKeyRef`, secret-file mounts); its values exist only in the apply step.
 */
import type { SecretName } from "../../spec";
import { secretObjectName, stackLabels, type RenderContext } from "./context";
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
  for (const secret of ctx.model.secrets) {
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
