/**
 * Autoscaling is sane (HorizontalPodAutoscaler, autoscaling/v2): minReplicas <= maxReplicas,
 * at least two replicas in prod (one pod is one failure from an outage), and a CPU
 * utilisation target between 50 and 90 % (below wastes nodes, above leaves no headroom to
 * absorb a spike while new pods start; NomosX runs 70 % and 80 %). A KEDA ScaledObject (a
 * worker scaled on its queue) gets the same bounds checks; its trigger replaces the CPU target.
 */
import { k8sTypes, objectName } from "./lib/kubernetes";
import { resourcePolicy } from "./lib/policy";
import { asArray, asString, at, isUnknown } from "./lib/values";
import { environmentConfigSchema, environmentOf, type ResourceView } from "./lib/view";

export interface AutoscalingConfig {
  /** Overrides the environment derived from the stack name. */
  environment?: string;
  prodMinReplicas: number;
  minCpuTargetPercent: number;
  maxCpuTargetPercent: number;
  /** Every HPA must scale on CPU utilisation. */
  requireCpuTarget: boolean;
}

export const autoscalingDefaults: AutoscalingConfig = {
  prodMinReplicas: 2,
  minCpuTargetPercent: 50,
  maxCpuTargetPercent: 90,
  requireCpuTarget: true,
};

const hpaTypes: string[] = [k8sTypes.hpa, "kubernetes:autoscaling/v2beta2:HorizontalPodAutoscaler"];
/** KEDA's ScaledObject: it scales on its triggers (a queue's length), so only the bounds are checked. */
const scaledObjectType = "kubernetes:keda.sh/v1alpha1:ScaledObject";

/** A KEDA ScaledObject: minReplicaCount (KEDA's default 0) <= maxReplicaCount (default 100), at least prodMinReplicas in prod. */
function checkScaledObject(resource: ResourceView, config: AutoscalingConfig): string[] {
  const where = `ScaledObject "${objectName(resource.props, resource.name)}"`;
  const minRaw = at(resource.props, "spec", "minReplicaCount");
  const maxRaw = at(resource.props, "spec", "maxReplicaCount");
  const min = typeof minRaw === "number" ? minRaw : isUnknown(minRaw) ? undefined : 0;
  const max = typeof maxRaw === "number" ? maxRaw : isUnknown(maxRaw) ? undefined : 100;
  const messages: string[] = [];
  if (min !== undefined && max !== undefined && min > max)
    messages.push(`${where}: minReplicaCount (${min}) exceeds maxReplicaCount (${max})`);
  if (environmentOf(resource.urn, config.environment) === "prod" && min !== undefined && min < config.prodMinReplicas) {
    messages.push(
      `${where}: minReplicaCount is ${min} in prod; keep at least ${config.prodMinReplicas} so one pod failure is not an outage`,
    );
  }
  return messages;
}

export function checkAutoscaling(resource: ResourceView, config: AutoscalingConfig): string[] {
  if (resource.type === scaledObjectType) return checkScaledObject(resource, config);
  if (!hpaTypes.includes(resource.type)) return [];
  const where = `HorizontalPodAutoscaler "${objectName(resource.props, resource.name)}"`;
  const messages: string[] = [];
  const minRaw = at(resource.props, "spec", "minReplicas");
  const maxRaw = at(resource.props, "spec", "maxReplicas");
  // Kubernetes defaults minReplicas to 1.
  const min = typeof minRaw === "number" ? minRaw : isUnknown(minRaw) ? undefined : 1;
  const max = typeof maxRaw === "number" ? maxRaw : undefined;
  if (min !== undefined && max !== undefined && min > max) {
    messages.push(`${where}: minReplicas (${min}) exceeds maxReplicas (${max})`);
  }
  const environment = environmentOf(resource.urn, config.environment);
  if (environment === "prod" && min !== undefined && min < config.prodMinReplicas) {
    messages.push(`${where}: minReplicas is ${min} in prod; keep at least ${config.prodMinReplicas} so one pod failure is not an outage`);
  }
  const metrics = at(resource.props, "spec", "metrics");
  if (isUnknown(metrics)) return messages;
  const cpuTargets = asArray(metrics)
    .filter(
      (m) =>
        at(m, "type") === "Resource" &&
        at(m, "resource", "name") === "cpu" &&
        asString(at(m, "resource", "target", "type")) === "Utilization",
    )
    .map((m) => at(m, "resource", "target", "averageUtilization"));
  if (cpuTargets.length === 0) {
    if (config.requireCpuTarget)
      messages.push(`${where}: has no CPU utilisation target; scale on resource cpu with target type Utilization`);
    return messages;
  }
  for (const target of cpuTargets) {
    if (isUnknown(target)) continue;
    if (typeof target !== "number" || target < config.minCpuTargetPercent || target > config.maxCpuTargetPercent) {
      messages.push(
        `${where}: CPU target ${typeof target === "number" ? `${target} %` : "is not set"}; keep it between ${config.minCpuTargetPercent} and ${config.maxCpuTargetPercent} %`,
      );
    }
  }
  return messages;
}

export const autoscalingSane = resourcePolicy<AutoscalingConfig>({
  name: "autoscaling-sane",
  description:
    "HorizontalPodAutoscalers: minReplicas <= maxReplicas, minReplicas >= 2 in prod, CPU utilisation target between 50 and 90 %. KEDA ScaledObjects (queue scaling): the same bounds.",
  enforcementLevel: "mandatory",
  defaults: autoscalingDefaults,
  configSchema: {
    properties: {
      environment: environmentConfigSchema,
      prodMinReplicas: { type: "integer", minimum: 1, description: "Smallest minReplicas allowed in prod." },
      minCpuTargetPercent: { type: "integer", minimum: 1, maximum: 100, description: "Lowest CPU utilisation target allowed." },
      maxCpuTargetPercent: { type: "integer", minimum: 1, maximum: 100, description: "Highest CPU utilisation target allowed." },
      requireCpuTarget: { type: "boolean", description: "Every HPA must scale on CPU utilisation." },
    },
  },
  check: checkAutoscaling,
});
