/**
 * Turns a pure check into a CrossGuard policy object. The check gets plain data and the
 * policy config with its defaults applied, and returns violation messages; the wrapper
 * does the CrossGuard plumbing (props materialised, config defaults, reportViolation).
 * Tests call either the check or the policy's `validateResource` / `validateStack`.
 */
import type {
  EnforcementLevel,
  PolicyConfigSchema,
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import { materialise, type Props } from "./values";
import type { ResourceView, StackFinding } from "./view";

export type ResourceCheck<C> = (resource: ResourceView, config: C) => string[];
export type StackCheck<C> = (resources: ResourceView[], config: C) => StackFinding[];

interface PolicyDefinition<C> {
  name: string;
  description: string;
  enforcementLevel: EnforcementLevel;
  /** JSON schema of the policy's own config (enforcementLevel is added by CrossGuard). */
  configSchema?: PolicyConfigSchema;
  /** Config used when the pack config does not set a property. */
  defaults: C;
  remediationSteps?: string;
}

export type BallastResourcePolicy<C> = ResourceValidationPolicy & { check: ResourceCheck<C>; defaults: C };
export type BallastStackPolicy<C> = StackValidationPolicy & { check: StackCheck<C>; defaults: C };

/** Config from the pack config file over the defaults (CrossGuard returns `{}` when unset). */
export function withDefaults<C extends object>(defaults: C, given: object | undefined): C {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(given ?? {})) {
    if (value !== undefined && value !== null && key !== "enforcementLevel") out[key] = value;
  }
  return out as C;
}

export function viewOfArgs(
  args: Pick<ResourceValidationArgs, "type" | "name" | "urn" | "props"> & { opts?: ResourceView["opts"] },
): ResourceView {
  return {
    type: args.type,
    name: args.name,
    urn: args.urn,
    props: (materialise(args.props) ?? {}) as Props,
    opts: args.opts ? { protect: args.opts.protect, retainOnDelete: args.opts.retainOnDelete } : undefined,
  };
}

export function viewOfResource(
  resource: Pick<PolicyResource, "type" | "name" | "urn" | "props"> & { opts?: ResourceView["opts"] },
): ResourceView {
  return viewOfArgs(resource);
}

export function resourcePolicy<C extends object>(definition: PolicyDefinition<C> & { check: ResourceCheck<C> }): BallastResourcePolicy<C> {
  const { check, defaults, ...meta } = definition;
  return {
    ...meta,
    check,
    defaults,
    validateResource: (args, reportViolation) => {
      const config = withDefaults(defaults, args.getConfig<object>());
      for (const message of check(viewOfArgs(args), config)) reportViolation(message);
    },
  };
}

export function stackPolicy<C extends object>(definition: PolicyDefinition<C> & { check: StackCheck<C> }): BallastStackPolicy<C> {
  const { check, defaults, ...meta } = definition;
  return {
    ...meta,
    check,
    defaults,
    validateStack: (args, reportViolation) => {
      const config = withDefaults(defaults, args.getConfig<object>());
      for (const finding of check(args.resources.map(viewOfResource), config)) reportViolation(finding.message, finding.urn);
    },
  };
}
