/**
 * Does the stack fit the Compose host? Sums resource limits of everything that runs
 * permanently (agents once, replicated services per replica) plus the largest job,
 * which the scheduler runs beside them.
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

const perReplica = (w: WorkloadSpec) => (w.role === "agent" ? 1 : w.replicas);

export function composeHostFit(workloads: WorkloadSpec[], host: HostSize): HostFit {
  const permanent = workloads.filter((w) => w.role !== "job");
  const jobs = workloads.filter((w) => w.role === "job");
  const largestJob = jobs.reduce((max, j) => (j.resources.limits.memoryMiB > max.resources.limits.memoryMiB ? j : max), jobs[0]);
  const memoryMiB =
    permanent.reduce((sum, w) => sum + w.resources.limits.memoryMiB * perReplica(w), 0) + (largestJob?.resources.limits.memoryMiB ?? 0);
  const cpu = Math.round(permanent.reduce((sum, w) => sum + w.resources.limits.cpu * perReplica(w), 0) * 1000) / 1000;
  const monitoringMemoryMiB = workloads.filter((w) => w.component === "observability").reduce((sum, w) => sum + w.resources.limits.memoryMiB * perReplica(w), 0);
  const problems: string[] = [];
  if (memoryMiB > host.memoryGiB * 1024) {
    problems.push(`ballast:host.memoryGiB: the stack's memory limits add up to ${memoryMiB} MiB, more than the declared host's ${host.memoryGiB} GiB; shrink resources or declare a bigger host`);
  }
  if (cpu > host.cpus) {
    problems.push(`ballast:host.cpus: the stack's CPU limits add up to ${cpu} cores, more than the declared host's ${host.cpus}; shrink resources or declare a bigger host`);
  }
  return { memoryMiB, cpu, monitoringMemoryMiB, problems };
}
