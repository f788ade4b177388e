/**
 * scripts/dr-export.ts and scripts/dr-import.ts as processes (run with tsx, like
 * `npm run dr:export`): without the Pulumi CLI they stop with install instructions;
 * with a fake CLI on PATH they produce and consume real bundles.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildManifest, verifyBundle, writeManifest } from "../../scripts/dr-bundle";
import { fakePulumi, stackConfig, stackExport } from "./support/pulumi-fixtures";

const root = path.join(__dirname, "../..");
const tsxCli = path.join(root, "node_modules/tsx/dist/cli.mjs");

const temps: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-dr-cli-"));
  temps.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** This machine's PATH without any directory that holds a `pulumi`. */
const pathWithoutPulumi = (process.env.PATH ?? "/usr/bin:/bin")
  .split(path.delimiter)
  .filter((dir) => dir && !fs.existsSync(path.join(dir, "pulumi")));

/**
 * Runs a DR script with PATH = `pathDirs` + this machine's PATH stripped of pulumi, and
 * PULUMI_HOME/HOME in empty directories.
 */
function runScript(script: string, args: string[], pathDirs: string[]) {
  const home = tempDir();
  fs.mkdirSync(path.join(home, "pulumi-home"));
  const result = spawnSync(process.execPath, [tsxCli, path.join(root, "scripts", script), ...args], {
    cwd: root,
    encoding: "utf8",
    env: {
      PATH: [...pathDirs, ...pathWithoutPulumi].join(path.delimiter),
      PULUMI_HOME: path.join(home, "pulumi-home"),
      HOME: home,
      TMPDIR: os.tmpdir(),
    },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function project(stack = "prod"): string {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: ballast\nruntime: nodejs\n");
  fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), stackConfig());
  return dir;
}

function bundle(): string {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, "stack-export.json"), stackExport());
  fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), stackConfig());
  writeManifest(dir, buildManifest({ dir, stack: "prod", createdAt: new Date() }));
  return dir;
}

describe("without the Pulumi CLI", () => {
  it("dr:export exits non-zero and says what to install and how to put it on PATH", () => {
    const proj = project();
    const { status, stderr } = runScript("dr-export.ts", ["prod", "--project-dir", proj], []);
    expect(status).not.toBe(0);
    expect(stderr).toContain("The Pulumi CLI was not found: it is not on PATH and not at");
    expect(stderr).toContain("/pulumi-home/bin/pulumi");
    expect(stderr).toContain("curl -fsSL https://get.pulumi.com | sh");
    expect(stderr).toContain('export PATH="$HOME/.pulumi/bin:$PATH"');
    expect(fs.existsSync(path.join(proj, "dr-bundles"))).toBe(false);
  });

  it("dr:import exits non-zero with the same instructions (after checking the bundle)", () => {
    const proj = project();
    const { status, stdout, stderr } = runScript("dr-import.ts", [bundle(), "prod", "--project-dir", proj], []);
    expect(status).not.toBe(0);
    expect(stdout).toContain("bundle verified: stack prod, 4 resources");
    expect(stderr).toContain("The Pulumi CLI was not found");
    expect(stderr).toContain("PULUMI_HOME");
  });

  it("dr:import --verify-only needs no CLI", () => {
    const { status, stdout } = runScript("dr-import.ts", [bundle(), "prod", "--verify-only"], []);
    expect(status).toBe(0);
    expect(stdout).toContain("bundle verified");
  });
});

