/**
 * The team's dashboards and alert rules through Debian's promtool (2.42), the real PromQL
 * parser: the NomosX example's rendered rules pass `promtool check rules` and its own
 * `promtool test rules` cases on both targets (the path `npm run test:rules` takes), every
 * Prometheus query of its dashboard files parses, a query that only the full grammar rejects
 * is reported with its file and panel, and HighErrorRate on nyxcore's labelled requests
 * counter fires on a 5xx burst and stays silent below the threshold or on 4xx.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parsePlatformConfig, prometheusQueries, promqlSyntaxProblem, type RuleTestFile } from "../../components/config";
import { alertGroups, renderAlertRules } from "../../components/observability/rules";
import { toYaml } from "../../components/observability/yaml";
import { renderStackFile, withSecretPlaceholders } from "../../scripts/lib/render-stack";
import { checkAndTestRules, checkDashboardQueries, dashboardQueryRules, renderedRuleFiles } from "../../scripts/lib/rule-tests";
import { readStackFileAt } from "../../scripts/lib/stack-files";
import { monitoring, testContext } from "../observability/fixtures";
import { expandAnnotation, findRule } from "../observability/promtool-files";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ballast-team-monitoring-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function promtool(args: string[]): { status: number; output: string } {
  const result = spawnSync("promtool", args, { encoding: "utf8", timeout: 110_000 });
  if (result.error) throw new Error(`promtool could not run (${result.error.message}); install Debian's prometheus package`);
  return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

const nomosx = (target: string) => join(__dirname, "..", "..", "examples", "nomosx", `Pulumi.${target}.yaml`);

function ruleTestsOf(path: string): RuleTestFile[] {
  const file = readStackFileAt(path);
  return parsePlatformConfig(withSecretPlaceholders(file.raw).raw, file.stack, "ballast").config.repositoryFiles.ruleTests;
}

describe.each(["compose", "kubernetes"])("the NomosX example on %s", (target) => {
  it("ships rules promtool accepts, and its own promtool test cases pass against them (npm run test:rules)", async () => {
    const stack = await renderStackFile(nomosx(target));
    const rules = renderedRuleFiles(stack.model);
    expect(rules.map((r) => r.name)).toEqual(["ballast.rules.yml", "team.rules.yml"]);
    const tests = ruleTestsOf(nomosx(target));
    expect(tests.map((t) => t.file)).toEqual(["examples/nomosx/alerts/nomosx.rules.test.yml"]);
    const steps = checkAndTestRules(rules, tests, join(dir, `nomosx-${target}`));
    expect(steps.map((s) => [s.step, s.status, s.status === 0 ? "" : s.output])).toEqual([
      ["check rules ballast.rules.yml", 0, ""],
      ["check rules team.rules.yml", 0, ""],
      ["test rules examples/nomosx/alerts/nomosx.rules.test.yml", 0, ""],
    ]);
    expect(steps[1].output).toMatch(/SUCCESS: 3 rules found/);
  });

  it("a test case that expects the wrong alert fails: the cases really run against the rendered rules", async () => {
    const stack = await renderStackFile(nomosx(target));
    const [test] = ruleTestsOf(nomosx(target));
    const wrong = { ...test, content: test.content.replace("severity: warning", "severity: critical") };
    const steps = checkAndTestRules(renderedRuleFiles(stack.model), [wrong], join(dir, `nomosx-wrong-${target}`));
    expect(steps[2].status).toBe(1);
    expect(steps[2].output).toMatch(/alertname: TrustScoreLow/);
  });

  it("every Prometheus query of its dashboard files parses", async () => {
    const stack = await renderStackFile(nomosx(target));
    const grafana = stack.model.workloads.find((w) => w.name === "grafana");
    const team = ["nomosx-trust-quality.json", "nomosx-costs.json"].map((name) => ({
      file: name,
      model: JSON.parse(grafana?.configFiles.find((f) => f.name === name)?.content ?? "{}") as Record<string, unknown>,
    }));
    const queries = team.flatMap((d) => prometheusQueries(d.model)).length;
    expect(queries).toBe(13);
    const [step] = checkDashboardQueries(team, join(dir, `nomosx-dashboards-${target}`));
    expect(step.output).toMatch(new RegExp(`SUCCESS: ${queries} rules found`));
    expect(step.status).toBe(0);
  });
});

describe("a dashboard query only the full PromQL grammar rejects", () => {
  it("passes the config-time structure check but promtool refuses it, naming the file and the panel", () => {
    const source = JSON.parse(readFileSync(join(__dirname, "..", "..", "examples", "nomosx", "dashboards", "costs.json"), "utf8")) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    source.panels[4].targets[0].expr = "sum(rate(tokens_used_total[5m])) +* 2";
    expect(promqlSyntaxProblem(source.panels[4].targets[0].expr)).toBeUndefined();
    const path = join(dir, "broken-dashboard.yml");
    writeFileSync(path, dashboardQueryRules([{ file: "examples/nomosx/dashboards/costs.json", model: source }]).content);
    const result = promtool(["check", "rules", path]);
    expect(result.status).toBe(1);
    expect(result.output).toContain(
      'group "examples/nomosx/dashboards/costs.json panel \\"Token rate\\" query A", rule 1, "dashboard:query_6": could not parse expression',
    );
  });
});

describe("HighErrorRate on one requests counter with a status label (nyxcore)", () => {
  const config = monitoring({
    alerts: {
      metrics: {
        httpRequestsTotal: "nyxcore_http_requests_total",
        errorsTotal: { metric: "nyxcore_http_requests_total", statusLabel: "status_code", errorStatus: "5.." },
      },
    },
  });

  it.each(["compose", "kubernetes"] as const)("fires on a 5xx burst, stays silent below the threshold and on 4xx (%s)", (target) => {
    const groups = alertGroups(config, testContext(target));
    const rules = join(dir, `nyxcore-${target}.rules.yml`);
    writeFileSync(rules, renderAlertRules(groups));
    const rule = findRule(groups, "HighErrorRate", "critical");
    const series = (status: string, perMinute: number) => ({
      series: `nyxcore_http_requests_total{route="/api/workflows",status_code="${status}"}`,
      values: `0+${perMinute}x40`,
    });
    const at = (input: object[], alerts: object[]) => ({
      interval: "1m",
      input_series: input,
      alert_rule_test: [{ eval_time: "20m", alertname: "HighErrorRate", exp_alerts: alerts }],
    });
    const labels = { severity: "critical" };
    const tests = {
      rule_files: [rules],
      evaluation_interval: "1m",
      tests: [
        // 90 ok + 10 failing per minute: 10 % of requests fail.
        at(
          [series("200", 90), series("503", 10)],
          [
            {
              exp_labels: labels,
              exp_annotations: {
                summary: expandAnnotation(rule.summary, labels, 10),
                description: expandAnnotation(rule.description, labels, 10),
              },
            },
          ],
        ),
        // 2 failing of 100: below the 5 % threshold.
        at([series("200", 98), series("500", 2)], []),
        // 4xx are the clients' errors, not the app's.
        at([series("200", 50), series("404", 50)], []),
      ],
    };
    const path = join(dir, `nyxcore-${target}.test.yml`);
    writeFileSync(path, toYaml(tests));
    const result = promtool(["test", "rules", path]);
    expect(result.output).toMatch(/SUCCESS/);
    expect(result.status).toBe(0);
    expect(
      (parse(readFileSync(rules, "utf8")) as { groups: { rules: { expr: string }[] }[] }).groups[0].rules.map((r) => r.expr),
    ).toContain(rule.expr);
  });
});
