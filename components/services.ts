/**
 * Extra services of a stack (nyxcore's ollama, ipcha and ckb; NexusCore's LLM gateway):
 * first-class workloads with a pinned or built image, replicas and autoscaling, health and
 * metrics, tracing, optional persistent storage and an optional public route; internal by
 * default. Running as root is an explicit, labelled opt-in for upstream images that need it.
 */
import { builtFrom } from "./build";
import type { ExtraServiceConfig, PlatformConfig } from "./config";
import { healthSpecs } from "./health";
import { resourceSpec } from "./resources";
import { hardenedSecurity, workload, type ImageRef, type WorkloadSpec } from "./spec";

/** Label the policy pack reads: this workload runs as root because its stack said so. */
export const RUNS_AS_ROOT_LABEL = "ballast.dev/runs-as-root";
/** Label the policy pack reads: this workload's root filesystem is writable because its stack said so. */
export const WRITABLE_ROOT_LABEL = "ballast.dev/writable-root";

/** Pure: one spec per extra service; `images[i]` is service i's image (pinned or built). */
export function extraServiceSpecs(config: PlatformConfig, images: ImageRef[]): WorkloadSpec[] {
  const callers = [config.app.name, ...config.workers.map((w) => w.name)];
  return config.services.map((service: ExtraServiceConfig, i) => {
    const metrics = service.metrics ? { port: service.metrics.port ?? service.port, path: service.metrics.path } : undefined;
    return workload({
      name: service.name,
      component: "services",
      role: service.storage ? "stateful" : "stateless",
      description: `Extra service ${service.name} (${service.build ? `built from ${service.build.context}/${service.build.dockerfile}` : service.image})`,
      image: images[i],
      ...builtFrom(service.build),
      command: service.command,
      args: service.args,
      ports: [
        { name: "http", port: service.port },
        ...(metrics && metrics.port !== service.port ? [{ name: "metrics", port: metrics.port }] : []),
      ],
      env: service.env,
      secretEnv: service.secretEnv,
      ...healthSpecs(service.health, service.port),
      resources: resourceSpec(service.resources),
      sizedBy: `ballast:services[${i}].resources`,
      replicas: service.storage ? 1 : service.autoscaling.enabled ? service.autoscaling.minReplicas : service.replicas,
      autoscaling:
        !service.storage && service.autoscaling.enabled
          ? {
              minReplicas: service.autoscaling.minReplicas,
              maxReplicas: service.autoscaling.maxReplicas,
              cpuTargetPercent: service.autoscaling.cpuTargetPercent,
            }
          : undefined,
      volumes: [
        ...(service.storage
          ? [
              {
                kind: "persistent" as const,
                name: `${service.name}-data`,
                mountPath: service.storage.mountPath,
                sizeGiB: service.storage.sizeGiB,
              },
            ]
          : []),
        ...(service.readOnlyRootFilesystem ? [{ kind: "scratch" as const, name: "tmp", mountPath: "/tmp", sizeMiB: 256 }] : []),
      ],
      route: service.route
        ? {
            host: service.route.subdomain ? `${service.route.subdomain}.${config.domain}` : config.domain,
            pathPrefix: service.route.pathPrefix,
            port: service.port,
            tls: config.tls,
          }
        : undefined,
      metrics,
      network: { fromProxy: Boolean(service.route), allowFrom: [...new Set([...callers, ...service.allowFrom])], egressInternet: true },
      labels: {
        ...(service.runAsRoot ? { [RUNS_AS_ROOT_LABEL]: "true" } : {}),
        ...(service.readOnlyRootFilesystem ? {} : { [WRITABLE_ROOT_LABEL]: "true" }),
      },
      stopGracePeriodSeconds: service.stopGracePeriodSeconds,
      security: {
        ...hardenedSecurity,
        readOnlyRootFilesystem: service.readOnlyRootFilesystem,
        runAsRoot: service.runAsRoot,
        ...(service.runAsUser !== undefined
          ? { runAsUser: service.runAsUser, runAsGroup: service.runAsUser, fsGroup: service.runAsUser }
          : {}),
      },
    });
  });
}
