/**
 * Container hardening and least-privilege access, beyond host access (privileges.ts):
 * the Kubernetes Pod Security "restricted" settings and their CIS Docker Benchmark
 * equivalents on Compose, monitoring kept off the public network, RBAC without wildcards or
 * exec-equivalent verbs or Secret reads, a namespace default-deny that covers egress, and
 * application namespaces that enforce Pod Security `restricted`.
 *
 * Every Ballast workload is rendered this way; these policies catch a regression in the
 * renderer, a hand-written transformation or a stack that bypasses the declaration.
 */
import { matchesAgent, type WorkloadIdentity } from "./lib/classify";
import { serviceEnvironment, serviceLabels } from "./lib/compose";
import { containerTitle, k8sTypes, objectName, objectNamespace, selectorMatches } from "./lib/kubernetes";
import { resourcePolicy, stackPolicy } from "./lib/policy";
import { isVolumePreparer } from "./privileges";
import { asArray, asObject, asString, at, stringMap, type Props } from "./lib/values";
import type { ResourceView, StackFinding } from "./lib/view";
import { composeIdentity, k8sIdentity, workloadsOf } from "./lib/workloads";
import { runsAsRootLabel } from "./privileges";

/** The label a stack's explicit writable-root opt-in puts on a workload (components/services.ts WRITABLE_ROOT_LABEL). */
export const writableRootLabel = "ballast.dev/writable-root";

export interface HardeningConfig {
  /** Workload names / image basenames exempt from the capability allow-list (the node agents). */
  agents: string[];
  /** Capabilities any container may add back after dropping ALL (Pod Security "restricted": only NET_BIND_SERVICE). */
  allowedCapabilities: string[];
}

export const hardeningDefaults: HardeningConfig = {
  agents: ["cadvisor", "node-exporter", "alloy"],
  allowedCapabilities: ["NET_BIND_SERVICE"],
};

/** Device files that expose host memory or I/O ports: never, not even for an agent. */
const hostMemoryDevices = ["/dev/mem", "/dev/kmem", "/dev/port"];

/** Grafana roles that may change dashboards, data sources or users. */
const grafanaWriteRoles = ["admin", "editor"];

function capabilityName(capability: string): string {
  return capability.toUpperCase().replace(/^CAP_/, "");
}

function addedCapabilityProblems(where: string, identity: WorkloadIdentity, added: string[], config: HardeningConfig): string[] {
  if (matchesAgent(identity, config.agents)) return [];
  const allowed = config.allowedCapabilities.map(capabilityName);
  const extra = added.filter((c) => !allowed.includes(capabilityName(c)));
  if (extra.length === 0) return [];
  return [`${where}: adds capability ${extra.join(", ")}; allowed after dropping ALL: ${allowed.join(", ") || "none"}`];
}

/** Grafana's anonymous access with a role that can write, from an environment map. */
function anonymousGrafanaWriter(where: string, env: Record<string, string | null | undefined>): string[] {
  if ((env.GF_AUTH_ANONYMOUS_ENABLED ?? "").toLowerCase() !== "true") return [];
  const role = (env.GF_AUTH_ANONYMOUS_ORG_ROLE ?? "Viewer").toLowerCase();
  if (!grafanaWriteRoles.includes(role)) return [];
  return [
    `${where}: Grafana anonymous access has role ${env.GF_AUTH_ANONYMOUS_ORG_ROLE}; anonymous users may at most be Viewer (or set GF_AUTH_ANONYMOUS_ENABLED to false)`,
  ];
}

/** A Kubernetes container's literal env values (valueFrom entries are references, not values). */
function k8sEnv(container: Props): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const entry of asArray(container.env)) {
    const name = asString(at(entry, "name"));
    if (name !== undefined) env[name] = asString(at(entry, "value"));
  }
  return env;
}

