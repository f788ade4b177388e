/**
 * Compose: the one step that gives persistent volumes to their non-root owners.
 *
 * Docker creates a named volume root-owned (and a volume an earlier release's root process
 * wrote holds root's files, such as Traefik's 0600 acme.json). A volume whose spec names an
 * `owner` is chowned to it by `volume-owners`, a one-shot that runs before any service of a
 * release starts (`runsFirst`): uid 0 with CAP_CHOWN and CAP_DAC_READ_SEARCH only (the
 * latter to walk directories a job wrote 0700), no network, read-only root, the volumes and
 * nothing else mounted. That keeps root out of the services
 * themselves (Traefik, the backup jobs). Kubernetes needs no such step: fsGroup does it.
 */
import { workload, type ImageRef, type WorkloadSpec } from "./spec";

export const VOLUME_OWNERS_JOB = "volume-owners";

/** The label the policy pack recognises the step by (root with CAP_CHOWN and CAP_DAC_READ_SEARCH only, no network). */
export const PREPARES_VOLUMES_LABEL = "ballast.dev/prepares-volumes";

/** Where each volume is mounted inside the step. */
export const VOLUME_OWNERS_MOUNT = "/volumes";

interface Ownership {
  volume: string;
  uid: number;
  gid: number;
  sizeGiB: number;
}

/** Each owned volume once; two specs naming different owners for one volume is a mistake in the code. */
export function ownedVolumes(workloads: WorkloadSpec[]): Ownership[] {
  const byVolume = new Map<string, Ownership>();
  for (const spec of workloads) {
    for (const volume of spec.volumes) {
      if (volume.kind !== "persistent" || !volume.owner) continue;
      const seen = byVolume.get(volume.name);
      if (seen && (seen.uid !== volume.owner.uid || seen.gid !== volume.owner.gid)) {
        throw new Error(
          `volume ${volume.name}: ${spec.name} wants it owned by ${volume.owner.uid}:${volume.owner.gid}, another workload by ${seen.uid}:${seen.gid}`,
        );
      }
      byVolume.set(volume.name, {
        volume: volume.name,
        uid: volume.owner.uid,
        gid: volume.owner.gid,
        sizeGiB: Math.max(seen?.sizeGiB ?? 0, volume.sizeGiB),
      });
    }
  }
  return [...byVolume.values()].sort((a, b) => a.volume.localeCompare(b.volume));
}

/** The shell the step runs: `chown -R -h` per volume (-h: a symbolic link is changed itself, never its target). */
export function volumeOwnersScript(owned: Ownership[]): string {
  return owned.map((o) => `chown -R -h ${o.uid}:${o.gid} ${VOLUME_OWNERS_MOUNT}/${o.volume}`).join(" && ");
}

/**
 * The `volume-owners` one-shot for the owned volumes of `workloads`, or undefined when none
 * has an owner. `image` needs /bin/sh and chown (the proxy's image: pulled anyway).
 */
export function volumeOwnersWorkload(workloads: WorkloadSpec[], image: ImageRef): WorkloadSpec | undefined {
  const owned = ownedVolumes(workloads);
  if (owned.length === 0) return undefined;
  return workload({
    name: VOLUME_OWNERS_JOB,
    component: "volumes",
    role: "job",
    description: `Gives ${owned.map((o) => `${o.volume} to ${o.uid}:${o.gid}`).join(", ")} before any service starts (Docker creates volumes root-owned)`,
    image,
    command: ["sh", "-c", volumeOwnersScript(owned)],
    resources: { requests: { cpu: 0.05, memoryMiB: 16 }, limits: { cpu: 0.25, memoryMiB: 32 } },
    volumes: owned.map((o) => ({
      kind: "persistent" as const,
      name: o.volume,
      mountPath: `${VOLUME_OWNERS_MOUNT}/${o.volume}`,
      sizeGiB: o.sizeGiB,
    })),
    runsFirst: true,
    jobTimeoutSeconds: 300,
    pidsLimit: 16,
    network: { fromProxy: false, allowFrom: [], egressInternet: false },
    // chown needs CAP_CHOWN; walking a directory a job wrote 0700 needs CAP_DAC_READ_SEARCH.
    security: {
      readOnlyRootFilesystem: true,
      addCapabilities: ["CHOWN", "DAC_READ_SEARCH"],
      runAsRoot: true,
      runAsUser: 0,
      runAsGroup: 0,
      privileged: false,
      hostPid: false,
      hostNetwork: false,
    },
    labels: { [PREPARES_VOLUMES_LABEL]: "true" },
    stopGracePeriodSeconds: 10,
  });
}

/** The workloads with the step added in front of them when a volume has an owner (Compose only). */
export function withVolumeOwners(workloads: WorkloadSpec[], image: ImageRef): WorkloadSpec[] {
  const step = volumeOwnersWorkload(workloads, image);
  if (!step) return workloads;
  // Every service that mounts an owned volume waits for the step on a plain `docker compose up` too.
  const owned = new Set(ownedVolumes(workloads).map((o) => o.volume));
  const waiting = workloads.map((w) =>
    w.role !== "job" && w.volumes.some((v) => v.kind === "persistent" && owned.has(v.name))
      ? { ...w, dependsOn: [...w.dependsOn, step.name] }
      : w,
  );
  return [step, ...waiting];
}
