/**
 * Names of the resources the targets declare, and the names they had before.
 *
 * Every target resource is a child of the Platform and is named `${platform}-<what>` (the name
 * rule of components/: a child takes its parent's name as prefix), so two Platforms in one program
 * never collide. Up to 862b775 the Compose resources were named after the Compose project
 * (`${project}-release`) and the Kubernetes objects after nothing (`deployment-app`); each renamed
 * resource carries an alias to that name under the same parent, so a running stack sees the rename
 * and nothing else: no replacement, no delete, no recreated object.
 */
import type * as pulumi from "@pulumi/pulumi";

/** One resource a target declares, by what it is. */
export type TargetResource =
  /** The Compose release Command. */
  | { kind: "release" }
  /** The Compose host bootstrap's first contact (root, once). */
  | { kind: "host-bootstrap" }
  /** The Compose host bootstrap's converge run (the admin user). */
  | { kind: "host-converge" }
  /** The record of one Compose service (records.ts). */
  | { kind: "service-record"; service: string }
  /** The Kubernetes provider every object is declared with. */
  | { kind: "kubernetes-provider" }
  /** One rendered Kubernetes object. */
  | { kind: "kubernetes-object"; objectKind: string; objectName: string };

/** The Platform the target's resources belong to: named after it and parented to it. */
export interface TargetOwner {
  /** The Platform's name (index.ts: `ballast`): the prefix of every name. */
  name: string;
  /** The Platform itself. */
  parent: pulumi.Resource;
}

/** What a resource is called without any prefix. */
function unprefixed(resource: TargetResource): string {
  switch (resource.kind) {
    case "release":
    case "host-bootstrap":
    case "host-converge":
      return resource.kind;
    case "service-record":
      return resource.service;
    case "kubernetes-provider":
      return "kubernetes";
    case "kubernetes-object":
      return `${resource.objectKind.toLowerCase()}-${resource.objectName}`;
  }
}

/** Pure: the resource's name under the Platform named `platform`. */
export function targetResourceName(platform: string, resource: TargetResource): string {
  return `${platform}-${unprefixed(resource)}`;
}

/**
 * Pure: the resource's name up to 862b775, where `project` is the model's project (the Compose
 * project, or the Pulumi project on Kubernetes): Compose resources and the provider were prefixed
 * with it, Kubernetes objects were not prefixed at all.
 */
export function previousTargetResourceName(project: string, resource: TargetResource): string {
  return resource.kind === "kubernetes-object" ? unprefixed(resource) : `${project}-${unprefixed(resource)}`;
}

/** The resource's name and, when it had another one, the alias that keeps its state: same parent, old name. */
export function targetResourceIdentity(
  owner: TargetOwner,
  project: string,
  resource: TargetResource,
): { name: string; aliases: pulumi.Alias[] } {
  const name = targetResourceName(owner.name, resource);
  const previous = previousTargetResourceName(project, resource);
  return { name, aliases: previous === name ? [] : [{ name: previous, parent: owner.parent }] };
}
