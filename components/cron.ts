/**
 * Cron jobs: scheduled one-off containers (queue cleanup, usage reports). Kubernetes
 * CronJobs on one target, the host scheduler on Compose. A job runs the app's image unless it
 * names its own or builds one (NomosX's Dockerfile.cron).
 */
import { datastoreDependencies } from "./app";
import { builtFrom } from "./build";
import type { PlatformConfig } from "./config";
import { resourceSpec } from "./resources";
import { runAs, workload, type ImageRef, type WorkloadSpec } from "./spec";

/** Pure: one job spec per configured cron job; `images[i]` is job i's image. */
export function cronJobSpecs(config: PlatformConfig, images: ImageRef[]): WorkloadSpec[] {
  return config.cronJobs.map((job, i) =>
    workload({
      name: job.name,
      component: "cron",
      role: "job",
      description: `Scheduled job ${job.name} (${job.schedule} UTC)`,
      image: images[i],
      // Without an image or build of its own, a job runs the app's (built) image.
      ...builtFrom(job.build ?? (job.image === undefined ? config.app.build : undefined)),
      command: job.command,
      env: { NODE_ENV: config.environment === "dev" ? "development" : "production", ...job.env },
      secretEnv: { ...job.secretEnv },
      resources: resourceSpec(job.resources),
      sizedBy: `ballast:cronJobs[${i}].resources`,
      schedule: job.schedule,
      jobTimeoutSeconds: job.timeoutSeconds,
      volumes: [{ kind: "scratch", name: "tmp", mountPath: "/tmp", sizeMiB: 256 }],
      dependsOn: datastoreDependencies(config),
      network: { fromProxy: false, allowFrom: [], egressInternet: true },
      security: runAs(1000),
    }),
  );
}
