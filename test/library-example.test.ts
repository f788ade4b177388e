/**
 * examples/library/: a team's own Pulumi program that declares the stack in TypeScript through
 * `new Platform("shop", {...})` and reads no `ballast:` config. Run under mocks on both of its
 * stacks (staging: Compose over SSH, prod: Kubernetes), as `pulumi up` would run it.
 */
import { describe, expect, it, vi } from "vitest";
import { drainRegistrations, installMocks, settle, type ResourceRecorder } from "../scripts/lib/mock-program";

const programConfig = {
  "shop:openaiApiKey": "sk-LEAKCHECKopenai",
  "shop:deployKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nLEAKCHECKdeploy\n-----END OPENSSH PRIVATE KEY-----",
  "shop:bootstrapKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nLEAKCHECKbootstrap\n-----END OPENSSH PRIVATE KEY-----",
};

/** Pulumi's marker of a secret value in serialized inputs. */
const secretSignature = "4dabf18193072939515e22adb298388d";

/** Inputs with every value Pulumi holds as a secret taken out. */
function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value && typeof value === "object") {
    if (secretSignature in value) return "[secret]";
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, withoutSecrets(inner)]));
  }
  return value;
}

interface ExampleRun {
  recorder: ResourceRecorder;
  outputs: { appUrl: string; location: string; workloads: string[] };
  target: string;
}

async function runExample(stack: "staging" | "prod"): Promise<ExampleRun> {
  vi.resetModules();
  const recorder = await installMocks(stack, programConfig, Object.keys(programConfig), "shop");
  const example = await import("../examples/library/index");
  const outputs = { appUrl: await settle(example.appUrl), location: await settle(example.location), workloads: example.workloads };
  await drainRegistrations();
  return { recorder, outputs, target: example.shop.config.target };
}

describe("examples/library (Ballast as a component library)", () => {
  it("staging: Compose over SSH, the declaration's defaults merged, no ballast: config read", async () => {
    const { recorder, outputs, target } = await runExample("staging");
    expect(target).toBe("compose");
    expect(outputs.appUrl).toBe("https://app.shop.example.com");
    expect(outputs.location).toMatch(/^ssh deploy@203\.0\.113\.20:/);
    expect(outputs.workloads).toEqual(expect.arrayContaining(["app", "worker", "cleanup", "postgres", "redis", "migrate", "traefik"]));
    expect(recorder.byType("ballast:platform:Platform").map((r) => r.name)).toEqual(["shop"]);
    expect(recorder.byType("command:remote:Command").length).toBeGreaterThan(0);
    // Secrets from the program's own config stay secrets: outside Pulumi's secret envelopes, no registered input holds one.
    const plain = JSON.stringify(recorder.resources.map((r) => withoutSecrets(r.inputs)));
    expect(["LEAKCHECKopenai", "LEAKCHECKdeploy", "LEAKCHECKbootstrap"].filter((value) => plain.includes(value))).toEqual([]);
    expect(JSON.stringify(recorder.resources.map((r) => r.inputs)).includes("LEAKCHECKdeploy")).toBe(true);
  });

  it("prod: Kubernetes with the queue-scaled worker as a KEDA ScaledObject", async () => {
    const { recorder, outputs, target } = await runExample("prod");
    expect(target).toBe("kubernetes");
    expect(outputs.location).toBe("namespace shop");
    const scaled = recorder.resources.filter((r) => r.type === "kubernetes:keda.sh/v1alpha1:ScaledObject");
    expect(scaled.map((r) => (r.inputs.metadata as { name: string }).name)).toEqual(["worker"]);
    const statefulSets = recorder.byType("kubernetes:apps/v1:StatefulSet").map((r) => (r.inputs.metadata as { name: string }).name);
    expect(statefulSets).toEqual(expect.arrayContaining(["postgres", "redis"]));
  });

  it("a bad declaration fails before anything is registered, naming the key as a stack file would", async () => {
    vi.resetModules();
    const recorder = await installMocks("staging", programConfig, Object.keys(programConfig), "shop");
    const { Platform } = await import("../components");
    expect(() => new Platform("shop", { environment: "staging", app: { image: "ghcr.io/acme/shop:1.4.2", port: 70000 } })).toThrow(
      /ballast:app\.port: must be a port number between 1 and 65535/,
    );
    await drainRegistrations();
    expect(recorder.resources).toEqual([]);
  });
});
