/**
 * What each rendered object uses among the stack's own objects, read from the objects themselves
 * (pure: objects in, a dependency graph out). The apply step turns every edge into a `dependsOn`,
 * so on a real cluster
 *
 * - a workload starts only once what its pods need exists: its ServiceAccount and RBAC, the
 *   ConfigMaps, Secrets and claims its pod template names, the NetworkPolicies that select its pods,
 *   a StatefulSet's governing Service, and the workloads (with their Services) its spec `dependsOn`
 *   names; a release's migration Jobs come before Deployments and CronJobs;
 * - a Service of a workload follows that workload (its readiness wait is then the workload's pods
 *   answering), an autoscaler and a disruption budget their workload (a KEDA ScaledObject also its
 *   TriggerAuthentication, which follows the Secret it reads), an Ingress its backends;
 * - nothing waits for what it does not use: a claim that never binds blocks only its consumers,
 *   and `destroy --exclude-protected` keeps, besides the protected objects (namespace, StatefulSets,
 *   claims), only what those use themselves.
 */
import type { StackModel } from "../../spec";
import type { KubernetesObject, ObjectOfKind, PodTemplateSpec } from "./objects";

/**
 * `Kind/name`: unique among the stack's objects (names are unique across the stack's namespaces:
 * the few objects both hold carry the namespace in their name; cluster-scoped names carry it too).
 */
export function objectKey(object: Pick<KubernetesObject, "kind" | "metadata">): string {
  return `${object.kind}/${object.metadata.name}`;
}

export interface ObjectNode {
  object: KubernetesObject;
  key: string;
  /** Keys of the objects this one uses, each declared before it. */
  uses: string[];
}

type WorkloadKind = "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob";
export type WorkloadObject = ObjectOfKind<WorkloadKind>;
const workloadKinds: readonly string[] = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"];

export function isWorkload(object: KubernetesObject): object is WorkloadObject {
  return workloadKinds.includes(object.kind);
}

export function podTemplateOf(object: WorkloadObject): PodTemplateSpec {
  return object.kind === "CronJob" ? object.spec.jobTemplate.spec.template : object.spec.template;
}

/** Whether a label selector (matchLabels only: the render writes no expressions) selects these labels. */
function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

function isHeadless(service: ObjectOfKind<"Service">): boolean {
  return service.spec?.clusterIP === "None";
}

/** ConfigMaps, Secrets and claims a pod template names, and its ServiceAccount. */
function podReferences(template: PodTemplateSpec): string[] {
  const spec = template.spec;
  const keys: string[] = [];
  if (spec.serviceAccountName) keys.push(`ServiceAccount/${spec.serviceAccountName}`);
  for (const pull of spec.imagePullSecrets ?? []) if (pull.name) keys.push(`Secret/${pull.name}`);
  for (const volume of spec.volumes ?? []) {
    if (volume.configMap?.name) keys.push(`ConfigMap/${volume.configMap.name}`);
    if (volume.secret?.secretName) keys.push(`Secret/${volume.secret.secretName}`);
    if (volume.persistentVolumeClaim?.claimName) keys.push(`PersistentVolumeClaim/${volume.persistentVolumeClaim.claimName}`);
  }
  for (const container of spec.containers) {
    for (const variable of container.env ?? []) {
      const from = variable.valueFrom;
      if (from?.secretKeyRef?.name) keys.push(`Secret/${from.secretKeyRef.name}`);
      if (from?.configMapKeyRef?.name) keys.push(`ConfigMap/${from.configMapKeyRef.name}`);
    }
    for (const source of container.envFrom ?? []) {
      if (source.secretRef?.name) keys.push(`Secret/${source.secretRef.name}`);
      if (source.configMapRef?.name) keys.push(`ConfigMap/${source.configMapRef.name}`);
    }
  }
  return keys;
}

/**
 * Every object with the keys of the objects it uses, in an order where each follows what it uses
 * (otherwise the render order). Throws for workloads that wait for each other in a circle.
 */
