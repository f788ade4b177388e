/**
 * Pod Security Standards levels, to label the namespace for Pod Security Admission.
 *
 * Each namespace enforces the strictest level every pod in it satisfies (the application
 * namespace: `restricted`, the agents' `privileged`) and always warns and audits at
 * `restricted`, so each relaxation stays visible (kubectl warnings, audit log).
 */
import type { WorkloadSpec } from "../../spec";

export type PodSecurityLevel = "restricted" | "baseline" | "privileged";

const strictness: Record<PodSecurityLevel, number> = { restricted: 0, baseline: 1, privileged: 2 };

/** Capabilities the `baseline` level allows to be added. */
const baselineCapabilities = new Set([
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
]);

function capabilityName(capability: string): string {
  return capability.toUpperCase().replace(/^CAP_/, "");
}

/** The strictest Pod Security Standard the workload's pod (as rendered) satisfies. */
export function podSecurityLevel(workload: WorkloadSpec): PodSecurityLevel {
  const security = workload.security;
  const capabilities = security.addCapabilities.map(capabilityName);
  const hostAccess =
    security.privileged || security.hostPid || security.hostNetwork || workload.volumes.some((volume) => volume.kind === "host");
  if (hostAccess || capabilities.some((capability) => !baselineCapabilities.has(capability))) return "privileged";
  if (security.runAsRoot || capabilities.some((capability) => capability !== "NET_BIND_SERVICE")) return "baseline";
  return "restricted";
}

/** The level the namespace can enforce without rejecting any of the workloads. */
export function namespaceEnforceLevel(workloads: WorkloadSpec[]): PodSecurityLevel {
  return workloads
    .map(podSecurityLevel)
    .reduce<PodSecurityLevel>((level, next) => (strictness[next] > strictness[level] ? next : level), "restricted");
}
