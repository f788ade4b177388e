/**
 * Runs the whole pack over the resources the REAL program declares under mocks
 * (`renderStack` from scripts/lib/render-stack.ts), the way `pulumi preview --policy-pack`
 * would: each recorded resource becomes `ResourceValidationArgs`-like input (type, name,
 * props = its inputs with secrets unwrapped as CrossGuard does, a URN with the stack name), every resource policy sees every
 * resource, every stack policy sees them all, with the pack config file's enforcement
 * levels and settings.
 *
 * Resource options: Pulumi's mocks do not pass options to `newResource`, but the recorder
 * captures them at registration (`recorder.optionsOf`), so `protect` and `retainOnDelete`
 * are the program's real options here. (CrossGuard itself shows `protect` only.)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { resourcePolicies, stackPolicies } from "../../policies/all";
import { renderStack, renderStackFile, type RenderedStack } from "../../scripts/lib/render-stack";
import { urnOf, validateResource, validateStack, type ResourceInput } from "./harness";

export interface LeveledViolation {
  policy: string;
  level: EnforcementLevel;
  resource?: string;
  message: string;
}

export type PackConfig = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

export function packConfig(name: "dev" | "staging" | "prod"): PackConfig {
  return JSON.parse(readFileSync(join(__dirname, "..", "..", "policies", `config.${name}.json`), "utf8")) as PackConfig;
}

/** A test-only SSH key for stacks in `mode: ssh` (the stack files keep the real one encrypted). */
export const testSshKey = {
  "ballast:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\npolicy-test-key\n-----END OPENSSH PRIVATE KEY-----",
  "ballast:bootstrapSshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\npolicy-bootstrap-key\n-----END OPENSSH PRIVATE KEY-----",
};

/**
 * The mocks hand over inputs with secrets still in their wire envelope; CrossGuard's server
 * unwraps them before a policy sees the props, so the harness does the same.
 */
export function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  if (record[specialSigKey] === specialSecretSig) return unwrapSecrets(record.value);
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v)]));
}

const settled = () => new Promise((resolve) => setTimeout(resolve, 100));

export async function programResources(
  stack: string,
  overrides: Record<string, string> = {},
): Promise<{ resources: ResourceInput[]; rendered: RenderedStack }> {
  return recordedResources(stack, await renderStack(stack, { ...testSshKey, ...overrides }));
}

/** A stack file anywhere (examples, fixtures) rendered as `stack`, as policy inputs. */
export async function stackFileResources(
  path: string,
  stack: string,
  overrides: Record<string, string> = {},
): Promise<{ resources: ResourceInput[]; rendered: RenderedStack }> {
  return recordedResources(stack, await renderStackFile(path, stack, { ...testSshKey, ...overrides }));
}

async function recordedResources(stack: string, rendered: RenderedStack): Promise<{ resources: ResourceInput[]; rendered: RenderedStack }> {
  await settled();
  const resources = rendered.recorder.resources.map((r): ResourceInput => {
    const options = rendered.recorder.optionsOf(r.type, r.name);
    return {
      type: r.type,
      name: r.name,
      props: unwrapSecrets(r.inputs) as Record<string, unknown>,
      urn: urnOf(stack, r.type, r.name),
      opts: options ? { protect: options.protect, retainOnDelete: options.retainOnDelete } : undefined,
    };
  });
  return { resources, rendered };
}

function levelOf(
  config: PackConfig,
  policy: { name: string; enforcementLevel?: EnforcementLevel },
): { level: EnforcementLevel; settings: object } {
  const entry = config[policy.name];
  const all = config.all;
  const allLevel = typeof all === "string" ? all : all?.enforcementLevel;
  if (typeof entry === "string") return { level: entry, settings: {} };
  const { enforcementLevel, ...settings } = entry ?? {};
  return { level: enforcementLevel ?? allLevel ?? policy.enforcementLevel ?? "advisory", settings };
}

/** Every policy of the pack over the resources, with the pack config's levels and settings. */
export async function runPack(resources: ResourceInput[], config: PackConfig): Promise<LeveledViolation[]> {
  const violations: LeveledViolation[] = [];
  for (const policy of resourcePolicies as readonly ResourceValidationPolicy[]) {
    const { level, settings } = levelOf(config, policy);
    if (level === "disabled") continue;
    for (const resource of resources) {
      for (const message of await validateResource(policy, resource, settings)) {
        violations.push({ policy: policy.name, level, resource: `${resource.type}::${resource.name}`, message });
      }
    }
  }
  for (const policy of stackPolicies as readonly StackValidationPolicy[]) {
    const { level, settings } = levelOf(config, policy);
    if (level === "disabled") continue;
    for (const v of await validateStack(policy, resources, settings)) {
      violations.push({ policy: policy.name, level, resource: v.urn, message: v.message });
    }
  }
  return violations;
}
