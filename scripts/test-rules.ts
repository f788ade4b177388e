/**
 * npm run test:rules -- <stack | path/to/Pulumi.<stack>.yaml> [--stack NAME]
 *
 * Renders the stack as `pulumi up` would (under mocks), writes the Prometheus rules files it
 * ships (Ballast's and the team's) to a temporary directory, runs `promtool check rules` on
 * each and `promtool test rules` on every file of `ballast:monitoring.alerts.ruleTests`, with
 * its `rule_files` pointed at the rendered rules, and parses every Prometheus query of the
 * team's dashboards (`ballast:monitoring.grafana.dashboards`). Exits 1 when any step fails. Needs promtool
 * (Debian: apt-get install prometheus).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ConfigError, parsePlatformConfig } from "../components/config";
import { renderStack, renderStackFile, withSecretPlaceholders } from "./lib/render-stack";
import { checkAndTestRules, checkDashboardQueries, renderedRuleFiles } from "./lib/rule-tests";
import { readStackFile, readStackFileAt, stackNameOfPath } from "./lib/stack-files";

function usage(): never {
  console.error("usage: npm run test:rules -- <stack | path/to/Pulumi.<stack>.yaml> [--stack NAME]");
  process.exit(2);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const target = args[0];
  if (!target || target.startsWith("-")) usage();
  const stackIndex = args.indexOf("--stack");
  const stackOption = stackIndex === -1 ? undefined : args[stackIndex + 1];
  if (stackIndex !== -1 && !stackOption) usage();

  const isPath = /\.ya?ml$/.test(target) || target.includes("/");
  // npm runs scripts in the project root; INIT_CWD is where `npm run` was typed.
  const path = isPath ? resolve(process.env.INIT_CWD ?? process.cwd(), target) : undefined;
  const stack = stackOption ?? (path ? stackNameOfPath(path) : target);
  const rendered = path ? await renderStackFile(path, stack) : await renderStack(stack);
  const file = path ? readStackFileAt(path, stack) : readStackFile(stack);
  const { config } = parsePlatformConfig(withSecretPlaceholders(file.raw).raw, stack, "ballast");

  const rules = renderedRuleFiles(rendered.model);
  if (rules.length === 0) {
    console.log(`stack ${stack}: Prometheus is off, no rules to check`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "ballast-rules-"));
  try {
    const steps = [
      ...checkAndTestRules(rules, config.repositoryFiles.ruleTests, dir),
      ...checkDashboardQueries(config.repositoryFiles.dashboards, dir),
    ];
    for (const step of steps) {
      console.log(`${step.status === 0 ? "ok  " : "FAIL"} promtool ${step.step}`);
      if (step.status !== 0) console.log(step.output.replace(/^/gm, "     "));
    }
    const failed = steps.filter((s) => s.status !== 0).length;
    console.log(`${steps.length - failed} passed, ${failed} failed`);
    if (failed > 0) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
