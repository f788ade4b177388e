/**
 * Controllers and the objects that belong to one workload: the controller chosen by
 * role, its ConfigMap, standalone volume claims, Services, autoscaler and disruption budget.
 */
import type { WorkloadSpec } from "../../spec";
import {
  configMapName,
  headlessServiceName,
  isProxy,
  publicServiceName,
  selectorLabels,
  stackLabels,
  workloadLabels,
  labelKeys,
  namespaceOf,
  type RenderContext,
} from "./context";
import type {
  ConfigMapObject,
  CronJobObject,
  DaemonSetObject,
  DeploymentObject,
  HorizontalPodAutoscalerObject,
  JobObject,
  JobSpec,
  ObjectMeta,
  PersistentVolumeClaimObject,
  PodDisruptionBudgetObject,
  ServiceObject,
  StatefulSetObject,
} from "./objects";
import { traefikNames } from "./ingress";
import { podTemplate } from "./pod";

/** Retries cover a datastore that is briefly unavailable; jobs are expected to be idempotent. */
const jobBackoffLimit = 2;
/**
 * A run missed by more than this (controller down, previous run still going under
 * Forbid) is skipped until the next slot; it also bounds the missed-run count the
 * CronJob controller gives up at.
 */
const cronStartingDeadlineSeconds = 900;

export type WorkloadController = DeploymentObject | StatefulSetObject | DaemonSetObject | JobObject | CronJobObject;

export function workloadMeta(ctx: RenderContext, workload: WorkloadSpec, name = workload.name): ObjectMeta {
  return {
    name,
    namespace: namespaceOf(ctx, workload),
    labels: workloadLabels(ctx.model, workload),
    annotations: { "ballast/description": workload.description },
  };
}

function persistentVolumes(workload: WorkloadSpec) {
  return workload.volumes.flatMap((volume) => (volume.kind === "persistent" ? [volume] : []));
}

/** Replicas the workload never goes below: the autoscaler's minimum, or its fixed count. */
export function minimumReplicas(workload: WorkloadSpec): number {
  return workload.autoscaling?.minReplicas ?? workload.replicas;
}

function checkRoleSettings(workload: WorkloadSpec): void {
  const where = `workload "${workload.name}" (${workload.role})`;
  if (workload.autoscaling && workload.role !== "stateless") throw new Error(`${where}: only stateless workloads autoscale`);
  if (workload.role === "stateful" && workload.replicas !== 1) throw new Error(`${where}: stateful workloads run exactly one replica`);
  if (workload.role === "agent" && persistentVolumes(workload).length > 0) {
    throw new Error(`${where}: a per-node agent cannot share one persistent volume claim across nodes`);
  }
  if (workload.role === "stateless" && persistentVolumes(workload).length > 0 && minimumReplicas(workload) > 1) {
    throw new Error(`${where}: a ReadWriteOnce volume can back one replica only; drop the volume or run one replica`);
  }
  if (workload.role === "job" && workload.ports.some((port) => port.publish !== undefined)) {
    throw new Error(`${where}: jobs publish no ports`);
  }
}

function deployment(ctx: RenderContext, workload: WorkloadSpec): DeploymentObject {
  const selector = selectorLabels(ctx.model, workload);
  const template = podTemplate(ctx, workload, { persistentVolumes: "standalone-claim", probes: true });
  if (minimumReplicas(workload) > 1) {
    // Spread replicas over nodes so one node failure or drain takes out few of them.
    template.spec.topologySpreadConstraints = [
      { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } },
    ];
  }
  const claimsVolume = persistentVolumes(workload).length > 0;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: workloadMeta(ctx, workload),
    spec: {
      // With an autoscaler (an HPA, or KEDA's for a queue), replicas belong to it: declaring them too makes server-side apply and the HPA fight.
      ...(workload.autoscaling === undefined && { replicas: workload.replicas }),
      selector: { matchLabels: selector },
      // A rollout that makes no progress this long fails (pulumi up fails with it) while the old ReplicaSet keeps serving.
      progressDeadlineSeconds: ctx.config.progressDeadlineSeconds,
      // A ReadWriteOnce claim cannot attach to a surge pod on another node, so such a
      // (single-replica) Deployment must stop the old pod first; all others never drop below capacity.
      strategy: claimsVolume ? { type: "Recreate" } : { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: "25%" } },
      template,
    },
  };
}

