/**
 * Host access only for the agents that need it, read-only where possible.
 *
 * Privileged mode, hostPID, hostNetwork, hostIPC, privilege-equivalent capabilities
 * (ALL, SYS_ADMIN) and host path mounts are allowed only for the per-node agents named in
 * the config (cAdvisor, node-exporter, Alloy), and their host mounts are read-only except
 * the paths listed in `writableHostPaths` (none by default: cAdvisor and Alloy only read
 * the host). The Docker socket is root on the host: only `dockerSocketConsumers` mount it
 * (the agents that read container metadata), read-only. Compose
 * bind mounts of the release's own files (`./...`, or below `releaseDirs`) must be
 * read-only; Traefik may also mount its routes directory under the release base, read-only.
 */
import { matchesAgent, type WorkloadIdentity } from "./lib/classify";
import { serviceLabels, serviceVolumes } from "./lib/compose";
import { containerTitle } from "./lib/kubernetes";
import { resourcePolicy } from "./lib/policy";
import { asArray, asObject, asString, at } from "./lib/values";
import type { ResourceView } from "./lib/view";
import { composeIdentity, k8sIdentity, workloadsOf } from "./lib/workloads";

export interface PrivilegesConfig {
  /** Workload names / image basenames allowed privileged mode and host access. */
  agents: string[];
  /** Workload names / image basenames allowed to mount the Docker socket (read-only). */
  dockerSocketConsumers: string[];
  /** Host paths an agent may mount read-write. */
  writableHostPaths: string[];
  /** Absolute host directories holding the Compose releases (binds from there are the release's own files). */
  releaseDirs: string[];
  /**
   * Compose services that bind-mount a directory under the release base, read-only (Traefik: the
   * routes deploy.sh writes to <base>/routing). The local dev stack's release base is wherever
   * Pulumi runs, so it is recognised by this, not by path.
   */
  releaseDirConsumers: string[];
}

export const privilegesDefaults: PrivilegesConfig = {
  agents: ["cadvisor", "node-exporter", "alloy"],
  // Traefik reads its routes from files and cron runs jobs from the host: neither needs the socket.
  dockerSocketConsumers: ["cadvisor", "alloy"],
  writableHostPaths: [],
  releaseDirs: ["/opt/ballast"],
  releaseDirConsumers: ["traefik"],
};

/**
 * Host paths a release-directory consumer may never mount, whatever it claims. (/home is not
 * one: a dev stack's release base is wherever the developer runs Pulumi.)
 */
const systemPaths = ["/proc", "/sys", "/dev", "/etc", "/boot", "/root", "/usr", "/lib", "/bin", "/sbin", "/var/run", "/run", "/var/lib", "/var/log"];

function isSystemPath(path: string): boolean {
  return path === "/" || systemPaths.some((dir) => under(path, dir));
}

const dockerSockets = ["/var/run/docker.sock", "/run/docker.sock"];
const dangerousCapabilities = ["ALL", "SYS_ADMIN", "CAP_SYS_ADMIN", "CAP_ALL"];

function under(path: string, dir: string): boolean {
  const d = dir.endsWith("/") ? dir : `${dir}/`;
  return path === dir || path.startsWith(d);
}

function isWritableAllowed(path: string, config: PrivilegesConfig): boolean {
  return config.writableHostPaths.some((allowed) => under(path, allowed));
}

function hostAccessProblems(where: string, identity: WorkloadIdentity, flags: Record<string, boolean>, config: PrivilegesConfig): string[] {
  if (matchesAgent(identity, config.agents)) return [];
  return Object.entries(flags)
    .filter(([, on]) => on)
    .map(([flag]) => `${where}: ${flag} is reserved for the node agents (${config.agents.join(", ")}); remove it`);
}

/** The label a stack's explicit root opt-in puts on a workload (components/services.ts RUNS_AS_ROOT_LABEL). */
export const runsAsRootLabel = "ballast.dev/runs-as-root";

function rootProblem(where: string, config: PrivilegesConfig): string {
  return `${where}: may run as root; only the node agents (${config.agents.join(", ")}) or a workload whose stack opts in (ballast:services[].runAsRoot, label ${runsAsRootLabel}: "true") may`;
}

