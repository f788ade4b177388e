/**
 * Datastores (Postgres, Redis) are never reachable from outside the stack.
 *
 * The runbooks' Compose files publish nothing for Postgres and Redis for a reason: a
 * published port on a VPS bypasses ufw (Docker writes its own iptables rules) and puts the
 * database on the internet. On Kubernetes the same goes for NodePort/LoadBalancer Services,
 * hostPorts and hostNetwork, and a NetworkPolicy must restrict who may connect at all.
 *
 * - `datastores-private` (resource): Compose services publish no ports, use no host network
 *   and join only internal networks (never `edge`); Kubernetes Services of datastores are
 *   ClusterIP without external IPs, and datastore pods use no hostPort/hostNetwork.
 * - `datastores-network-policy` (stack): a NetworkPolicy selects every datastore pod and
 *   does not admit every source.
 */
import type { PolicyConfigSchema } from "@pulumi/policy";
import { datastoreConfigSchema, datastoreDefaults, isDatastore, type DatastoreConfig } from "./lib/classify";
import { serviceNetworks, servicePorts } from "./lib/compose";
import { componentLabel, k8sTypes, k8sWorkloadOf, objectName, objectNamespace, selectorMatches } from "./lib/kubernetes";
import { resourcePolicy, stackPolicy } from "./lib/policy";
import { asArray, asObject, asString, at, isUnknown, stringMap } from "./lib/values";
import type { ResourceView, StackFinding } from "./lib/view";
import { composeIdentity, k8sIdentity, workloadsOf } from "./lib/workloads";

export interface DatastoresConfig extends DatastoreConfig {
  /** Compose networks that face the proxy or the internet; datastores never join them. */
  publicNetworks: string[];
  /** Every network a datastore joins must be declared `internal: true`. */
  requireInternalNetwork: boolean;
}

export const datastoresDefaults: DatastoresConfig = {
  ...datastoreDefaults,
  publicNetworks: ["edge", "egress"],
  requireInternalNetwork: true,
};

/** A Service belongs to a datastore when its name, labels or selector say so. */
function isDatastoreService(props: ResourceView["props"], name: string, config: DatastoreConfig): boolean {
  const labels = { ...stringMap(at(props, "metadata", "labels")), ...stringMap(at(props, "spec", "selector")) };
  const component = labels[componentLabel];
  if (component !== undefined) return config.datastoreComponents.includes(component);
  const appName = labels["app.kubernetes.io/name"] ?? labels.app;
  return [name, appName].some((n) => n !== undefined && config.datastoreComponents.includes(n));
}

export function checkDatastoresPrivate(resource: ResourceView, config: DatastoresConfig): string[] {
  const messages: string[] = [];
  if (resource.type === k8sTypes.service) {
    const name = objectName(resource.props, resource.name);
    if (!isDatastoreService(resource.props, name, config)) return [];
    const spec = asObject(resource.props.spec) ?? {};
    const type = asString(spec.type) ?? "ClusterIP";
    const where = `Service "${name}" (datastore)`;
    if (type !== "ClusterIP") messages.push(`${where}: type ${type} exposes the datastore outside the cluster; use type ClusterIP`);
    if (asArray(spec.externalIPs).length > 0) messages.push(`${where}: externalIPs expose the datastore outside the cluster; remove them`);
    for (const port of asArray(spec.ports)) {
      const nodePort = at(port, "nodePort");
      if (typeof nodePort === "number") messages.push(`${where}: port ${String(at(port, "port"))} has nodePort ${nodePort}; remove it`);
    }
    return messages;
  }
  const found = workloadsOf(resource);
  if (!found) return [];
  if (found.target === "kubernetes") {
    const { workload } = found;
    if (!isDatastore(k8sIdentity(workload), config)) return [];
    if (workload.podSpec.hostNetwork === true)
      messages.push(`${workload.title} (datastore): hostNetwork puts the datastore on the node's network; remove it`);
    for (const container of workload.containers) {
      for (const port of asArray(container.props.ports)) {
        const hostPort = at(port, "hostPort");
        if (typeof hostPort === "number") {
          messages.push(
            `${workload.title} (datastore) container "${container.name}": hostPort ${hostPort} publishes the datastore on the node; remove it`,
          );
        }
      }
    }
    return messages;
  }
  for (const service of found.services) {
    if (!isDatastore(composeIdentity(service), config)) continue;
    const where = `${service.title} (datastore)`;
    const ports = servicePorts(service);
    if (ports.length > 0) {
      messages.push(
        `${where}: publishes ports ${ports.join(", ")}; a published port bypasses ufw and reaches the internet. Remove "ports:" (other services reach it over the internal network)`,
      );
    }
    const mode = service.props.network_mode;
    if (typeof mode === "string") messages.push(`${where}: network_mode "${mode}"; datastores join only the internal network`);
    for (const network of serviceNetworks(service)) {
      if (config.publicNetworks.includes(network)) {
        messages.push(`${where}: joins the public network "${network}"; datastores join only the internal network`);
      } else if (config.requireInternalNetwork) {
        const declared = found.project.networks[network];
        if (!declared || declared.internal !== true) {
          messages.push(`${where}: network "${network}" is not declared "internal: true"; put datastores on an internal network only`);
        }
      }
    }
  }
  return messages;
}

