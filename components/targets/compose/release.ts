/**
 * How a Compose release treats each service (pure: model in, plan out); deploy.sh carries
 * the plan as settings. docs/compose-release.md explains the mechanism and its failure modes.
 *
 * - rolling: the stack's own stateless services (app, workers, extra services without
 *   storage). New containers start beside the old ones (`up --no-recreate --scale`), become
 *   healthy, take over the traffic (routed ones: Traefik's file provider is pointed at them),
 *   then the old ones get SIGTERM and their drain time. Nothing is dropped, and a failed
 *   release never took the old ones out of rotation.
 * - singletons: datastores, the proxy, monitoring and agents. Stop-first (`up --no-deps`
 *   recreates a changed one): two Postgres on one volume, or two Traefik on one port, cannot run.
 * - preparers: one-shots that run before anything else of the release (`runsFirst`: the step
 *   that gives volumes to their non-root owners), `run --rm --no-deps`.
 * - oneShots: migration and pgvector ensure, run to completion before any new app container
 *   starts (`run --rm`), in dependency order.
 * - scheduled: jobs the host's cron runs from the live release.
 * - scaled: rolling workers scaled on a queue by autoscale.sh (the host's cron, every minute);
 *   a release starts as many new containers as run now, within their bounds.
 */
import type { WorkloadSpec } from "../../spec";
import { isProxy } from "./networks";

export interface RoutedService {
  name: string;
  /** Container port Traefik sends the traffic to. */
  port: number;
  /** Readiness path Traefik's own health check uses to take a failing server out of rotation. */
  healthPath?: string;
}

/** A worker the autoscaler scales on its queue (the release plan's `scaled` entries). */
export interface QueueScaledService {
  name: string;
  kind: "redis-list" | "redis-stream";
  key: string;
  consumerGroup?: string;
  targetPerReplica: number;
  min: number;
  max: number;
}

export interface ReleasePlan {
  singletons: string[];
  /** One-shots run before the singletons (volume ownership). */
  preparers: string[];
  oneShots: string[];
  rolling: { name: string; replicas: number }[];
  /** Rolling services that autoscale.sh scales on a queue: a release keeps their count within these bounds. */
  scaled: QueueScaledService[];
  routed: RoutedService[];
  scheduled: string[];
  /** The proxy service (Traefik), a singleton. */
  proxy?: string;
  /** Secrets running services take in place: deploy.sh applies each before anything restarts. */
  liveSecrets: { service: string; secret: string; apply: string[] }[];
}

/** A job with a schedule runs from the host's cron; one without runs once per release (migration, pgvector ensure). */
export function isScheduledJob(workload: WorkloadSpec): boolean {
  return workload.role === "job" && workload.schedule !== undefined;
}

export function isOneShot(workload: WorkloadSpec): boolean {
  return workload.role === "job" && workload.schedule === undefined;
}

const rollingComponents = new Set(["app", "workers", "services"]);

/** Rolls new-before-old: stateless, the stack's own, no persistent volume, publishes nothing. */
export function isRolling(workload: WorkloadSpec): boolean {
  return (
    workload.role === "stateless" &&
    rollingComponents.has(workload.component) &&
    !workload.volumes.some((v) => v.kind === "persistent") &&
    !workload.ports.some((p) => p.publish !== undefined)
  );
}

/** One-shot steps in the order their `dependsOn` asks for (migration before pgvector ensure). */
function orderOneShots(jobs: WorkloadSpec[]): string[] {
  const names = new Set(jobs.map((j) => j.name));
  const ordered: string[] = [];
  const visiting = new Set<string>();
  const visit = (job: WorkloadSpec) => {
    if (ordered.includes(job.name)) return;
    if (visiting.has(job.name)) throw new Error(`one-shot step ${job.name} waits for itself (dependsOn)`);
    visiting.add(job.name);
    for (const dependency of job.dependsOn) {
      const before = jobs.find((j) => j.name === dependency);
      if (before && names.has(dependency)) visit(before);
    }
    visiting.delete(job.name);
    ordered.push(job.name);
  };
  [...jobs].sort((a, b) => a.name.localeCompare(b.name)).forEach(visit);
  return ordered;
}

/** A rolling service with a queue trigger, as autoscale.sh and deploy.sh scale it. */
function queueScaled(workload: WorkloadSpec): QueueScaledService[] {
  const scaling = workload.autoscaling;
  const queue = scaling?.queue;
  if (!scaling || !queue) return [];
  return [
    {
      name: workload.name,
      kind: queue.kind,
      key: queue.key,
      ...(queue.consumerGroup !== undefined && { consumerGroup: queue.consumerGroup }),
      targetPerReplica: queue.targetPerReplica,
      min: scaling.minReplicas,
      max: scaling.maxReplicas,
    },
  ];
}

export function releasePlan(workloads: WorkloadSpec[]): ReleasePlan {
  const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
  const rolling = workloads.filter(isRolling).sort(byName);
  const singletons = workloads.filter((w) => !isRolling(w) && w.role !== "job").sort(byName);
  const routed = rolling
    .filter((w) => w.route)
    .map((w) => ({ name: w.name, port: w.route!.port, ...(w.health?.http ? { healthPath: w.health.http.path } : {}) }));
  const proxy = workloads.find(isProxy);
  return {
    singletons: singletons.map((w) => w.name),
    preparers: workloads
      .filter((w) => isOneShot(w) && w.runsFirst)
      .map((w) => w.name)
      .sort(),
    oneShots: orderOneShots(workloads.filter((w) => isOneShot(w) && !w.runsFirst)),
    rolling: rolling.map((w) => ({ name: w.name, replicas: Math.max(1, w.autoscaling?.minReplicas ?? w.replicas) })),
    scaled: rolling.flatMap(queueScaled),
    routed,
    scheduled: workloads
      .filter(isScheduledJob)
      .map((w) => w.name)
      .sort(),
    ...(proxy ? { proxy: proxy.name } : {}),
    liveSecrets: workloads.flatMap((w) =>
      (w.liveSecrets ?? []).map((live) => ({ service: w.name, secret: live.secret, apply: live.apply })),
    ),
  };
}
