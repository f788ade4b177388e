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

/** Values the mocks give generated secrets: recognisable, so a leak is easy to find. */
export function mockSecretValue(type: string, name: string): Record<string, string> | undefined {
  if (type === "random:index/randomPassword:RandomPassword") return { result: `LEAKCHECK${name.replace(/[^A-Za-z0-9]/g, "")}pw` };
  if (type === "random:index/randomBytes:RandomBytes") {
    const hex = Buffer.from(`LEAKCHECK${name}`.padEnd(32, "x").slice(0, 32)).toString("hex");
    return { hex, base64: Buffer.from(hex, "hex").toString("base64") };
  }
  return undefined;
}

export class ResourceRecorder {
  readonly resources: RecordedResource[] = [];

  byType(type: string): RecordedResource[] {
    return this.resources.filter((r) => r.type === type);
  }
}

/**
 * Installs mocks for a stack and its raw config. Call before importing any module that
 * declares resources; returns the recorder that will see every registered resource.
 */
export async function installMocks(stack: string, raw: Record<string, string>, secretKeys: string[] = [], project = "ballast"): Promise<ResourceRecorder> {
  const recorder = new ResourceRecorder();
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

/** Waits until every Output declared so far has settled (mocks resolve asynchronously). */
export function settle<T>(value: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(value).apply((v) => resolve(v as T)));
}
