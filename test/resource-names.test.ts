/**
 * The name rule of Ballast as a library: every resource is named after the component that parents
 * it (a child of the Platform `P` is `P-<what>`, a child of `P-secrets` is `P-secrets-<what>`), so
 * two Platforms in one program never collide; and every resource renamed against the previous
 * landed version (862b775) carries an alias to its old URN, so an upgrade replaces nothing.
 *
 * Scope: the resources of the Platform's own components (ImageBuilds, Secrets and their children).
 * The targets' resources (Compose release, Kubernetes objects), also parented to the Platform, are
 * renamed by their own change and are left out here until it lands.
 */
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { childUrn, legacyImageName, siblingUrn } from "../components/upgrades";
import { drainRegistrations, installMocks, settle, type RecordedOptions, type ResourceRecorder } from "../scripts/lib/mock-program";
import { renderStack, renderStackFile, withSecretPlaceholders, type RenderedStack } from "../scripts/lib/render-stack";
import { readStackFile } from "../scripts/lib/stack-files";

const allFeatures = join(__dirname, "fixtures", "Pulumi.all-features.yaml");
const sshKey = {
  "ballast:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nresource-names-test-key\n-----END OPENSSH PRIVATE KEY-----",
  "ballast:bootstrapSshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nresource-names-bootstrap-key\n-----END OPENSSH PRIVATE KEY-----",
};

/** The components the Platform declares itself (the targets' resources are excluded, see above). */
const partComponents = new Set(["ballast:build:ImageBuilds", "ballast:secrets:Secrets"]);
const typeOf = (key: string) => key.slice(0, key.lastIndexOf("::"));

/** The Platform, its own components and their children. */
function partsResources(recorder: ResourceRecorder): RecordedOptions[] {
  return recorder.options.filter(
    (o) =>
      o.type === "ballast:platform:Platform" ||
      partComponents.has(o.type) ||
      (o.parent !== undefined && partComponents.has(typeOf(o.parent))),
  );
}

const renders: [string, () => Promise<RenderedStack>][] = [
  ["the default Compose stack (dev)", () => renderStack("dev", {}, { platformName: "shop" })],
  ["the default Kubernetes stack (prod)", () => renderStack("prod", {}, { platformName: "shop" })],
  [
    "all-features on Compose",
    () => renderStackFile(allFeatures, "all-features", { ...sshKey, "ballast:target": "compose" }, { platformName: "shop" }),
  ],
  [
    "all-features on Kubernetes",
    () => renderStackFile(allFeatures, "all-features", { ...sshKey, "ballast:target": "kubernetes" }, { platformName: "shop" }),
  ],
];

describe("a Platform named shop", () => {
  it.each(renders)("%s: every resource of its components is named shop-…, each child after its parent", async (_, render) => {
    const { recorder } = await render();
    const resources = partsResources(recorder);
    expect(resources.filter((o) => partComponents.has(o.type)).map((o) => o.name)).toEqual(expect.arrayContaining(["shop-secrets"]));
    for (const resource of resources) {
      if (resource.type === "ballast:platform:Platform") {
        expect(resource.name).toBe("shop");
        continue;
      }
      const parentName = resource.parent!.slice(resource.parent!.lastIndexOf("::") + 2);
      expect(resource.name, `${resource.type} under ${resource.parent}`).toMatch(new RegExp(`^${parentName}-.+`));
      expect(resource.name).toMatch(/^shop-/);
    }
    // The generated secrets are among them, so the rule was checked on real children.
    expect(resources.some((o) => o.type === "random:index/randomPassword:RandomPassword")).toBe(true);
  });

  it("all-features: the four builds are children of shop-images, named after their workload", async () => {
    const { recorder } = await renderStackFile(
      allFeatures,
      "all-features",
      { ...sshKey, "ballast:target": "kubernetes" },
      { platformName: "shop" },
    );
    const images = recorder.options.filter((o) => o.type === "docker:index/image:Image");
    expect(images.map((o) => o.name).sort()).toEqual([
      "shop-images-api",
      "shop-images-llm-gateway",
      "shop-images-scout",
      "shop-images-usage-report",
    ]);
    for (const image of images) expect(image.parent).toBe("ballast:build:ImageBuilds::shop-images");
    expect(recorder.optionsOf("ballast:build:ImageBuilds", "shop-images")?.parent).toBe("ballast:platform:Platform::shop");
  });
});

