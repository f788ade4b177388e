/**
 * `npm run dr:import -- <bundle> <stack> [--project-dir DIR] [--force] [--verify-only]`
 *
 * Verifies a bundle written by dr:export (manifest, sizes, sha256; a tampered or
 * incomplete bundle is refused, naming the file), restores Pulumi.<stack>.yaml when
 * the project has none, selects the stack (creating it with the bundle's secrets
 * provider when needed) and runs `pulumi stack import --file`. It does not touch
 * the infrastructure: afterwards run `pulumi refresh` and `pulumi preview`.
 * See docs/disaster-recovery.md.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  BundleError,
  EXPORT_FILE,
  encryptionSalt,
  findPulumiCli,
  pulumiMissingMessage,
  shortStackName,
  stackConfigFileName,
  validateStackName,
  verifyBundle,
  type BundleManifest,
} from "./dr-bundle";
import { parseCliArgs } from "./lib/cli-args";

const USAGE = "usage: npm run dr:import -- <bundle-dir> <stack> [--project-dir DIR] [--force] [--verify-only]";

interface Args {
  bundle: string;
  stack: string;
  projectDir: string;
  force: boolean;
  verifyOnly: boolean;
}

function parseArgs(argv: string[]): Args | string {
  const parsed = parseCliArgs(argv, { values: { "--project-dir": "a directory" }, flags: ["--force", "--verify-only"] }, USAGE);
  if (typeof parsed === "string") return parsed;
  const { positional } = parsed;
  if (positional.length !== 2) return `expected a bundle directory and a stack name\n${USAGE}`;
  const problem = validateStackName(positional[1]);
  if (problem) return `${problem}\n${USAGE}`;
  return {
    bundle: path.resolve(positional[0]),
    stack: positional[1],
    projectDir: path.resolve(parsed.values["--project-dir"] ?? process.cwd()),
    force: parsed.flags.has("--force"),
    verifyOnly: parsed.flags.has("--verify-only"),
  };
}

/** `--secrets-provider` for creating the stack, from what the bundle's state used. */
function secretsProviderFlag(manifest: BundleManifest): string[] {
  switch (manifest.checkpoint.secretsProvider) {
    case "passphrase":
      return ["--secrets-provider", "passphrase"];
    case "cloud":
      return manifest.checkpoint.secretsProviderUrl ? ["--secrets-provider", manifest.checkpoint.secretsProviderUrl] : [];
    default:
      return [];
  }
}

/** Puts the bundle's stack config in place when the project has none; refuses a different salt. */
function restoreStackConfig(args: Args, manifest: BundleManifest): string | undefined {
  const bundled = path.join(args.bundle, stackConfigFileName(manifest.stack));
  const target = path.join(args.projectDir, stackConfigFileName(args.stack));
  if (!fs.existsSync(target)) {
    fs.copyFileSync(bundled, target);
    console.log(`restored ${target} from the bundle`);
    return undefined;
  }
  const ours = fs.readFileSync(target, "utf8");
  const theirs = fs.readFileSync(bundled, "utf8");
  if (ours === theirs) return undefined;
  const ourSalt = encryptionSalt(ours);
  const theirSalt = encryptionSalt(theirs);
  if (theirSalt && ourSalt !== theirSalt && !args.force) {
    return (
      `${target} has a different encryptionsalt than the bundle's ${path.basename(bundled)}: the imported secrets ` +
      "would not decrypt with it. Move your file aside so the bundle's is restored, or pass --force if you re-keyed on purpose."
    );
  }
  console.log(
    `kept your ${target}; it differs from the bundle's copy (${bundled}), encryption salt ${ourSalt === theirSalt ? "identical" : "overridden with --force"}`,
  );
  return undefined;
}

export function main(argv: string[]): number {
  const args = parseArgs(argv);
  if (typeof args === "string") {
    console.error(args);
    return 2;
  }

  let manifest: BundleManifest;
  try {
    manifest = verifyBundle(args.bundle);
  } catch (error) {
    console.error(`dr:import: ${(error as Error).message}`);
    return error instanceof BundleError ? 4 : 1;
  }
  console.log(
    `bundle verified: stack ${manifest.stack}, ${manifest.resourceCount} resources, exported ${manifest.createdAt}` +
      `${manifest.pulumiVersion ? ` with Pulumi ${manifest.pulumiVersion}` : ""}`,
  );
  if (args.verifyOnly) return 0;

  const cli = findPulumiCli();
  if (!cli) {
    console.error(`dr:import: ${pulumiMissingMessage()}`);
    return 3;
  }
  if (shortStackName(manifest.stack) !== shortStackName(args.stack)) {
    console.log(
      `note: importing state of stack ${manifest.stack} into ${args.stack}; resource URNs keep the old stack name ` +
        "and Pulumi refuses that unless --force is given.",
    );
  }

  const refusal = restoreStackConfig(args, manifest);
  if (refusal) {
    console.error(`dr:import: ${refusal}`);
    return 1;
  }

  const run = (what: string, cliArgs: string[]): boolean => {
    const result = spawnSync(cli, cliArgs, { cwd: args.projectDir, stdio: "inherit" });
    if (result.error || result.status !== 0) {
      console.error(`dr:import: ${what} failed (${result.error?.message ?? `exit ${result.status}`})`);
      return false;
    }
    return true;
  };

  // Selecting creates the stack when the backend does not have it (lost state), with the
  // secrets provider the bundle's state was encrypted with.
  if (!run(`selecting stack ${args.stack}`, ["stack", "select", "--create", "--stack", args.stack, ...secretsProviderFlag(manifest)])) {
    console.error(
      "Check `pulumi login` (the backend the stack should live in) and, for the passphrase provider, PULUMI_CONFIG_PASSPHRASE.",
    );
    return 1;
  }
  const importArgs = ["stack", "import", "--stack", args.stack, "--file", path.join(args.bundle, EXPORT_FILE)];
  if (args.force) importArgs.push("--force");
  if (!run(`pulumi stack import into ${args.stack}`, importArgs)) return 1;

  console.log(`\nstate of ${manifest.stack} imported into ${args.stack}. Next, nothing has been changed yet:`);
  console.log(`  1. pulumi refresh --stack ${args.stack}   # reconcile the state with what really exists`);
  console.log(`  2. pulumi preview --stack ${args.stack}   # expect no replacements of stateful resources`);
  console.log("  3. pulumi up only when the preview is what you expect (docs/disaster-recovery.md).");
  return 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
