/**
 * What a workload is, on either target: a datastore, an app/worker, a per-node agent.
 * A component label decides when present (`app.kubernetes.io/component` on Kubernetes,
 * `ballast.component` on Compose); otherwise the image (and for agents the name) does.
 * The label wins so that e.g. a backup job running the postgres image is not a datastore,
 * and jobs (a pgvector "ensure" job labelled postgres) never are.
 */
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { parseImageRef } from "./image-ref";

export interface WorkloadIdentity {
  name: string;
  /** Component label, when the renderer set one. */
  component?: string;
  /** Images of the workload's containers (strings only; unknown images are left out). */
  images: string[];
  /** `job` for run-to-completion workloads (Kubernetes Job/CronJob, Compose `ballast.role: job`). */
  role?: string;
}

export interface DatastoreConfig {
  /** Image basenames that are datastores (`postgres`, `pgvector`, `redis` ...). */
  datastoreImages: string[];
  /** Component label values that are datastores. */
  datastoreComponents: string[];
}

export const datastoreDefaults: DatastoreConfig = {
  datastoreImages: ["postgres", "postgresql", "pgvector", "redis", "valkey"],
  datastoreComponents: ["postgres", "redis"],
};

export const datastoreConfigSchema: Record<string, PolicyConfigJSONSchema> = {
  datastoreImages: {
    type: "array",
    items: { type: "string" },
    description: "Image basenames that identify a datastore when a workload has no component label.",
  },
  datastoreComponents: {
    type: "array",
    items: { type: "string" },
    description: "Component label values that identify a datastore.",
  },
};

/** Roles that run to completion or schedule others: never a datastore, whatever their image. */
const transientRoles = ["job", "scheduler"];

export function isDatastore(workload: WorkloadIdentity, config: DatastoreConfig): boolean {
  if (workload.role !== undefined && transientRoles.includes(workload.role)) return false;
  if (workload.component !== undefined) return config.datastoreComponents.includes(workload.component);
  return workload.images.some((image) => config.datastoreImages.includes(parseImageRef(image).basename));
}

/** Is this the named agent (by workload name or image basename)? */
export function matchesAgent(workload: WorkloadIdentity, agents: string[]): boolean {
  if (agents.includes(workload.name)) return true;
  return workload.images.some((image) => agents.includes(parseImageRef(image).basename));
}
