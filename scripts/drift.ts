/**
 * `npm run drift -- <stack> [--project-dir DIR] [--summary FILE] [--json FILE]`
 *
 * Asks the stack's backend whether the live resources still match what the last `pulumi up`
 * recorded: `pulumi refresh --preview-only --json` (no state is written, the program does not run,
 * so it works whatever the checked-out code is), then prints a table of what drifted.
 * --summary appends the same Markdown to FILE (the drift workflow passes $GITHUB_STEP_SUMMARY);
 * --json reads a saved refresh JSON instead of running the CLI.
 *
 * Exit status: 0 no drift, 1 drift (the table says what), 2 usage, 3 no Pulumi CLI, 4 the CLI failed.
 * See docs/ci-workflows.md ("drift.yml").
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { findPulumiCli, pulumiMissingMessage, validateStackName } from "./dr-bundle";
import { driftFromRefreshPreview, formatDriftReport } from "./drift-report";
import { parseCliArgs } from "./lib/cli-args";

const USAGE = "usage: npm run drift -- <stack> [--project-dir DIR] [--summary FILE] [--json FILE]";

interface Args {
  stack: string;
  projectDir: string;
  summaryFile?: string;
  jsonFile?: string;
}

function parseArgs(argv: string[]): Args | string {
  const parsed = parseCliArgs(argv, { values: { "--project-dir": "a directory", "--summary": "a path", "--json": "a path" } }, USAGE);
  if (typeof parsed === "string") return parsed;
  if (parsed.positional.length !== 1) return `expected exactly one stack name\n${USAGE}`;
  const problem = validateStackName(parsed.positional[0]);
  if (problem) return `${problem}\n${USAGE}`;
  const resolved = (name: string) => (parsed.values[name] ? path.resolve(parsed.values[name]) : undefined);
  return {
    stack: parsed.positional[0],
    projectDir: resolved("--project-dir") ?? process.cwd(),
    summaryFile: resolved("--summary"),
    jsonFile: resolved("--json"),
  };
}

/** The refresh preview's JSON, from the CLI or a saved file; a string message when it failed. */
function refreshJson(args: Args): { json: string } | { failure: string; status: number } {
  if (args.jsonFile) return { json: fs.readFileSync(args.jsonFile, "utf8") };
  const cli = findPulumiCli();
  if (!cli) return { failure: pulumiMissingMessage(), status: 3 };
  const refreshed = spawnSync(cli, ["refresh", "--preview-only", "--json", "--non-interactive", "--stack", args.stack], {
    cwd: args.projectDir,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  if (refreshed.error || refreshed.status !== 0) {
    const detail = (refreshed.stderr ?? "").trim().split("\n").slice(-10).join("\n");
    return {
      failure:
        `\`pulumi refresh --preview-only --stack ${args.stack}\` failed (${refreshed.error?.message ?? `exit ${refreshed.status}`}). ` +
        "Is the backend reachable (`pulumi login`, PULUMI_BACKEND_URL), the stack name right (`pulumi stack ls`), and, " +
        `for a Kubernetes stack, the cluster reachable?${detail ? `\n${detail}` : ""}`,
      status: 4,
    };
  }
  return { json: refreshed.stdout };
}

export function main(argv: string[]): number {
  const args = parseArgs(argv);
  if (typeof args === "string") {
    console.error(args);
    return 2;
  }
  const result = refreshJson(args);
  if ("failure" in result) {
    console.error(`drift: ${result.failure}`);
    return result.status;
  }
  let text: string;
  let drifted: boolean;
  try {
    const report = driftFromRefreshPreview(args.stack, result.json);
    text = formatDriftReport(report);
    drifted = report.changes.length > 0;
  } catch (error) {
    console.error(`drift: ${(error as Error).message}`);
    return 4;
  }
  process.stdout.write(text);
  if (args.summaryFile) fs.appendFileSync(args.summaryFile, `${text}\n`);
  return drifted ? 1 : 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
