/**
 * The one interface both deployment targets implement.
 *
 * `render` is pure (model in, files out) and is what `npm run render` writes and
 * what reviewers read; `deploy` is the thin Pulumi layer that turns the same
 * rendered objects into resources.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { SecretName, StackModel } from "../spec";
import type { TargetOwner } from "./names";

export type { TargetOwner } from "./names";

/** A file a target renders, relative to the target's output folder (`compose/`, `kubernetes/`). */
export interface RenderedFile {
  path: string;
  content: string;
  /** Octal file mode on the host (0o600 for anything holding secrets). */
  mode?: number;
}

/** Secret values by name; always Pulumi secrets. */
export type SecretValues = Record<SecretName, pulumi.Output<string>>;

export interface TargetOutputs {
  /** Public URL of the app. */
  appUrl: pulumi.Output<string>;
  /** Where the stack runs: `ssh user@host:/opt/ballast`, `local docker`, or `namespace ballast`. */
  location: pulumi.Output<string>;
}

export interface Target {
  readonly kind: "compose" | "kubernetes";
  /** Pure: the files that describe what would be deployed, without any secret value. */
  render(model: StackModel): RenderedFile[];
  /**
   * Declares the Pulumi resources for the model, each parented to `owner.parent` (the Platform) and
   * named `${owner.name}-<what>` (./names.ts), with an alias to the name it had before.
   */
  deploy(model: StackModel, secrets: SecretValues, owner: TargetOwner): TargetOutputs;
}
