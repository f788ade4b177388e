/**
 * Stateful storage is protected and retained (the runbooks: "Never rebuild without backing
 * up", "docker compose down -v  # Stop + delete data volumes").
 *
 * - Kubernetes StatefulSets set `persistentVolumeClaimRetentionPolicy.whenDeleted: Retain`;
 *   StatefulSets with volume claims and PersistentVolumeClaims are `protect`ed.
 *   `retainOnDelete` is checked only where it is visible: CrossGuard's resource options do
 *   not carry it (see lib/view.ts), the test harness does.
 * - Compose: the named volumes of datastores are `external: true`, so neither
 *   `docker compose down -v` nor a project rename removes them.
 *
 * Off when the policy config says `allowDataLoss: true` (the stack's `ballast:allowDataLoss`
 * is the only switch that lets a destroy delete data; both must be set).
 */
import { datastoreConfigSchema, datastoreDefaults, isDatastore, type DatastoreConfig } from "./lib/classify";
import { serviceVolumes } from "./lib/compose";
import { k8sTypes, objectName } from "./lib/kubernetes";
import { resourcePolicy } from "./lib/policy";
import { asArray, asString, at, isUnknown } from "./lib/values";
import type { ResourceView } from "./lib/view";
import { composeIdentity, workloadsOf } from "./lib/workloads";

export interface StorageConfig extends DatastoreConfig {
  /** The stack deliberately lets a destroy delete data (mirrors `ballast:allowDataLoss`). */
  allowDataLoss: boolean;
  /** More Compose services whose named volumes must be external (e.g. "grafana", "prometheus"). */
  externalVolumeServices: string[];
}

export const storageDefaults: StorageConfig = { ...datastoreDefaults, allowDataLoss: false, externalVolumeServices: [] };

function optionProblems(where: string, resource: ResourceView): string[] {
  const messages: string[] = [];
  // Options unknown to the caller (nothing recorded them): nothing to judge.
  if (!resource.opts) return messages;
  if (resource.opts.protect !== true) {
    messages.push(`${where}: is not protected; set the resource option protect: true so a destroy or replacement cannot delete the data`);
  }
  if (resource.opts.retainOnDelete === false) {
    messages.push(`${where}: retainOnDelete is off; set retainOnDelete: true so removing it from the program leaves the volume in place`);
  }
  return messages;
}

export function checkStorage(resource: ResourceView, config: StorageConfig): string[] {
  if (config.allowDataLoss) return [];
  if (resource.type === k8sTypes.pvc) {
    return optionProblems(`PersistentVolumeClaim "${objectName(resource.props, resource.name)}"`, resource);
  }
  if (resource.type === k8sTypes.statefulSet) {
    const where = `StatefulSet "${objectName(resource.props, resource.name)}"`;
    const messages: string[] = [];
    const whenDeleted = at(resource.props, "spec", "persistentVolumeClaimRetentionPolicy", "whenDeleted");
    if (!isUnknown(whenDeleted) && whenDeleted !== "Retain") {
      messages.push(
        `${where}: persistentVolumeClaimRetentionPolicy.whenDeleted is ${whenDeleted === undefined ? "not set" : `"${String(whenDeleted)}"`}; set it to "Retain" so deleting the StatefulSet keeps its volumes`,
      );
    }
    if (asArray(at(resource.props, "spec", "volumeClaimTemplates")).length > 0) messages.push(...optionProblems(where, resource));
    return messages;
  }
  const found = workloadsOf(resource);
  if (!found || found.target !== "compose") return [];
  const messages: string[] = [];
  for (const service of found.services) {
    const datastore = isDatastore(composeIdentity(service), config);
    if (!datastore && !config.externalVolumeServices.includes(service.name)) continue;
    for (const mount of serviceVolumes(service)) {
      if (mount.type !== "volume") continue;
      const where = `${service.title}${datastore ? " (datastore)" : ""}`;
      if (mount.source === undefined) {
        messages.push(
          `${where}: ${mount.target} is an anonymous volume, which "docker compose down -v" or a recreate loses; use a named external volume`,
        );
        continue;
      }
      const declared = found.project.volumes[mount.source];
      if (!declared || declared.external !== true) {
        const name = asString(declared?.name);
        messages.push(
          `${where}: volume "${mount.source}"${name ? ` (${name})` : ""} is not "external: true", so "docker compose down -v" deletes it; create it once outside the project and declare it external`,
        );
      }
    }
  }
  return messages;
}

export const storageRetained = resourcePolicy<StorageConfig>({
  name: "storage-retained",
  description:
    "Stateful storage survives a destroy: StatefulSets retain their PVCs (whenDeleted: Retain) and are protected, PVCs are protected, Compose datastore volumes are external. Off with allowDataLoss: true.",
  enforcementLevel: "mandatory",
  defaults: storageDefaults,
  configSchema: {
    properties: {
      ...datastoreConfigSchema,
      allowDataLoss: { type: "boolean", description: "Turns the policy off for a stack whose ballast:allowDataLoss is true." },
      externalVolumeServices: {
        type: "array",
        items: { type: "string" },
        description: "More Compose services whose named volumes must be external.",
      },
    },
  },
  check: checkStorage,
});