function checkKubernetesWorkload(resource: ResourceView, config: HardeningConfig): string[] {
  const found = workloadsOf(resource);
  if (!found || found.target !== "kubernetes") return [];
  const { workload } = found;
  const identity = k8sIdentity(workload);
  const podSecurity = asObject(workload.podSpec.securityContext) ?? {};
  const writableRoot = workload.labels[writableRootLabel] === "true";
  const messages: string[] = [];
  for (const container of workload.containers) {
    const where = containerTitle(workload, container);
    const security = asObject(container.props.securityContext) ?? {};
    if (security.allowPrivilegeEscalation !== false) messages.push(`${where}: set securityContext.allowPrivilegeEscalation: false`);
    const seccomp = asString(at(security, "seccompProfile", "type")) ?? asString(at(podSecurity, "seccompProfile", "type"));
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") {
      messages.push(
        `${where}: seccompProfile is ${seccomp ?? "not set"}; use type RuntimeDefault (or Localhost), on the pod or the container`,
      );
    }
    const dropped = asArray(at(security, "capabilities", "drop")).filter((c): c is string => typeof c === "string");
    if (!dropped.map(capabilityName).includes("ALL"))
      messages.push(`${where}: drop every capability (securityContext.capabilities.drop: ["ALL"])`);
    const added = asArray(at(security, "capabilities", "add")).filter((c): c is string => typeof c === "string");
    messages.push(...addedCapabilityProblems(where, identity, added, config));
    if (security.readOnlyRootFilesystem !== true && !writableRoot) {
      messages.push(
        `${where}: root filesystem is writable; set readOnlyRootFilesystem: true (writable paths as volumes) or opt in with label ${writableRootLabel}: "true" (ballast:services[].readOnlyRootFilesystem: false)`,
      );
    }
    messages.push(...anonymousGrafanaWriter(where, k8sEnv(container.props)));
  }
  return messages;
}

/** `pids_limit`, or the Compose Deploy Specification's `deploy.resources.limits.pids`. */
function pidsLimitOf(props: Props): number | undefined {
  const limit = props.pids_limit ?? at(props, "deploy", "resources", "limits", "pids");
  if (typeof limit === "number") return limit;
  if (typeof limit === "string" && /^-?\d+$/.test(limit)) return Number(limit);
  return undefined;
}

const noNewPrivileges = /^no-new-privileges(?:[:=]true)?$/;
const unconfined = /^(seccomp|apparmor|systempaths)[:=]unconfined$|^label[:=]disable$/;

function checkComposeServices(resource: ResourceView, config: HardeningConfig): string[] {
  const found = workloadsOf(resource);
  if (!found || found.target !== "compose") return [];
  const messages: string[] = [];
  for (const service of found.services) {
    const where = service.title;
    const props = service.props;
    const identity = composeIdentity(service);
    const dropped = asArray(props.cap_drop).filter((c): c is string => typeof c === "string");
    if (!dropped.map(capabilityName).includes("ALL")) messages.push(`${where}: drop every capability (cap_drop: [ALL])`);
    // The volume-owners step's own capabilities are judged by privileges-restricted (isVolumePreparer).
    const added = asArray(props.cap_add).filter((c): c is string => typeof c === "string");
    messages.push(...addedCapabilityProblems(where, identity, isVolumePreparer(service) ? [] : added, config));
    const pids = pidsLimitOf(props);
    if (pids === undefined) {
      messages.push(
        `${where}: set a PID limit (deploy.resources.limits.pids, or pids_limit without other deploy limits; e.g. 512): without it one fork bomb in the container exhausts the host's process table`,
      );
    } else if (pids <= 0) {
      messages.push(`${where}: PID limit ${pids} means no limit; set a positive number (e.g. 512)`);
    }
    if (props.read_only !== true && serviceLabels(service)[writableRootLabel] !== "true") {
      messages.push(
        `${where}: root filesystem is writable; set read_only: true (writable paths as tmpfs or volumes) or opt in with label ${writableRootLabel}: "true" (ballast:services[].readOnlyRootFilesystem: false)`,
      );
    }
    const securityOpts = asArray(props.security_opt).filter((o): o is string => typeof o === "string");
    if (!securityOpts.some((o) => noNewPrivileges.test(o))) messages.push(`${where}: set security_opt "no-new-privileges:true"`);
    for (const option of securityOpts.filter((o) => unconfined.test(o)))
      messages.push(`${where}: security_opt "${option}" turns off a kernel confinement; remove it`);
    if (props.userns_mode === "host") messages.push(`${where}: userns_mode "host" turns off user-namespace remapping; remove it`);
    if (props.cgroup === "host") messages.push(`${where}: cgroup "host" shares the host's cgroup namespace; remove it`);
    const agent = matchesAgent(identity, config.agents);
    for (const device of asArray(props.devices)) {
      const text = typeof device === "string" ? device : (asString(at(device, "source")) ?? "");
      const hostPath = text.split(":")[0];
      if (hostMemoryDevices.includes(hostPath)) messages.push(`${where}: device ${hostPath} exposes host memory or I/O ports; remove it`);
      else if (!agent)
        messages.push(`${where}: device ${hostPath} is reserved for the node agents (${config.agents.join(", ")}); remove it`);
    }
    const env = serviceEnvironment(service);
    messages.push(...anonymousGrafanaWriter(where, Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v ?? undefined]))));
  }
  return messages;
}