function statefulSet(ctx: RenderContext, workload: WorkloadSpec): StatefulSetObject {
  const storageClass = ctx.config.storageClass;
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: workloadMeta(ctx, workload),
    spec: {
      serviceName: headlessServiceName(workload),
      replicas: 1,
      selector: { matchLabels: selectorLabels(ctx.model, workload) },
      updateStrategy: { type: "RollingUpdate" },
      persistentVolumeClaimRetentionPolicy: {
        whenDeleted: ctx.model.allowDataLoss ? "Delete" : "Retain",
        whenScaled: "Retain",
      },
      // Written exactly as the API server stores them (it fills volumeMode and a Pending status into
      // each template): the list is atomic, so any difference makes every client-side `kubectl apply`
      // re-send it ("configured") and a later server-side apply conflict with kubectl's ownership.
      volumeClaimTemplates: persistentVolumes(workload).map((volume) => ({
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: volume.name, labels: workloadLabels(ctx.model, workload) },
        spec: {
          accessModes: ["ReadWriteOnce"],
          resources: { requests: { storage: `${volume.sizeGiB}Gi` } },
          ...(storageClass !== "" && { storageClassName: storageClass }),
          volumeMode: "Filesystem",
        },
        status: { phase: "Pending" },
      })),
      template: podTemplate(ctx, workload, { persistentVolumes: "claim-template", probes: true }),
    },
  };
}

function daemonSet(ctx: RenderContext, workload: WorkloadSpec): DaemonSetObject {
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: workloadMeta(ctx, workload),
    spec: {
      selector: { matchLabels: selectorLabels(ctx.model, workload) },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
      template: podTemplate(ctx, workload, { persistentVolumes: "standalone-claim", probes: true }),
    },
  };
}

function jobSpec(ctx: RenderContext, workload: WorkloadSpec): JobSpec {
  return {
    backoffLimit: jobBackoffLimit,
    ...(workload.jobTimeoutSeconds !== undefined && { activeDeadlineSeconds: workload.jobTimeoutSeconds }),
    template: podTemplate(ctx, workload, { persistentVolumes: "standalone-claim", restartPolicy: "Never", probes: false }),
  };
}

/**
 * A job without a schedule runs once per release (a migration). No
 * ttlSecondsAfterFinished: the cluster deleting the finished Job would make the
 * next update recreate it and run the migration again.
 */
function job(ctx: RenderContext, workload: WorkloadSpec): JobObject {
  return { apiVersion: "batch/v1", kind: "Job", metadata: workloadMeta(ctx, workload), spec: jobSpec(ctx, workload) };
}

function cronJob(ctx: RenderContext, workload: WorkloadSpec, schedule: string): CronJobObject {
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: workloadMeta(ctx, workload),
    spec: {
      schedule,
      timeZone: "Etc/UTC",
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: cronStartingDeadlineSeconds,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels: workloadLabels(ctx.model, workload) },
        spec: jobSpec(ctx, workload),
      },
    },
  };
}

export function controller(ctx: RenderContext, workload: WorkloadSpec): WorkloadController {
  checkRoleSettings(workload);
  switch (workload.role) {
    case "stateless":
      return deployment(ctx, workload);
    case "stateful":
      return statefulSet(ctx, workload);
    case "agent":
      return daemonSet(ctx, workload);
    case "job":
      return workload.schedule === undefined ? job(ctx, workload) : cronJob(ctx, workload, workload.schedule);
  }
}

export function configMap(ctx: RenderContext, workload: WorkloadSpec): ConfigMapObject[] {
  if (workload.configFiles.length === 0) return [];
  return [
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: configMapName(workload), namespace: namespaceOf(ctx, workload), labels: workloadLabels(ctx.model, workload) },
      data: Object.fromEntries(workload.configFiles.map((file) => [file.name, file.content])),
    },
  ];
}

/**
 * Standalone claims for persistent volumes outside StatefulSets (a backup job's
 * archive, the proxy's ACME store). Workloads that share a volume name share the claim.
 */
export function standaloneClaims(ctx: RenderContext): PersistentVolumeClaimObject[] {
  const claims = new Map<string, { sizeGiB: number; owner: string }>();
  for (const workload of ctx.workloads) {
    if (workload.role === "stateful") continue;
    for (const volume of persistentVolumes(workload)) {
      const existing = claims.get(volume.name);
      if (existing && existing.sizeGiB !== volume.sizeGiB) {
        throw new Error(
          `volume "${volume.name}" is ${existing.sizeGiB} GiB in workload "${existing.owner}" but ${volume.sizeGiB} GiB in "${workload.name}"`,
        );
      }
      claims.set(volume.name, { sizeGiB: volume.sizeGiB, owner: workload.name });
    }
  }
  const storageClass = ctx.config.storageClass;
  return [...claims].map(([name, { sizeGiB }]) => ({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: ctx.namespace, labels: { ...stackLabels(ctx.model), [labelKeys.name]: name } },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: `${sizeGiB}Gi` } },
      ...(storageClass !== "" && { storageClassName: storageClass }),
    },
  }));
}

