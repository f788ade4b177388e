/**
 * Host access only for the agents that need it, read-only where possible.
 *
 * Privileged mode, hostPID, hostNetwork, hostIPC, privilege-equivalent capabilities
 * (ALL, SYS_ADMIN) and host path mounts are allowed only for the per-node agents named in
 * the config (cAdvisor, node-exporter, Alloy), and their host mounts are read-only except
 * the paths listed in `writableHostPaths` (none by default: cAdvisor and Alloy only read
 * the host). The Docker socket is root on the host: only `dockerSocketConsumers` mount it
 * (the read-only Docker API proxy cAdvisor and Alloy go through), read-only. On Compose a
 * service running an image whose own user is root (`rootImages`: Traefik, Postgres, Redis,
 * rclone) must name a non-root `user`; root is for the agents, the socket proxy, a stack's
 * labelled opt-in, and the volume-owners step (uid 0 with CAP_CHOWN/CAP_DAC_READ_SEARCH only,
 * no network, named volumes only). Compose
 * bind mounts of the release's own files (`./...`, or below `releaseDirs`) must be
 * read-only; Traefik may also mount its routes directory under the release base, read-only.
 */
import { matchesAgent, type WorkloadIdentity } from "./lib/classify";
import { serviceLabels, serviceVolumes, type ComposeService } from "./lib/compose";
import { parseImageRef } from "./lib/image-ref";
import { containerTitle } from "./lib/kubernetes";
import { resourcePolicy } from "./lib/policy";
import { asArray, asObject, asString, at } from "./lib/values";
import type { ResourceView } from "./lib/view";
import { composeIdentity, k8sIdentity, workloadsOf } from "./lib/workloads";

export interface PrivilegesConfig {
  /** Workload names / image basenames allowed privileged mode and host access. */
  agents: string[];
  /** Workload names / image basenames allowed to mount the Docker socket (read-only), and to run as root to open it. */
  dockerSocketConsumers: string[];
  /** Image basenames whose own user is root: a Compose service running one must set a non-root `user`. */
  rootImages: string[];
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
  // cAdvisor and Alloy read container metadata through the read-only proxy, never the socket.
  dockerSocketConsumers: ["docker-socket-proxy"],
  rootImages: ["traefik", "postgres", "pgvector", "redis", "rclone"],
  writableHostPaths: [],
  releaseDirs: ["/opt/ballast"],
  releaseDirConsumers: ["traefik"],
};

/**
 * Host paths a release-directory consumer may never mount, whatever it claims. (/home is not
 * one: a dev stack's release base is wherever the developer runs Pulumi.)
 */
const systemPaths = [
  "/proc",
  "/sys",
  "/dev",
  "/etc",
  "/boot",
  "/root",
  "/usr",
  "/lib",
  "/bin",
  "/sbin",
  "/var/run",
  "/run",
  "/var/lib",
  "/var/log",
];

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

/** The label of the Compose step that gives volumes to their owners (components/volume-owners.ts PREPARES_VOLUMES_LABEL). */
export const preparesVolumesLabel = "ballast.dev/prepares-volumes";

/** The only capabilities the volume-owners step may add: chown, and walking directories a job wrote 0700. */
export const volumePreparerCapabilities = ["CHOWN", "DAC_READ_SEARCH"];

/**
 * What keeps the volume-owners step harmless though it runs as root: no network, nothing but
 * named volumes mounted, no capability beyond chown and directory walking. Empty: it is one.
 */
export function volumePreparerProblems(service: ComposeService): string[] {
  const where = service.title;
  const problems: string[] = [];
  if (service.props.network_mode !== "none")
    problems.push(`${where}: a volume-preparing step (label ${preparesVolumesLabel}) runs as root; give it network_mode: "none"`);
  for (const mount of serviceVolumes(service)) {
    if (mount.type !== "volume")
      problems.push(`${where}: a volume-preparing step runs as root; it may mount named volumes only, not ${mount.source ?? mount.target}`);
  }
  const extra = asArray(service.props.cap_add)
    .filter((c): c is string => typeof c === "string")
    .filter((c) => !volumePreparerCapabilities.includes(c.toUpperCase().replace(/^CAP_/, "")));
  if (extra.length > 0)
    problems.push(`${where}: a volume-preparing step may add only ${volumePreparerCapabilities.join(", ")}; remove ${extra.join(", ")}`);
  return problems;
}