export function checkHardening(resource: ResourceView, config: HardeningConfig): string[] {
  return [...checkKubernetesWorkload(resource, config), ...checkComposeServices(resource, config)];
}

export const containersHardened = resourcePolicy<HardeningConfig>({
  name: "containers-hardened",
  description:
    "Every container drops ALL capabilities and adds back only NET_BIND_SERVICE (agents excepted), cannot gain privileges (no-new-privileges / allowPrivilegeEscalation: false), keeps seccomp (RuntimeDefault; no unconfined profiles), has a read-only root filesystem unless its stack opts in, uses no host devices, user or cgroup namespace, and on Compose has a PID limit; Grafana's anonymous users are at most Viewers.",
  enforcementLevel: "mandatory",
  defaults: hardeningDefaults,
  configSchema: {
    properties: {
      agents: {
        type: "array",
        items: { type: "string" },
        description: "Workload names / image basenames exempt from the capability allow-list and the device rule.",
      },
      allowedCapabilities: {
        type: "array",
        items: { type: "string" },
        description: "Capabilities any container may add after dropping ALL.",
      },
    },
  },
  check: checkHardening,
});

// ---------- monitoring off the public network ----------

export interface InternalServicesConfig {
  /** Workloads (Service name, selected app.kubernetes.io/name or component) that must never get a node or load-balancer port. */
  internalWorkloads: string[];
}

export const internalServicesDefaults: InternalServicesConfig = {
  internalWorkloads: ["grafana", "prometheus", "alertmanager", "loki", "tempo", "jaeger"],
};

export function checkInternalServices(resource: ResourceView, config: InternalServicesConfig): string[] {
  if (resource.type !== k8sTypes.service) return [];
  const type = asString(at(resource.props, "spec", "type")) ?? "ClusterIP";
  const externalIPs = asArray(at(resource.props, "spec", "externalIPs"));
  if (type !== "LoadBalancer" && type !== "NodePort" && externalIPs.length === 0) return [];
  const name = objectName(resource.props, resource.name);
  const selector = stringMap(at(resource.props, "spec", "selector"));
  const names = [name, ...Object.values(selector)];
  const internal = config.internalWorkloads.find((w) => names.includes(w));
  if (internal === undefined) return [];
  const exposure = externalIPs.length > 0 ? "externalIPs" : `type ${type}`;
  return [
    `Service "${name}": ${internal} is internal, but ${exposure} publishes it on the nodes or a load balancer; keep it ClusterIP and reach it through the proxy (its route has its own access control) or kubectl port-forward`,
  ];
}

export const monitoringInternal = resourcePolicy<InternalServicesConfig>({
  name: "monitoring-internal",
  description:
    "Grafana, Prometheus, Alertmanager, Loki and the trace store are never published with a NodePort, LoadBalancer or externalIPs Service: the proxy's route (with its access control) is the only way in.",
  enforcementLevel: "mandatory",
  defaults: internalServicesDefaults,
  configSchema: {
    properties: {
      internalWorkloads: {
        type: "array",
        items: { type: "string" },
        description: "Service or selected workload names that must stay ClusterIP.",
      },
    },
  },
  check: checkInternalServices,
});

// ---------- RBAC ----------

const rbacTypes: Record<string, string> = {
  "kubernetes:rbac.authorization.k8s.io/v1:Role": "Role",
  "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole": "ClusterRole",
};

