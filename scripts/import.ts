/**
 * npm run import -- <docker-compose.yml> [--stack NAME] [--target compose|kubernetes]
 *                   [--environment dev|staging|prod] [--app SERVICE] [--image SERVICE=IMAGE ...]
 *                   [--out FILE] [--force]
 *
 * Writes a Ballast stack file (default Pulumi.<stack>.yaml beside where `npm run` was typed)
 * from a team's existing Docker Compose file, and prints what was mapped, the secrets to set
 * (with their `pulumi config set --secret` commands) and every line that was not mapped.
 * The result is checked with the config pipeline `pulumi up` uses: a file it would refuse is
 * not written (exit 1, the problems listed) unless --force. An existing file is never
 * overwritten without --force. Exit 2: bad arguments or an unreadable compose file.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, relative, resolve } from "node:path";
import { ENVIRONMENTS, TARGETS, type Environment, type TargetKind } from "../components/config";
import { ImportError, importComposeText, stackFileText, summaryText, validateImport } from "./import/index";

function usage(): never {
  console.error(
    "usage: npm run import -- <docker-compose.yml> [--stack NAME] [--target compose|kubernetes] [--environment dev|staging|prod] [--app SERVICE] [--image SERVICE=IMAGE ...] [--out FILE] [--force]",
  );
  process.exit(2);
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

interface Arguments {
  composeFile: string;
  stack?: string;
  target: TargetKind;
  environment?: Environment;
  app?: string;
  images: Record<string, string>;
  out?: string;
  force: boolean;
}

function parseArguments(args: string[]): Arguments {
  const [composeFile, ...rest] = args;
  if (!composeFile || composeFile.startsWith("-")) usage();
  const parsed: Arguments = { composeFile, target: "compose", images: {}, force: false };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    if (flag === "--force") {
      parsed.force = true;
      continue;
    }
    const value = rest[++i];
    if (value === undefined || value.startsWith("--")) usage();
    if (flag === "--stack") parsed.stack = value;
    else if (flag === "--target") {
      if (!(TARGETS as readonly string[]).includes(value)) fail(`--target ${value}: allowed are ${TARGETS.join(", ")}`);
      parsed.target = value as TargetKind;
    } else if (flag === "--environment") {
      if (!(ENVIRONMENTS as readonly string[]).includes(value)) fail(`--environment ${value}: allowed are ${ENVIRONMENTS.join(", ")}`);
      parsed.environment = value as Environment;
    } else if (flag === "--app") parsed.app = value;
    else if (flag === "--image") {
      const at = value.indexOf("=");
      if (at < 1) fail(`--image ${value}: expected SERVICE=IMAGE, e.g. --image ollama=ollama/ollama:0.5.7`);
      parsed.images[value.slice(0, at)] = value.slice(at + 1);
    } else if (flag === "--out") parsed.out = value;
    else usage();
  }
  return parsed;
}

/** The stack name: --stack, else the compose file's directory (a DNS-label-ish name). */
function stackName(args: Arguments, composePath: string): string {
  if (args.stack) return args.stack;
  const directory = basename(dirname(composePath))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return directory || "imported";
}

function main(): void {
  const args = parseArguments(process.argv.slice(2));
  // npm runs scripts in the project root; INIT_CWD is where `npm run` was typed.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const composePath = resolve(cwd, args.composeFile);
  if (!existsSync(composePath)) fail(`${args.composeFile}: no such file`);
  const stack = stackName(args, composePath);
  if (!/^[A-Za-z0-9_.-]+$/.test(stack)) fail(`--stack ${stack}: a Pulumi stack name is letters, digits, '-', '_' and '.'`);
  const outPath = resolve(cwd, args.out ?? `Pulumi.${stack}.yaml`);
  const shownOut = relative(cwd, outPath) || outPath;

  let result;
  try {
    result = importComposeText(readFileSync(composePath, "utf8"), relative(cwd, composePath) || composePath, {
      stack,
      target: args.target,
      environment: args.environment,
      images: args.images,
      app: args.app,
    });
  } catch (error) {
    if (error instanceof ImportError) fail(error.message);
    throw error;
  }
  const validation = validateImport(result);
  const writable = validation.problems.length === 0 || args.force;
  if (existsSync(outPath) && !args.force) {
    console.log(summaryText(result, shownOut, validation, false));
    fail(`${shownOut} exists: choose another --out, or --force to overwrite it`);
  }
  if (writable) writeFileSync(outPath, stackFileText(result, shownOut));
  console.log(summaryText(result, shownOut, validation, writable));
  if (validation.problems.length > 0) {
    console.error(
      writable
        ? `\nWritten with --force: fix the problems above before pulumi up.`
        : `\nNot written: fix the problems above (or pass --force to write the file and fix it there).`,
    );
    process.exit(writable ? 0 : 1);
  }
}

main();