function servicePorts(workload: WorkloadSpec): NonNullable<NonNullable<ServiceObject["spec"]>["ports"]> {
  return workload.ports.map((port) => ({
    name: port.name,
    port: port.port,
    targetPort: port.name,
    protocol: port.protocol ?? "TCP",
  }));
}

/**
 * In-cluster Services (always ClusterIP: datastores are never exposed outside the
 * cluster) plus, for the proxy, the public entry point for exactly its published ports.
 */
export function services(ctx: RenderContext, workload: WorkloadSpec): ServiceObject[] {
  const selector = selectorLabels(ctx.model, workload);
  const meta = (name: string) => ({ name, namespace: namespaceOf(ctx, workload), labels: workloadLabels(ctx.model, workload) });
  const result: ServiceObject[] = [];
  if (workload.role === "stateful") {
    // The StatefulSet's governing Service: stable per-pod DNS names.
    result.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: meta(headlessServiceName(workload)),
      spec: { type: "ClusterIP", clusterIP: "None", selector, ports: servicePorts(workload) },
    });
  }
  if (workload.role === "job" || workload.ports.length === 0) return result;
  result.push({
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(workload.name),
    spec: {
      type: "ClusterIP",
      selector,
      ports: servicePorts(workload),
      // Callers of a per-node agent talk to the copy on their own node.
      ...(workload.role === "agent" && { internalTrafficPolicy: "Local" as const }),
    },
  });
  if (isProxy(workload)) result.push(publicService(ctx, workload, meta(publicServiceName(workload))));
  return result;
}

/**
 * The public entry point: exactly the proxy's published ports, as the Service type the cluster
 * offers (`kubernetes.publicService`): a LoadBalancer, node ports on every node (fixed ones from
 * `kubernetes.nodePorts`, by port name `web`/`websecure`), or a ClusterIP an existing ingress or
 * gateway forwards to.
 */
function publicService(ctx: RenderContext, workload: WorkloadSpec, metadata: ServiceObject["metadata"]): ServiceObject {
  const type = ctx.config.publicService;
  const fixedNodePort: Record<string, number> = {
    [traefikNames.httpEntryPoint]: ctx.config.nodePorts.http,
    [traefikNames.httpsEntryPoint]: ctx.config.nodePorts.https,
  };
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata,
    spec: {
      type,
      // Keeps client source addresses, which access logs and rate limits depend on (not for ClusterIP:
      // the API refuses the field there).
      ...(type !== "ClusterIP" && { externalTrafficPolicy: "Local" as const }),
      selector: selectorLabels(ctx.model, workload),
      ports: workload.ports.flatMap((port) =>
        port.publish === undefined
          ? []
          : [
              {
                name: port.name,
                port: port.publish,
                targetPort: port.name,
                protocol: port.protocol ?? "TCP",
                ...(type === "NodePort" && fixedNodePort[port.name] && { nodePort: fixedNodePort[port.name] }),
              },
            ],
      ),
    },
  };
}

/** The CPU HorizontalPodAutoscaler; a worker scaled on a queue gets KEDA's instead (./keda.ts). */
export function autoscaler(ctx: RenderContext, workload: WorkloadSpec): HorizontalPodAutoscalerObject[] {
  const scaling = workload.autoscaling;
  if (!scaling || workload.role !== "stateless" || scaling.queue) return [];
  return [
    {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: workload.name, namespace: ctx.namespace, labels: workloadLabels(ctx.model, workload) },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: workload.name },
        minReplicas: scaling.minReplicas,
        maxReplicas: scaling.maxReplicas,
        metrics: [
          {
            type: "Resource",
            resource: { name: "cpu", target: { type: "Utilization", averageUtilization: scaling.cpuTargetPercent } },
          },
        ],
      },
    },
  ];
}

/**
 * A disruption budget for Deployments that run at least two replicas: drains evict
 * one pod at a time. Single-replica workloads (datastores, the proxy) get none: a
 * budget of minAvailable 1 would block every node drain forever, and maxUnavailable 1
 * would allow what no budget allows. DaemonSet pods are not evicted by drains; jobs
 * are not disrupted meaningfully.
 */
export function disruptionBudget(ctx: RenderContext, workload: WorkloadSpec): PodDisruptionBudgetObject[] {
  if (workload.role !== "stateless" || minimumReplicas(workload) < 2) return [];
  return [
    {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: workload.name, namespace: ctx.namespace, labels: workloadLabels(ctx.model, workload) },
      spec: {
        maxUnavailable: 1,
        selector: { matchLabels: selectorLabels(ctx.model, workload) },
        // A crash-looping pod must not hold up a drain: it serves nothing anyway.
        unhealthyPodEvictionPolicy: "AlwaysAllow",
      },
    },
  ];
}
