/**
 * Workers: queue workers (NomosX: 5-20 pods at 80 % CPU in prod). No public route;
 * they reach the datastores and the internet (LLM APIs). Each worker runs the app's image
 * unless it names its own or builds one (NomosX's Dockerfile.worker).
 */
import { datastoreDependencies } from "./app";
import { builtFrom } from "./build";
import type { PlatformConfig, WorkerConfig } from "./config";
import { healthSpecs } from "./health";
import { resourceSpec } from "./resources";
import { stackNames } from "./names";
import { REDIS_PASSWORD_SECRET } from "./redis";
import { runAs, workload, type AutoscalingSpec, type ImageRef, type WorkloadSpec } from "./spec";

/** The bounds of an autoscaled worker and, when it declares one, its queue trigger on the stack's Redis. */
function autoscalingSpec(config: PlatformConfig, worker: WorkerConfig, i: number): AutoscalingSpec {
  const { minReplicas, maxReplicas, cpuTargetPercent, queue } = worker.autoscaling;
  return {
    minReplicas,
    maxReplicas,
    cpuTargetPercent,
    configKey: `ballast:workers[${i}].autoscaling`,
    ...(queue && {
      queue: {
        kind: queue.kind,
        key: queue.name,
        ...(queue.consumerGroup !== undefined && { consumerGroup: queue.consumerGroup }),
        targetPerReplica: queue.targetPerReplica,
        datastore: stackNames(config).redis,
        passwordSecret: REDIS_PASSWORD_SECRET,
      },
    }),
  };
}

/** Pure: one spec per configured worker; `images[i]` is worker i's image (built, pinned or the app's). */
export function workerSpecs(config: PlatformConfig, images: ImageRef[]): WorkloadSpec[] {
  return config.workers.map((worker: WorkerConfig, i) =>
    workload({
      name: worker.name,
      component: "workers",
      role: "stateless",
      description: `Queue worker running ${worker.command ? `"${worker.command.join(" ")}"` : "the image command"}`,
      image: images[i],
      // Without an image or build of its own, a worker runs the app's (built) image.
      ...builtFrom(worker.build ?? (worker.image === undefined ? config.app.build : undefined)),
      command: worker.command,
      ports: worker.metrics ? [{ name: "metrics", port: worker.metrics.port }] : [],
      env: { NODE_ENV: config.environment === "dev" ? "development" : "production", ...worker.env },
      secretEnv: { ...worker.secretEnv },
      // No health config: the process staying up is the check (workers serve no HTTP).
      ...(worker.health ? healthSpecs(worker.health, worker.metrics?.port) : {}),
      resources: resourceSpec(worker.resources),
      sizedBy: `ballast:workers[${i}].resources`,
      replicas: worker.autoscaling.enabled ? worker.autoscaling.minReplicas : worker.replicas,
      autoscaling: worker.autoscaling.enabled ? autoscalingSpec(config, worker, i) : undefined,
      volumes: [{ kind: "scratch", name: "tmp", mountPath: "/tmp", sizeMiB: 512 }],
      metrics: worker.metrics,
      dependsOn: datastoreDependencies(config),
      network: { fromProxy: false, allowFrom: [], egressInternet: true },
      // Workers finish the job in hand before they stop.
      stopGracePeriodSeconds: worker.stopGracePeriodSeconds,
      security: runAs(1000),
    }),
  );
}
