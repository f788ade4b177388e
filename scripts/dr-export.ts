/**
 * `npm run dr:export -- <stack> [--project-dir DIR] [--out DIR]`
 *
 * Writes dr-bundles/<stack>-<UTC timestamp>/ with the stack's state
 * (`pulumi stack export --file`, secrets left encrypted), a copy of
 * Pulumi.<stack>.yaml (its encryption salt is needed to decrypt them) and a
 * manifest with sizes and sha256 checksums; then reads the bundle back and verifies
 * it. Store the bundle offsite, and the passphrase (or KMS access) separately.
 * See docs/disaster-recovery.md.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  EXPORT_FILE,
  buildManifest,
  bundleDirName,
  findPulumiCli,
  pulumiMissingMessage,
  stackConfigFileName,
  validateStackName,
  verifyBundle,
  writeManifest,
} from "./dr-bundle";
import { parseCliArgs } from "./lib/cli-args";

const USAGE = "usage: npm run dr:export -- <stack> [--project-dir DIR] [--out DIR]";

interface Args {
  stack: string;
  projectDir: string;
  outDir: string;
}

function parseArgs(argv: string[]): Args | string {
  const parsed = parseCliArgs(argv, { values: { "--project-dir": "a directory", "--out": "a directory" } }, USAGE);
  if (typeof parsed === "string") return parsed;
  if (parsed.positional.length !== 1) return `expected exactly one stack name\n${USAGE}`;
  const problem = validateStackName(parsed.positional[0]);
  if (problem) return `${problem}\n${USAGE}`;
  const projectDir = path.resolve(parsed.values["--project-dir"] ?? process.cwd());
  const outDir = parsed.values["--out"] ? path.resolve(parsed.values["--out"]) : path.join(projectDir, "dr-bundles");
  return { stack: parsed.positional[0], projectDir, outDir };
}

export function main(argv: string[]): number {
  const args = parseArgs(argv);
  if (typeof args === "string") {
    console.error(args);
    return 2;
  }
  const cli = findPulumiCli();
  if (!cli) {
    console.error(`dr:export: ${pulumiMissingMessage()}`);
    return 3;
  }
  const configName = stackConfigFileName(args.stack);
  const configPath = path.join(args.projectDir, configName);
  if (!fs.existsSync(configPath)) {
    console.error(
      `dr:export: ${configPath} not found. Run from the Pulumi project directory (or pass --project-dir): ` +
        "the bundle must carry the stack config, whose encryptionsalt decrypts the stack's secrets.",
    );
    return 1;
  }

  const createdAt = new Date();
  const dir = path.join(args.outDir, bundleDirName(args.stack, createdAt));
  if (fs.existsSync(dir)) {
    console.error(`dr:export: ${dir} already exists; not overwriting it`);
    return 1;
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const exportPath = path.join(dir, EXPORT_FILE);

  // No --show-secrets, no shell: the CLI writes the file itself, secrets stay ciphertext.
  const exported = spawnSync(cli, ["stack", "export", "--stack", args.stack, "--file", exportPath], {
    cwd: args.projectDir,
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (exported.error || exported.status !== 0) {
    console.error(
      `dr:export: \`pulumi stack export --stack ${args.stack}\` failed (${exported.error?.message ?? `exit ${exported.status}`}). ` +
        "Are you logged in to the stack's backend (`pulumi login`, PULUMI_BACKEND_URL) and is the stack name right (`pulumi stack ls`)?",
    );
    fs.rmSync(dir, { recursive: true, force: true });
    return 1;
  }
  if (!fs.existsSync(exportPath)) {
    console.error(`dr:export: pulumi reported success but wrote no ${exportPath}`);
    fs.rmSync(dir, { recursive: true, force: true });
    return 1;
  }
  fs.chmodSync(exportPath, 0o600);
  fs.copyFileSync(configPath, path.join(dir, configName));
  fs.chmodSync(path.join(dir, configName), 0o600);

  const version = spawnSync(cli, ["version"], { cwd: args.projectDir, encoding: "utf8" });
  const pulumiVersion = version.status === 0 ? version.stdout.trim() : undefined;

  try {
    const manifest = buildManifest({ dir, stack: args.stack, createdAt, pulumiVersion });
    writeManifest(dir, manifest);
    const verified = verifyBundle(dir);
    console.log(`DR bundle written and verified: ${dir}`);
    console.log(
      `  stack ${verified.stack}: ${verified.resourceCount} resources, checkpoint version ${verified.checkpoint.version}` +
        `${verified.checkpoint.manifest.version ? `, last written by Pulumi ${verified.checkpoint.manifest.version}` : ""}` +
        `${verified.checkpoint.manifest.time ? ` at ${verified.checkpoint.manifest.time}` : ""}`,
    );
    for (const file of verified.files) console.log(`  ${file.name}  ${file.bytes} bytes  sha256 ${file.sha256}`);
    console.log(
      `  secrets provider: ${verified.checkpoint.secretsProvider ?? "unknown"}; secrets in the export are encrypted. ` +
        "Copy the bundle offsite; keep the passphrase (or KMS key access) somewhere else.",
    );
    return 0;
  } catch (error) {
    // Never leave a half-verified bundle behind: it may hold decrypted secrets.
    fs.rmSync(dir, { recursive: true, force: true });
    console.error(`dr:export: the bundle failed its own verification and was deleted (${dir}):\n${(error as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
