/**
 * NetworkPolicies: deny everything for every pod of the stack, then allow exactly
 * the flows the specs declare (`network.allowFrom`, `fromProxy`, `egressInternet`).
 * Policies are additive, so each workload gets one policy with its own allowances.
 */
import { portsReachableBy, type PortSpec, type WorkloadSpec } from "../../spec";
import {
  defaultIngressControllerNamespace,
  labelKeys,
  namespaceNameLabel,
  namespaceOf,
  namespaceOfName,
  selectorLabelsOf,
  stackNamespaces,
  stackLabels,
  workloadLabels,
  type RenderContext,
} from "./context";
import { holdsScaledQueue, kedaOperatorPeer } from "./keda";
import type { NetworkPolicyObject, NetworkPolicyPeer, NetworkPolicyPort } from "./objects";

export const defaultDenyPolicyName = "default-deny";

/**
 * The internet, without the ranges that reach other pods, nodes and the cloud's
 * metadata service (169.254.169.254): internet egress is not a way into the cluster.
 */
const internetPeers: NetworkPolicyPeer[] = [
  {
    ipBlock: {
      cidr: "0.0.0.0/0",
      except: ["10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"],
    },
  },
  { ipBlock: { cidr: "::/0", except: ["fc00::/7", "fe80::/10"] } },
];

/** Any address, for destinations whose address the cluster decides (API server, host-network pods). */
const anyAddress: NetworkPolicyPeer[] = [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }];

/** The kubelet's HTTPS port on every node (metrics, read with `nodes/metrics`). */
const kubeletPort: NetworkPolicyPort = { protocol: "TCP", port: 10250 };

/** Ports the API server listens on in common distributions (managed clusters: 443; kubeadm, k3s: 6443). */
const apiServerPorts: NetworkPolicyPort[] = [
  { protocol: "TCP", port: 443 },
  { protocol: "TCP", port: 6443 },
];

function policyPorts(ports: PortSpec[]): NetworkPolicyPort[] {
  return ports.map((port) => ({ protocol: port.protocol ?? "TCP", port: port.port }));
}

/**
 * Pods of a workload of this stack, by name (it need not be in the model: the selector then matches
 * nothing), as a peer of a policy in namespace `from`: a pod selector alone selects only that
 * namespace, so a peer in the stack's other namespace also names its namespace.
 */
function podsOf(ctx: RenderContext, name: string, from: string): NetworkPolicyPeer {
  const namespace = namespaceOfName(ctx, name);
  return {
    ...(namespace !== from && { namespaceSelector: { matchLabels: { [namespaceNameLabel]: namespace } } }),
    podSelector: { matchLabels: selectorLabelsOf(ctx.model, name) },
  };
}

/** Who the proxy is: our Traefik's pods, or the namespace of the cluster's own ingress controller. */
function proxyPeers(ctx: RenderContext, from: string): NetworkPolicyPeer[] {
  if (ctx.proxies.length > 0) return ctx.proxies.map((proxy) => podsOf(ctx, proxy.name, from));
  const namespace = ctx.config.ingressControllerNamespace ?? defaultIngressControllerNamespace;
  return [{ namespaceSelector: { matchLabels: { [namespaceNameLabel]: namespace } } }];
}

/** The ports the proxy forwards to: the route's port when there is a route, else all of them. */
function proxiedPorts(workload: WorkloadSpec): PortSpec[] {
  const route = workload.route;
  if (!route) return workload.ports;
  return workload.ports.filter((port) => port.port === route.port);
}

/** One default-deny per namespace of the stack; the agents' carries its own name (object names are unique across the stack). */
export function defaultDenyPolicies(ctx: RenderContext): NetworkPolicyObject[] {
  return stackNamespaces(ctx).map((namespace) =>
    defaultDenyPolicy(ctx, namespace, namespace === ctx.namespace ? defaultDenyPolicyName : `${defaultDenyPolicyName}-agents`),
  );
}

function defaultDenyPolicy(ctx: RenderContext, namespace: string, name: string): NetworkPolicyObject {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name, namespace, labels: stackLabels(ctx.model) },
    spec: {
      podSelector: { matchLabels: { [labelKeys.partOf]: ctx.model.project } },
      policyTypes: ["Ingress", "Egress"],
      // No ingress rule: nothing may connect. The one egress rule every pod needs: DNS.
      egress: [
        {
          to: [{ namespaceSelector: { matchLabels: { [namespaceNameLabel]: "kube-system" } } }],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ],
    },
  };
}

type IngressRule = NonNullable<NonNullable<NetworkPolicyObject["spec"]>["ingress"]>[number];
type EgressRule = NonNullable<NonNullable<NetworkPolicyObject["spec"]>["egress"]>[number];

