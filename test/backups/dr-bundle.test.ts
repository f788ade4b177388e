import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  BundleError,
  buildManifest,
  bundleDirName,
  encryptionSalt,
  findPulumiCli,
  inspectExport,
  pulumiMissingMessage,
  shortStackName,
  stackConfigFileName,
  validateStackName,
  verifyBundle,
  writeManifest,
} from "../../scripts/dr-bundle";
import { stackConfig, stackExport } from "./support/pulumi-fixtures";

const temps: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-dr-"));
  temps.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function makeBundle(stack = "prod"): string {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, "stack-export.json"), stackExport({ stack }));
  fs.writeFileSync(path.join(dir, stackConfigFileName(stack)), stackConfig());
  writeManifest(dir, buildManifest({ dir, stack, createdAt: new Date("2026-11-23T10:11:12.345Z"), pulumiVersion: "v3.259.0" }));
  return dir;
}

function refusal(dir: string): string {
  try {
    verifyBundle(dir);
  } catch (error) {
    expect(error).toBeInstanceOf(BundleError);
    return (error as Error).message;
  }
  throw new Error("expected the bundle to be refused");
}

const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

describe("DR bundle manifest", () => {
  it("records checkpoint version, deployment manifest, resource count, sizes and sha256", () => {
    const dir = makeBundle();
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8"));
    expect(manifest).toMatchObject({
      format: "ballast-dr-bundle/1",
      stack: "prod",
      createdAt: "2026-11-23T10:11:12.345Z",
      pulumiVersion: "v3.259.0",
      resourceCount: 4,
      checkpoint: {
        version: 3,
        manifest: { time: "2026-11-20T10:00:00.000Z", magic: "0d1f5c7b0e4f", version: "v3.259.0" },
        resourceCount: 4,
        secretsProvider: "passphrase",
      },
    });
    expect(manifest.files).toEqual([
      {
        name: "stack-export.json",
        bytes: fs.statSync(path.join(dir, "stack-export.json")).size,
        sha256: sha256(path.join(dir, "stack-export.json")),
      },
      {
        name: "Pulumi.prod.yaml",
        bytes: fs.statSync(path.join(dir, "Pulumi.prod.yaml")).size,
        sha256: sha256(path.join(dir, "Pulumi.prod.yaml")),
      },
    ]);
    expect(verifyBundle(dir).resourceCount).toBe(4);
  });

  it("refuses a tampered file, naming it", () => {
    const dir = makeBundle();
    fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), stackConfig("v1:dGFtcGVyZWQ=:v1:aGVsbG8=:d29ybGQ="));
    expect(refusal(dir)).toContain("Pulumi.prod.yaml does not match its sha256 in the manifest");
  });

  it("refuses a truncated export, naming it", () => {
    const dir = makeBundle();
    const file = path.join(dir, "stack-export.json");
    fs.truncateSync(file, 100);
    const message = refusal(dir);
    expect(message).toMatch(/stack-export\.json has 100 bytes, the manifest says \d+: it was modified or truncated/);
    expect(message).toContain("stack-export.json does not match its sha256");
  });

  it("refuses a missing file, a missing manifest and an unlisted file", () => {
    const missing = makeBundle();
    fs.rmSync(path.join(missing, "stack-export.json"));
    expect(refusal(missing)).toContain("stack-export.json is missing");

    const noManifest = makeBundle();
    fs.rmSync(path.join(noManifest, "manifest.json"));
    expect(refusal(noManifest)).toContain("manifest.json is missing");

    const extra = makeBundle();
    fs.writeFileSync(path.join(extra, "notes.txt"), "hello");
    expect(refusal(extra)).toContain("notes.txt is not listed in manifest.json");
  });

  it("refuses a manifest whose resource count was edited", () => {
    const dir = makeBundle();
    const manifestPath = path.join(dir, "manifest.json");
    const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8"));
    manifest.resourceCount = 5;
    fs.writeFileSync(manifestPath, JSON.stringify(manifest));
    expect(refusal(dir)).toContain("stack-export.json: 4 resources, the manifest says 5");
  });

  it("refuses manifest entries that escape the bundle", () => {
    const dir = makeBundle();
    const manifestPath = path.join(dir, "manifest.json");
    const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8"));
    manifest.files.push({ name: "../../etc/passwd", bytes: 1, sha256: "00" });
    fs.writeFileSync(manifestPath, JSON.stringify(manifest));
    expect(refusal(dir)).toContain("has no safe file name");
  });

  it("refuses an export holding decrypted secrets (--show-secrets)", () => {
    expect(() => inspectExport(stackExport({ plaintextSecret: true }))).toThrow(
      /decrypted secret\(s\) \(first at \$\.deployment\.resources\[2\]\.outputs\.result\).*--show-secrets/,
    );
    expect(() => inspectExport("{}")).toThrow(/not a Pulumi stack export/);
    expect(() => inspectExport("not json")).toThrow(/not JSON/);
  });
});

describe("DR bundle helpers", () => {
  it("names bundles and stack files", () => {
    expect(bundleDirName("prod", new Date("2026-11-23T03:15:00.123Z"))).toBe("prod-20261123T031500Z");
    expect(bundleDirName("acme/ballast/prod", new Date("2026-11-23T03:15:00Z"))).toBe("acme_ballast_prod-20261123T031500Z");
    expect(shortStackName("acme/ballast/prod")).toBe("prod");
    expect(stackConfigFileName("acme/ballast/prod")).toBe("Pulumi.prod.yaml");
    expect(validateStackName("prod")).toBeUndefined();
    expect(validateStackName("../prod")).toContain("is not a stack name");
    expect(validateStackName(undefined)).toBe("missing the stack name");
    expect(encryptionSalt(stackConfig("v1:abc=:v1:def"))).toBe("v1:abc=:v1:def");
    expect(encryptionSalt("config: {}\n")).toBeUndefined();
  });

  it("finds the CLI on PATH, else at $PULUMI_HOME/bin/pulumi, and ignores non-executables", () => {
    const onPath = tempDir();
    const home = tempDir();
    const empty = tempDir();
    fs.writeFileSync(path.join(onPath, "pulumi"), "#!/bin/sh\n", { mode: 0o755 });
    fs.mkdirSync(path.join(home, "bin"));
    fs.writeFileSync(path.join(home, "bin", "pulumi"), "#!/bin/sh\n", { mode: 0o755 });
    expect(findPulumiCli({ PATH: `${empty}:${onPath}`, PULUMI_HOME: home })).toBe(path.join(onPath, "pulumi"));
    expect(findPulumiCli({ PATH: empty, PULUMI_HOME: home })).toBe(path.join(home, "bin", "pulumi"));
    expect(findPulumiCli({ PATH: empty, PULUMI_HOME: empty, HOME: empty })).toBeUndefined();
    fs.chmodSync(path.join(onPath, "pulumi"), 0o644);
    expect(findPulumiCli({ PATH: onPath, PULUMI_HOME: empty, HOME: empty })).toBeUndefined();
    const message = pulumiMissingMessage({ PULUMI_HOME: empty });
    expect(message).toContain(`not on PATH and not at ${path.join(empty, "bin", "pulumi")}`);
    expect(message).toContain('export PATH="$HOME/.pulumi/bin:$PATH"');
  });
});
