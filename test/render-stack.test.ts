/**
 * The render path of `npm run render` and the tests: stack files at any path, the secret
 * placeholders a render fills, and renders that start together (the mocks are process-global).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderStack, renderStackFile, withSecretPlaceholders } from "../scripts/lib/render-stack";
import { projectRoot, readStackFile, readStackFileAt, stackNameOfPath } from "../scripts/lib/stack-files";

const raw = (values: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(values).map(([key, value]) => [`ballast:${key}`, JSON.stringify(value)]));

describe("stack files at any path", () => {
  it("takes the stack name from Pulumi.<stack>.yaml, or an explicit one", () => {
    expect(stackNameOfPath("examples/nyxcore/Pulumi.compose.yaml")).toBe("compose");
    expect(() => stackNameOfPath("examples/nyxcore/stack.yaml")).toThrow(/Pulumi\.<stack>\.yaml/);
    const path = join(projectRoot, "Pulumi.dev.yaml");
    expect(readStackFileAt(path)).toEqual(readStackFile("dev"));
    expect(readStackFileAt(path, "other").stack).toBe("other");
    expect(() => readStackFileAt(join(projectRoot, "Pulumi.missing.yaml"))).toThrow(/no stack file/);
  });
});

describe("withSecretPlaceholders", () => {
  it("fills declared secrets without a value and keeps supplied ones", () => {
    const { raw: filled, placeholders } = withSecretPlaceholders({
      ...raw({ secrets: { "openai-api-key": { description: "d", rotation: "r" }, "admin-key": { description: "d", rotation: "r" } } }),
      "ballast:secretValues": JSON.stringify({ "admin-key": "given" }),
    });
    expect(placeholders).toEqual(["openai-api-key"]);
    expect(JSON.parse(filled["ballast:secretValues"])).toEqual({
      "admin-key": "given",
      "openai-api-key": "render-placeholder-openai-api-key",
    });
  });

  it("fills the supplied-only built-ins the file's features need, and only those", () => {
    const needed = withSecretPlaceholders(
      raw({
        postgres: { external: true },
        registry: { server: "ghcr.io", username: "ci" },
        backups: { s3: { bucket: "b" } },
        monitoring: { alertmanager: { receiver: { type: "webhook", url: "https://hooks.example.com/a" } } },
      }),
    ).placeholders;
    expect(needed).toEqual([
      "database-url",
      "registry-password",
      "backup-s3-access-key-id",
      "backup-s3-secret-access-key",
      "alertmanager-receiver",
    ]);
    const none = withSecretPlaceholders(
      raw({
        postgres: { external: false },
        registry: { server: "ghcr.io" },
        monitoring: { alertmanager: { receiver: { type: "webhook", url: "https://hooks.example.com/a", auth: "none" } } },
      }),
    ).placeholders;
    expect(none).toEqual([]);
    expect(withSecretPlaceholders(readStackFile("dev").raw).placeholders).toEqual([]);
  });
});

describe("renders started together", () => {
  it("run one after the other, each with its own config", async () => {
    const [dev, file] = await Promise.all([
      renderStack("dev"),
      renderStackFile(join(projectRoot, "examples", "ai-training-portal", "Pulumi.compose.yaml")),
    ]);
    expect(dev.stack).toBe("dev");
    expect(dev.model.workloads.map((w) => w.name)).toContain("app");
    expect(file.stack).toBe("compose");
    expect(file.model.workloads.map((w) => w.name)).toContain("web");
    expect(file.model.workloads.map((w) => w.name)).not.toContain("app");
  });
});
