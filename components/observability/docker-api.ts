/**
 * Compose: the read-only Docker API proxy (wollomatic/socket-proxy, Go, from scratch) that
 * cAdvisor and Alloy read container metadata through. It is the only service that mounts
 * the Docker socket; they reach it over `docker-api`, an internal network only the three
 * of them join (components/targets/compose/networks.ts), and it answers only them
 * (`-allowfrom`, resolved by name on that network).
 *
 * The allow-list is the requests the two clients make, nothing more (anchored with ^...$ by
 * the proxy, matched against the path without its query):
 * - HEAD/GET `/_ping`: the Docker client's API version negotiation (both).
 * - GET `/version`, `/info`: cAdvisor checks the engine and reads its storage driver and root.
 * - GET `/containers/<id>/json`: inspect (cAdvisor per container; Alloy's TTY check).
 * - GET `/containers/json`, `/networks`: Alloy's `discovery.docker` (list, network labels).
 * - GET `/containers/<id>/logs`: Alloy's `loki.source.docker` (the log stream).
 * Everything else is refused (403/405): no POST/PUT/DELETE (no exec, start, create), no
 * `/containers/<id>/archive` or `/export` (other containers' files and secrets), no images,
 * volumes, secrets, stats or events (neither client uses them).
 */
import { resourceSpec } from "../resources";
import { healthCheck, workload, type WorkloadSpec } from "../spec";
import type { MonitoringConfig } from "../config";
import { monitoringNames, monitoringPorts } from "./context";
import type { EnabledParts } from "./parts";

/** An optional API version prefix (`/v1.47`), as the Docker client sends it. */
const versioned = "/(v1\\.[0-9]+/)?";
/** A full container ID: both clients use IDs (from cgroups, from the container list), never names. */
const containerId = "[0-9a-f]{64}";

/** Regular expressions per HTTP method (Go RE2 syntax; the proxy anchors them). */
export const dockerApiAllowList = {
  GET: `${versioned}(_ping|version|info|networks|containers/json|containers/${containerId}/(json|logs))`,
  HEAD: `${versioned}_ping`,
} as const;

/** The endpoint cAdvisor (`--docker`) and Alloy (`host`) use instead of the socket. */
export function dockerApiEndpoint(): string {
  return `tcp://${monitoringNames.dockerSocketProxy}:${monitoringPorts.dockerSocketProxy}`;
}

/** The clients of the proxy: the monitoring parts that read container metadata. */
export function dockerApiClients(parts: EnabledParts): string[] {
  return [...(parts.alloy ? [monitoringNames.alloy] : []), ...(parts.cadvisor ? [monitoringNames.cadvisor] : [])];
}

export function dockerSocketProxyArgs(clients: string[]): string[] {
  return [
    "-loglevel=warn",
    // Inside its container; only the internal docker-api network reaches it.
    "-listenip=0.0.0.0",
    `-proxyport=${monitoringPorts.dockerSocketProxy}`,
    // Names resolve on docker-api: only these containers may connect.
    `-allowfrom=${clients.join(",")}`,
    `-allowGET=${dockerApiAllowList.GET}`,
    `-allowHEAD=${dockerApiAllowList.HEAD}`,
    "-allowhealthcheck",
    // After an engine restart the socket is a new one: stop, and let Compose restart the proxy.
    "-watchdoginterval=60",
    "-stoponwatchdog",
    "-shutdowngracetime=5",
  ];
}

export function dockerSocketProxyWorkload(monitoring: MonitoringConfig, parts: EnabledParts): WorkloadSpec {
  const clients = dockerApiClients(parts);
  return workload({
    name: monitoringNames.dockerSocketProxy,
    component: "observability",
    role: "agent",
    description: `Read-only Docker API for ${clients.join(" and ")}: GET/HEAD of container lists, inspect, logs, version and info only; the only mount of the Docker socket.`,
    image: monitoring.dockerSocketProxy.image,
    args: dockerSocketProxyArgs(clients),
    ports: [{ name: "docker-api", port: monitoringPorts.dockerSocketProxy }],
    resources: resourceSpec(monitoring.dockerSocketProxy.resources),
    volumes: [{ kind: "docker-socket", name: "docker-socket", mountPath: "/var/run/docker.sock", readOnly: true }],
    // The image's own probe: HEAD on its health port, answered only when the socket answers.
    health: healthCheck({ exec: ["/healthcheck"] }, { intervalSeconds: 15, startPeriodSeconds: 10 }),
    network: { fromProxy: false, allowFrom: clients, egressInternet: false },
    pidsLimit: 64,
    // The socket is root:docker 0660 on the host: uid 0 opens it as its owner, with every
    // capability dropped (the docker group's id differs per host).
    security: {
      readOnlyRootFilesystem: true,
      addCapabilities: [],
      runAsRoot: true,
      runAsUser: 0,
      runAsGroup: 0,
      privileged: false,
      hostPid: false,
      hostNetwork: false,
    },
    stopGracePeriodSeconds: 10,
  });
}