describe("with a (fake) Pulumi CLI on PATH", () => {
  it("dr:export writes a verified bundle through --file, never --show-secrets", () => {
    const proj = project();
    const fake = fakePulumi(stackExport());
    const { status, stdout, stderr } = runScript("dr-export.ts", ["prod", "--project-dir", proj], [fake.binDir]);
    expect(stderr).toBe("");
    expect(status).toBe(0);
    const bundles = fs.readdirSync(path.join(proj, "dr-bundles"));
    expect(bundles).toHaveLength(1);
    expect(bundles[0]).toMatch(/^prod-\d{8}T\d{6}Z$/);
    const dir = path.join(proj, "dr-bundles", bundles[0]);
    expect(fs.readdirSync(dir).sort()).toEqual(["Pulumi.prod.yaml", "manifest.json", "stack-export.json"]);
    expect(fs.readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8")).toBe(stackConfig());
    expect(verifyBundle(dir).checkpoint.manifest.version).toBe("v3.259.0");
    expect(stdout).toContain(`DR bundle written and verified: ${dir}`);
    expect(stdout).toContain("stack prod: 4 resources, checkpoint version 3");
    const calls = fs.readFileSync(fake.log, "utf8");
    expect(calls).toContain(`stack export --stack prod --file ${path.join(dir, "stack-export.json")}`);
    expect(calls).not.toContain("--show-secrets");
  });

  it("dr:export refuses an export with decrypted secrets and leaves no bundle", () => {
    const proj = project();
    const fake = fakePulumi(stackExport({ plaintextSecret: true }));
    const { status, stderr } = runScript("dr-export.ts", ["prod", "--project-dir", proj], [fake.binDir]);
    expect(status).not.toBe(0);
    expect(stderr).toContain("--show-secrets");
    expect(stderr).toContain("failed its own verification and was deleted");
    expect(fs.readdirSync(path.join(proj, "dr-bundles"))).toEqual([]);
  });

  it("dr:import restores the stack config, creates/selects the stack, imports and points to refresh + preview", () => {
    const source = bundle();
    const fresh = tempDir();
    fs.writeFileSync(path.join(fresh, "Pulumi.yaml"), "name: ballast\nruntime: nodejs\n");
    const fake = fakePulumi(stackExport());
    const { status, stdout, stderr } = runScript("dr-import.ts", [source, "prod", "--project-dir", fresh], [fake.binDir]);
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(fs.readFileSync(path.join(fresh, "Pulumi.prod.yaml"), "utf8")).toBe(stackConfig());
    const calls = fs.readFileSync(fake.log, "utf8").trim().split("\n");
    expect(calls).toEqual([
      "stack select --create --stack prod --secrets-provider passphrase",
      `stack import --stack prod --file ${path.join(source, "stack-export.json")}`,
    ]);
    expect(fs.readFileSync(path.join(fake.stateDir, "prod.json"), "utf8")).toBe(stackExport());
    expect(stdout).toContain("pulumi refresh --stack prod");
    expect(stdout).toContain("pulumi preview --stack prod");
  });

  it("dr:import refuses a tampered bundle, naming the file, before touching Pulumi", () => {
    const source = bundle();
    fs.appendFileSync(path.join(source, "stack-export.json"), " ");
    const fake = fakePulumi(stackExport());
    const { status, stderr } = runScript("dr-import.ts", [source, "prod", "--project-dir", project()], [fake.binDir]);
    expect(status).not.toBe(0);
    expect(stderr).toContain("stack-export.json has");
    expect(stderr).toContain("stack-export.json does not match its sha256");
    expect(fs.readFileSync(fake.log, "utf8")).toBe("");
  });

  it("dr:import refuses to run against a stack config with a different encryption salt", () => {
    const proj = tempDir();
    fs.writeFileSync(path.join(proj, "Pulumi.prod.yaml"), stackConfig("v1:b3RoZXI=:v1:c2FsdA==:eA=="));
    const fake = fakePulumi(stackExport());
    const { status, stderr } = runScript("dr-import.ts", [bundle(), "prod", "--project-dir", proj], [fake.binDir]);
    expect(status).not.toBe(0);
    expect(stderr).toContain("has a different encryptionsalt than the bundle's Pulumi.prod.yaml");
    expect(fs.readFileSync(fake.log, "utf8")).toBe("");
  });
});
