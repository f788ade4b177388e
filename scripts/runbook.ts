/**
 * npm run runbook -- <stack>... | --all [--check]     (`--check` alone checks every stack)
 *
 * Writes docs/runbooks/<stack>.md from the same stack file and component specs that
 * `pulumi up` deploys: the program runs under mocks (scripts/lib/render-stack.ts), its
 * StackModel and the validated config go to the pure renderer (components/runbook).
 * `--check` writes nothing and exits 1 listing every runbook that is missing or stale.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { ConfigError, parsePlatformConfig } from "../components/config";
import { renderRunbook, runbookInput } from "../components/runbook";
import { drainRegistrations } from "./lib/mock-program";
import { renderStack, withSecretPlaceholders, type RenderedStack } from "./lib/render-stack";
import { projectRoot, readStackFile } from "./lib/stack-files";

/** The stacks `--all` covers: every stack file the project ships. */
export const allStacks = ["dev", "staging", "prod"] as const;

/** Pulumi project name (Pulumi.yaml `name:`), as the mocks run the program. */
const projectName = "ballast";

export function runbookPath(stack: string, root = projectRoot): string {
  return join(root, "docs", "runbooks", `${stack}.md`);
}

export interface GeneratedRunbook {
  stack: string;
  path: string;
  content: string;
}

/**
 * Renders a stack's runbook in memory: the program runs under mocks for the model, the
 * same raw config is validated for the facts (target, host, namespace) and the names of
 * secrets the stack file supplies.
 */
export async function generateRunbook(stack: string): Promise<GeneratedRunbook> {
  let rendered: RenderedStack;
  try {
    rendered = await renderStack(stack);
  } finally {
    // renderStack drains on success; after a failure the next stack must not receive this one's late RPCs either.
    await drainRegistrations();
  }
  const { raw } = withSecretPlaceholders(readStackFile(stack).raw);
  const { config, secrets } = parsePlatformConfig(raw, stack, projectName);
  const content = renderRunbook(runbookInput(rendered.model, config, { suppliedSecrets: Object.keys(secrets.values) }));
  return { stack, path: runbookPath(stack), content };
}

/** Whether the committed file differs from the freshly rendered text. */
export function isStale(runbook: GeneratedRunbook): boolean {
  return !existsSync(runbook.path) || readFileSync(runbook.path, "utf8") !== runbook.content;
}

function usage(): never {
  console.error(`usage: npm run runbook -- <stack>... | --all [--check]   (stacks: ${allStacks.join(", ")})`);
  process.exit(2);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const check = args.includes("--check");
  const all = args.includes("--all");
  const unknown = args.filter((a) => a.startsWith("-") && a !== "--check" && a !== "--all");
  if (unknown.length > 0) usage();
  const named = args.filter((a) => !a.startsWith("-"));
  // `--check` alone checks every stack.
  const stacks = all || (check && named.length === 0) ? [...allStacks] : named;
  if (stacks.length === 0 || (all && named.length > 0)) usage();

  const stale: string[] = [];
  for (const stack of stacks) {
    const runbook = await generateRunbook(stack);
    const shown = relative(projectRoot, runbook.path);
    if (check) {
      if (isStale(runbook)) stale.push(shown);
      continue;
    }
    mkdirSync(dirname(runbook.path), { recursive: true });
    const changed = isStale(runbook);
    if (changed) writeFileSync(runbook.path, runbook.content);
    console.log(`${changed ? "wrote" : "unchanged"} ${shown}`);
  }
  if (check) {
    if (stale.length > 0) {
      console.error(`stale runbooks (run \`npm run runbook -- --all\` and commit them):\n${stale.map((s) => `  ${s}`).join("\n")}`);
      process.exit(1);
    }
    console.log(`runbooks up to date: ${stacks.join(", ")}`);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  });
}
