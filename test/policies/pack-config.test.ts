/**
 * The pack's own files: package.json pins what the root pins, the example pack configs
 * name only real policies and satisfy each policy's config schema (as `pulumi preview
 * --policy-pack-config` validates them), and every policy is documented.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ballastPolicies } from "../../policies/all";

const root = join(__dirname, "..", "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");

describe("the policy pack's files", () => {
  it("depends on the same @pulumi/policy, @pulumi/pulumi and yaml versions as the project", () => {
    const project = JSON.parse(read("package.json")) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const pack = JSON.parse(read("policies/package.json")) as { version: string; dependencies: Record<string, string> };
    const pinned = { ...project.dependencies, ...project.devDependencies };
    expect(Object.keys(pack.dependencies).sort()).toEqual(["@pulumi/policy", "@pulumi/pulumi", "yaml"]);
    for (const [name, version] of Object.entries(pack.dependencies)) expect(version, name).toBe(pinned[name]);
    expect(pack.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("declares a nodejs pack", () => {
    const manifest = parse(read("policies/PulumiPolicy.yaml")) as { runtime: string; description: string };
    expect(manifest.runtime).toBe("nodejs");
    expect(manifest.description.length).toBeGreaterThan(20);
  });

  it('has unique policy names that are not the reserved "all"', () => {
    const names = ballastPolicies.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).not.toContain("all");
  });

  it.each(["dev", "staging", "prod"])("config.%s.json names real policies with valid settings", (stack) => {
    const config = JSON.parse(read(`policies/config.${stack}.json`)) as Record<string, unknown>;
    const ajv = new Ajv({ strict: false });
    for (const [name, entry] of Object.entries(config)) {
      if (name === "all") {
        expect(["advisory", "mandatory", "disabled"]).toContain(entry);
        continue;
      }
      const policy = ballastPolicies.find((p) => p.name === name);
      expect(policy, `${name} is not a policy of the pack`).toBeDefined();
      if (typeof entry === "string") continue;
      const { enforcementLevel: _level, ...settings } = entry as Record<string, unknown>;
      const schema = { type: "object", properties: policy?.configSchema?.properties ?? {}, additionalProperties: false };
      const validate = ajv.compile(schema);
      expect(validate(settings), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    expect(config.all).toBe(stack === "dev" ? "advisory" : "mandatory");
  });

  it("documents every policy and its default enforcement level in docs/policies.md", () => {
    const doc = read("docs/policies.md");
    for (const policy of ballastPolicies) {
      expect(doc, policy.name).toContain(`| \`${policy.name}\` | ${policy.enforcementLevel} |`);
    }
  });
});
