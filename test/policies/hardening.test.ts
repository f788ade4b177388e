/**
 * The hardening policies against the regressions a security review tried (issue: least
 * privilege end to end): each is refused with its message, and the hardened shape Ballast
 * renders passes.
 */
import { describe, expect, it } from "vitest";
import {
  containersHardened,
  monitoringInternal,
  networkDefaultDeny,
  podSecurityEnforced,
  rbacLeastPrivilege,
} from "../../policies/hardening";
import {
  composeDocument,
  composeService,
  container,
  daemonSet,
  deployment,
  k8sObject,
  releaseCommand,
  validateResource,
  validateStack,
} from "./harness";

const hardenedContainer = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } };
const hardenedPod = { securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } } };

function app(
  securityContext: object = hardenedContainer,
  pod: Record<string, unknown> = hardenedPod,
  extra: { env?: Record<string, unknown>[]; labels?: Record<string, string> } = {},
) {
  return deployment({ name: "app", containers: [container({ name: "app", securityContext, env: extra.env })], pod, labels: extra.labels });
}

function composeWith(service: Record<string, unknown>, name = "app") {
  return releaseCommand(composeDocument({ [name]: composeService(service) }));
}

describe("containers-hardened on Kubernetes", () => {
  it("passes the restricted shape Ballast renders", async () => {
    expect(await validateResource(containersHardened, app())).toEqual([]);
    // NET_BIND_SERVICE is the one capability restricted allows back.
    expect(
      await validateResource(containersHardened, app({ ...hardenedContainer, capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } })),
    ).toEqual([]);
    // A writable root is the stack's labelled opt-in.
    expect(
      await validateResource(
        containersHardened,
        app({ ...hardenedContainer, readOnlyRootFilesystem: false }, hardenedPod, { labels: { "ballast.dev/writable-root": "true" } }),
      ),
    ).toEqual([]);
  });

  it("refuses privilege escalation, an unconfined seccomp profile, kept or added capabilities and a writable root", async () => {
    const where = 'Deployment "app" container "app"';
    expect(await validateResource(containersHardened, app({ ...hardenedContainer, allowPrivilegeEscalation: true }))).toEqual([
      `${where}: set securityContext.allowPrivilegeEscalation: false`,
    ]);
    expect(
      await validateResource(
        containersHardened,
        app(hardenedContainer, { securityContext: { runAsNonRoot: true, seccompProfile: { type: "Unconfined" } } }),
      ),
    ).toEqual([`${where}: seccompProfile is Unconfined; use type RuntimeDefault (or Localhost), on the pod or the container`]);
    expect(await validateResource(containersHardened, app(hardenedContainer, { securityContext: { runAsNonRoot: true } }))).toEqual([
      `${where}: seccompProfile is not set; use type RuntimeDefault (or Localhost), on the pod or the container`,
    ]);
    expect(
      await validateResource(containersHardened, app({ ...hardenedContainer, capabilities: { drop: ["ALL"], add: ["NET_RAW"] } })),
    ).toEqual([`${where}: adds capability NET_RAW; allowed after dropping ALL: NET_BIND_SERVICE`]);
    expect(await validateResource(containersHardened, app({ ...hardenedContainer, capabilities: { drop: ["NET_RAW"] } }))).toEqual([
      `${where}: drop every capability (securityContext.capabilities.drop: ["ALL"])`,
    ]);
    expect(await validateResource(containersHardened, app({ ...hardenedContainer, readOnlyRootFilesystem: false }))).toEqual([
      `${where}: root filesystem is writable; set readOnlyRootFilesystem: true (writable paths as volumes) or opt in with label ballast.dev/writable-root: "true" (ballast:services[].readOnlyRootFilesystem: false)`,
    ]);
  });

  it("lets the node agents add capabilities, but holds them to the rest", async () => {
    const alloy = daemonSet({
      name: "alloy",
      containers: [
        container({
          name: "alloy",
          image: "grafana/alloy:v1.7.1",
          securityContext: { ...hardenedContainer, capabilities: { drop: ["ALL"], add: ["DAC_READ_SEARCH"] } },
        }),
      ],
      pod: hardenedPod,
    });
    expect(await validateResource(containersHardened, alloy)).toEqual([]);
    const escalating = daemonSet({
      name: "alloy",
      containers: [
        container({
          name: "alloy",
          image: "grafana/alloy:v1.7.1",
          securityContext: { ...hardenedContainer, allowPrivilegeEscalation: true },
        }),
      ],
      pod: hardenedPod,
    });
    expect(await validateResource(containersHardened, escalating)).toEqual([
      'DaemonSet "alloy" container "alloy": set securityContext.allowPrivilegeEscalation: false',
    ]);
  });

  it("refuses anonymous Grafana users with a writing role, and allows Viewer or none", async () => {
    const grafana = (role?: string) =>
      app(hardenedContainer, hardenedPod, {
        env: [{ name: "GF_AUTH_ANONYMOUS_ENABLED", value: "true" }, ...(role ? [{ name: "GF_AUTH_ANONYMOUS_ORG_ROLE", value: role }] : [])],
      });
    expect(await validateResource(containersHardened, grafana("Admin"))).toEqual([
      'Deployment "app" container "app": Grafana anonymous access has role Admin; anonymous users may at most be Viewer (or set GF_AUTH_ANONYMOUS_ENABLED to false)',
    ]);
    expect(await validateResource(containersHardened, grafana("Viewer"))).toEqual([]);
    expect(await validateResource(containersHardened, grafana())).toEqual([]);
  });
});

