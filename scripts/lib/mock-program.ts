/**
 * Runs the real Ballast program (the code path of `pulumi up`) under Pulumi's mocks:
 * no CLI, no cloud, no network. Used by `npm run render`, the benchmarks and the tests.
 * Generated secrets get known values so leak tests can search every artifact for them.
 */
import * as pulumi from "@pulumi/pulumi";

/** One resource the program registered, with its inputs as the engine would see them. */
export interface RecordedResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  provider?: string;
}

/** Resource options as the program passed them (mocks do not see options, so they are captured separately). */
export interface RecordedOptions {
  type: string;
  name: string;
  custom: boolean;
  protect: boolean;
  retainOnDelete: boolean;
  deleteBeforeReplace: boolean;
  /** `type::name` of each explicit dependency. */
  dependsOn: string[];
  additionalSecretOutputs: string[];
  ignoreChanges: string[];
  /** `type::name` of the parent. */
  parent?: string;
  /** The resource's URN, as the engine would build it (resolves once registered). */
  urn: pulumi.Output<string>;
  /** The URNs its `aliases` stand for, as the SDK computes them from the options (`Resource.__aliases`). */
  aliases: pulumi.Output<string>[];
}

/** Values the mocks give generated secrets: recognisable, so a leak is easy to find. */
export function mockSecretValue(type: string, name: string): Record<string, string> | undefined {
  if (type === "random:index/randomPassword:RandomPassword") return { result: `LEAKCHECK${name.replace(/[^A-Za-z0-9]/g, "")}pw` };
  if (type === "random:index/randomBytes:RandomBytes") {
    // 32 bytes; the name's end keeps them apart (`<prefix>-encryption-key` and `<prefix>-encryption-key-1`).
    const hex = Buffer.from(`LEAKCHECK${name.slice(-23)}`.padEnd(32, "x")).toString("hex");
    return { hex, base64: Buffer.from(hex, "hex").toString("base64") };
  }
  return undefined;
}

export class ResourceRecorder {
  readonly resources: RecordedResource[] = [];
  readonly options: RecordedOptions[] = [];

  optionsOf(type: string, name: string): RecordedOptions | undefined {
    return this.options.find((o) => o.type === type && o.name === name);
  }

  byType(type: string): RecordedResource[] {
    return this.resources.filter((r) => r.type === type);
  }
}

/**
 * Installs mocks for a stack and its raw config. Call before importing any module that
 * declares resources; returns the recorder that will see every registered resource.
 */
export async function installMocks(
  stack: string,
  raw: Record<string, string>,
  secretKeys: string[] = [],
  project = "ballast",
): Promise<ResourceRecorder> {
  const recorder = new ResourceRecorder();
  activeRecorder = recorder;
  captureResourceOptions();
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        recorder.resources.push({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider });
        const state = { ...args.inputs, ...mockSecretValue(args.type, args.name) };
        return { id: `${args.name}-id`, state };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        return args.inputs;
      },
    },
    project,
    stack,
    false,
  );
  pulumi.runtime.setAllConfig(raw, secretKeys);
  return recorder;
}

/**
 * Waits until every registration and output of the program so far reached the mocks, so
 * the next program in the same process (another stack) does not receive late RPCs.
 */
export async function drainRegistrations(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs: () => Promise<void> };
  await settings.waitForRPCs();
}

/** Waits until every Output declared so far has settled (mocks resolve asynchronously). */
export function settle<T>(value: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(value).apply((v) => resolve(v as T)));
}

let activeRecorder: ResourceRecorder | undefined;
let optionsCaptured = false;

/** Identifies a resource object by its type and name (set by the SDK on construction). */
function resourceKey(resource: unknown): string {
  const r = resource as { __pulumiType?: string; __name?: string };
  return `${r.__pulumiType ?? "?"}::${r.__name ?? "?"}`;
}

/**
 * Mocks never see resource options (protect, retainOnDelete, dependsOn ...), and transforms
 * do not run under mocks; wrapping the SDK's registration function is the one place both
 * the options and the resource are visible.
 */
function captureResourceOptions(): void {
  if (optionsCaptured) return;
  optionsCaptured = true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const runtimeResource = require("@pulumi/pulumi/runtime/resource") as { registerResource: (...args: unknown[]) => unknown };
  const original = runtimeResource.registerResource;
  runtimeResource.registerResource = (...args: unknown[]) => {
    const [resource, parent, type, name, custom, , , , opts] = args as [
      pulumi.Resource,
      unknown,
      string,
      string,
      boolean,
      unknown,
      unknown,
      unknown,
      pulumi.CustomResourceOptions,
    ];
    const registered = original(...args);
    const dependsOn = opts?.dependsOn;
    const dependencies = (Array.isArray(dependsOn) ? dependsOn : dependsOn ? [dependsOn] : []) as unknown[];
    activeRecorder?.options.push({
      type,
      name,
      custom,
      protect: Boolean(opts?.protect),
      retainOnDelete: Boolean(opts?.retainOnDelete),
      deleteBeforeReplace: Boolean(opts?.deleteBeforeReplace),
      dependsOn: dependencies.filter((d) => !pulumi.Output.isInstance(d)).map(resourceKey),
      additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? [])],
      ignoreChanges: [...(opts?.ignoreChanges ?? [])],
      parent: parent ? resourceKey(parent) : undefined,
      // Set by the registration itself: recorded after it.
      urn: resource.urn,
      aliases: [...((resource as unknown as { __aliases?: pulumi.Output<string>[] }).__aliases ?? [])],
    });
    return registered;
  };
}
