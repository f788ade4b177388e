/**
 * Proxy: Traefik v3 (pinned; the nyxcore runbook's `traefik:latest` is what the policy
 * pack refuses). HTTP->HTTPS redirect, Let's Encrypt with persistent ACME storage, JSON
 * access log, ping and Prometheus metrics on internal entrypoints, security headers
 * (HSTS) for every public route, and the API/dashboard never enabled.
 */
import { allowListMiddlewares, routeAllowLists } from "./access";
import { resolve } from "node:path";
import { stringify } from "yaml";
import type { PlatformConfig } from "./config";
import { resourceSpec } from "./resources";
import { healthCheck, workload, type WorkloadSpec } from "./spec";

/** Entry point ports inside the container: unprivileged, so Traefik needs no NET_BIND_SERVICE. */
export const proxyPorts = { web: 8000, websecure: 8443, metrics: 8082, ping: 8081, admin: 8099 } as const;

/** Where the CA of a private ACME directory (ballast:proxy.acmeCaCertificate) is mounted. */
export const ACME_CA_FILE = "/etc/traefik/acme-ca.pem";

/** Traefik's ACME store (acme.json: the ACME account key and the certificates); the Compose backup archives it. */
export const ACME_VOLUME = { name: "traefik-acme", sizeGiB: 1 } as const;

/**
 * Traefik's user on both targets (the distroless "nonroot" uid). Its entry points listen on
 * ports above 1024 (proxyPorts), so it needs no capability at all. On Compose the ACME volume
 * is given to it before it starts (components/volume-owners.ts); Kubernetes uses fsGroup.
 */
export const PROXY_UID = 65532;

/**
 * Where Traefik's file provider reads its routes. Compose: the directory deploy.sh writes on the
 * host, mounted read-only. Kubernetes: the middlewares file and the routes file the Kubernetes
 * target renders (components/targets/kubernetes/routing.ts), both from Traefik's ConfigMap.
 */
export const ROUTING_MOUNT = "/etc/traefik/dynamic";

interface TraefikEntryPoint {
  address: string;
  http?: { redirections?: { entryPoint: { to: string; scheme: string; permanent: boolean } } };
}

/** The subset of Traefik's static configuration Ballast writes; typed so a misspelled key cannot be rendered. */
interface TraefikStaticConfig {
  global: { checkNewVersion: boolean; sendAnonymousUsage: boolean };
  providersThrottleDuration?: string;
  log: { level: string; format: "json" };
  accessLog: { format: "json"; fields: { headers: { defaultMode: "drop" } } };
  api: { dashboard: boolean; insecure: boolean };
  ping: { entryPoint: string };
  metrics: { prometheus: { entryPoint: string; addRoutersLabels: boolean; addServicesLabels: boolean } };
  entryPoints: Record<string, TraefikEntryPoint>;
  providers: {
    file: { directory: string; watch: boolean };
  };
  certificatesResolvers?: Record<
    string,
    { acme: { email: string; storage: string; caServer?: string; httpChallenge: { entryPoint: string } } }
  >;
}

/**
 * The HTTPS port clients reach: `proxy.httpsPort` (Compose publishes it; a Kubernetes LoadBalancer
 * or ClusterIP Service listens on it), or on Kubernetes the fixed node port of a NodePort Service.
 */
export function publicHttpsPort(config: PlatformConfig): number {
  const { publicService, nodePorts } = config.kubernetes;
  if (config.target === "kubernetes" && publicService === "NodePort" && nodePorts.https > 0) return nodePorts.https;
  return config.proxy.httpsPort;
}

/** Pure: traefik.yml for the chosen target. */
export function traefikStaticConfig(config: PlatformConfig): string {
  const web: TraefikEntryPoint = { address: `:${proxyPorts.web}` };
  // To the public HTTPS port: an entrypoint name would send browsers to the container's own port (8443).
  if (config.tls) web.http = { redirections: { entryPoint: { to: `:${publicHttpsPort(config)}`, scheme: "https", permanent: true } } };
  const compose = config.target === "compose";
  const staticConfig: TraefikStaticConfig = {
    global: { checkNewVersion: false, sendAnonymousUsage: false },
    // A release's routing switch is applied within a second.
    ...(compose ? { providersThrottleDuration: "1s" } : {}),
    log: { level: "INFO", format: "json" },
    // Headers dropped: Authorization and cookies must never reach the log pipeline.
    accessLog: { format: "json", fields: { headers: { defaultMode: "drop" } } },
    // Compose: the API answers on the `traefik` entrypoint, published on the host's loopback only,
    // so deploy.sh can confirm which containers a service routes to. Never a dashboard.
    api: { dashboard: false, insecure: compose },
    ping: { entryPoint: "ping" },
    metrics: { prometheus: { entryPoint: "metrics", addRoutersLabels: true, addServicesLabels: true } },
    entryPoints: {
      web,
      websecure: { address: `:${proxyPorts.websecure}` },
      metrics: { address: `:${proxyPorts.metrics}` },
      ping: { address: `:${proxyPorts.ping}` },
      ...(compose ? { traefik: { address: `:${proxyPorts.admin}` } } : {}),
    },
    // Routes come from files on both targets: Compose's are written by deploy.sh (no Docker socket on
    // the edge), Kubernetes' are rendered into Traefik's ConfigMap (no Kubernetes API access, so no
    // token that could read the namespace's Secrets).
    providers: { file: { directory: ROUTING_MOUNT, watch: true } },
  };
  if (config.tls) {
    staticConfig.certificatesResolvers = {
      letsencrypt: {
        acme: {
          email: config.acmeEmail,
          storage: "/acme/acme.json",
          ...(config.proxy.acmeStaging ? { caServer: "https://acme-staging-v02.api.letsencrypt.org/directory" } : {}),
          ...(config.proxy.acmeDirectory !== "" ? { caServer: config.proxy.acmeDirectory } : {}),
          httpChallenge: { entryPoint: "web" },
        },
      },
    };
  }
  return stringify(staticConfig);
}

