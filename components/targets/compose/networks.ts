/**
 * Which Compose networks each service joins.
 *
 * Two networks: `edge`, a normal bridge (internet egress, the proxy's side), and
 * `internal`, a bridge with `internal: true` (no route out). The base rule puts the
 * proxy on `edge` only, every other workload on `internal`, and adds `edge` for
 * workloads reached by the proxy (`fromProxy`) or needing the internet. Datastores
 * (stateful, neither of those) get `internal` only.
 *
 * The base rule alone can leave an allowed flow without a shared network (Prometheus
 * scraping the proxy's metrics port: the proxy is edge-only), so `joinNetworksForFlows`
 * then adds, for every flow, a network of the destination to the source. Only a
 * workload the spec names as a client moves: Prometheus (stateful, but it initiates
 * scrapes) joins `edge`; Postgres and Redis, which nothing lists as a client of an
 * edge-only workload, stay on `internal`.
 */
import type { WorkloadSpec } from "../../spec";

export type NetworkName = "edge" | "internal";

/** A connection the stack needs: `from` opens connections to `to`. */
export interface Flow {
  from: string;
  to: string;
}

/** The proxy is the component every route goes through; only it publishes ports. */
export function isProxy(workload: WorkloadSpec): boolean {
  return workload.component === "proxy";
}

/** Holds persistent data and needs neither the internet nor the proxy: starts on `internal` only and never publishes. */
export function isDatastore(workload: WorkloadSpec): boolean {
  return workload.role === "stateful" && !workload.network.egressInternet && !workload.network.fromProxy;
}

export function baseNetworks(workload: WorkloadSpec): Set<NetworkName> {
  if (isProxy(workload)) return new Set(["edge"]);
  const networks = new Set<NetworkName>(["internal"]);
  if (workload.network.fromProxy || workload.network.egressInternet) networks.add("edge");
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
 * Adds networks until every flow's ends share one. The source joins the destination's
 * network (it is the one opening connections, so it is the one to move); `internal`
 * is preferred when the destination has both, as it grants no internet.
 */
export function joinNetworksForFlows(
  base: ReadonlyMap<string, ReadonlySet<NetworkName>>,
  flows: Flow[],
): Map<string, Set<NetworkName>> {
  const result = new Map<string, Set<NetworkName>>();
  for (const [name, networks] of base) result.set(name, new Set(networks));
  for (const flow of flows) {
    const from = result.get(flow.from);
    const to = result.get(flow.to);
    if (!from || !to) throw new Error(`network flow ${flow.from} -> ${flow.to} names a workload that is not in the stack`);
    if (to.size === 0) throw new Error(`network flow ${flow.from} -> ${flow.to}: ${flow.to} is on no network`);
    if ([...from].some((network) => to.has(network))) continue;
    from.add(to.has("internal") ? "internal" : "edge");
  }
  return result;
}

/** Networks per workload name, in stable order (`edge` before `internal`). Host-network workloads get none. */
export function assignNetworks(workloads: WorkloadSpec[]): Map<string, NetworkName[]> {
  const attached = workloads.filter((w) => !w.security.hostNetwork);
  const base = new Map(attached.map((w) => [w.name, baseNetworks(w)] as const));
  const attachedNames = new Set(attached.map((w) => w.name));
  // A host-network workload shares the host's stack: it reaches and is reached by published ports only.
  const flows = declaredFlows(workloads).filter((f) => attachedNames.has(f.from) && attachedNames.has(f.to));
  const joined = joinNetworksForFlows(base, flows);
  const ordered = new Map<string, NetworkName[]>();
  for (const workload of attached) {
    const networks = joined.get(workload.name) ?? new Set<NetworkName>();
    ordered.set(workload.name, (["edge", "internal"] as const).filter((n) => networks.has(n)));
  }
  return ordered;
}
