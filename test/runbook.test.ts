/**
 * The committed runbooks (docs/runbooks/<stack>.md) are what the declaration renders
 * today: each stack runs under mocks, its runbook is rendered in memory and compared
 * with the committed file byte for byte.
 */
import { existsSync, readFileSync } from "node:fs";
import { relative } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../scripts/lib/stack-files";
import { allStacks, generateRunbook } from "../scripts/runbook";

/** The first line that differs, for a message that shows what went stale. */
function firstDifference(committed: string, fresh: string): string {
  const a = committed.split("\n");
  const b = fresh.split("\n");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}:\n  committed: ${a[i] ?? "<end of file>"}\n  generated: ${b[i] ?? "<end of file>"}`;
  }
  return "no line differs";
}

describe.each([...allStacks])("runbook of stack %s", (stack) => {
  it("matches the committed docs/runbooks file", async () => {
    const runbook = await generateRunbook(stack);
    const shown = relative(projectRoot, runbook.path);
    if (!existsSync(runbook.path)) {
      expect.fail(`${shown} is missing: run \`npm run runbook -- --all\` and commit it`);
    }
    const committed = readFileSync(runbook.path, "utf8");
    if (committed !== runbook.content) {
      expect.fail(`${shown} is stale: run \`npm run runbook -- --all\` and commit it\n${firstDifference(committed, runbook.content)}`);
    }
    expect(runbook.content.length).toBeGreaterThan(0);
  });
});
