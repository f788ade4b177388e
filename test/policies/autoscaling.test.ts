import { describe, expect, it } from "vitest";
import { autoscalingSane } from "../../policies/autoscaling";
import { k8sObject, validateResource } from "./harness";

function hpa(spec: Record<string, unknown>, stack = "prod") {
  return k8sObject(
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    "horizontalpodautoscaler-app",
    { metadata: { name: "app" }, spec },
    stack,
  );
}

const cpu = (averageUtilization?: number) => ({
  type: "Resource",
  resource: { name: "cpu", target: { type: "Utilization", ...(averageUtilization !== undefined ? { averageUtilization } : {}) } },
});

function scaledObject(spec: Record<string, unknown>, stack = "prod") {
  return k8sObject("kubernetes:keda.sh/v1alpha1:ScaledObject", "scaledobject-worker", { metadata: { name: "worker" }, spec }, stack);
}

describe("autoscaling-sane on KEDA ScaledObjects (workers scaled on a queue)", () => {
  const trigger = { type: "redis", metadata: { address: "redis.nomosx.svc:6379", listName: "bull:analyst:wait", listLength: "50" } };

  it("passes NomosX's workers (5-20 on the queue) and needs no CPU target", async () => {
    expect(await validateResource(autoscalingSane, scaledObject({ minReplicaCount: 5, maxReplicaCount: 20, triggers: [trigger] }))).toEqual(
      [],
    );
  });

  it("reports crossed bounds and, in prod, fewer than two replicas (KEDA's default minimum is 0)", async () => {
    expect(await validateResource(autoscalingSane, scaledObject({ minReplicaCount: 6, maxReplicaCount: 3, triggers: [trigger] }))).toEqual([
      'ScaledObject "worker": minReplicaCount (6) exceeds maxReplicaCount (3)',
    ]);
    expect(await validateResource(autoscalingSane, scaledObject({ maxReplicaCount: 3, triggers: [trigger] }))).toEqual([
      'ScaledObject "worker": minReplicaCount is 0 in prod; keep at least 2 so one pod failure is not an outage',
    ]);
    expect(
      await validateResource(autoscalingSane, scaledObject({ minReplicaCount: 1, maxReplicaCount: 3, triggers: [trigger] }, "staging")),
    ).toEqual([]);
  });
});

describe("autoscaling-sane", () => {
  it("passes NomosX's prod HPAs (3-10 at 70 %, 5-20 at 80 %)", async () => {
    expect(await validateResource(autoscalingSane, hpa({ minReplicas: 3, maxReplicas: 10, metrics: [cpu(70)] }))).toEqual([]);
    expect(await validateResource(autoscalingSane, hpa({ minReplicas: 5, maxReplicas: 20, metrics: [cpu(80)] }))).toEqual([]);
  });

  it("allows one replica outside prod", async () => {
    expect(await validateResource(autoscalingSane, hpa({ minReplicas: 1, maxReplicas: 3, metrics: [cpu(70)] }, "staging"))).toEqual([]);
  });

  it("reports min > max, a single prod replica and an out-of-range CPU target", async () => {
    expect(await validateResource(autoscalingSane, hpa({ minReplicas: 1, maxReplicas: 0, metrics: [cpu(95)] }))).toEqual([
      'HorizontalPodAutoscaler "app": minReplicas (1) exceeds maxReplicas (0)',
      'HorizontalPodAutoscaler "app": minReplicas is 1 in prod; keep at least 2 so one pod failure is not an outage',
      'HorizontalPodAutoscaler "app": CPU target 95 %; keep it between 50 and 90 %',
    ]);
  });

  it("counts a missing minReplicas as Kubernetes' default of 1 and reports a missing CPU target", async () => {
    expect(await validateResource(autoscalingSane, hpa({ maxReplicas: 4, metrics: [cpu()] }))).toEqual([
      'HorizontalPodAutoscaler "app": minReplicas is 1 in prod; keep at least 2 so one pod failure is not an outage',
      'HorizontalPodAutoscaler "app": CPU target is not set; keep it between 50 and 90 %',
    ]);
    expect(await validateResource(autoscalingSane, hpa({ minReplicas: 2, maxReplicas: 4, metrics: [] }))).toEqual([
      'HorizontalPodAutoscaler "app": has no CPU utilisation target; scale on resource cpu with target type Utilization',
    ]);
  });

  it("takes environment and thresholds from the policy config", async () => {
    const dev = hpa({ minReplicas: 1, maxReplicas: 2, metrics: [cpu(40)] }, "production-eu");
    expect(await validateResource(autoscalingSane, dev, { environment: "dev", minCpuTargetPercent: 30 })).toEqual([]);
    expect(await validateResource(autoscalingSane, dev)).toEqual([
      'HorizontalPodAutoscaler "app": minReplicas is 1 in prod; keep at least 2 so one pod failure is not an outage',
      'HorizontalPodAutoscaler "app": CPU target 40 %; keep it between 50 and 90 %',
    ]);
  });
});
