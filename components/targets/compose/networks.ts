/**
 * Which Compose networks each service joins.
 *
 * Two networks reach the internet, the others are bridges with `internal: true` (no route out):
 * - `edge`: the proxy (the only publisher) and the routed workloads that also need the internet
 *   (the app, routed services). The internet-facing side: nothing else joins it.
 * - `egress`: workloads that need the internet but are not routed (workers, cron jobs,
 *   Alertmanager with receivers, the offsite copy). The proxy is not on it.
 * - `internal`: every other workload's home (monitoring, exporters, the app's internal side).
 * - `datastores`: Postgres and Redis, and only the workloads that connect to them.
 * - `docker-api`: the read-only Docker socket proxy, and only its clients (cAdvisor, Alloy).
 * - `edge-<name>`: the proxy and ONE workload, internal: a routed workload without internet
 *   (Grafana), or a workload that connects to the proxy (Prometheus scraping its metrics).
 *
 * Base rule: the proxy on `edge`; a datastore on `datastores`; the socket proxy on `docker-api`;
 * every other workload on `internal`, plus `edge` (routed and egress), `egress` (egress, not
 * routed) or `edge-<name>` (routed, no egress). Then `joinNetworksForFlows` makes every allowed
 * flow (spec `allowFrom`) share a network: the source joins the destination's home network
 * (an app joins `datastores` because Postgres lists it), and a flow to the proxy gets its own
 * `edge-<source>`. A workload that no datastore lists as a client never joins `datastores`.
 */
import type { WorkloadSpec } from "../../spec";

/** `edge`, `egress`, `internal`, `datastores`, `docker-api`, or `edge-<workload>`. */
export type NetworkName = string;

/** Networks with a route to the internet; every other one is `internal: true`. */
export const EGRESS_NETWORKS: readonly NetworkName[] = ["edge", "egress"];

/** Order networks are listed in; `edge-<workload>` networks follow, by name. */
const NETWORK_ORDER: readonly NetworkName[] = ["edge", "egress", "internal", "datastores", "docker-api"];

/** Home networks a client joins, most specific first. */
const HOME_PREFERENCE: readonly NetworkName[] = ["datastores", "docker-api", "internal"];

/** A connection the stack needs: `from` opens connections to `to`. */
export interface Flow {
  from: string;
  to: string;
}

/** The proxy is the component every route goes through; only it publishes ports. */
export function isProxy(workload: WorkloadSpec): boolean {
  return workload.component === "proxy" && workload.role !== "job";
}

/** Holds persistent data and needs neither the internet nor the proxy: starts on `internal` only and never publishes. */
export function isDatastore(workload: WorkloadSpec): boolean {
  return workload.role === "stateful" && !workload.network.egressInternet && !workload.network.fromProxy;
}

/** The stack's Postgres or Redis: lives on the `datastores` network with only its clients. */
export function isAppDatastore(workload: WorkloadSpec): boolean {
  return workload.role === "stateful" && (workload.component === "postgres" || workload.component === "redis");
}

/** Mounts the Docker socket: the read-only socket proxy, alone on `docker-api` with its clients. */
export function mountsDockerSocket(workload: WorkloadSpec): boolean {
  return workload.volumes.some((volume) => volume.kind === "docker-socket");
}

/** The internal network between the proxy and one workload. */
export function proxyLinkNetwork(workload: string): NetworkName {
  return `edge-${workload}`;
}

export function baseNetworks(workload: WorkloadSpec): Set<NetworkName> {
  if (isProxy(workload)) return new Set(["edge"]);
  if (isAppDatastore(workload)) return new Set(["datastores"]);
  if (mountsDockerSocket(workload)) return new Set(["docker-api"]);
  // A volume-preparing one-shot opens no connection at all.
  if (workload.runsFirst) return new Set();
  const networks = new Set<NetworkName>(["internal"]);
  const { fromProxy, egressInternet } = workload.network;
  if (fromProxy && egressInternet) networks.add("edge");
  else if (egressInternet) networks.add("egress");
  else if (fromProxy) networks.add(proxyLinkNetwork(workload.name));
  return networks;
}

