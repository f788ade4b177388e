/**
 * Kubernetes objects as `@pulumi/kubernetes` registers them: type tokens, pod templates,
 * containers and labels, read from plain props.
 */
import { asArray, asObject, asString, at, stringMap, type Props } from "./values";
import type { ResourceView } from "./view";

export const k8sTypes = {
  deployment: "kubernetes:apps/v1:Deployment",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
  daemonSet: "kubernetes:apps/v1:DaemonSet",
  cronJob: "kubernetes:batch/v1:CronJob",
  job: "kubernetes:batch/v1:Job",
  pod: "kubernetes:core/v1:Pod",
  service: "kubernetes:core/v1:Service",
  pvc: "kubernetes:core/v1:PersistentVolumeClaim",
  secret: "kubernetes:core/v1:Secret",
  configMap: "kubernetes:core/v1:ConfigMap",
  ingress: "kubernetes:networking.k8s.io/v1:Ingress",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  hpa: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
} as const;

/** Kinds that carry a pod template, by type token. */
const workloadKinds: Record<string, string> = {
  [k8sTypes.deployment]: "Deployment",
  [k8sTypes.statefulSet]: "StatefulSet",
  [k8sTypes.daemonSet]: "DaemonSet",
  [k8sTypes.cronJob]: "CronJob",
  [k8sTypes.job]: "Job",
  [k8sTypes.pod]: "Pod",
};

/** The label Kubernetes' recommended labels use for a workload's role in the stack. */
export const componentLabel = "app.kubernetes.io/component";

export interface K8sContainer {
  name: string;
  init: boolean;
  props: Props;
}

export interface K8sWorkload {
  /** `Deployment "app"` for messages. */
  title: string;
  kind: string;
  name: string;
  namespace?: string;
  /** Labels of the object and of its pod template (template wins). */
  labels: Record<string, string>;
  podLabels: Record<string, string>;
  podSpec: Props;
  containers: K8sContainer[];
}

export function isK8sWorkloadType(type: string): boolean {
  return type in workloadKinds;
}

export function objectName(props: Props, fallback: string): string {
  return asString(at(props, "metadata", "name")) ?? fallback;
}

export function objectNamespace(props: Props): string | undefined {
  return asString(at(props, "metadata", "namespace"));
}

/** The pod template of a workload object, with its containers; undefined for other types. */
export function k8sWorkloadOf(resource: ResourceView): K8sWorkload | undefined {
  const kind = workloadKinds[resource.type];
  if (!kind) return undefined;
  const props = resource.props;
  const template =
    kind === "CronJob" ? at(props, "spec", "jobTemplate", "spec", "template") : kind === "Pod" ? props : at(props, "spec", "template");
  const podSpec = asObject(at(template, "spec")) ?? {};
  const name = objectName(props, resource.name);
  const podLabels = stringMap(at(template, "metadata", "labels"));
  const containers: K8sContainer[] = [];
  for (const [field, init] of [
    ["initContainers", true],
    ["containers", false],
  ] as const) {
    asArray(podSpec[field]).forEach((c, i) => {
      const container = asObject(c);
      if (container) containers.push({ name: asString(container.name) ?? `#${i}`, init, props: container });
    });
  }
  return {
    title: `${kind} "${name}"`,
    kind,
    name,
    namespace: objectNamespace(props),
    labels: { ...stringMap(at(props, "metadata", "labels")), ...podLabels },
    podLabels,
    podSpec,
    containers,
  };
}

/** `Deployment "app" container "app"` / `... init container "migrate"`. */
export function containerTitle(workload: K8sWorkload, container: K8sContainer): string {
  return `${workload.title} ${container.init ? "init container" : "container"} "${container.name}"`;
}

/** Does a label selector (`{matchLabels, matchExpressions}`) select a pod with these labels? */
export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  const sel = asObject(selector);
  if (!sel) return false;
  for (const [key, value] of Object.entries(stringMap(sel.matchLabels))) {
    if (labels[key] !== value) return false;
  }
  for (const raw of asArray(sel.matchExpressions)) {
    const expr = asObject(raw);
    const key = asString(expr?.key);
    if (!expr || key === undefined) return false;
    const values = asArray(expr.values).filter((v): v is string => typeof v === "string");
    const has = key in labels;
    switch (expr.operator) {
      case "In":
        if (!has || !values.includes(labels[key])) return false;
        break;
      case "NotIn":
        if (has && values.includes(labels[key])) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