const datastoresConfigSchema: PolicyConfigSchema = {
  properties: {
    ...datastoreConfigSchema,
    publicNetworks: { type: "array", items: { type: "string" }, description: "Compose networks datastores must never join." },
    requireInternalNetwork: { type: "boolean", description: "Compose datastores may join only networks declared internal: true." },
  },
};

export const datastoresPrivate = resourcePolicy<DatastoresConfig>({
  name: "datastores-private",
  description:
    "Datastores (Postgres, Redis) are never reachable from outside: no published Compose ports, only internal networks; ClusterIP Services without nodePorts/externalIPs and no hostPort/hostNetwork on Kubernetes.",
  enforcementLevel: "mandatory",
  defaults: datastoresDefaults,
  configSchema: datastoresConfigSchema,
  check: checkDatastoresPrivate,
});

/** Does a NetworkPolicy restrict ingress (not `ingress: [{}]`, not from 0.0.0.0/0)? */
function admitsEverySource(networkPolicy: ResourceView["props"]): boolean {
  for (const rule of asArray(at(networkPolicy, "spec", "ingress"))) {
    const from = asArray(at(rule, "from"));
    if (from.length === 0) return true;
    for (const peer of from) {
      const cidr = asString(at(peer, "ipBlock", "cidr"));
      if (cidr === "0.0.0.0/0" || cidr === "::/0") return true;
    }
  }
  return false;
}

function coversIngress(networkPolicy: ResourceView["props"]): boolean {
  const types = asArray(at(networkPolicy, "spec", "policyTypes"));
  // Without policyTypes, Kubernetes treats every NetworkPolicy as an Ingress policy.
  return types.length === 0 || types.includes("Ingress");
}

export function checkDatastoreNetworkPolicies(resources: ResourceView[], config: DatastoresConfig): StackFinding[] {
  const findings: StackFinding[] = [];
  const policies = resources.filter((r) => r.type === k8sTypes.networkPolicy);
  for (const resource of resources) {
    const workload = k8sWorkloadOf(resource);
    if (!workload || !["StatefulSet", "Deployment"].includes(workload.kind) || !isDatastore(k8sIdentity(workload), config)) continue;
    const selecting = policies.filter((np) => {
      const namespace = at(np.props, "metadata", "namespace");
      const sameNamespace = isUnknown(namespace) || workload.namespace === undefined || objectNamespace(np.props) === workload.namespace;
      return sameNamespace && coversIngress(np.props) && selectorMatches(at(np.props, "spec", "podSelector"), workload.podLabels);
    });
    if (selecting.length === 0) {
      findings.push({
        message: `${workload.title} (datastore): no NetworkPolicy selects its pods (labels ${JSON.stringify(workload.podLabels)}); any pod in the cluster can connect. Add an Ingress NetworkPolicy that admits only its clients`,
        urn: resource.urn,
      });
      continue;
    }
    const open = selecting.filter((np) => admitsEverySource(np.props));
    for (const np of open) {
      findings.push({
        message: `${workload.title} (datastore): NetworkPolicy "${objectName(np.props, np.name)}" admits every source (an ingress rule without "from", or 0.0.0.0/0); admit only the datastore's clients`,
        urn: np.urn,
      });
    }
  }
  return findings;
}

export const datastoresNetworkPolicy = stackPolicy<DatastoresConfig>({
  name: "datastores-network-policy",
  description: "On Kubernetes, an Ingress NetworkPolicy selects every datastore pod and admits only named clients.",
  enforcementLevel: "mandatory",
  defaults: datastoresDefaults,
  configSchema: datastoresConfigSchema,
  check: checkDatastoreNetworkPolicies,
});
