/**
 * What every Kubernetes renderer needs to know about the stack: the model, the
 * configuration, the workloads that are actually rendered, object names and labels.
 */
import { agentsNamespaceOf } from "../../config/kubernetes";
import type { KubernetesConfig } from "../../config/types";
import type { StackModel, WorkloadSpec } from "../../spec";
import { withRoutes } from "./routing";

/** The Kubernetes configuration plus the few settings the target needs from elsewhere. */
export interface KubernetesRenderConfig extends Omit<KubernetesConfig, "ingressControllerNamespace"> {
  /**
   * Namespace of the existing ingress controller, used when Ballast does not deploy
   * Traefik: its pods may connect to `fromProxy` workloads. Default `kube-system`
   * (k3s, and most bundled controllers).
   */
  ingressControllerNamespace?: string;
  /** HTTPS on public routes (`PlatformConfig.tls`); a route's own `tls` must also be set. Default true. */
  tls?: boolean;
}

export const defaultIngressControllerNamespace = "kube-system";

/** Label keys shared by every object (the Kubernetes recommended labels). */
export const labelKeys = {
  name: "app.kubernetes.io/name",
  component: "app.kubernetes.io/component",
  partOf: "app.kubernetes.io/part-of",
  managedBy: "app.kubernetes.io/managed-by",
} as const;

/** Built-in label the API server puts on every namespace; selects a namespace by name. */
export const namespaceNameLabel = "kubernetes.io/metadata.name";

export interface RenderContext {
  model: StackModel;
  config: KubernetesRenderConfig;
  /** The application namespace: every workload but the per-node agents; enforces Pod Security `restricted`. */
  namespace: string;
  /** The per-node agents' namespace (`<namespace>-agents`): host paths and host PID, Pod Security `privileged`. */
  agentsNamespace: string;
  /** The workloads that become Kubernetes objects (the proxy is dropped when Traefik is not ours to deploy). */
  workloads: WorkloadSpec[];
  /** Proxy workloads that are rendered (those that publish ports, when `deployTraefik`). */
  proxies: WorkloadSpec[];
  tls: boolean;
}

/** The proxy is the workload that publishes host ports (on Compose); on Kubernetes it sits behind a LoadBalancer. */
export function isProxy(workload: WorkloadSpec): boolean {
  return workload.ports.some((port) => port.publish !== undefined);
}

export function createContext(model: StackModel, config: KubernetesRenderConfig): RenderContext {
  const tls = config.tls ?? true;
  const rendered = model.workloads.filter((workload) => config.deployTraefik || !isProxy(workload));
  // Our Traefik reads its routes from a file of its ConfigMap (./routing.ts), not from Ingresses.
  const workloads = rendered.map((workload) => (isProxy(workload) ? withRoutes(workload, rendered, tls) : workload));
  return {
    model,
    config,
    namespace: config.namespace,
    agentsNamespace: agentsNamespaceOf(config.namespace),
    workloads,
    proxies: workloads.filter(isProxy),
    tls,
  };
}

/** Per-node agents (DaemonSets) run in the agents namespace; everything else in the application namespace. */
export function isNodeAgent(workload: WorkloadSpec): boolean {
  return workload.role === "agent";
}

/** The namespace a workload and its own objects (ServiceAccount, ConfigMap, Services, NetworkPolicy) live in. */
export function namespaceOf(ctx: RenderContext, workload: WorkloadSpec): string {
  return isNodeAgent(workload) ? ctx.agentsNamespace : ctx.namespace;
}

/** The namespace of a workload known only by name (a peer that may not be in the model: the application namespace). */
export function namespaceOfName(ctx: RenderContext, name: string): string {
  const workload = ctx.workloads.find((candidate) => candidate.name === name);
  return workload ? namespaceOf(ctx, workload) : ctx.namespace;
}

/** The namespaces the stack renders: the application namespace, and the agents' when there are agents. */
export function stackNamespaces(ctx: RenderContext): string[] {
  return ctx.workloads.some(isNodeAgent) ? [ctx.namespace, ctx.agentsNamespace] : [ctx.namespace];
}

/** The one Secret holding every secret of the stack. */
export function secretObjectName(model: StackModel): string {
  return `${model.project}-secrets`;
}

/** The image pull secret of the stack's registry login. */
export function registrySecretName(model: StackModel): string {
  return `${model.project}-registry`;
}

export function configMapName(workload: WorkloadSpec): string {
  return `${workload.name}-config`;
}

export function headlessServiceName(workload: WorkloadSpec): string {
  return `${workload.name}-headless`;
}

export function publicServiceName(workload: WorkloadSpec): string {
  return `${workload.name}-public`;
}

/** Cluster-scoped names are shared by every stack on the cluster, so they carry the namespace. */
export function clusterScopedName(ctx: RenderContext, workload: WorkloadSpec): string {
  return `${ctx.namespace}-${workload.name}`;
}

/** Labels on every object of the stack. */
export function stackLabels(model: StackModel): Record<string, string> {
  return { [labelKeys.partOf]: model.project, [labelKeys.managedBy]: "ballast" };
}

/** The immutable selector of a workload's pods. */
export function selectorLabels(model: StackModel, workload: WorkloadSpec): Record<string, string> {
  return selectorLabelsOf(model, workload.name);
}

/** The pod selector of a workload known only by name (a peer that may not be in the model). */
export function selectorLabelsOf(model: StackModel, workloadName: string): Record<string, string> {
  return { [labelKeys.name]: workloadName, [labelKeys.partOf]: model.project };
}

/** Labels of a workload's objects and pods; the spec's own labels never override the recommended ones. */
export function workloadLabels(model: StackModel, workload: WorkloadSpec): Record<string, string> {
  return {
    ...workload.labels,
    [labelKeys.name]: workload.name,
    [labelKeys.component]: workload.component,
    ...stackLabels(model),
  };
}