/**
 * The flows the spec declares: every `network.allowFrom` entry, and proxy -> each
 * `fromProxy` workload. Names in `allowFrom` that are not deployed (an optional
 * component switched off) are skipped: nothing will open that connection.
 */
export function declaredFlows(workloads: WorkloadSpec[]): Flow[] {
  const deployed = new Set(workloads.map((w) => w.name));
  const proxies = workloads.filter(isProxy);
  const flows: Flow[] = [];
  for (const target of workloads) {
    for (const source of target.network.allowFrom) {
      if (deployed.has(source) && source !== target.name) flows.push({ from: source, to: target.name });
    }
    if (target.network.fromProxy) {
      for (const proxy of proxies) {
        if (proxy.name !== target.name) flows.push({ from: proxy.name, to: target.name });
      }
    }
  }
  return flows;
}

/**
 * Adds networks until every flow's ends share one. A flow to or from a proxy-only workload
 * (one whose networks are all `edge`) gets its own `edge-<other end>` network, so reaching the
 * proxy never puts a workload on the internet-facing network; otherwise the source (the one
 * opening connections) joins the destination's home network.
 */
export function joinNetworksForFlows(
  base: ReadonlyMap<string, ReadonlySet<NetworkName>>,
  flows: Flow[],
  proxies: ReadonlySet<string> = new Set(),
): Map<string, Set<NetworkName>> {
  const result = new Map<string, Set<NetworkName>>();
  for (const [name, networks] of base) result.set(name, new Set(networks));
  for (const flow of flows) {
    const from = result.get(flow.from);
    const to = result.get(flow.to);
    if (!from || !to) throw new Error(`network flow ${flow.from} -> ${flow.to} names a workload that is not in the stack`);
    if (to.size === 0) throw new Error(`network flow ${flow.from} -> ${flow.to}: ${flow.to} is on no network`);
    if ([...from].some((network) => to.has(network))) continue;
    if (proxies.has(flow.to) || proxies.has(flow.from)) {
      const link = proxyLinkNetwork(proxies.has(flow.to) ? flow.from : flow.to);
      from.add(link);
      to.add(link);
      continue;
    }
    const home =
      HOME_PREFERENCE.find((network) => to.has(network)) ?? [...to].find((network) => !EGRESS_NETWORKS.includes(network)) ?? [...to][0];
    from.add(home);
  }
  return result;
}

/** Stable order: the fixed networks first, then the `edge-<workload>` links by name. */
export function orderNetworks(networks: Iterable<NetworkName>): NetworkName[] {
  const set = new Set(networks);
  const fixed = NETWORK_ORDER.filter((network) => set.has(network));
  const links = [...set].filter((network) => !NETWORK_ORDER.includes(network)).sort();
  return [...fixed, ...links];
}

/** Networks per workload name, in stable order. Host-network workloads get none. */
export function assignNetworks(workloads: WorkloadSpec[]): Map<string, NetworkName[]> {
  const attached = workloads.filter((w) => !w.security.hostNetwork);
  const base = new Map(attached.map((w) => [w.name, baseNetworks(w)] as const));
  const attachedNames = new Set(attached.map((w) => w.name));
  // A host-network workload shares the host's stack: it reaches and is reached by published ports only.
  const flows = declaredFlows(workloads).filter((f) => attachedNames.has(f.from) && attachedNames.has(f.to));
  const proxies = new Set(attached.filter(isProxy).map((w) => w.name));
  const joined = joinNetworksForFlows(base, flows, proxies);
  const ordered = new Map<string, NetworkName[]>();
  for (const workload of attached) ordered.set(workload.name, orderNetworks(joined.get(workload.name) ?? new Set<NetworkName>()));
  return ordered;
}
