/**
 * CronJobs: scheduled one-off containers (queue cleanup, usage reports). Kubernetes
 * CronJobs on one target, the host scheduler service on Compose.
 */
import * as pulumi from "@pulumi/pulumi";
import { defaultAppSecretEnv } from "./app";
import type { PlatformConfig } from "./config";
import { resourceSpec } from "./resources";
import { runAs, workload, type WorkloadSpec } from "./spec";

/** Pure: one job spec per configured cron job. */
export function cronJobSpecs(config: PlatformConfig): WorkloadSpec[] {
  return config.cronJobs.map((job) =>
    workload({
      name: job.name,
      component: "cron",
      role: "job",
      description: `Scheduled job ${job.name} (${job.schedule} UTC)`,
      image: job.image,
      command: job.command,
      env: { NODE_ENV: config.environment === "dev" ? "development" : "production", ...job.env },
      secretEnv: { ...defaultAppSecretEnv, ...job.secretEnv },
      resources: resourceSpec(job.resources),
      schedule: job.schedule,
      jobTimeoutSeconds: job.timeoutSeconds,
      volumes: [{ kind: "scratch", name: "tmp", mountPath: "/tmp", sizeMiB: 256 }],
      dependsOn: ["postgres", "redis"],
      network: { fromProxy: false, allowFrom: [], egressInternet: true },
      security: runAs(1000),
    }),
  );
}

export class CronJobs extends pulumi.ComponentResource {
  readonly specs: WorkloadSpec[];

  constructor(name: string, args: { config: PlatformConfig }, opts?: pulumi.ComponentResourceOptions) {
    super("ballast:cron:CronJobs", name, {}, opts);
    this.specs = cronJobSpecs(args.config);
    this.registerOutputs({ jobs: this.specs.map((s) => `${s.name} (${s.schedule})`) });
  }
}