describe("containers-hardened on Compose", () => {
  const where = 'compose service "app"';

  it("passes the hardened service Ballast renders", async () => {
    expect(await validateResource(containersHardened, composeWith({}))).toEqual([]);
    // The Compose Deploy Specification's spelling, which Ballast renders, counts too.
    expect(await validateResource(containersHardened, composeWith({ deploy: { resources: { limits: { pids: 256 } } } }))).toEqual([]);
    // So does the service-level key (Compose accepts it when no other deploy limit is set).
    expect(await validateResource(containersHardened, composeWith({ deploy: undefined, pids_limit: 256 }))).toEqual([]);
    // The volume-owners step adds CHOWN and DAC_READ_SEARCH (privileges-restricted holds it to no network and named volumes).
    const step = {
      user: "0:0",
      network_mode: "none",
      networks: undefined,
      cap_add: ["CHOWN", "DAC_READ_SEARCH"],
      volumes: ["backups:/volumes/backups"],
      labels: { "ballast.dev/prepares-volumes": "true" },
    };
    expect(await validateResource(containersHardened, composeWith(step, "volume-owners"))).toEqual([]);
    expect(await validateResource(containersHardened, composeWith({ ...step, labels: {} }, "volume-owners"))).toEqual([
      'compose service "volume-owners": adds capability CHOWN, DAC_READ_SEARCH; allowed after dropping ALL: NET_BIND_SERVICE',
    ]);
    expect(
      await validateResource(
        containersHardened,
        composeWith({ read_only: false, labels: { "ballast.component": "services", "ballast.dev/writable-root": "true" } }),
      ),
    ).toEqual([]);
  });

  it.each([
    ["missing cap_drop", { cap_drop: undefined }, `${where}: drop every capability (cap_drop: [ALL])`],
    [
      "read_only: false",
      { read_only: false },
      `${where}: root filesystem is writable; set read_only: true (writable paths as tmpfs or volumes) or opt in with label ballast.dev/writable-root: "true" (ballast:services[].readOnlyRootFilesystem: false)`,
    ],
    ["missing no-new-privileges", { security_opt: [] }, `${where}: set security_opt "no-new-privileges:true"`],
    [
      "seccomp=unconfined",
      { security_opt: ["no-new-privileges:true", "seccomp=unconfined"] },
      `${where}: security_opt "seccomp=unconfined" turns off a kernel confinement; remove it`,
    ],
    [
      "apparmor:unconfined",
      { security_opt: ["no-new-privileges:true", "apparmor:unconfined"] },
      `${where}: security_opt "apparmor:unconfined" turns off a kernel confinement; remove it`,
    ],
    [
      "cap_add NET_ADMIN and SYS_PTRACE",
      { cap_add: ["NET_ADMIN", "SYS_PTRACE"] },
      `${where}: adds capability NET_ADMIN, SYS_PTRACE; allowed after dropping ALL: NET_BIND_SERVICE`,
    ],
    ["/dev/mem", { devices: ["/dev/mem:/dev/mem"] }, `${where}: device /dev/mem exposes host memory or I/O ports; remove it`],
    [
      "another device",
      { devices: ["/dev/fuse"] },
      `${where}: device /dev/fuse is reserved for the node agents (cadvisor, node-exporter, alloy); remove it`,
    ],
    ["userns_mode: host", { userns_mode: "host" }, `${where}: userns_mode "host" turns off user-namespace remapping; remove it`],
    ["cgroup: host", { cgroup: "host" }, `${where}: cgroup "host" shares the host's cgroup namespace; remove it`],
    [
      "no PID limit",
      { deploy: { resources: { limits: { cpus: "0.5", memory: "512M" } } } },
      `${where}: set a PID limit (deploy.resources.limits.pids, or pids_limit without other deploy limits; e.g. 512): without it one fork bomb in the container exhausts the host's process table`,
    ],
    ["pids_limit -1 (unlimited)", { pids_limit: -1 }, `${where}: PID limit -1 means no limit; set a positive number (e.g. 512)`],
    [
      "Grafana anonymous Admin",
      { environment: { GF_AUTH_ANONYMOUS_ENABLED: "true", GF_AUTH_ANONYMOUS_ORG_ROLE: "Admin" } },
      `${where}: Grafana anonymous access has role Admin; anonymous users may at most be Viewer (or set GF_AUTH_ANONYMOUS_ENABLED to false)`,
    ],
  ])("refuses %s", async (_case, overrides, message) => {
    expect(await validateResource(containersHardened, composeWith(overrides))).toEqual([message]);
  });

  it("lets an agent keep a device, never host memory", async () => {
    const cadvisor = { image: "gcr.io/cadvisor/cadvisor:v0.49.1", devices: ["/dev/kmsg"] };
    expect(await validateResource(containersHardened, composeWith(cadvisor, "cadvisor"))).toEqual([]);
    expect(await validateResource(containersHardened, composeWith({ ...cadvisor, devices: ["/dev/kmem"] }, "cadvisor"))).toEqual([
      'compose service "cadvisor": device /dev/kmem exposes host memory or I/O ports; remove it',
    ]);
  });
});

