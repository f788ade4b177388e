import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../scripts/drift";
import { declaredChanges, driftFromRefreshPreview, formatDriftReport } from "../scripts/drift-report";

const fixture = (name: string) => path.join(__dirname, "fixtures", "drift", name);
const read = (name: string) => fs.readFileSync(fixture(name), "utf8");

describe("drift report from `pulumi refresh --preview-only --json`", () => {
  it("finds nothing in the CLI's output for a stack that matches (captured from the real CLI)", () => {
    const report = driftFromRefreshPreview("t", read("refresh-clean.json"));
    expect(report).toEqual({ stack: "t", changes: [], unchanged: 2 });
    expect(formatDriftReport(report)).toBe("No drift in stack `t`: all 2 resources match the last deployment.\n");
  });

  it("names each drifted resource, its type, and each declared property with recorded and live values", () => {
    const report = driftFromRefreshPreview("prod", read("refresh-drifted.json"));
    expect(report.unchanged).toBe(2);
    expect(report.changes.map((c) => [c.name, c.type, c.op])).toEqual([
      ["ballast-app", "kubernetes:apps/v1:Deployment", "update"],
      ["ballast-prometheus-config", "kubernetes:core/v1:ConfigMap", "update"],
      ["ballast-default-deny", "kubernetes:networking.k8s.io/v1:NetworkPolicy", "delete"],
    ]);
    expect(report.changes[0].properties).toEqual([
      "spec.replicas: 2 → 5",
      'spec.template.spec.containers[0].image: "ghcr.io/acme/app@sha256:1111" → "ghcr.io/acme/app:hotfix"',
    ]);
    // ConfigMap and Secret data may hold credentials: named, never shown.
    expect(report.changes[1].properties).toEqual(["data.prometheus.yml: (hidden) → (hidden)"]);
    expect(report.changes[2].properties).toEqual(["the resource no longer exists"]);
  });

  it("ignores output fields the stack never declared (status, resourceVersion)", () => {
    const report = driftFromRefreshPreview("prod", read("refresh-drifted.json"));
    const text = formatDriftReport(report);
    expect(text).not.toContain("resourceVersion");
    expect(text).not.toContain("readyReplicas");
  });

  it("compares declared properties in the outputs when the provider returns no inputs (dynamic providers)", () => {
    const before = { inputs: { image: "app:v1", replicas: 2 }, outputs: { image: "app:v1", replicas: 2, observedAt: "t1" } };
    const after = { outputs: { image: "app:hotfix", replicas: 2, observedAt: "t2" } };
    expect(declaredChanges(before, after)).toEqual(['image: "app:v1" → "app:hotfix"']);
  });

  it("never prints a masked value or the value of a secret-looking key", () => {
    const lines = declaredChanges(
      { inputs: { dbPassword: "old-plain", token: "[secret]", stringData: { a: "x" } } },
      { inputs: { dbPassword: "new-plain", token: "[secret]", stringData: { a: "y" } } },
    );
    expect(lines).toEqual(["dbPassword: (hidden) → (hidden)", "stringData.a: (hidden) → (hidden)"]);
    const text = formatDriftReport(driftFromRefreshPreview("prod", read("refresh-drifted.json")));
    expect(text).not.toContain("[secret]");
    expect(text).not.toContain("ballast-postgres-password");
  });

  it("caps a long list of properties with a count", () => {
    const before = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${String(i).padStart(2, "0")}`, i]));
    const after = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${String(i).padStart(2, "0")}`, i + 1]));
    const lines = declaredChanges({ inputs: before }, { inputs: after });
    expect(lines).toHaveLength(9);
    expect(lines[8]).toBe("… and 4 more");
  });

  it("refuses output that is not the CLI's JSON, saying what it expected", () => {
    expect(() => driftFromRefreshPreview("prod", "Previewing refresh (prod):")).toThrow(
      /^the output of `pulumi refresh --preview-only --json` is not JSON/,
    );
    expect(() => driftFromRefreshPreview("prod", "{}")).toThrow("the output of `pulumi refresh --preview-only --json` has no `steps` list");
  });
});

describe("npm run drift", () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  const quiet = () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (out.push(String(chunk)), true));
    const err: string[] = [];
    vi.spyOn(console, "error").mockImplementation((...args) => void err.push(args.join(" ")));
    return { out, err };
  };

  it("exits 1 on drift, prints the table, and appends it to the --summary file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-drift-"));
    dirs.push(dir);
    const summary = path.join(dir, "summary.md");
    fs.writeFileSync(summary, "# earlier step\n");
    const { out } = quiet();
    expect(main(["prod", "--json", fixture("refresh-drifted.json"), "--summary", summary])).toBe(1);
    expect(out.join("")).toContain("| `ballast-app` | `kubernetes:apps/v1:Deployment` | update | spec.replicas: 2 → 5<br>");
    const written = fs.readFileSync(summary, "utf8");
    expect(written.startsWith("# earlier step\n**Drift in stack `prod`**: 3 of 5 resources differ")).toBe(true);
  });

  it("exits 0 when nothing drifted", () => {
    const { out } = quiet();
    expect(main(["t", "--json", fixture("refresh-clean.json")])).toBe(0);
    expect(out.join("")).toBe("No drift in stack `t`: all 2 resources match the last deployment.\n");
  });

  it("exits 2 with the usage on bad arguments", () => {
    const { err } = quiet();
    expect(main([])).toBe(2);
    expect(main(["prod", "--bogus"])).toBe(2);
    expect(err).toEqual([
      "expected exactly one stack name\nusage: npm run drift -- <stack> [--project-dir DIR] [--summary FILE] [--json FILE]",
      "unknown option --bogus\nusage: npm run drift -- <stack> [--project-dir DIR] [--summary FILE] [--json FILE]",
    ]);
  });

  it("exits 3 with how to install the CLI when there is none", () => {
    const { err } = quiet();
    vi.stubEnv("PATH", "/nonexistent");
    vi.stubEnv("PULUMI_HOME", "/nonexistent/pulumi-home");
    try {
      expect(main(["prod"])).toBe(3);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(err[0]).toMatch(/^drift: The Pulumi CLI was not found/);
  });
});
