/**
 * WorkerPool: queue workers (NomosX: 5-20 pods at 80 % CPU in prod). No public route;
 * they reach the datastores and the internet (LLM APIs).
 */
import * as pulumi from "@pulumi/pulumi";
import { defaultAppSecretEnv } from "./app";
import type { PlatformConfig, WorkerConfig } from "./config";
import { resourceSpec } from "./resources";
import { healthCheck, runAs, workload, type WorkloadSpec } from "./spec";

/** Pure: one spec per configured worker. */
export function workerSpecs(config: PlatformConfig): WorkloadSpec[] {
  return config.workers.map((worker: WorkerConfig) =>
    workload({
      name: worker.name,
      component: "workers",
      role: "stateless",
      description: `Queue worker running ${worker.command ? `"${worker.command.join(" ")}"` : "the image command"}`,
      image: worker.image,
      command: worker.command,
      ports: worker.metrics ? [{ name: "metrics", port: worker.metrics.port }] : [],
      env: { NODE_ENV: config.environment === "dev" ? "development" : "production", ...worker.env },
      secretEnv: { ...defaultAppSecretEnv, ...worker.secretEnv },
      health: worker.healthCommand ? healthCheck({ exec: worker.healthCommand }) : undefined,
      resources: resourceSpec(worker.resources),
      replicas: worker.autoscaling.enabled ? worker.autoscaling.minReplicas : worker.replicas,
      autoscaling: worker.autoscaling.enabled
        ? { minReplicas: worker.autoscaling.minReplicas, maxReplicas: worker.autoscaling.maxReplicas, cpuTargetPercent: worker.autoscaling.cpuTargetPercent }
        : undefined,
      volumes: [{ kind: "scratch", name: "tmp", mountPath: "/tmp", sizeMiB: 512 }],
      metrics: worker.metrics,
      dependsOn: ["postgres", "redis"],
      network: { fromProxy: false, allowFrom: [], egressInternet: true },
      // Workers finish the job in hand before they stop.
      stopGracePeriodSeconds: 120,
      security: runAs(1000),
    }),
  );
}

export class WorkerPool extends pulumi.ComponentResource {
  readonly specs: WorkloadSpec[];

  constructor(name: string, args: { config: PlatformConfig }, opts?: pulumi.ComponentResourceOptions) {
    super("ballast:workers:WorkerPool", name, {}, opts);
    this.specs = workerSpecs(args.config);
    this.registerOutputs({ workers: this.specs.map((s) => s.name) });
  }
}
