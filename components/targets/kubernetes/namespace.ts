/**
 * The stack's Namespace and its Pod Security Admission labels.
 *
 * One namespace holds the whole stack (Services are reached by their short names,
 * as on Compose). It enforces the strictest Pod Security Standard all of its pods
 * meet: `restricted` for a stack without agents, `privileged` once per-node agents
 * need host paths or host PID, and always warns and audits at `restricted`, so every
 * pod that relies on the relaxation is reported on each apply.
 */
import { stackLabels, type RenderContext } from "./context";
import type { NamespaceObject } from "./objects";
import { namespaceEnforceLevel } from "./pod-security";

export function namespaceObject(ctx: RenderContext): NamespaceObject {
  const psa = "pod-security.kubernetes.io";
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: ctx.namespace,
      labels: {
        ...stackLabels(ctx.model),
        [`${psa}/enforce`]: namespaceEnforceLevel(ctx.workloads),
        [`${psa}/enforce-version`]: "latest",
        [`${psa}/warn`]: "restricted",
        [`${psa}/warn-version`]: "latest",
        [`${psa}/audit`]: "restricted",
        [`${psa}/audit-version`]: "latest",
      },
    },
  };
}