/**
 * One program, two Platforms from the same stack file with different names and different
 * Compose projects / Kubernetes namespaces: what a team hosting two products on one host writes.
 */
async function twoPlatforms(stackFile: "dev" | "prod", differ: (name: string) => Record<string, unknown>): Promise<ResourceRecorder> {
  const file = readStackFile(stackFile);
  const { raw } = withSecretPlaceholders(file.raw);
  const recorder = await installMocks(stackFile, {});
  const { platformArgsFromRaw } = await import("../components/config");
  const { Platform } = await import("../components/platform");
  try {
    for (const name of ["shop", "crm"]) new Platform(name, { ...platformArgsFromRaw(raw), ...differ(name) });
    await drainRegistrations();
  } catch (error) {
    await drainRegistrations();
    throw error;
  }
  return recorder;
}

async function duplicateUrns(resources: RecordedOptions[]): Promise<string[]> {
  const urns = await Promise.all(resources.map((o) => settle(o.urn)));
  return urns.filter((urn, i) => urns.indexOf(urn) !== i);
}

describe("two Platforms in one program", () => {
  it("Compose: shop and crm with their own projects register no URN twice", async () => {
    const dev = readStackFile("dev");
    const compose = JSON.parse(dev.raw["ballast:compose"]) as Record<string, unknown>;
    const recorder = await twoPlatforms("dev", (name) => ({ compose: { ...compose, project: name } }));
    const resources = partsResources(recorder);
    expect(resources.filter((o) => o.type === "ballast:secrets:Secrets").map((o) => o.name)).toEqual(["shop-secrets", "crm-secrets"]);
    expect(resources.length).toBeGreaterThan(10);
    expect(await duplicateUrns(resources)).toEqual([]);
  });

  it("Kubernetes: shop and crm in their own namespaces register no URN twice", async () => {
    const prod = readStackFile("prod");
    const kubernetes = JSON.parse(prod.raw["ballast:kubernetes"] ?? "{}") as Record<string, unknown>;
    const recorder = await twoPlatforms("prod", (name) => ({ kubernetes: { ...kubernetes, namespace: name } }));
    const resources = partsResources(recorder);
    expect(resources.filter((o) => o.type === "ballast:secrets:Secrets").map((o) => o.name)).toEqual(["shop-secrets", "crm-secrets"]);
    expect(await duplicateUrns(resources)).toEqual([]);
  });
});

describe("URN arithmetic of the aliases", () => {
  const platform = "urn:pulumi:prod::ballast::ballast:platform:Platform::ballast";
  it("a child's URN carries its ancestors' types; a child of the stack carries none", () => {
    expect(childUrn(platform, "ballast:secrets:Secrets", "secrets")).toBe(
      "urn:pulumi:prod::ballast::ballast:platform:Platform$ballast:secrets:Secrets::secrets",
    );
    expect(childUrn("urn:pulumi:prod::ballast::pulumi:pulumi:Stack::ballast-prod", "ballast:platform:Platform", "ballast")).toBe(platform);
    expect(childUrn("urn:pulumi:prod::ballast::my:lib:Group$ballast:platform:Platform::shop", "ballast:app:App", "app")).toBe(
      "urn:pulumi:prod::ballast::my:lib:Group$ballast:platform:Platform$ballast:app:App::app",
    );
    expect(() => childUrn("ballast", "t", "n")).toThrow("not a Pulumi URN: ballast");
  });

  it("a sibling shares the parent's types; names may contain ::", () => {
    expect(
      siblingUrn("urn:pulumi:prod::ballast::ballast:platform:Platform$ballast:build:ImageBuilds::ballast-images", "ballast:app:App", "app"),
    ).toBe("urn:pulumi:prod::ballast::ballast:platform:Platform$ballast:app:App::app");
    expect(siblingUrn(platform, "t:m:R", "a::b")).toBe("urn:pulumi:prod::ballast::t:m:R::a::b");
  });

  it("the app's build was app-image whatever the app is called; the others <workload>-image", () => {
    expect(legacyImageName("app", "api")).toBe("app-image");
    expect(legacyImageName("worker", "scout")).toBe("scout-image");
    expect(legacyImageName("service", "llm-gateway")).toBe("llm-gateway-image");
  });
});