/** Subresources whose `get`/`create` runs commands in, or tunnels into, pods (nodes/proxy: kubernetes/kubernetes#136550). */
const execEquivalent = ["nodes/proxy", "pods/exec", "pods/attach", "pods/portforward"];
/** Verbs that grant more than the role holds. */
const escalatingVerbs = ["escalate", "bind", "impersonate"];
/** Verbs that read an object's content (list and watch return every Secret's data, not only names). */
const readVerbs = ["get", "list", "watch", "*"];

export function checkRbac(resource: ResourceView): string[] {
  const kind = rbacTypes[resource.type];
  if (kind === undefined) return [];
  const title = `${kind} "${objectName(resource.props, resource.name)}"`;
  const messages: string[] = [];
  asArray(resource.props.rules).forEach((rule, index) => {
    const where = `${title} rule ${index + 1}`;
    const strings = (field: string) => asArray(at(rule, field)).filter((v): v is string => typeof v === "string");
    for (const field of ["apiGroups", "resources", "verbs", "nonResourceURLs"]) {
      if (strings(field).some((v) => v === "*" || v.endsWith("/*")))
        messages.push(`${where}: "*" in ${field} grants what any future API adds; list what is needed`);
    }
    for (const sub of strings("resources").filter((r) => execEquivalent.includes(r))) {
      messages.push(`${where}: ${sub} lets the holder run commands in pods; grant nodes/metrics or pods/log instead`);
    }
    for (const verb of strings("verbs").filter((v) => escalatingVerbs.includes(v)))
      messages.push(`${where}: verb ${verb} lets the holder grant itself more; remove it`);
    if (kind === "ClusterRole" && strings("resources").includes("secrets")) {
      messages.push(
        `${where}: secrets in a ClusterRole reads every namespace's secrets; use a Role in the namespace, with resourceNames where possible`,
      );
    } else if (strings("resources").includes("secrets") && strings("verbs").some((verb) => readVerbs.includes(verb))) {
      // Finding 4 of docs/security.md: Traefik's Ingress provider read the database URL and the encryption key.
      messages.push(
        `${where}: reads Secrets (${strings("verbs")
          .filter((verb) => readVerbs.includes(verb))
          .join(
            ", ",
          )}), the database URL and encryption key among them; pods get their own secrets from mounts and variables, and Traefik its routes from files: grant no workload read access to Secrets`,
      );
    }
  });
  return messages;
}

export const rbacLeastPrivilege = resourcePolicy<Record<string, never>>({
  name: "rbac-least-privilege",
  description:
    'Roles and ClusterRoles list their API groups, resources and verbs (no "*"), grant no exec-equivalent subresource (nodes/proxy, pods/exec, attach, portforward), no escalate/bind/impersonate, no cluster-wide secrets and no read access to Secrets at all.',
  enforcementLevel: "mandatory",
  defaults: {},
  check: (resource) => checkRbac(resource),
});

// ---------- default-deny ----------

const networkPolicyType = k8sTypes.networkPolicy;
const dnsPort = 53;

/** A policy that denies ingress and egress to the pods it selects, opening at most DNS. */
function isDefaultDeny(props: Props): boolean {
  const spec = asObject(props.spec) ?? {};
  const types = asArray(spec.policyTypes);
  if (!types.includes("Ingress") || !types.includes("Egress")) return false;
  if (asArray(spec.ingress).length > 0) return false;
  return asArray(spec.egress).every((rule) => {
    const ports = asArray(at(rule, "ports"));
    return ports.length > 0 && ports.every((port) => at(port, "port") === dnsPort);
  });
}

/** Every pod must be selected by a default-deny policy of its namespace (an empty podSelector selects all). */
export function checkDefaultDeny(resources: ResourceView[]): StackFinding[] {
  const denials = resources
    .filter((r) => r.type === networkPolicyType && isDefaultDeny(r.props))
    .map((r) => ({ namespace: objectNamespace(r.props) ?? "default", selector: at(r.props, "spec", "podSelector") ?? {} }));
  const findings: StackFinding[] = [];
  for (const resource of resources) {
    const found = workloadsOf(resource);
    if (found?.target !== "kubernetes") continue;
    const { workload } = found;
    const namespace = workload.namespace ?? "default";
    if (denials.some((d) => d.namespace === namespace && selectorMatches(d.selector, workload.podLabels))) continue;
    findings.push({
      urn: resource.urn,
      message: `${workload.title}: no default-deny NetworkPolicy of namespace "${namespace}" selects its pods (policyTypes [Ingress, Egress], no ingress rules, egress only to DNS port 53): without one, traffic its own policies do not mention is allowed, egress included`,
    });
  }
  return findings;
}

