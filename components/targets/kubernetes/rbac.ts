/**
 * Identity and API access: one ServiceAccount per workload (no token unless the
 * workload talks to the API), and for those that do, Roles and ClusterRoles with
 * exactly the rules of their spec. Namespaced rules hold in each namespace of the stack
 * (Prometheus and Alloy discover the pods of the application and the agents' namespace).
 */
import type { PolicyRule as SpecPolicyRule, WorkloadSpec } from "../../spec";
import { clusterScopedName, namespaceOf, stackNamespaces, workloadLabels, type RenderContext } from "./context";
import type { ClusterRoleBindingObject, ClusterRoleObject, RoleBindingObject, RoleObject, ServiceAccountObject } from "./objects";

export type RbacObject = ServiceAccountObject | RoleObject | RoleBindingObject | ClusterRoleObject | ClusterRoleBindingObject;

const rbacApiGroup = "rbac.authorization.k8s.io";

function rules(specRules: SpecPolicyRule[]) {
  return specRules.map((rule) => ({
    apiGroups: [...rule.apiGroups],
    resources: [...rule.resources],
    verbs: [...rule.verbs],
    ...(rule.nonResourceURLs !== undefined && { nonResourceURLs: [...rule.nonResourceURLs] }),
  }));
}

export function serviceAccount(ctx: RenderContext, workload: WorkloadSpec): ServiceAccountObject {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: workload.name, namespace: namespaceOf(ctx, workload), labels: workloadLabels(ctx.model, workload) },
    automountServiceAccountToken: workload.security.kubernetesApi !== undefined,
  };
}

/** Role and binding for the namespaced rules, ClusterRole and binding for the cluster-wide ones; none for empty rule sets. */
export function apiAccess(ctx: RenderContext, workload: WorkloadSpec): RbacObject[] {
  const access = workload.security.kubernetesApi;
  if (!access) return [];
  const labels = workloadLabels(ctx.model, workload);
  const home = namespaceOf(ctx, workload);
  const subjects = [{ kind: "ServiceAccount", name: workload.name, namespace: home }];
  const result: RbacObject[] = [];
  if (access.namespacedRules.length > 0) {
    const urlRule = access.namespacedRules.find((rule) => rule.nonResourceURLs !== undefined);
    if (urlRule) throw new Error(`workload "${workload.name}": nonResourceURLs rules are cluster-wide; move them to clusterRules`);
    for (const namespace of stackNamespaces(ctx)) {
      // Object names are unique across the stack's namespaces: the grant in the other namespace names it.
      const name = namespace === home ? workload.name : `${workload.name}-${namespace}`;
      const meta = { name, namespace, labels };
      result.push(
        { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: meta, rules: rules(access.namespacedRules) },
        {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "RoleBinding",
          metadata: meta,
          roleRef: { apiGroup: rbacApiGroup, kind: "Role", name },
          subjects,
        },
      );
    }
  }
  if (access.clusterRules.length > 0) {
    const name = clusterScopedName(ctx, workload);
    result.push(
      { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name, labels }, rules: rules(access.clusterRules) },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name, labels },
        roleRef: { apiGroup: rbacApiGroup, kind: "ClusterRole", name },
        subjects,
      },
    );
  }
  return result;
}
