/**
 * App: the web/API service. Public through the proxy, scraped by Prometheus,
 * autoscaled on Kubernetes, health-gated on both targets.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { AppConfig, PlatformConfig } from "./config";
import { resourceSpec } from "./resources";
import { healthCheck, runAs, workload, type ImageRef, type WorkloadSpec } from "./spec";

/** Secrets every app of the runbooks reads; a stack may remap or extend them in `ballast:app.secretEnv`. */
export const defaultAppSecretEnv: Record<string, string> = {
  DATABASE_URL: "database-url",
  REDIS_URL: "redis-url",
  AUTH_SECRET: "auth-secret",
  ENCRYPTION_KEY: "encryption-key",
};

/** Host name of the app route (`app.example.com`, or the apex when the sub-domain is empty). */
export function appHost(config: Pick<PlatformConfig, "domain" | "app">): string {
  return config.app.subdomain ? `${config.app.subdomain}.${config.domain}` : config.domain;
}

/** Pure: the app's workload spec. */
export function appSpec(config: PlatformConfig, image: ImageRef): WorkloadSpec {
  const app: AppConfig = config.app;
  return workload({
    name: "app",
    component: "app",
    role: "stateless",
    description: "Web/API application",
    image,
    command: app.command,
    ports: [{ name: "http", port: app.port }],
    env: { NODE_ENV: config.environment === "dev" ? "development" : "production", PORT: String(app.port), ...app.env },
    secretEnv: { ...defaultAppSecretEnv, ...app.secretEnv },
    health: healthCheck({ http: { path: app.healthPath, port: app.port } }, { startPeriodSeconds: 60 }),
    resources: resourceSpec(app.resources),
    replicas: app.autoscaling.enabled ? app.autoscaling.minReplicas : app.replicas,
    autoscaling: app.autoscaling.enabled
      ? { minReplicas: app.autoscaling.minReplicas, maxReplicas: app.autoscaling.maxReplicas, cpuTargetPercent: app.autoscaling.cpuTargetPercent }
      : undefined,
    // Read-only root with a writable /tmp: Node/Next.js caches go there.
    volumes: [{ kind: "scratch", name: "tmp", mountPath: "/tmp", sizeMiB: 512 }],
    route: { host: appHost(config), pathPrefix: "/", port: app.port, tls: config.tls },
    metrics: { port: app.port, path: app.metricsPath },
    dependsOn: ["postgres", "redis"],
    network: { fromProxy: true, allowFrom: [], egressInternet: true },
    security: runAs(1000),
  });
}

export interface AppArgs {
  /** Validated stack config; `config.app` describes the service. */
  config: PlatformConfig;
}

/** Builds the image when `ballast:app.build` is set, and exposes the app's spec and URL. */
export class App extends pulumi.ComponentResource {
  readonly spec: WorkloadSpec;
  /** The image actually deployed (a built image's repo digest, or the pinned tag). */
  readonly image: pulumi.Output<string>;
  readonly url: string;

  constructor(name: string, args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ballast:app:App", name, {}, opts);
    const { config } = args;
    const build = config.app.build;
    if (build) {
      // Built locally and loaded into the engine that runs the stack; no registry push (the runbooks build on the host).
      const built = new docker.Image(
        `${name}-image`,
        {
          imageName: `${build.name}:${config.stack}`,
          build: { context: build.context, dockerfile: `${build.context}/${build.dockerfile}`, platform: "linux/amd64" },
          skipPush: true,
        },
        { parent: this },
      );
      this.image = built.imageName;
    } else {
      this.image = pulumi.output(config.app.image);
    }
    this.spec = appSpec(config, build ? this.image : config.app.image);
    this.url = `${config.tls ? "https" : "http"}://${appHost(config)}`;
    this.registerOutputs({ url: this.url, image: this.image });
  }
}