export function checkPrivileges(resource: ResourceView, config: PrivilegesConfig): string[] {
  const found = workloadsOf(resource);
  if (!found) return [];
  const messages: string[] = [];
  if (found.target === "kubernetes") {
    const { workload } = found;
    const identity = k8sIdentity(workload);
    const agent = matchesAgent(identity, config.agents);
    const pod = workload.podSpec;
    messages.push(
      ...hostAccessProblems(workload.title, identity, { hostPID: pod.hostPID === true, hostNetwork: pod.hostNetwork === true, hostIPC: pod.hostIPC === true }, config),
    );
    const hostVolumes = new Map<string, string>();
    for (const volume of asArray(pod.volumes)) {
      const name = asString(at(volume, "name"));
      const path = asString(at(volume, "hostPath", "path"));
      if (name !== undefined && path !== undefined) hostVolumes.set(name, path);
    }
    if (!agent) {
      for (const [name, path] of hostVolumes) {
        messages.push(`${workload.title}: volume "${name}" mounts host path ${path}; hostPath is reserved for the node agents (${config.agents.join(", ")})`);
      }
    }
    const optedIntoRoot = workload.labels[runsAsRootLabel] === "true";
    const podSecurity = asObject(pod.securityContext) ?? {};
    for (const container of workload.containers) {
      const where = containerTitle(workload, container);
      const security = asObject(container.props.securityContext) ?? {};
      const nonRoot = (security.runAsNonRoot ?? podSecurity.runAsNonRoot) === true;
      const user = security.runAsUser ?? podSecurity.runAsUser;
      if (!agent && !optedIntoRoot && (!nonRoot || user === 0)) messages.push(rootProblem(where, config));
      const added = asArray(at(security, "capabilities", "add")).filter((c): c is string => typeof c === "string");
      messages.push(
        ...hostAccessProblems(
          where,
          identity,
          {
            "privileged mode": security.privileged === true,
            [`capability ${added.filter((c) => dangerousCapabilities.includes(c.toUpperCase())).join("/")}`]: added.some((c) => dangerousCapabilities.includes(c.toUpperCase())),
          },
          config,
        ),
      );
      if (!agent) continue;
      for (const mount of asArray(container.props.volumeMounts)) {
        const path = hostVolumes.get(asString(at(mount, "name")) ?? "");
        if (path !== undefined && at(mount, "readOnly") !== true && !isWritableAllowed(path, config)) {
          messages.push(`${where}: host path ${path} is mounted read-write at ${String(at(mount, "mountPath"))}; mount it readOnly: true`);
        }
      }
    }
    return messages;
  }
  for (const service of found.services) {
    const identity = composeIdentity(service);
    const agent = matchesAgent(identity, config.agents);
    const where = service.title;
    // An image's own default user is unknown here; an explicit root user is not.
    const user = asString(service.props.user) ?? (typeof service.props.user === "number" ? String(service.props.user) : undefined);
    if (user !== undefined && /^(0|root)(:|$)/.test(user) && !agent && serviceLabels(service)[runsAsRootLabel] !== "true") messages.push(rootProblem(where, config));
    const capAdd = asArray(service.props.cap_add).filter((c): c is string => typeof c === "string");
    const dangerous = capAdd.filter((c) => dangerousCapabilities.includes(c.toUpperCase()));
    messages.push(
      ...hostAccessProblems(
        where,
        identity,
        {
          "privileged mode": service.props.privileged === true,
          'pid: "host"': service.props.pid === "host",
          'network_mode: "host"': service.props.network_mode === "host",
          'ipc: "host"': service.props.ipc === "host",
          [`cap_add ${dangerous.join("/")}`]: dangerous.length > 0,
        },
        config,
      ),
    );
    for (const mount of serviceVolumes(service)) {
      if (mount.type !== "bind" || mount.source === undefined) continue;
      const source = mount.source;
      if (source.startsWith(".") || config.releaseDirs.some((dir) => under(source, dir))) {
        if (!mount.readOnly) messages.push(`${where}: release file ${source} is mounted read-write at ${mount.target}; rendered config is mounted read-only (":ro")`);
        continue;
      }
      if (dockerSockets.includes(source)) {
        if (!matchesAgent(identity, config.dockerSocketConsumers)) {
          messages.push(`${where}: mounts the Docker socket, which is root on the host; only ${config.dockerSocketConsumers.join(", ")} may`);
        } else if (!mount.readOnly) {
          messages.push(`${where}: mounts the Docker socket read-write; mount it read-only (":ro")`);
        }
        continue;
      }
      if (agent) {
        if (!mount.readOnly && !isWritableAllowed(source, config)) {
          messages.push(`${where}: host path ${source} is mounted read-write at ${mount.target}; mount it read-only (":ro")`);
        }
        continue;
      }
      // A local (dev) stack's release base is `<project>/.ballast/<stack>`, wherever the project
      // is checked out (under /root for a root shell): that layout is a release directory too.
      if (matchesAgent(identity, config.releaseDirConsumers) && (!isSystemPath(source) || source.split("/").includes(".ballast"))) {
        if (!mount.readOnly) messages.push(`${where}: release directory ${source} is mounted read-write at ${mount.target}; mount it read-only (":ro")`);
        continue;
      }
      messages.push(`${where}: bind-mounts host path ${source}; host mounts are reserved for the node agents (${config.agents.join(", ")})`);
    }
  }
  return messages;
}

export const privilegesRestricted = resourcePolicy<PrivilegesConfig>({
  name: "privileges-restricted",
  description:
    "Privileged mode, hostPID/hostNetwork/hostIPC, SYS_ADMIN and host mounts only for the node agents (cadvisor, node-exporter, alloy), host mounts read-only; the Docker socket only for Traefik and the agents, read-only.",
  enforcementLevel: "mandatory",
  defaults: privilegesDefaults,
  configSchema: {
    properties: {
      agents: { type: "array", items: { type: "string" }, description: "Workload names / image basenames allowed host access." },
      dockerSocketConsumers: { type: "array", items: { type: "string" }, description: "Workload names / image basenames allowed to mount the Docker socket read-only." },
      writableHostPaths: { type: "array", items: { type: "string" }, description: "Host paths an agent may mount read-write." },
      releaseDirs: { type: "array", items: { type: "string" }, description: "Host directories of the Compose releases." },
      releaseDirConsumers: { type: "array", items: { type: "string" }, description: "Compose services that mount a directory under the release base read-only (Traefik's routes)." },
    },
  },
  check: checkPrivileges,
});
