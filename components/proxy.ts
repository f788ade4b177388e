/**
 * Proxy: Traefik v3 (pinned; the nyxcore runbook's `traefik:latest` is what the policy
 * pack refuses). HTTP->HTTPS redirect, Let's Encrypt with persistent ACME storage, JSON
 * access log, ping and Prometheus metrics on internal entrypoints, security headers
 * (HSTS) for every public route, and the API/dashboard never enabled.
 */
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import type { PlatformConfig } from "./config";
import { resourceSpec } from "./resources";
import { healthCheck, workload, type WorkloadSpec } from "./spec";

/** Entry point ports inside the container: unprivileged, so Traefik needs no NET_BIND_SERVICE. */
export const proxyPorts = { web: 8000, websecure: 8443, metrics: 8082, ping: 8081 } as const;

interface TraefikEntryPoint {
  address: string;
  http?: { redirections?: { entryPoint: { to: string; scheme: string; permanent: boolean } } };
}

/** The subset of Traefik's static configuration Ballast writes; typed so a misspelled key cannot be rendered. */
interface TraefikStaticConfig {
  global: { checkNewVersion: boolean; sendAnonymousUsage: boolean };
  log: { level: string; format: "json" };
  accessLog: { format: "json"; fields: { headers: { defaultMode: "drop" } } };
  api: { dashboard: boolean; insecure: boolean };
  ping: { entryPoint: string };
  metrics: { prometheus: { entryPoint: string; addRoutersLabels: boolean; addServicesLabels: boolean } };
  entryPoints: Record<string, TraefikEntryPoint>;
  providers: {
    docker?: { exposedByDefault: boolean; network: string; endpoint: string };
    kubernetesIngress?: { ingressClass: string; namespaces: string[] };
    file: { filename: string; watch: boolean };
  };
  certificatesResolvers?: Record<string, { acme: { email: string; storage: string; caServer?: string; httpChallenge: { entryPoint: string } } }>;
}

/** Pure: traefik.yml for the chosen target. */
export function traefikStaticConfig(config: PlatformConfig): string {
  const web: TraefikEntryPoint = { address: `:${proxyPorts.web}` };
  if (config.tls) web.http = { redirections: { entryPoint: { to: "websecure", scheme: "https", permanent: true } } };
  const staticConfig: TraefikStaticConfig = {
    global: { checkNewVersion: false, sendAnonymousUsage: false },
    log: { level: "INFO", format: "json" },
    // Headers dropped: Authorization and cookies must never reach the log pipeline.
    accessLog: { format: "json", fields: { headers: { defaultMode: "drop" } } },
    api: { dashboard: false, insecure: false },
    ping: { entryPoint: "ping" },
    metrics: { prometheus: { entryPoint: "metrics", addRoutersLabels: true, addServicesLabels: true } },
    entryPoints: {
      web,
      websecure: { address: `:${proxyPorts.websecure}` },
      metrics: { address: `:${proxyPorts.metrics}` },
      ping: { address: `:${proxyPorts.ping}` },
    },
    providers:
      config.target === "compose"
        ? {
            docker: { exposedByDefault: false, network: `${config.compose.project}_edge`, endpoint: "unix:///var/run/docker.sock" },
            file: { filename: "/etc/traefik/dynamic.yml", watch: true },
          }
        : {
            kubernetesIngress: { ingressClass: config.kubernetes.ingressClass, namespaces: [config.kubernetes.namespace] },
            file: { filename: "/etc/traefik/dynamic.yml", watch: true },
          },
  };
  if (config.tls) {
    staticConfig.certificatesResolvers = {
      letsencrypt: {
        acme: {
          email: config.acmeEmail,
          storage: "/acme/acme.json",
          ...(config.proxy.acmeStaging ? { caServer: "https://acme-staging-v02.api.letsencrypt.org/directory" } : {}),
          httpChallenge: { entryPoint: "web" },
        },
      },
    };
  }
  return stringify(staticConfig);
}