/**
 * Pure: dynamic config with the `security-headers` middleware every TLS route uses
 * (`security-headers@file`) and the routes' allow-lists (`allow-<workload>@file`).
 */
export function traefikDynamicConfig(allowLists: Record<string, string[]> = {}): string {
  return stringify({
    http: {
      middlewares: {
        ...allowListMiddlewares(allowLists),
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

/** Compose: the host directory holding Traefik's routes. */
export function routingDir(config: PlatformConfig): string {
  // A relative local directory is taken from where Pulumi runs, as the Compose target takes it.
  const base = config.compose.mode === "ssh" ? (config.compose.ssh?.remoteDir ?? "/opt/ballast") : resolve(config.compose.localDir);
  return `${base.replace(/\/+$/, "")}/routing`;
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
      ...(onKubernetes ? [] : [{ name: "admin", port: proxyPorts.admin, publish: config.proxy.adminPort, publishAddress: "127.0.0.1" }]),
    ],
    health: healthCheck({
      exec: ["traefik", "healthcheck", "--ping", "--ping.entryPoint=ping", `--entryPoints.ping.address=:${proxyPorts.ping}`],
    }),
    resources: resourceSpec(config.proxy.resources),
    volumes: [
      {
        kind: "persistent",
        name: ACME_VOLUME.name,
        mountPath: "/acme",
        sizeGiB: ACME_VOLUME.sizeGiB,
        // Compose: Docker creates the volume root-owned; it (and an acme.json a root Traefik wrote) becomes Traefik's.
        ...(onKubernetes ? {} : { owner: { uid: PROXY_UID, gid: PROXY_UID } }),
      },
      // Compose: the routes deploy.sh writes (<base>/routing), read-only.
      ...(onKubernetes
        ? []
        : [{ kind: "host" as const, name: "routing", hostPath: routingDir(config), mountPath: ROUTING_MOUNT, readOnly: true }]),
    ],
    // lego (Traefik's ACME client) trusts this CA for the ACME directory's HTTPS.
    env: config.proxy.acmeCaCertificate !== "" ? { LEGO_CA_CERTIFICATES: ACME_CA_FILE } : {},
    extraHosts: onKubernetes ? undefined : config.proxy.extraHosts,
    configFiles: [
      { name: "traefik.yml", mountPath: "/etc/traefik/traefik.yml", content: traefikStaticConfig(config) },
      ...(config.proxy.acmeCaCertificate !== ""
        ? [{ name: "acme-ca.pem", mountPath: ACME_CA_FILE, content: config.proxy.acmeCaCertificate }]
        : []),
      // Kubernetes: the middlewares its routes name (on Compose they come with the routes); the
      // Kubernetes target adds the routes file next to it.
      ...(onKubernetes
        ? [{ name: "dynamic.yml", mountPath: `${ROUTING_MOUNT}/dynamic.yml`, content: traefikDynamicConfig(routeAllowLists(config)) }]
        : []),
    ],
    metrics: { port: proxyPorts.metrics, path: "/metrics" },
    network: { fromProxy: false, allowFrom: [], egressInternet: true },
    security: {
      // Non-root on both targets, every capability dropped, no Docker socket.
      runAsRoot: false,
      runAsUser: PROXY_UID,
      runAsGroup: PROXY_UID,
      fsGroup: PROXY_UID,
      readOnlyRootFilesystem: true,
      addCapabilities: [],
      privileged: false,
      hostPid: false,
      hostNetwork: false,
      // No Kubernetes API access on either target: routes come from files (finding 4 of docs/security.md).
      kubernetesApi: undefined,
    },
  });
}

/** Pure: Traefik, or none when Kubernetes uses an existing ingress controller (`ballast:kubernetes.deployTraefik`). */
export function proxyWorkloads(config: PlatformConfig): WorkloadSpec[] {
  return config.target === "compose" || config.kubernetes.deployTraefik ? [proxySpec(config)] : [];
}
