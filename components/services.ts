/**
 * Extra services of a stack (the nyxcore runbook's ollama, ipcha, ckb): an image, a
 * port, optional storage and an optional public route; internal by default.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ExtraServiceConfig, PlatformConfig } from "./config";
import { resourceSpec } from "./resources";
import { hardenedSecurity, healthCheck, workload, type WorkloadSpec } from "./spec";

/** Pure: one spec per extra service. */
export function extraServiceSpecs(config: PlatformConfig): WorkloadSpec[] {
  const callers = ["app", ...config.workers.map((w) => w.name)];
  return config.services.map((service: ExtraServiceConfig) =>
    workload({
      name: service.name,
      component: "services",
      role: service.storage ? "stateful" : "stateless",
      description: `Extra service ${service.name} (${service.image})`,
      image: service.image,
      command: service.command,
      ports: [{ name: "http", port: service.port }],
      env: service.env,
      secretEnv: service.secretEnv,
      health: service.healthPath
        ? healthCheck({ http: { path: service.healthPath, port: service.port } }, { startPeriodSeconds: 60 })
        : healthCheck({ tcp: { port: service.port } }),
      resources: resourceSpec(service.resources),
      volumes: service.storage
        ? [{ kind: "persistent", name: `${service.name}-data`, mountPath: service.storage.mountPath, sizeGiB: service.storage.sizeGiB }]
        : [],
      route: service.route
        ? {
            host: service.route.subdomain ? `${service.route.subdomain}.${config.domain}` : config.domain,
            pathPrefix: service.route.pathPrefix,
            port: service.port,
            tls: config.tls,
          }
        : undefined,
      network: { fromProxy: Boolean(service.route), allowFrom: [...new Set([...callers, ...service.allowFrom])], egressInternet: true },
      // Third-party images: their own user and writable filesystem.
      security: { ...hardenedSecurity, readOnlyRootFilesystem: false },
    }),
  );
}

export class ExtraServices extends pulumi.ComponentResource {
  readonly specs: WorkloadSpec[];

  constructor(name: string, args: { config: PlatformConfig }, opts?: pulumi.ComponentResourceOptions) {
    super("ballast:services:ExtraServices", name, {}, opts);
    this.specs = extraServiceSpecs(args.config);
    this.registerOutputs({ services: this.specs.map((s) => s.name) });
  }
}