/**
 * The aliases as the SDK resolves them from the options (`Resource.__aliases`, what the engine
 * matches against the state), compared with the URNs 862b775 registered, written out by hand.
 */
describe("aliases to the URNs of 862b775", () => {
  const old = (stack: string, path: string) => `urn:pulumi:${stack}::ballast::ballast:platform:Platform$${path}`;
  const aliasesOf = async (recorder: ResourceRecorder, type: string, name: string) => {
    const options = recorder.optionsOf(type, name);
    if (!options) throw new Error(`no ${type} ${name}`);
    return Promise.all(options.aliases.map((alias) => settle(alias)));
  };

  it("prod: the secrets component and every generated secret (the protected encryption key too)", async () => {
    const { recorder } = await renderStack("prod");
    expect(await aliasesOf(recorder, "ballast:secrets:Secrets", "ballast-secrets")).toContain(
      old("prod", "ballast:secrets:Secrets::secrets"),
    );
    const children = recorder.options.filter((o) => o.parent === "ballast:secrets:Secrets::ballast-secrets");
    expect(children.map((o) => o.name).sort()).toEqual(
      [
        "auth-secret",
        "encryption-key",
        "grafana-admin-password",
        "postgres-app-password",
        "postgres-backup-password",
        "postgres-monitor-password",
        "postgres-password",
        "redis-password",
      ].map((secret) => `ballast-secrets-${secret}`),
    );
    for (const child of children) {
      const secret = child.name.slice("ballast-secrets-".length);
      expect(await aliasesOf(recorder, child.type, child.name), child.name).toContain(
        old("prod", `ballast:secrets:Secrets$${child.type}::${secret}`),
      );
    }
    expect(recorder.optionsOf("random:index/randomBytes:RandomBytes", "ballast-secrets-encryption-key")?.protect).toBe(true);
  });

  it("all-features: the rotated key generations and every image build, from their old parents", async () => {
    const { recorder } = await renderStackFile(allFeatures, "all-features", { ...sshKey, "ballast:target": "compose" });
    const bytes = "random:index/randomBytes:RandomBytes";
    for (const generation of ["encryption-key-1", "encryption-key-2"]) {
      expect(await aliasesOf(recorder, bytes, `ballast-secrets-${generation}`)).toContain(
        old("all-features", `ballast:secrets:Secrets$${bytes}::${generation}`),
      );
      expect(recorder.optionsOf(bytes, `ballast-secrets-${generation}`)?.protect).toBe(true);
    }
    const image = "docker:index/image:Image";
    const expected: Record<string, string> = {
      "ballast-images-api": `ballast:app:App$${image}::app-image`,
      "ballast-images-scout": `ballast:workers:WorkerPool$${image}::scout-image`,
      "ballast-images-usage-report": `ballast:cron:CronJobs$${image}::usage-report-image`,
      "ballast-images-llm-gateway": `ballast:services:ExtraServices$${image}::llm-gateway-image`,
    };
    for (const [name, path] of Object.entries(expected)) {
      expect(await aliasesOf(recorder, image, name), name).toContain(old("all-features", path));
    }
  });

  it("a URN the SDK resolves for an alias is what pulumi.createUrn builds for the same name and parent", async () => {
    await installMocks("prod", {});
    const parent = pulumi.createUrn("ballast", "ballast:platform:Platform");
    const expected = await settle(pulumi.createUrn("secrets", "ballast:secrets:Secrets", parent));
    expect(childUrn(await settle(parent), "ballast:secrets:Secrets", "secrets")).toBe(expected);
  });
});