describe("monitoring-internal", () => {
  const service = (name: string, type: string, extra: object = {}) =>
    k8sObject("kubernetes:core/v1:Service", `service-${name}`, {
      metadata: { name, namespace: "ballast" },
      spec: { type, selector: { "app.kubernetes.io/name": name }, ...extra },
    });

  it("passes ClusterIP monitoring and a public proxy", async () => {
    expect(await validateResource(monitoringInternal, service("grafana", "ClusterIP"))).toEqual([]);
    expect(await validateResource(monitoringInternal, service("traefik-public", "LoadBalancer"))).toEqual([]);
  });

  it("refuses Grafana on a LoadBalancer and Prometheus on a NodePort or externalIPs", async () => {
    expect(await validateResource(monitoringInternal, service("grafana", "LoadBalancer"))).toEqual([
      'Service "grafana": grafana is internal, but type LoadBalancer publishes it on the nodes or a load balancer; keep it ClusterIP and reach it through the proxy (its route has its own access control) or kubectl port-forward',
    ]);
    const metrics = k8sObject("kubernetes:core/v1:Service", "service-metrics", {
      metadata: { name: "metrics" },
      spec: { type: "NodePort", selector: { "app.kubernetes.io/name": "prometheus" } },
    });
    expect(await validateResource(monitoringInternal, metrics)).toEqual([
      'Service "metrics": prometheus is internal, but type NodePort publishes it on the nodes or a load balancer; keep it ClusterIP and reach it through the proxy (its route has its own access control) or kubectl port-forward',
    ]);
    expect(await validateResource(monitoringInternal, service("prometheus", "ClusterIP", { externalIPs: ["203.0.113.7"] }))).toHaveLength(
      1,
    );
  });
});

