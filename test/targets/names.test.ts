/**
 * The names of the target resources: `<platform>-<what>` under the Platform, each with an alias to
 * the name it had up to 862b775 (`<project>-release`, `<project>-<service>`, `<project>-kubernetes`,
 * `<kind>-<name>`), so a running stack keeps every resource.
 *
 * The whole program runs under mocks with a Platform named "shop" (not the Pulumi project's
 * `ballast`, nor the Compose project): every RegisterResource request is read at the mock
 * monitor, where the alias specs are exactly what the engine would receive.
 */
import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  previousTargetResourceName,
  targetResourceIdentity,
  targetResourceName,
  type TargetResource,
} from "../../components/targets/names";
import { drainRegistrations, installMocks } from "../../scripts/lib/mock-program";
import { withSecretPlaceholders } from "../../scripts/lib/render-stack";
import { readStackFile, readStackFileAt, type StackFile } from "../../scripts/lib/stack-files";

/** The parts of a RegisterResourceRequest (protobuf) read here. */
interface RegisterResourceRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getProvider(): string;
  getAliasesList(): { getSpec(): { getName(): string; getType(): string; getParenturn(): string } | undefined }[];
}

interface MockMonitor {
  registerResource(request: RegisterResourceRequest, callback: (...args: unknown[]) => void): Promise<void>;
}

interface Registration {
  type: string;
  name: string;
  parent: string;
  provider: string;
  /** Aliases that rename (the Kubernetes SDK adds its own for earlier API versions of a kind: other type, same name). */
  aliases: { name: string; parent: string }[];
}

/** Resource types the targets declare (everything else belongs to the Platform's other parts). */
function isTargetResource(type: string): boolean {
  return (
    type.startsWith("command:") ||
    type === "pulumi-nodejs:dynamic/ballast:ComposeService" ||
    type.startsWith("kubernetes:") ||
    type === "pulumi:providers:kubernetes"
  );
}

const sshKeys = {
  "ballast:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nnames-test-key\n-----END OPENSSH PRIVATE KEY-----",
  "ballast:bootstrapSshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nnames-test-bootstrap\n-----END OPENSSH PRIVATE KEY-----",
};
const allFeatures = join(__dirname, "..", "fixtures", "Pulumi.all-features.yaml");

type Args = import("../../components/config").PlatformArgs;

/**
 * Runs the program of a stack file under mocks with Platforms of the given names (each may adjust
 * the args, as a library program would) and returns every registration.
 */
async function register(file: StackFile, overrides: Record<string, string>, platforms: { name: string; args?: (args: Args) => Args }[]) {
  const { raw } = withSecretPlaceholders({ ...file.raw, ...overrides });
  await installMocks(file.stack, raw, [...file.secretKeys, "ballast:secretValues", "ballast:sshPrivateKey"]);
  const registrations: Registration[] = [];
  const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitor;
  const forward = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request, callback) => {
    registrations.push({
      type: request.getType(),
      name: request.getName(),
      parent: request.getParent(),
      provider: request.getProvider(),
      aliases: request
        .getAliasesList()
        .map((alias) => alias.getSpec())
        .filter((spec) => spec !== undefined && spec.getName() !== "")
        .map((spec) => ({ name: spec!.getName(), type: spec!.getType(), parent: spec!.getParenturn() }))
        .map(({ type, ...alias }) => {
          // A rename keeps the type: an alias of ours never names another one.
          if (type !== "") throw new Error(`${request.getName()}: an alias to another type (${type})`);
          return alias;
        }),
    });
    return forward(request, callback);
  };
  try {
    const { platformArgsFromStackConfig } = await import("../../components/config");
    const { Platform } = await import("../../components/platform");
    const built = platforms.map(({ name, args }) => new Platform(name, (args ?? ((a) => a))(platformArgsFromStackConfig())));
    return { registrations, models: built.map((platform) => platform.model) };
  } finally {
    await drainRegistrations();
  }
}

const platformUrn = (stack: string, name: string) => `urn:pulumi:${stack}::ballast::ballast:platform:Platform::${name}`;

/** What each target resource must have been called before: derived here from the name, not by the function under test. */
function expectedPrevious(registration: Registration, platform: string, project: string): string {
  const what = registration.name.slice(`${platform}-`.length);
  return registration.type.startsWith("kubernetes:") ? what : `${project}-${what}`;
}

describe("the old -> new name mapping", () => {
  const cases: [TargetResource, string, string][] = [
    [{ kind: "release" }, "ballast-e2e-release", "shop-release"],
    [{ kind: "host-bootstrap" }, "ballast-e2e-host-bootstrap", "shop-host-bootstrap"],
    [{ kind: "host-converge" }, "ballast-e2e-host-converge", "shop-host-converge"],
    [{ kind: "service-record", service: "postgres" }, "ballast-e2e-postgres", "shop-postgres"],
    [{ kind: "kubernetes-provider" }, "ballast-e2e-kubernetes", "shop-kubernetes"],
    [{ kind: "kubernetes-object", objectKind: "StatefulSet", objectName: "postgres" }, "statefulset-postgres", "shop-statefulset-postgres"],
    [
      { kind: "kubernetes-object", objectKind: "PersistentVolumeClaim", objectName: "traefik-acme" },
      "persistentvolumeclaim-traefik-acme",
      "shop-persistentvolumeclaim-traefik-acme",
    ],
  ];

  it.each(cases)("%o: %s -> %s", (resource, previous, name) => {
    expect(previousTargetResourceName("ballast-e2e", resource)).toBe(previous);
    expect(targetResourceName("shop", resource)).toBe(name);
  });

  it("aliases a renamed resource to its old name under the same parent, and an unchanged one to nothing", () => {
    const parent = {} as pulumi.Resource;
    expect(targetResourceIdentity({ name: "shop", parent }, "ballast", { kind: "release" })).toEqual({
      name: "shop-release",
      aliases: [{ name: "ballast-release", parent }],
    });
    // index.ts's Platform is `ballast` and the default Compose project is the Pulumi project `ballast`: no rename.
    expect(targetResourceIdentity({ name: "ballast", parent }, "ballast", { kind: "kubernetes-provider" })).toEqual({
      name: "ballast-kubernetes",
      aliases: [],
    });
    // Kubernetes objects had no prefix at all: always renamed.
    expect(
      targetResourceIdentity({ name: "ballast", parent }, "ballast", {
        kind: "kubernetes-object",
        objectKind: "Secret",
        objectName: "ballast-secrets",
      }),
    ).toEqual({ name: "ballast-secret-ballast-secrets", aliases: [{ name: "secret-ballast-secrets", parent }] });
  });
});

