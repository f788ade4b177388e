/**
 * What earlier Ballast versions named the resources that have since been renamed or re-parented,
 * and the URN arithmetic behind their `aliases`: without an alias a running stack would see a
 * rename as delete-and-create (new generated secrets, a lost encryption key). The URN format is
 * the engine's: `urn:pulumi:<stack>::<project>::<ancestor types joined by $>$<type>::<name>`.
 */

/** Up to 862b775 the secrets component was named `secrets` and its children by the secret's name alone. */
export const LEGACY_SECRETS = { type: "ballast:secrets:Secrets", name: "secrets" } as const;

/** What builds an image: the app, a worker, a cron job or an extra service. */
export type ImageOwner = "app" | "worker" | "cron" | "service";

/**
 * Up to 862b775 each image build was a child of the component of its workload (parented to the
 * Platform): `app-image` under `App "app"`, `<worker>-image` under `WorkerPool "workers"`,
 * `<job>-image` under `CronJobs "cron"`, `<service>-image` under `ExtraServices "services"`.
 */
export const LEGACY_IMAGE_PARENTS: Record<ImageOwner, { type: string; name: string }> = {
  app: { type: "ballast:app:App", name: "app" },
  worker: { type: "ballast:workers:WorkerPool", name: "workers" },
  cron: { type: "ballast:cron:CronJobs", name: "cron" },
  service: { type: "ballast:services:ExtraServices", name: "services" },
};

/** Pure: the name an image build had up to 862b775 (the App component named its own `app-image`). */
export function legacyImageName(owner: ImageOwner, workload: string): string {
  return owner === "app" ? "app-image" : `${workload}-image`;
}

interface ParsedUrn {
  /** `urn:pulumi:<stack>::<project>` */
  stackAndProject: string;
  /** The resource's type, prefixed by its ancestors' types joined by `$`. */
  qualifiedType: string;
  name: string;
}

function parseUrn(urn: string): ParsedUrn {
  const parts = urn.split("::");
  if (parts.length < 4 || !parts[0].startsWith("urn:pulumi:")) throw new Error(`not a Pulumi URN: ${urn}`);
  // A resource name may itself contain "::"; stack, project and types never do.
  return { stackAndProject: `${parts[0]}::${parts[1]}`, qualifiedType: parts[2], name: parts.slice(3).join("::") };
}

/**
 * Pure: the URN of a resource of `type` named `name` whose parent has the URN `parentUrn`, as the
 * engine builds it (children of the root stack carry no parent type).
 */
export function childUrn(parentUrn: string, type: string, name: string): string {
  const parent = parseUrn(parentUrn);
  const prefix = parent.qualifiedType === "pulumi:pulumi:Stack" ? "" : `${parent.qualifiedType}$`;
  return `${parent.stackAndProject}::${prefix}${type}::${name}`;
}

/** Pure: the URN of a resource of `type` named `name` beside the resource `urn` (same parent). */
export function siblingUrn(urn: string, type: string, name: string): string {
  const own = parseUrn(urn);
  const cut = own.qualifiedType.lastIndexOf("$");
  const prefix = cut === -1 ? "" : `${own.qualifiedType.slice(0, cut)}$`;
  return `${own.stackAndProject}::${prefix}${type}::${name}`;
}
