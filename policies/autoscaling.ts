/**
 * Autoscaling is sane (HorizontalPodAutoscaler, autoscaling/v2): minReplicas <= maxReplicas,
 * at least two replicas in prod (one pod is one failure from an outage), and a CPU
 * utilisation target between 50 and 90 % (below wastes nodes, above leaves no headroom to
 * absorb a spike while new pods start; NomosX runs 70 % and 80 %).
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

export function checkAutoscaling(resource: ResourceView, config: AutoscalingConfig): string[] {
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
    .filter((m) => at(m, "type") === "Resource" && at(m, "resource", "name") === "cpu" && asString(at(m, "resource", "target", "type")) === "Utilization")
    .map((m) => at(m, "resource", "target", "averageUtilization"));
  if (cpuTargets.length === 0) {
    if (config.requireCpuTarget) messages.push(`${where}: has no CPU utilisation target; scale on resource cpu with target type Utilization`);
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
  description: "HorizontalPodAutoscalers: minReplicas <= maxReplicas, minReplicas >= 2 in prod, CPU utilisation target between 50 and 90 %.",
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
