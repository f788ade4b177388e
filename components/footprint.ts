/**
 * Does the stack fit the Compose host? Sums resource limits of everything that runs
 * permanently (agents once, replicated services per replica, a worker scaled on its queue at its
 * maximum) plus the largest job,
 * which the host's cron runs beside them. When it does not fit, the message says by how much,
 * which workloads take the most and the stack keys that size them.
 */
import type { HostSize } from "./config";
import type { WorkloadSpec } from "./spec";

export interface HostFit {
  memoryMiB: number;
  cpu: number;
  /** Limits of the monitoring set alone. */
  monitoringMemoryMiB: number;
  problems: string[];
}

/** A worker scaled on its queue may run its maximum: the host must hold that many. */
const queueScaled = (w: WorkloadSpec) => w.role === "stateless" && w.autoscaling?.queue !== undefined;
const perReplica = (w: WorkloadSpec) => (w.role === "agent" ? 1 : queueScaled(w) ? (w.autoscaling?.maxReplicas ?? w.replicas) : w.replicas);
const round = (n: number) => Math.round(n * 1000) / 1000;

/** `(3 replicas)`, or for a queue-scaled worker `(up to 20 replicas: ballast:workers[0].autoscaling.maxReplicas)`. */
function replicasNote(w: WorkloadSpec): string {
  if (queueScaled(w)) return ` (up to ${perReplica(w)} replicas: ${w.autoscaling?.configKey ?? "autoscaling"}.maxReplicas)`;
  return w.replicas > 1 && w.role !== "agent" ? ` (${w.replicas} replicas)` : "";
}

/** The biggest consumers of one resource, each with the key that sizes it. */
function largest(workloads: WorkloadSpec[], amount: (w: WorkloadSpec) => number, unit: string): string {
  return [...workloads]
    .sort((a, b) => amount(b) - amount(a) || a.name.localeCompare(b.name))
    .slice(0, 4)
    .map((w) => `${w.name} ${round(amount(w))}${unit}${replicasNote(w)}${w.sizedBy ? ` [${w.sizedBy}]` : ""}`)
    .join(", ");
}

/** ", lower ballast:workers[0].autoscaling.maxReplicas" for the queue-scaled workers among the largest. */
function maxReplicasHint(workloads: WorkloadSpec[], amount: (w: WorkloadSpec) => number): string {
  const keys = [...workloads]
    .sort((a, b) => amount(b) - amount(a) || a.name.localeCompare(b.name))
    .slice(0, 4)
    .filter(queueScaled)
    .map((w) => `${w.autoscaling?.configKey ?? w.name}.maxReplicas`);
  return keys.length > 0 ? `, lower ${keys.join(", ")}` : "";
}

export function composeHostFit(workloads: WorkloadSpec[], host: HostSize): HostFit {
  const permanent = workloads.filter((w) => w.role !== "job");
  const jobs = workloads.filter((w) => w.role === "job");
  const largestJob = jobs.reduce<WorkloadSpec | undefined>(
    (max, j) => (!max || j.resources.limits.memoryMiB > max.resources.limits.memoryMiB ? j : max),
    undefined,
  );
  const counted = [...permanent, ...(largestJob ? [largestJob] : [])];
  const memoryOf = (w: WorkloadSpec) => w.resources.limits.memoryMiB * (w.role === "job" ? 1 : perReplica(w));
  const cpuOf = (w: WorkloadSpec) => w.resources.limits.cpu * perReplica(w);
  const memoryMiB = counted.reduce((sum, w) => sum + memoryOf(w), 0);
  const cpu = round(permanent.reduce((sum, w) => sum + cpuOf(w), 0));
  const monitoring = workloads.filter((w) => w.component === "observability");
  const monitoringMemoryMiB = monitoring.reduce((sum, w) => sum + w.resources.limits.memoryMiB * perReplica(w), 0);
  const monitoringHint =
    monitoring.length > 0
      ? `; the monitoring set alone takes ${monitoringMemoryMiB} MiB (ballast:monitoring.enabled: false, or switch parts off with ballast:monitoring.<part>.enabled)`
      : "";
  const problems: string[] = [];
  const hostMiB = Math.round(host.memoryGiB * 1024);
  if (memoryMiB > hostMiB) {
    problems.push(
      `ballast:host.memoryGiB: the stack's memory limits add up to ${memoryMiB} MiB, ${memoryMiB - hostMiB} MiB more than the declared host's ${host.memoryGiB} GiB. ` +
        `Largest: ${largest(counted, memoryOf, " MiB")}${monitoringHint}. Lower those keys' memory${maxReplicasHint(counted, memoryOf)}, or declare a bigger host`,
    );
  }
  if (cpu > host.cpus) {
    problems.push(
      `ballast:host.cpus: the stack's CPU limits add up to ${cpu} cores, ${round(cpu - host.cpus)} more than the declared host's ${host.cpus}. ` +
        `Largest: ${largest(permanent, cpuOf, " CPU")}. Lower those keys' cpu${maxReplicasHint(permanent, cpuOf)}, or declare a bigger host`,
    );
  }
  return { memoryMiB, cpu, monitoringMemoryMiB, problems };
}