describe("a Platform named shop: every target resource is shop-..., aliased to its old name under the Platform", () => {
  const scenarios: { title: string; file: () => StackFile; overrides: Record<string, string>; expected: string[] }[] = [
    {
      title: "staging (Compose over SSH, bootstrap on)",
      file: () => readStackFile("staging"),
      overrides: sshKeys,
      expected: ["shop-release", "shop-host-bootstrap", "shop-host-converge", "shop-app", "shop-postgres", "shop-redis", "shop-traefik"],
    },
    {
      title: "prod (Kubernetes)",
      file: () => readStackFile("prod"),
      overrides: {},
      expected: [
        "shop-kubernetes",
        "shop-namespace-ballast",
        "shop-statefulset-postgres",
        "shop-secret-ballast-secrets",
        "shop-deployment-app",
      ],
    },
    {
      title: "all-features on Compose",
      file: () => readStackFileAt(allFeatures, "all-features"),
      overrides: { ...sshKeys, "ballast:target": "compose" },
      expected: ["shop-release", "shop-host-bootstrap", "shop-host-converge", "shop-api", "shop-postgres", "shop-backup"],
    },
    {
      title: "all-features on Kubernetes",
      file: () => readStackFileAt(allFeatures, "all-features"),
      overrides: { ...sshKeys, "ballast:target": "kubernetes" },
      expected: ["shop-kubernetes", "shop-statefulset-postgres", "shop-deployment-api", "shop-cronjob-backup"],
    },
  ];

  it.each(scenarios)("$title", async ({ file, overrides, expected }) => {
    const stack = file();
    const { registrations, models } = await register(stack, overrides, [{ name: "shop" }]);
    const project = models[0].project;
    const parent = platformUrn(stack.stack, "shop");
    const targets = registrations.filter((registration) => isTargetResource(registration.type));
    expect(targets.length).toBeGreaterThan(expected.length);
    expect(targets.map((registration) => registration.name)).toEqual(expect.arrayContaining(expected));
    for (const registration of targets) {
      expect(registration.name, registration.type).toMatch(/^shop-/);
      expect(registration.parent, registration.name).toBe(parent);
      expect(registration.aliases, registration.name).toEqual([{ name: expectedPrevious(registration, "shop", project), parent }]);
    }
    // Every Kubernetes object stays on the (renamed, aliased) provider.
    for (const registration of targets.filter((candidate) => candidate.type.startsWith("kubernetes:"))) {
      expect(registration.provider, registration.name).toMatch(/\$pulumi:providers:kubernetes::shop-kubernetes::/);
    }
  });

  it("two Platforms in one program (each with its own Compose project) declare no target resource twice", async () => {
    const withProject = (project: string) => (args: Args) => ({ ...args, compose: { ...args.compose, project } });
    const { registrations } = await register(readStackFile("staging"), sshKeys, [
      { name: "shop", args: withProject("shop") },
      { name: "blog", args: withProject("blog") },
    ]);
    const targets = registrations.filter((registration) => isTargetResource(registration.type));
    const shop = targets.filter((registration) => registration.name.startsWith("shop-"));
    const blog = targets.filter((registration) => registration.name.startsWith("blog-"));
    expect(shop.length).toBeGreaterThan(3);
    expect(blog.length).toBe(shop.length);
    // A URN is the parent's type, the type and the name: no two target resources may share type and name.
    const keys = targets.map((registration) => `${registration.type}::${registration.name}`);
    expect(new Set(keys).size).toBe(keys.length);
    // The Compose project equals the Platform's name here: nothing was renamed, no alias.
    for (const registration of targets) expect(registration.aliases, registration.name).toEqual([]);
  });

  it("index.ts's Platform (ballast) on a stack whose Compose project is ballast keeps the Compose names, and renames the Kubernetes objects", async () => {
    const compose = (await register(readStackFile("staging"), sshKeys, [{ name: "ballast" }])).registrations.filter((r) =>
      isTargetResource(r.type),
    );
    expect(compose.map((registration) => registration.name)).toEqual(expect.arrayContaining(["ballast-release", "ballast-app"]));
    for (const registration of compose) expect(registration.aliases, registration.name).toEqual([]);
    const kubernetes = (await register(readStackFile("prod"), {}, [{ name: "ballast" }])).registrations.filter((r) =>
      isTargetResource(r.type),
    );
    const provider = kubernetes.find((registration) => registration.type === "pulumi:providers:kubernetes");
    expect(provider).toMatchObject({ name: "ballast-kubernetes", aliases: [] });
    const secret = kubernetes.find((registration) => registration.type === "kubernetes:core/v1:Secret");
    expect(secret).toMatchObject({
      name: "ballast-secret-ballast-secrets",
      aliases: [{ name: "secret-ballast-secrets", parent: platformUrn("prod", "ballast") }],
    });
  });
});