/** Pure: dynamic config with the `security-headers` middleware every TLS route uses (`security-headers@file`). */
export function traefikDynamicConfig(): string {
  return stringify({
    http: {
      middlewares: {
        "security-headers": {
          headers: {
            stsSeconds: 31536000,
            stsIncludeSubdomains: true,
            stsPreload: true,
            forceSTSHeader: true,
            contentTypeNosniff: true,
            frameDeny: true,
            referrerPolicy: "strict-origin-when-cross-origin",
          },
        },
      },
    },
    tls: { options: { default: { minVersion: "VersionTLS12" } } },
  });
}

/** The published ports' host address from ballast:proxy.bindAddress ("" = every interface: none). */
function publishAddress(config: PlatformConfig): { publishAddress?: string } {
  return config.proxy.bindAddress === "" ? {} : { publishAddress: config.proxy.bindAddress };
}

/** Pure: the Traefik workload spec. */
export function proxySpec(config: PlatformConfig): WorkloadSpec {
  const onKubernetes = config.target === "kubernetes";
  return workload({
    name: "traefik",
    component: "proxy",
    // Stateful: the ACME account and certificates live on a volume; one replica owns it.
    role: "stateful",
    description: `Reverse proxy and TLS termination (${config.proxy.image})`,
    image: config.proxy.image,
    args: ["--configFile=/etc/traefik/traefik.yml"],
    ports: [
      { name: "web", port: proxyPorts.web, publish: config.proxy.httpPort, ...publishAddress(config) },
      { name: "websecure", port: proxyPorts.websecure, publish: config.proxy.httpsPort, ...publishAddress(config) },
      { name: "metrics", port: proxyPorts.metrics },
      { name: "ping", port: proxyPorts.ping },
    ],
    health: healthCheck({ exec: ["traefik", "healthcheck", "--ping", "--ping.entryPoint=ping", `--entryPoints.ping.address=:${proxyPorts.ping}`] }),
    resources: resourceSpec(config.proxy.resources),
    volumes: [
      { kind: "persistent", name: "traefik-acme", mountPath: "/acme", sizeGiB: 1 },
      ...(onKubernetes ? [] : [{ kind: "docker-socket" as const, name: "docker-socket", mountPath: "/var/run/docker.sock", readOnly: true as const }]),
    ],
    configFiles: [
      { name: "traefik.yml", mountPath: "/etc/traefik/traefik.yml", content: traefikStaticConfig(config) },
      { name: "dynamic.yml", mountPath: "/etc/traefik/dynamic.yml", content: traefikDynamicConfig() },
    ],
    metrics: { port: proxyPorts.metrics, path: "/metrics" },
    network: { fromProxy: false, allowFrom: [], egressInternet: true },
    security: {
      // On Compose the Docker socket (root:docker, 0660) is only readable by root; all capabilities still dropped.
      runAsRoot: !onKubernetes,
      runAsUser: onKubernetes ? 65532 : undefined,
      runAsGroup: onKubernetes ? 65532 : undefined,
      fsGroup: onKubernetes ? 65532 : undefined,
      readOnlyRootFilesystem: true,
      addCapabilities: [],
      privileged: false,
      hostPid: false,
      hostNetwork: false,
      kubernetesApi: onKubernetes
        ? {
            clusterRules: [{ apiGroups: ["networking.k8s.io"], resources: ["ingressclasses"], verbs: ["get", "list", "watch"] }],
            namespacedRules: [
              { apiGroups: [""], resources: ["services", "endpoints", "secrets"], verbs: ["get", "list", "watch"] },
              { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
              { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: ["get", "list", "watch"] },
              { apiGroups: ["networking.k8s.io"], resources: ["ingresses/status"], verbs: ["update"] },
            ],
          }
        : undefined,
    },
  });
}

export class Proxy extends pulumi.ComponentResource {
  /** Undefined when Kubernetes uses an existing ingress controller. */
  readonly spec?: WorkloadSpec;

  constructor(name: string, args: { config: PlatformConfig }, opts?: pulumi.ComponentResourceOptions) {
    super("ballast:proxy:Proxy", name, {}, opts);
    const { config } = args;
    const deployed = config.target === "compose" || config.kubernetes.deployTraefik;
    this.spec = deployed ? proxySpec(config) : undefined;
    this.registerOutputs({ deployed, image: config.proxy.image });
  }
}
