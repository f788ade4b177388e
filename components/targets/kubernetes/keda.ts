/**
 * Workers that scale on a queue's length: a KEDA ScaledObject (keda.sh/v1alpha1) with the Redis
 * list (`redis`, `listLength`) or stream (`redis-streams`, `pendingEntriesCount`) trigger, and a
 * TriggerAuthentication that hands KEDA the Redis password from the stack's Secret (never a
 * plaintext value). KEDA creates and owns the worker's HorizontalPodAutoscaler, so the render
 * writes no HPA of its own for it and, as for any autoscaled Deployment, no `spec.replicas`:
 * two autoscalers, or a declared replica count, would fight over the Deployment.
 */
import type { QueueTriggerSpec, WorkloadSpec } from "../../spec";
import { namespaceNameLabel, secretObjectName, workloadLabels, type RenderContext } from "./context";
import type { NetworkPolicyPeer, ScaledObjectObject, TriggerAuthenticationObject } from "./objects";

/** Seconds between KEDA's reads of the queue (its default). */
export const KEDA_POLLING_INTERVAL_SECONDS = 30;
/** Seconds without an active trigger before KEDA returns to the minimum (its default). */
export const KEDA_COOLDOWN_SECONDS = 300;
/** Pod label of KEDA's operator (its release manifests and Helm chart). */
export const KEDA_OPERATOR_LABELS = { app: "keda-operator" } as const;

/** The queue trigger of a workload KEDA scales, if any. */
export function queueTriggerOf(workload: WorkloadSpec): QueueTriggerSpec | undefined {
  return workload.role === "stateless" ? workload.autoscaling?.queue : undefined;
}

export function triggerAuthenticationName(workload: WorkloadSpec): string {
  return `${workload.name}-queue`;
}

/** KEDA's operator pods, in their own namespace: what reads the queues. */
export function kedaOperatorPeer(ctx: RenderContext): NetworkPolicyPeer {
  return {
    namespaceSelector: { matchLabels: { [namespaceNameLabel]: ctx.config.keda.namespace } },
    podSelector: { matchLabels: { ...KEDA_OPERATOR_LABELS } },
  };
}

/** Whether KEDA reads a queue held by this workload (its NetworkPolicy must then let the operator in). */
export function holdsScaledQueue(ctx: RenderContext, datastore: WorkloadSpec): boolean {
  return ctx.config.keda.enabled && ctx.workloads.some((w) => queueTriggerOf(w)?.datastore === datastore.name);
}

/** Where KEDA, in another namespace, reaches the datastore: its Service's namespaced DNS name. */
function datastoreAddress(ctx: RenderContext, workload: WorkloadSpec, queue: QueueTriggerSpec): string {
  const datastore = ctx.workloads.find((w) => w.name === queue.datastore);
  const port = datastore?.ports[0]?.port;
  if (!datastore || port === undefined) {
    throw new Error(`workload "${workload.name}": its queue is in "${queue.datastore}", which is not a workload of the stack with a port`);
  }
  return `${datastore.name}.${ctx.namespace}.svc:${port}`;
}

function trigger(ctx: RenderContext, workload: WorkloadSpec, queue: QueueTriggerSpec): ScaledObjectObject["spec"]["triggers"][number] {
  const address = datastoreAddress(ctx, workload, queue);
  const authenticationRef = { name: triggerAuthenticationName(workload) };
  if (queue.kind === "redis-list") {
    return { type: "redis", metadata: { address, listName: queue.key, listLength: String(queue.targetPerReplica) }, authenticationRef };
  }
  if (queue.consumerGroup === undefined) throw new Error(`workload "${workload.name}": a redis-stream queue needs its consumer group`);
  return {
    type: "redis-streams",
    metadata: { address, stream: queue.key, consumerGroup: queue.consumerGroup, pendingEntriesCount: String(queue.targetPerReplica) },
    authenticationRef,
  };
}

/** The TriggerAuthentication and ScaledObject of a queue-scaled workload; none for the others. */
export function queueScaler(ctx: RenderContext, workload: WorkloadSpec): (TriggerAuthenticationObject | ScaledObjectObject)[] {
  const queue = queueTriggerOf(workload);
  const scaling = workload.autoscaling;
  if (!queue || !scaling) return [];
  if (!ctx.config.keda.enabled) {
    throw new Error(
      `workload "${workload.name}" scales on queue length, which needs KEDA on the cluster: set ballast:kubernetes.keda.enabled true`,
    );
  }
  const labels = workloadLabels(ctx.model, workload);
  return [
    {
      apiVersion: "keda.sh/v1alpha1",
      kind: "TriggerAuthentication",
      metadata: { name: triggerAuthenticationName(workload), namespace: ctx.namespace, labels },
      spec: { secretTargetRef: [{ parameter: "password", name: secretObjectName(ctx.model), key: queue.passwordSecret }] },
    },
    {
      apiVersion: "keda.sh/v1alpha1",
      kind: "ScaledObject",
      metadata: {
        name: workload.name,
        namespace: ctx.namespace,
        labels,
        annotations: { "ballast/scales-on": `${queue.kind} ${queue.key}` },
      },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: workload.name },
        minReplicaCount: scaling.minReplicas,
        maxReplicaCount: scaling.maxReplicas,
        pollingInterval: KEDA_POLLING_INTERVAL_SECONDS,
        cooldownPeriod: KEDA_COOLDOWN_SECONDS,
        triggers: [trigger(ctx, workload, queue)],
      },
    },
  ];
}