/** A Compose service that is the volume-owners step, with nothing that would make its root dangerous. */
export function isVolumePreparer(service: ComposeService): boolean {
  return serviceLabels(service)[preparesVolumesLabel] === "true" && volumePreparerProblems(service).length === 0;
}

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
      ...hostAccessProblems(
        workload.title,
        identity,
        { hostPID: pod.hostPID === true, hostNetwork: pod.hostNetwork === true, hostIPC: pod.hostIPC === true },
        config,
      ),
    );
    const hostVolumes = new Map<string, string>();
    for (const volume of asArray(pod.volumes)) {
      const name = asString(at(volume, "name"));
      const path = asString(at(volume, "hostPath", "path"));
      if (name !== undefined && path !== undefined) hostVolumes.set(name, path);
    }
    if (!agent) {
      for (const [name, path] of hostVolumes) {
        messages.push(
          `${workload.title}: volume "${name}" mounts host path ${path}; hostPath is reserved for the node agents (${config.agents.join(", ")})`,
        );
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
            [`capability ${added.filter((c) => dangerousCapabilities.includes(c.toUpperCase())).join("/")}`]: added.some((c) =>
              dangerousCapabilities.includes(c.toUpperCase()),
            ),
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
    // An image's own user is unknown here unless it is one of rootImages; an explicit root user is not.
    const user = asString(service.props.user) ?? (typeof service.props.user === "number" ? String(service.props.user) : undefined);
    const optedIn = serviceLabels(service)[runsAsRootLabel] === "true";
    const rootAllowed = agent || optedIn || matchesAgent(identity, config.dockerSocketConsumers);
    const preparer = serviceLabels(service)[preparesVolumesLabel] === "true";
    if (preparer) messages.push(...volumePreparerProblems(service));
    if (user !== undefined && /^(0|root)(:|$)/.test(user) && !rootAllowed && !preparer) messages.push(rootProblem(where, config));
    const rootImage = identity.images
      .map((image) => parseImageRef(image).basename)
      .find((basename) => config.rootImages.includes(basename));
    if (user === undefined && rootImage !== undefined && !rootAllowed) {
      messages.push(
        `${where}: runs as the ${rootImage} image's own user, root; set a non-root user (the stack renders Traefik as 65532, Postgres and Redis as 999, the backup jobs as 65532)`,
      );
    }
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
        if (!mount.readOnly)
          messages.push(
            `${where}: release file ${source} is mounted read-write at ${mount.target}; rendered config is mounted read-only (":ro")`,
          );
        continue;
      }
      if (dockerSockets.includes(source)) {
        if (!matchesAgent(identity, config.dockerSocketConsumers)) {
          messages.push(
            `${where}: mounts the Docker socket, which is root on the host; only ${config.dockerSocketConsumers.join(", ")} may`,
          );
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
        if (!mount.readOnly)
          messages.push(`${where}: release directory ${source} is mounted read-write at ${mount.target}; mount it read-only (":ro")`);
        continue;
      }
      messages.push(
        `${where}: bind-mounts host path ${source}; host mounts are reserved for the node agents (${config.agents.join(", ")})`,
      );
    }
  }
  return messages;
}

export const privilegesRestricted = resourcePolicy<PrivilegesConfig>({
  name: "privileges-restricted",
  description:
    "Privileged mode, hostPID/hostNetwork/hostIPC, SYS_ADMIN and host mounts only for the node agents (cadvisor, node-exporter, alloy), host mounts read-only; the Docker socket only for the read-only Docker API proxy, read-only; root only for the agents, the socket proxy, labelled opt-ins and the network-less volume-owners step, and never as a root image's default user on Compose.",
  enforcementLevel: "mandatory",
  defaults: privilegesDefaults,
  configSchema: {
    properties: {
      agents: { type: "array", items: { type: "string" }, description: "Workload names / image basenames allowed host access." },
      dockerSocketConsumers: {
        type: "array",
        items: { type: "string" },
        description: "Workload names / image basenames allowed to mount the Docker socket read-only (and run as root to open it).",
      },
      rootImages: {
        type: "array",
        items: { type: "string" },
        description: "Image basenames whose own user is root: a Compose service running one must set a non-root user.",
      },
      writableHostPaths: { type: "array", items: { type: "string" }, description: "Host paths an agent may mount read-write." },
      releaseDirs: { type: "array", items: { type: "string" }, description: "Host directories of the Compose releases." },
      releaseDirConsumers: {
        type: "array",
        items: { type: "string" },
        description: "Compose services that mount a directory under the release base read-only (Traefik's routes).",
      },
    },
  },
  check: checkPrivileges,
});