export const networkDefaultDeny = stackPolicy<Record<string, never>>({
  name: "network-default-deny",
  description:
    "On Kubernetes every pod is selected by a default-deny NetworkPolicy of its namespace for ingress and egress (DNS excepted); each workload's own policies open what it needs.",
  enforcementLevel: "mandatory",
  defaults: {},
  check: (resources) => checkDefaultDeny(resources),
});

// ---------- Pod Security admission ----------

const namespaceType = "kubernetes:core/v1:Namespace";
const enforceLabel = "pod-security.kubernetes.io/enforce";

export interface PodSecurityConfig {
  /** Workload names / image basenames of the per-node agents, which live in their own (privileged) namespace. */
  agents: string[];
}

export const podSecurityDefaults: PodSecurityConfig = { agents: hardeningDefaults.agents };

/**
 * Every namespace that holds an application workload (anything but a per-node agent or DaemonSet)
 * is declared by the stack and enforces Pod Security `restricted`; `baseline` only when a workload
 * there carries the stack's explicit root opt-in (`ballast:services[].runAsRoot`).
 */
export function checkPodSecurityEnforced(resources: ResourceView[], config: PodSecurityConfig): StackFinding[] {
  const namespaces = new Map(
    resources
      .filter((r) => r.type === namespaceType)
      .map((r) => [objectName(r.props, r.name), { urn: r.urn, enforce: stringMap(at(r.props, "metadata", "labels"))[enforceLabel] }]),
  );
  const members = new Map<string, { titles: string[]; rootOptIn: boolean; urn: string }>();
  for (const resource of resources) {
    const found = workloadsOf(resource);
    if (found?.target !== "kubernetes") continue;
    const { workload } = found;
    if (workload.kind === "DaemonSet" || matchesAgent(k8sIdentity(workload), config.agents)) continue;
    const namespace = workload.namespace ?? "default";
    const entry = members.get(namespace) ?? { titles: [], rootOptIn: false, urn: resource.urn };
    entry.titles.push(workload.title);
    entry.rootOptIn ||= workload.labels[runsAsRootLabel] === "true";
    members.set(namespace, entry);
  }
  const findings: StackFinding[] = [];
  for (const [name, { titles, rootOptIn, urn }] of members) {
    const declared = namespaces.get(name);
    const holds = `${titles.slice(0, 3).join(", ")}${titles.length > 3 ? ` and ${titles.length - 3} more` : ""}`;
    if (!declared) {
      findings.push({
        urn,
        message: `namespace "${name}" holds ${holds} but the stack does not declare it, so nothing makes it enforce Pod Security "restricted"; declare the Namespace with label ${enforceLabel}: restricted`,
      });
      continue;
    }
    if (declared.enforce === "restricted" || (declared.enforce === "baseline" && rootOptIn)) continue;
    findings.push({
      urn: declared.urn,
      message: `Namespace "${name}" holds ${holds} but its label ${enforceLabel} is ${declared.enforce === undefined ? "missing" : `"${declared.enforce}"`}: an application namespace enforces "restricted" (per-node agents that need the host go to their own namespace; "baseline" only for a service the stack runs as root, ballast:services[].runAsRoot)`,
    });
  }
  return findings;
}

export const podSecurityEnforced = stackPolicy<PodSecurityConfig>({
  name: "pod-security-enforced",
  description:
    'On Kubernetes every namespace holding application workloads is declared by the stack and enforces Pod Security "restricted" (per-node agents live in their own namespace; "baseline" only for an explicit root opt-in), so the API server refuses a pod that runs as root, keeps capabilities, may escalate or touches the host.',
  enforcementLevel: "mandatory",
  defaults: podSecurityDefaults,
  configSchema: {
    properties: {
      agents: { type: "array", items: { type: "string" }, description: "Workload names / image basenames of the per-node agents." },
    },
  },
  check: checkPodSecurityEnforced,
});
