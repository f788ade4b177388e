/**
 * What a check sees of one resource: type, name, URN, plain props and the resource options
 * CrossGuard exposes. Built from `ResourceValidationArgs` / `PolicyResource` by the policy
 * wrappers (./policy.ts), or by hand in tests.
 */
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import type { Props } from "./values";

export interface ResourceOptionsView {
  /** `protect` as CrossGuard reports it (`ResourceValidationArgs.opts.protect`). */
  protect?: boolean;
  /**
   * `retainOnDelete`. CrossGuard does NOT expose it (`PolicyResourceOptions` of @pulumi/policy
   * 1.21 and the analyzer protocol carry protect, ignoreChanges, deleteBeforeReplace, aliases,
   * customTimeouts, additionalSecretOutputs and parent only), so under the CLI it is always
   * undefined and only `protect` is enforced. The test harness records it from the mock
   * monitor and sets it here, so the real program's retention is checked in tests.
   */
  retainOnDelete?: boolean;
}

export interface ResourceView {
  type: string;
  name: string;
  urn: string;
  props: Props;
  /** Undefined when the options are not known (a caller that cannot see them). */
  opts?: ResourceOptionsView;
}

/** A violation of a stack policy; `urn` names the offending resource when there is one. */
export interface StackFinding {
  message: string;
  urn?: string;
}

export type Environment = "dev" | "staging" | "prod";

/** `urn:pulumi:<stack>::<project>::<type>::<name>` -> `<stack>`. */
export function stackOfUrn(urn: string): string | undefined {
  const match = /^urn:pulumi:([^:]+)::/.exec(urn);
  return match ? match[1] : undefined;
}

/**
 * The environment a resource belongs to: the policy config's `environment` when set, else
 * derived from the stack name in the URN (`dev*`/`development*`/`local*` -> dev,
 * `staging*`/`stage*` -> staging, `prod*`/`production*` -> prod). A stack name that says
 * neither counts as prod: an unknown stack gets the strictest checks.
 */
export function environmentOf(urn: string | undefined, configured?: string): Environment {
  if (configured === "dev" || configured === "staging" || configured === "prod") return configured;
  const stack = urn ? (stackOfUrn(urn) ?? "") : "";
  const head = stack.toLowerCase().split(/[-_.]/)[0];
  if (["dev", "development", "local"].includes(head)) return "dev";
  if (["staging", "stage", "stg"].includes(head)) return "staging";
  return "prod";
}

/** Shared config property: which environment the stack is (overrides the stack-name guess). */
export const environmentConfigSchema: PolicyConfigJSONSchema = {
  type: "string",
  enum: ["dev", "staging", "prod"],
  description:
    "Environment of the stack; when unset it is derived from the stack name (dev*/staging*/prod*), and an unrecognised name counts as prod.",
};