function ingressRules(ctx: RenderContext, workload: WorkloadSpec): IngressRule[] {
  if (workload.ports.length === 0) return [];
  const home = namespaceOf(ctx, workload);
  const rules: IngressRule[] = [];
  if (ctx.proxies.includes(workload)) {
    // The edge: anyone may connect to the published ports.
    rules.push({ ports: policyPorts(workload.ports.filter((port) => port.publish !== undefined)) });
  }
  // One rule per set of reachable ports: peers limited by `portsOnlyFrom` get only their ports.
  const peersByPorts = new Map<string, { peers: string[]; ports: PortSpec[] }>();
  for (const peer of workload.network.allowFrom) {
    const ports = portsReachableBy(workload, peer);
    if (ports.length === 0) continue;
    const key = ports.map((port) => port.name).join(",");
    const group = peersByPorts.get(key) ?? { peers: [], ports };
    group.peers.push(peer);
    peersByPorts.set(key, group);
  }
  for (const { peers, ports } of peersByPorts.values()) {
    rules.push({ from: peers.map((name) => podsOf(ctx, name, home)), ports: policyPorts(ports) });
  }
  if (workload.network.fromProxy) {
    rules.push({ from: proxyPeers(ctx, home), ports: policyPorts(proxiedPorts(workload)) });
  }
  // KEDA's operator, in its own namespace, reads the queue lengths of queue-scaled workers.
  if (holdsScaledQueue(ctx, workload)) rules.push({ from: [kedaOperatorPeer(ctx)], ports: policyPorts(workload.ports) });
  return rules;
}

/** A connection to another workload of the stack; host-network pods have node addresses no selector matches. */
function egressTo(ctx: RenderContext, source: WorkloadSpec, target: WorkloadSpec, ports: PortSpec[]): EgressRule {
  return {
    to: target.security.hostNetwork ? anyAddress : [podsOf(ctx, target.name, namespaceOf(ctx, source))],
    ports: policyPorts(ports),
  };
}

/**
 * The stack's own code (the app, workers, cron jobs, extra services) reaches public addresses only on
 * `kubernetes.internetEgressPorts` (default 443): a compromised process cannot open a shell back over
 * any port or relay mail. The platform's parts with internet egress (Traefik's ACME client,
 * Alertmanager's receivers, the backups' off-site upload, an exporter of an external Postgres) keep
 * every port: their destinations are the stack's own configuration.
 */
const portLimitedComponents = new Set(["app", "workers", "cron", "services"]);

function internetEgress(ctx: RenderContext, workload: WorkloadSpec): EgressRule {
  if (!portLimitedComponents.has(workload.component)) return { to: internetPeers };
  return { to: internetPeers, ports: ctx.config.internetEgressPorts.map((port) => ({ protocol: "TCP", port })) };
}

function egressRules(ctx: RenderContext, workload: WorkloadSpec): EgressRule[] {
  const rules: EgressRule[] = [];
  for (const target of ctx.workloads) {
    if (target === workload || target.ports.length === 0) continue;
    const reachable = portsReachableBy(target, workload.name);
    if (reachable.length > 0) rules.push(egressTo(ctx, workload, target, reachable));
    if (ctx.proxies.includes(workload) && target.network.fromProxy) {
      rules.push(egressTo(ctx, workload, target, proxiedPorts(target)));
    }
  }
  if (workload.security.kubernetesApi) rules.push({ to: anyAddress, ports: apiServerPorts });
  if (workload.security.kubernetesApi?.kubeletPort) rules.push({ to: anyAddress, ports: [kubeletPort] });
  if (workload.network.egressInternet) rules.push(internetEgress(ctx, workload));
  return rules;
}

/** The allowances of one workload; none when it may neither be reached nor reach anything. */
export function workloadPolicy(ctx: RenderContext, workload: WorkloadSpec): NetworkPolicyObject[] {
  const ingress = ingressRules(ctx, workload);
  const egress = egressRules(ctx, workload);
  if (ingress.length === 0 && egress.length === 0) return [];
  return [
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: workload.name, namespace: namespaceOf(ctx, workload), labels: workloadLabels(ctx.model, workload) },
      spec: {
        podSelector: { matchLabels: selectorLabelsOf(ctx.model, workload.name) },
        policyTypes: [...(ingress.length > 0 ? ["Ingress" as const] : []), ...(egress.length > 0 ? ["Egress" as const] : [])],
        ...(ingress.length > 0 && { ingress }),
        ...(egress.length > 0 && { egress }),
      },
    },
  ];
}
