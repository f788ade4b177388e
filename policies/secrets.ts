/**
 * Secrets pass by reference, never as literal values in the declaration.
 *
 * Environment variables whose name looks secret (`*PASSWORD`, `*SECRET`, `*TOKEN`, `*_KEY`):
 * - Kubernetes: `valueFrom.secretKeyRef` only (no `value`, no ConfigMap reference);
 * - Compose: a `${VAR}` interpolation from the project's .env (mode 0600 on the host), or
 *   unset (passed through); the `*_FILE` variant pointing at a secret file is the other way.
 * Any variable whose literal value is a URL with a password (`postgresql://u:pw@host`) is a
 * violation whatever its name. ConfigMaps must not hold secret-looking keys either.
 */
import { serviceEnvironment } from "./lib/compose";
import { containerTitle, k8sTypes, objectName } from "./lib/kubernetes";
import { resourcePolicy } from "./lib/policy";
import { asArray, asObject, asString, at, isUnknown } from "./lib/values";
import type { ResourceView } from "./lib/view";
import { workloadsOf } from "./lib/workloads";

export interface SecretsConfig {
  /** Regular expressions (case-insensitive) for secret-looking variable names. */
  namePatterns: string[];
  /** Names that match a pattern but are not secrets (e.g. a public Stripe key). */
  allowNames: string[];
}

export const secretsDefaults: SecretsConfig = {
  namePatterns: ["PASSWORD$", "SECRET$", "TOKEN$", "_KEY$"],
  allowNames: [],
};

/** `scheme://user:password@host` with a literal password. */
const credentialUrl = /[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:[^\s/@]+@/i;
/** Compose interpolation of one variable, without a literal default: `${NAME}`, `${NAME:?msg}`, `${NAME?msg}`, `$NAME`. */
const interpolation = /^(\$\{[A-Za-z_][A-Za-z0-9_]*(:?\?[^}]*)?\}|\$[A-Za-z_][A-Za-z0-9_]*)$/;

export function isSecretName(name: string, config: SecretsConfig): boolean {
  if (config.allowNames.includes(name)) return false;
  return config.namePatterns.some((pattern) => new RegExp(pattern, "i").test(name));
}

/** True when a URL carries a literal password; `${VAR}`, `$VAR` and Kubernetes' `$(VAR)` references do not count. */
function hasCredentialUrl(value: string): boolean {
  const literal = value
    .replace(/\$\{[^}]*\}/g, "")
    .replace(/\$\([A-Za-z_][A-Za-z0-9_]*\)/g, "")
    .replace(/\$[A-Za-z_][A-Za-z0-9_]*/g, "");
  return credentialUrl.test(literal);
}

export function checkSecrets(resource: ResourceView, config: SecretsConfig): string[] {
  const messages: string[] = [];
  if (resource.type === k8sTypes.configMap) {
    const where = `ConfigMap "${objectName(resource.props, resource.name)}"`;
    for (const key of Object.keys(asObject(resource.props.data) ?? {})) {
      if (isSecretName(key, config))
        messages.push(`${where}: key "${key}" looks like a secret; ConfigMaps are not encrypted or access-restricted, put it in a Secret`);
    }
    return messages;
  }
  const found = workloadsOf(resource);
  if (!found) return [];
  if (found.target === "kubernetes") {
    for (const container of found.workload.containers) {
      const where = containerTitle(found.workload, container);
      for (const entry of asArray(container.props.env)) {
        const name = asString(at(entry, "name"));
        if (name === undefined) continue;
        const value = at(entry, "value");
        if (isUnknown(value)) continue;
        if (isSecretName(name, config)) {
          if (at(entry, "valueFrom", "secretKeyRef") === undefined) {
            const how =
              value !== undefined
                ? "has a literal value"
                : at(entry, "valueFrom") !== undefined
                  ? "is not read from a Secret"
                  : "has no secretKeyRef";
            messages.push(`${where}: env ${name} looks secret but ${how}; use valueFrom.secretKeyRef`);
          }
        } else if (typeof value === "string" && hasCredentialUrl(value)) {
          messages.push(`${where}: env ${name} holds a URL with a literal password; read it from a Secret (valueFrom.secretKeyRef)`);
        }
      }
    }
    return messages;
  }
  for (const service of found.services) {
    for (const [name, value] of Object.entries(serviceEnvironment(service))) {
      if (value === null) continue;
      if (isSecretName(name, config)) {
        if (!interpolation.test(value.trim())) {
          messages.push(
            `${service.title}: environment ${name} looks secret but has a literal value; write "\${${name}}" and keep the value in the release's .env (or use ${name}_FILE with a secret file)`,
          );
        }
      } else if (hasCredentialUrl(value)) {
        messages.push(
          `${service.title}: environment ${name} holds a URL with a literal password; interpolate it from the .env ("\${${name}}")`,
        );
      }
    }
  }
  return messages;
}

export const secretsByReference = resourcePolicy<SecretsConfig>({
  name: "secrets-by-reference",
  description:
    "Secret-looking environment variables (*PASSWORD, *SECRET, *TOKEN, *_KEY) never carry literal values: secretKeyRef on Kubernetes, ${VAR} from the .env on Compose; no credentials in URLs; no secret keys in ConfigMaps.",
  enforcementLevel: "mandatory",
  defaults: secretsDefaults,
  configSchema: {
    properties: {
      namePatterns: {
        type: "array",
        items: { type: "string" },
        description: "Case-insensitive regular expressions for secret-looking variable names.",
      },
      allowNames: { type: "array", items: { type: "string" }, description: "Variable names that match a pattern but are not secret." },
    },
  },
  check: checkSecrets,
});