describe("rbac-least-privilege", () => {
  const role = (kind: "Role" | "ClusterRole", rules: object[]) =>
    k8sObject(`kubernetes:rbac.authorization.k8s.io/v1:${kind}`, `${kind.toLowerCase()}-x`, { metadata: { name: "x" }, rules });

  it("passes the rules Ballast grants (pods list/watch, nodes, nodes/metrics)", async () => {
    expect(
      await validateResource(rbacLeastPrivilege, role("Role", [{ apiGroups: [""], resources: ["pods"], verbs: ["list", "watch"] }])),
    ).toEqual([]);
    expect(
      await validateResource(
        rbacLeastPrivilege,
        role("ClusterRole", [
          { apiGroups: [""], resources: ["nodes"], verbs: ["list", "watch"] },
          { apiGroups: [""], resources: ["nodes/metrics"], verbs: ["get"] },
        ]),
      ),
    ).toEqual([]);
  });

  it("refuses wildcards, nodes/proxy, escalation verbs and cluster-wide secrets", async () => {
    expect(await validateResource(rbacLeastPrivilege, role("Role", [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }]))).toEqual([
      'Role "x" rule 1: "*" in apiGroups grants what any future API adds; list what is needed',
      'Role "x" rule 1: "*" in resources grants what any future API adds; list what is needed',
      'Role "x" rule 1: "*" in verbs grants what any future API adds; list what is needed',
    ]);
    expect(
      await validateResource(rbacLeastPrivilege, role("ClusterRole", [{ apiGroups: [""], resources: ["nodes/proxy"], verbs: ["get"] }])),
    ).toEqual(['ClusterRole "x" rule 1: nodes/proxy lets the holder run commands in pods; grant nodes/metrics or pods/log instead']);
    expect(
      await validateResource(
        rbacLeastPrivilege,
        role("Role", [{ apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"], verbs: ["escalate"] }]),
      ),
    ).toEqual(['Role "x" rule 1: verb escalate lets the holder grant itself more; remove it']);
    expect(
      await validateResource(rbacLeastPrivilege, role("ClusterRole", [{ apiGroups: [""], resources: ["secrets"], verbs: ["get"] }])),
    ).toEqual([
      'ClusterRole "x" rule 1: secrets in a ClusterRole reads every namespace\'s secrets; use a Role in the namespace, with resourceNames where possible',
    ]);
  });
});

describe("rbac-least-privilege and Secrets (finding 4: Traefik's Role read every Secret of the namespace)", () => {
  const role = (name: string, rules: object[]) =>
    k8sObject("kubernetes:rbac.authorization.k8s.io/v1:Role", `role-${name}`, { metadata: { name, namespace: "ballast" }, rules });
  // What Traefik's Kubernetes Ingress provider needed, and Ballast granted until routes came from files.
  const ingressProviderRules = [
    { apiGroups: [""], resources: ["services", "endpoints", "secrets"], verbs: ["get", "list", "watch"] },
    { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: ["get", "list", "watch"] },
  ];

  it("refuses a Role that reads Secrets, whoever holds it (Traefik's Ingress provider, or any workload)", async () => {
    expect(await validateResource(rbacLeastPrivilege, role("traefik", ingressProviderRules))).toEqual([
      'Role "traefik" rule 1: reads Secrets (get, list, watch), the database URL and encryption key among them; pods get their own secrets from mounts and variables, and Traefik its routes from files: grant no workload read access to Secrets',
    ]);
    expect(
      await validateResource(rbacLeastPrivilege, role("worker", [{ apiGroups: [""], resources: ["secrets"], verbs: ["list"] }])),
    ).toEqual([
      'Role "worker" rule 1: reads Secrets (list), the database URL and encryption key among them; pods get their own secrets from mounts and variables, and Traefik its routes from files: grant no workload read access to Secrets',
    ]);
  });

  it("passes Prometheus' and Alloy's pod discovery, and a Role that only creates Secrets", async () => {
    expect(
      await validateResource(
        rbacLeastPrivilege,
        role("prometheus", [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }]),
      ),
    ).toEqual([]);
    expect(
      await validateResource(rbacLeastPrivilege, role("issuer", [{ apiGroups: [""], resources: ["secrets"], verbs: ["create"] }])),
    ).toEqual([]);
  });
});

describe("pod-security-enforced (finding 5: the namespace enforced only privileged)", () => {
  const namespace = (name: string, enforce?: string) =>
    k8sObject("kubernetes:core/v1:Namespace", `namespace-${name}`, {
      metadata: { name, labels: enforce ? { "pod-security.kubernetes.io/enforce": enforce } : {} },
    });
  const agent = () => {
    const resource = daemonSet({ name: "node-exporter", containers: [container({ name: "node-exporter" })] });
    (resource.props.metadata as { namespace: string }).namespace = "ballast-agents";
    return resource;
  };
  const messages = async (resources: Parameters<typeof validateStack>[1]) =>
    (await validateStack(podSecurityEnforced, resources)).map((v) => v.message);

  it("passes an application namespace enforcing restricted next to a privileged agents' namespace", async () => {
    expect(await messages([namespace("ballast", "restricted"), namespace("ballast-agents", "privileged"), app(), agent()])).toEqual([]);
    // baseline only with the stack's explicit root opt-in.
    const rootService = deployment({
      name: "ollama",
      containers: [container({ name: "ollama" })],
      labels: { "ballast.dev/runs-as-root": "true" },
    });
    expect(await messages([namespace("ballast", "baseline"), app(), rootService])).toEqual([]);
  });

  it("refuses an application namespace enforcing privileged or baseline, or none, and one the stack does not declare", async () => {
    expect(await messages([namespace("ballast", "privileged"), app(), agent(), namespace("ballast-agents", "privileged")])).toEqual([
      'Namespace "ballast" holds Deployment "app" but its label pod-security.kubernetes.io/enforce is "privileged": an application namespace enforces "restricted" (per-node agents that need the host go to their own namespace; "baseline" only for a service the stack runs as root, ballast:services[].runAsRoot)',
    ]);
    expect(await messages([namespace("ballast", "baseline"), app()])).toEqual([
      'Namespace "ballast" holds Deployment "app" but its label pod-security.kubernetes.io/enforce is "baseline": an application namespace enforces "restricted" (per-node agents that need the host go to their own namespace; "baseline" only for a service the stack runs as root, ballast:services[].runAsRoot)',
    ]);
    expect(await messages([namespace("ballast"), app()])).toEqual([
      'Namespace "ballast" holds Deployment "app" but its label pod-security.kubernetes.io/enforce is missing: an application namespace enforces "restricted" (per-node agents that need the host go to their own namespace; "baseline" only for a service the stack runs as root, ballast:services[].runAsRoot)',
    ]);
    expect(await messages([app()])).toEqual([
      'namespace "ballast" holds Deployment "app" but the stack does not declare it, so nothing makes it enforce Pod Security "restricted"; declare the Namespace with label pod-security.kubernetes.io/enforce: restricted',
    ]);
  });
});

describe("network-default-deny", () => {
  const policy = (name: string, spec: object) =>
    k8sObject("kubernetes:networking.k8s.io/v1:NetworkPolicy", `np-${name}`, { metadata: { name, namespace: "ballast" }, spec });
  const dns = {
    to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }],
    ports: [
      { protocol: "UDP", port: 53 },
      { protocol: "TCP", port: 53 },
    ],
  };
  const workload = app();

  it("passes when a both-direction default-deny selects every pod (empty selector, or one the pods carry)", async () => {
    expect(
      await validateStack(networkDefaultDeny, [
        workload,
        policy("default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"], egress: [dns] }),
      ]),
    ).toEqual([]);
    const byLabel = policy("default-deny", {
      podSelector: { matchLabels: { "app.kubernetes.io/name": "app" } },
      policyTypes: ["Ingress", "Egress"],
      egress: [dns],
    });
    expect(await validateStack(networkDefaultDeny, [workload, byLabel])).toEqual([]);
  });

  it("refuses a default-deny without egress, one that opens more than DNS, and pods it does not select", async () => {
    const message =
      'Deployment "app": no default-deny NetworkPolicy of namespace "ballast" selects its pods (policyTypes [Ingress, Egress], no ingress rules, egress only to DNS port 53): without one, traffic its own policies do not mention is allowed, egress included';
    const ingressOnly = policy("default-deny", { podSelector: {}, policyTypes: ["Ingress"] });
    expect((await validateStack(networkDefaultDeny, [workload, ingressOnly])).map((v) => v.message)).toEqual([message]);
    const openEgress = policy("default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"], egress: [{}] });
    expect((await validateStack(networkDefaultDeny, [workload, openEgress])).map((v) => v.message)).toEqual([message]);
    const otherPods = policy("default-deny", {
      podSelector: { matchLabels: { tier: "web" } },
      policyTypes: ["Ingress", "Egress"],
      egress: [dns],
    });
    expect((await validateStack(networkDefaultDeny, [workload, otherPods])).map((v) => v.message)).toEqual([message]);
  });
});
