/**
 * The stack's Namespaces and their Pod Security Admission labels.
 *
 * The application namespace holds every workload but the per-node agents (Services are reached by
 * their short names, as on Compose) and enforces `restricted`: a pod that runs as root, keeps a
 * capability, may escalate privileges or touches the host is refused by the API server. Only a
 * service whose stack opts it into root (`services[].runAsRoot`) lowers it to `baseline`, which the
 * `pod-security-enforced` policy accepts only for such an opt-in.
 *
 * The per-node agents (Alloy tails /var/log/pods, node-exporter reads /proc, /sys and / of the
 * host) need host paths, which only `privileged` allows: they get their own namespace,
 * `<namespace>-agents`, holding no Secret, so the exemption covers nothing else. Both namespaces
 * warn and audit at `restricted`, so every pod that relies on a relaxation is reported on each apply.
 */
import { isNodeAgent, stackLabels, stackNamespaces, type RenderContext } from "./context";
import type { NamespaceObject } from "./objects";
import { namespaceEnforceLevel } from "./pod-security";

const psa = "pod-security.kubernetes.io";

export function namespaceObjects(ctx: RenderContext): NamespaceObject[] {
  return stackNamespaces(ctx).map((name) => {
    const agents = name === ctx.agentsNamespace;
    const members = ctx.workloads.filter((workload) => isNodeAgent(workload) === agents);
    return {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name,
        labels: {
          ...stackLabels(ctx.model),
          [`${psa}/enforce`]: namespaceEnforceLevel(members),
          [`${psa}/enforce-version`]: "latest",
          [`${psa}/warn`]: "restricted",
          [`${psa}/warn-version`]: "latest",
          [`${psa}/audit`]: "restricted",
          [`${psa}/audit-version`]: "latest",
        },
      },
    };
  });
}