export function dependencyOrder(model: StackModel, objects: KubernetesObject[]): ObjectNode[] {
  const byKey = new Map(objects.map((object) => [objectKey(object), object]));
  const duplicate = objects.map(objectKey).find((key, index, keys) => keys.indexOf(key) !== index);
  if (duplicate) throw new Error(`two objects of the stack are ${duplicate}: names must be unique across its namespaces`);
  const workloads = objects.filter(isWorkload);
  const services = objects.filter((object): object is ObjectOfKind<"Service"> => object.kind === "Service");
  const bindings = objects.filter(
    (object): object is ObjectOfKind<"RoleBinding" | "ClusterRoleBinding"> =>
      object.kind === "RoleBinding" || object.kind === "ClusterRoleBinding",
  );
  const policies = objects.filter((object): object is ObjectOfKind<"NetworkPolicy"> => object.kind === "NetworkPolicy");
  const specs = new Map(model.workloads.map((workload) => [workload.name, workload]));
  const migrations = workloads.filter((object) => object.kind === "Job").map(objectKey);

  const podLabels = (object: WorkloadObject) => podTemplateOf(object).metadata.labels;
  const workloadsSelectedBy = (selector: Record<string, string> | undefined) =>
    workloads.filter((object) => selects(selector, podLabels(object))).map(objectKey);
  /** A workload and the Services that reach it: what "depends on workload X" means to a caller. */
  const reachable = (name: string): string[] => {
    const target = workloads.find((object) => object.metadata.name === name);
    if (!target) return [];
    const routes = services.filter((service) => !isHeadless(service) && selects(service.spec?.selector, podLabels(target)));
    return [objectKey(target), ...routes.map(objectKey)];
  };

  const usesOf = (object: KubernetesObject): string[] => {
    const uses: string[] = [];
    // Its own namespace (the application's or the agents'), when the stack declares it.
    if (object.kind !== "Namespace" && object.metadata.namespace !== undefined) uses.push(`Namespace/${object.metadata.namespace}`);
    switch (object.kind) {
      case "RoleBinding":
      case "ClusterRoleBinding":
        uses.push(`${object.roleRef.kind}/${object.roleRef.name}`);
        for (const subject of object.subjects ?? []) if (subject.kind === "ServiceAccount") uses.push(`ServiceAccount/${subject.name}`);
        break;
      case "Deployment":
      case "StatefulSet":
      case "DaemonSet":
      case "Job":
      case "CronJob": {
        const template = podTemplateOf(object);
        uses.push(...podReferences(template));
        const account = template.spec.serviceAccountName;
        for (const binding of bindings) {
          if ((binding.subjects ?? []).some((subject) => subject.kind === "ServiceAccount" && subject.name === account))
            uses.push(objectKey(binding));
        }
        for (const policy of policies) {
          // A policy selects pods of its own namespace only.
          if (
            policy.metadata.namespace === object.metadata.namespace &&
            selects(policy.spec?.podSelector?.matchLabels, template.metadata.labels)
          )
            uses.push(objectKey(policy));
        }
        if (object.kind === "StatefulSet" && object.spec.serviceName) uses.push(`Service/${object.spec.serviceName}`);
        for (const name of specs.get(object.metadata.name)?.dependsOn ?? []) uses.push(...reachable(name));
        // A release's migration runs before the Deployments and CronJobs that need its schema.
        if (object.kind === "Deployment" || object.kind === "CronJob") uses.push(...migrations);
        break;
      }
      case "Service":
        // A headless Service governs its StatefulSet, which uses it: it comes first.
        if (!isHeadless(object)) uses.push(...workloadsSelectedBy(object.spec?.selector));
        break;
      case "HorizontalPodAutoscaler": {
        const target = object.spec?.scaleTargetRef;
        if (target) uses.push(`${target.kind}/${target.name}`);
        break;
      }
      case "ScaledObject":
        uses.push(`${object.spec.scaleTargetRef.kind}/${object.spec.scaleTargetRef.name}`);
        for (const trigger of object.spec.triggers) uses.push(`TriggerAuthentication/${trigger.authenticationRef.name}`);
        break;
      case "TriggerAuthentication":
        for (const ref of object.spec.secretTargetRef) uses.push(`Secret/${ref.name}`);
        break;
      case "PodDisruptionBudget":
        uses.push(...workloadsSelectedBy(object.spec?.selector?.matchLabels));
        break;
      case "Ingress":
        if (object.spec?.ingressClassName) uses.push(`IngressClass/${object.spec.ingressClassName}`);
        for (const rule of object.spec?.rules ?? []) {
          for (const path of rule.http?.paths ?? []) if (path.backend.service?.name) uses.push(`Service/${path.backend.service.name}`);
        }
        break;
      default:
        break;
    }
    const self = objectKey(object);
    // Only objects of this stack (a Role named in a binding may be the cluster's own).
    return [...new Set(uses)].filter((key) => key !== self && byKey.has(key));
  };

  const graph = new Map(objects.map((object) => [objectKey(object), usesOf(object)]));
  const ordered: ObjectNode[] = [];
  const placed = new Set<string>();
  const visiting: string[] = [];
  const visit = (key: string) => {
    if (placed.has(key)) return;
    if (visiting.includes(key)) {
      const name = byKey.get(key)?.metadata.name ?? key;
      const circle = [...visiting.slice(visiting.indexOf(key)), key].join(" -> ");
      throw new Error(`workload "${name}" waits for itself (through dependsOn or a migration Job): ${circle}`);
    }
    visiting.push(key);
    for (const used of graph.get(key) ?? []) visit(used);
    visiting.pop();
    placed.add(key);
    ordered.push({ object: byKey.get(key) as KubernetesObject, key, uses: graph.get(key) ?? [] });
  };
  for (const object of objects) visit(objectKey(object));
  return ordered;
}
