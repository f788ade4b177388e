/**
 * The team's own dashboards and alert rules (ballast:monitoring.grafana.dashboards /
 * .titlePrefix, ballast:monitoring.alerts.groups / .ruleFiles / .ruleTests) and the error
 * rate from one labelled requests counter: the messages `pulumi up` refuses bad declarations
 * with, and what the renderers make of good ones. promtool's checks of the same output are in
 * test/tools/team-monitoring.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigError, parsePlatformConfig, promqlSyntaxProblem, withGrafanaVariables, type LoadedConfig } from "../../components/config";
import { observabilityDashboards, observabilityWorkloads } from "../../components/observability";
import { observabilityContext } from "../../components/observability/component";
import { dashboardQueries } from "../../components/observability/dashboards";
import { alertGroups } from "../../components/observability/rules";
import { renderRunbook, runbookInput } from "../../components/runbook";
import { renderStackFile, withSecretPlaceholders } from "../../scripts/lib/render-stack";
import { readStackFileAt } from "../../scripts/lib/stack-files";
import { baseValues, rawConfig } from "../fixtures/config";
import { monitoring, testContext } from "./fixtures";

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "ballast-team-monitoring-"));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function writeRepoFile(path: string, content: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

/** A staging stack whose `ballast:monitoring` is `monitoringInput`, parsed with the temp directory as project root. */
function load(monitoringInput: Record<string, unknown>): LoadedConfig {
  return parsePlatformConfig(rawConfig({ ...baseValues("staging"), monitoring: monitoringInput }), "staging", "ballast", root);
}

function problems(monitoringInput: Record<string, unknown>): string[] {
  try {
    load(monitoringInput);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected the config to be refused");
}

const panel = (title: string, expr: string, datasource: unknown = { type: "prometheus", uid: "prometheus" }) => ({
  id: 1,
  type: "timeseries",
  title,
  datasource,
  targets: [{ refId: "A", datasource, expr }],
});

const dashboard = (title: string, panels: unknown[], extra: Record<string, unknown> = {}) => JSON.stringify({ title, panels, ...extra });

const rule = {
  alert: "TrustScoreLow",
  expr: "histogram_quantile(0.5, sum by (le) (rate(trust_score_histogram_bucket[30m]))) < 0.6",
  for: "30m",
  labels: { severity: "warning" },
};

describe("team dashboards: config", () => {
  it("reads each file relative to the project root and keeps its model, uid and title", () => {
    writeRepoFile(
      "dashboards/quality.json",
      dashboard("Trust & Quality", [panel("Median", "histogram_quantile(0.5, sum by (le) (rate(x_bucket[$__rate_interval])))")], {
        uid: "quality",
      }),
    );
    writeRepoFile("dashboards/costs board.json".replace(" ", "-"), dashboard("Costs", [panel("Spend", "sum(cost_per_run_usd)")]));
    const { config } = load({ grafana: { titlePrefix: "NomosX", dashboards: ["dashboards/quality.json", "dashboards/costs-board.json"] } });
    expect(config.monitoring.grafana.titlePrefix).toBe("NomosX");
    expect(config.repositoryFiles.dashboards.map((d) => [d.file, d.uid, d.title])).toEqual([
      ["dashboards/quality.json", "quality", "Trust & Quality"],
      ["dashboards/costs-board.json", "team-costs-board", "Costs"],
    ]);
  });

  it("defaults to no team dashboards and the prefix Ballast", () => {
    const m = monitoring({});
    expect(m.grafana.dashboards).toEqual([]);
    expect(m.grafana.titlePrefix).toBe("Ballast");
  });

  it("refuses a missing file, naming the key, the file and the root", () => {
    expect(problems({ grafana: { dashboards: ["dashboards/nope.json"] } })).toEqual([
      `ballast:monitoring.grafana.dashboards[0]: file "dashboards/nope.json" does not exist (paths are relative to the project root ${root}, where Pulumi.yaml is)`,
    ]);
  });

  it("refuses a path outside the project or not ending in .json", () => {
    const message = "must be a path relative to the project root (where Pulumi.yaml is), inside it, ending in .json";
    expect(problems({ grafana: { dashboards: ["../other/board.json"] } })).toEqual([
      `ballast:monitoring.grafana.dashboards[0]: ${message} (got "../other/board.json")`,
    ]);
    expect(problems({ grafana: { dashboards: ["/etc/board.json"] } })).toEqual([
      `ballast:monitoring.grafana.dashboards[0]: ${message} (got "/etc/board.json")`,
    ]);
  });

  it("refuses invalid JSON with the parser's message", () => {
    const text = '{"title": "Broken", "panels": [}';
    writeRepoFile("dashboards/broken.json", text);
    let parserMessage = "";
    try {
      JSON.parse(text);
    } catch (error) {
      parserMessage = (error as Error).message;
    }
    expect(problems({ grafana: { dashboards: ["dashboards/broken.json"] } })).toEqual([
      `ballast:monitoring.grafana.dashboards[0]: "dashboards/broken.json" is not valid JSON (${parserMessage})`,
    ]);
  });

  it("refuses JSON that is not a dashboard, and says how to unwrap an API export", () => {
    writeRepoFile("dashboards/list.json", "[1, 2]");
    writeRepoFile("dashboards/export.json", JSON.stringify({ dashboard: { title: "Costs", panels: [] }, meta: {} }));
    expect(problems({ grafana: { dashboards: ["dashboards/list.json", "dashboards/export.json"] } })).toEqual([
      'ballast:monitoring.grafana.dashboards[0]: "dashboards/list.json" is not a Grafana dashboard: it must be a JSON object with a non-empty "title" and a "panels" list',
      'ballast:monitoring.grafana.dashboards[1]: "dashboards/export.json" is not a Grafana dashboard: it must be a JSON object with a non-empty "title" and a "panels" list (an API export wraps the model in "dashboard": save that inner object)',
    ]);
  });

  it("refuses a Prometheus query that does not parse, naming file, panel and query; Loki queries are not PromQL", () => {
    writeRepoFile(
      "dashboards/bad-query.json",
      dashboard("Costs", [
        panel("Spend", "sum(rate(cost_total[5m])"),
        { ...panel("Errors by status", "sum by (status) (rate(http_requests_total{status=5..}[5m]))"), id: 2 },
        { ...panel("Logs", '{app="api"} |= "error"', { type: "loki", uid: "loki" }), id: 3 },
        { type: "row", title: "More", panels: [{ ...panel("Nested", "rate(x[5 minutes])", undefined), id: 4 }] },
      ]),
    );
    expect(problems({ grafana: { dashboards: ["dashboards/bad-query.json"] } })).toEqual([
      'ballast:monitoring.grafana.dashboards[0]: "dashboards/bad-query.json" panel "Spend" query A: "sum(rate(cost_total[5m])" is not valid PromQL: "(" at position 3 is never closed',
      'ballast:monitoring.grafana.dashboards[0]: "dashboards/bad-query.json" panel "Errors by status" query A: "sum by (status) (rate(http_requests_total{status=5..}[5m]))" is not valid PromQL: label matcher "status=5.." in {} at position 41 must read name="value", name!="value", name=~"regex" or name!~"regex"',
      'ballast:monitoring.grafana.dashboards[0]: "dashboards/bad-query.json" panel "Nested" query A: "rate(x[5 minutes])" is not valid PromQL: range [5 minutes] at position 6 must be a duration such as [5m], or a subquery range such as [1h:5m]',
    ]);
  });

  it("refuses a uid of Ballast's built-ins and a uid two files share", () => {
    writeRepoFile("dashboards/a.json", dashboard("A", [], { uid: "ballast-overview" }));
    writeRepoFile("dashboards/b.json", dashboard("B", [], { uid: "shared" }));
    writeRepoFile("dashboards/c.json", dashboard("C", [], { uid: "shared" }));
    expect(problems({ grafana: { dashboards: ["dashboards/a.json", "dashboards/b.json", "dashboards/c.json"] } })).toEqual([
      'ballast:monitoring.grafana.dashboards[0]: "dashboards/a.json" has uid "ballast-overview": uids starting with "ballast-" belong to Ballast\'s built-in dashboards; choose another',
      'ballast:monitoring.grafana.dashboards[2]: "dashboards/c.json" has uid "shared", as ballast:monitoring.grafana.dashboards[1] ("dashboards/b.json") does: each dashboard needs its own uid',
    ]);
  });

  it("refuses, on Kubernetes only, boards too large for the grafana ConfigMap", () => {
    const panels = Array.from({ length: 2500 }, (_, i) => ({
      ...panel(`Panel ${i}`, `sum(rate(http_requests_total{route="/api/route-${i}"}[5m]))`),
      id: i + 1,
    }));
    writeRepoFile("dashboards/huge.json", dashboard("Huge", panels));
    const input = { grafana: { dashboards: ["dashboards/huge.json"] } };
    const kib = Math.ceil(Buffer.byteLength(JSON.stringify(JSON.parse(dashboard("Huge", panels)), null, 2)) / 1024);
    expect(kib).toBeGreaterThan(768);
    expect(load(input).config.repositoryFiles.dashboards).toHaveLength(1);
    expect(() =>
      parsePlatformConfig(rawConfig({ ...baseValues("staging"), target: "kubernetes", monitoring: input }), "staging", "ballast", root),
    ).toThrow(
      `ballast:monitoring.grafana.dashboards: the dashboards add up to ${kib} KiB; on Kubernetes they share the grafana ConfigMap (at most 1 MiB with Ballast's own boards), so at most 768 KiB: drop boards or their unused panels`,
    );
  });

  it("refuses a title prefix with quotes", () => {
    expect(problems({ grafana: { titlePrefix: 'Nomos"X' } })).toEqual([
      'ballast:monitoring.grafana.titlePrefix: must be 1 to 40 characters without quotes or backslashes, not starting with a space (e.g. NomosX) (got "Nomos\\"X")',
    ]);
  });
});

describe("team dashboards: render", () => {
  it("provisions the team's boards after the built-ins, prefixed, with the provisioned datasources", () => {
    writeRepoFile(
      "dashboards/exported.json",
      JSON.stringify({
        __inputs: [{ name: "DS_PROMETHEUS", type: "datasource", pluginId: "prometheus" }],
        id: 42,
        uid: "nomosx-costs",
        title: "Costs",
        panels: [
          panel("Spend", "sum(cost_per_run_usd)", "${DS_PROMETHEUS}"),
          { ...panel("Tokens", "sum(rate(tokens_used_total[5m]))", { type: "prometheus", uid: "P1809F7CD0C75ACF3" }), id: 2 },
          { ...panel("Logs", '{app="api"}', { type: "loki", uid: "abc" }), id: 3 },
        ],
      }),
    );
    const { config } = load({ grafana: { titlePrefix: "NomosX", dashboards: ["dashboards/exported.json"] } });
    const ctx = observabilityContext(config);
    const grafana = observabilityWorkloads(config.monitoring, ctx).find((w) => w.name === "grafana");
    const names = grafana?.configFiles.map((f) => f.name) ?? [];
    expect(names.slice(-2)).toEqual(["ballast-logs.json", "nomosx-costs.json"]);
    const file = grafana?.configFiles.find((f) => f.name === "nomosx-costs.json");
    expect(file?.mountPath).toBe("/etc/grafana/dashboards/nomosx-costs.json");
    const model = JSON.parse(file?.content ?? "{}") as {
      id: unknown;
      title: string;
      __inputs?: unknown;
      panels: { datasource: unknown; targets: { datasource: unknown }[] }[];
    };
    expect(model.id).toBeNull();
    expect(model.__inputs).toBeUndefined();
    expect(model.title).toBe("NomosX - Costs");
    expect(model.panels.map((p) => p.datasource)).toEqual([
      { type: "prometheus", uid: "prometheus" },
      { type: "prometheus", uid: "prometheus" },
      { type: "loki", uid: "loki" },
    ]);
    expect(model.panels[0].targets[0].datasource).toEqual({ type: "prometheus", uid: "prometheus" });
    expect(observabilityDashboards(config.monitoring, ctx).map((d) => d.title)).toContain("NomosX - Overview");
  });
});

describe("team alert rules: config", () => {
  it("accepts inline groups and rule files, and renders them into team.rules.yml beside Ballast's", () => {
    writeRepoFile(
      "alerts/quality.rules.yml",
      `groups:\n  - name: nomosx-quality\n    interval: 1m\n    rules:\n      - alert: TrustScoreLow\n        expr: ${rule.expr}\n`,
    );
    writeRepoFile("alerts/quality.test.yml", "rule_files: [quality.rules.yml]\ntests: []\n");
    const { config } = load({
      alerts: {
        groups: [{ name: "nomosx-pipeline", rules: [{ ...rule, alert: "WorkersIdle", annotations: { summary: "Workers idle" } }] }],
        ruleFiles: ["alerts/quality.rules.yml"],
        ruleTests: ["alerts/quality.test.yml"],
      },
    });
    expect(config.repositoryFiles.ruleTests.map((t) => t.file)).toEqual(["alerts/quality.test.yml"]);
    const ctx = observabilityContext(config);
    const prometheus = observabilityWorkloads(config.monitoring, ctx).find((w) => w.name === "prometheus");
    const team = prometheus?.configFiles.find((f) => f.name === "team.rules.yml");
    expect(team?.mountPath).toBe("/etc/prometheus/rules/team.rules.yml");
    expect(parse(team?.content ?? "")).toEqual({
      groups: [
        {
          name: "nomosx-pipeline",
          rules: [
            {
              alert: "WorkersIdle",
              expr: rule.expr,
              for: "30m",
              labels: { severity: "warning" },
              annotations: { summary: "Workers idle" },
            },
          ],
        },
        { name: "nomosx-quality", interval: "1m", rules: [{ alert: "TrustScoreLow", expr: rule.expr }] },
      ],
    });
    const prometheusYml = parse(prometheus?.configFiles.find((f) => f.name === "prometheus.yml")?.content ?? "") as {
      rule_files: string[];
    };
    expect(prometheusYml.rule_files).toEqual(["/etc/prometheus/rules/ballast.rules.yml", "/etc/prometheus/rules/team.rules.yml"]);
  });

  it("without team rules, Prometheus loads only Ballast's file", () => {
    const { config } = load({});
    const prometheus = observabilityWorkloads(config.monitoring, observabilityContext(config)).find((w) => w.name === "prometheus");
    expect(prometheus?.configFiles.map((f) => f.name)).toEqual(["prometheus.yml", "ballast.rules.yml"]);
  });

  it("refuses bad PromQL in an inline rule", () => {
    expect(problems({ alerts: { groups: [{ name: "nomosx", rules: [{ ...rule, expr: "rate(errors_total[5m] > 0" }] }] } })).toEqual([
      'ballast:monitoring.alerts.groups[0].rules[0].expr: is not valid PromQL: "(" at position 4 is never closed (got "rate(errors_total[5m] > 0")',
    ]);
    expect(problems({ alerts: { groups: [{ name: "nomosx", rules: [{ ...rule, expr: "sum(errors_total) >" }] }] } })).toEqual([
      'ballast:monitoring.alerts.groups[0].rules[0].expr: is not valid PromQL: the expression ends with an operator or a comma (got "sum(errors_total) >")',
    ]);
  });

  it("refuses a group named like a built-in group, and two groups of one name", () => {
    writeRepoFile("alerts/dup.rules.yml", `groups:\n  - name: nomosx\n    rules:\n      - alert: A\n        expr: up == 0\n`);
    expect(
      problems({
        alerts: {
          groups: [
            { name: "ballast-app", rules: [rule] },
            { name: "nomosx", rules: [rule] },
          ],
          ruleFiles: ["alerts/dup.rules.yml"],
        },
      }),
    ).toEqual([
      'ballast:monitoring.alerts.groups[0].name: "ballast-app" is the name of a built-in Ballast rule group; choose another (built-in: ballast-app, ballast-llm, ballast-datastores, ballast-host, ballast-containers, ballast-platform)',
      'ballast:monitoring.alerts.ruleFiles[0]: "alerts/dup.rules.yml" group "nomosx" is already the name of ballast:monitoring.alerts.groups[1]; rule group names must be unique',
    ]);
  });

  it("refuses a bad rule inside a rule file, naming the file and the rule's path", () => {
    writeRepoFile(
      "alerts/bad.rules.yml",
      `groups:\n  - name: team\n    rules:\n      - alert: Bad Name\n        expr: "sum(x"\n        for: 5 minutes\n`,
    );
    expect(problems({ alerts: { ruleFiles: ["alerts/bad.rules.yml"] } })).toEqual([
      "ballast:monitoring.alerts.ruleFiles[0]: \"alerts/bad.rules.yml\" groups[0].rules[0].alert: must be an alert name: letters, digits and '_', not starting with a digit (e.g. TrustScoreLow)",
      'ballast:monitoring.alerts.ruleFiles[0]: "alerts/bad.rules.yml" groups[0].rules[0].expr: is not valid PromQL: "(" at position 3 is never closed',
      'ballast:monitoring.alerts.ruleFiles[0]: "alerts/bad.rules.yml" groups[0].rules[0].for: must be a Prometheus duration such as "30s", "5m" or "1h30m"',
    ]);
  });

  it("refuses missing rule and test files, and files that are not what they claim", () => {
    writeRepoFile("alerts/not-rules.yml", "rules: []\n");
    writeRepoFile("alerts/not-tests.yml", "groups: []\n");
    expect(
      problems({ alerts: { ruleFiles: ["alerts/missing.yml", "alerts/not-rules.yml"], ruleTests: ["alerts/not-tests.yml"] } }),
    ).toEqual([
      `ballast:monitoring.alerts.ruleFiles[0]: file "alerts/missing.yml" does not exist (paths are relative to the project root ${root}, where Pulumi.yaml is)`,
      'ballast:monitoring.alerts.ruleFiles[1]: "alerts/not-rules.yml" is not a Prometheus rule file: it must have a "groups" list',
      'ballast:monitoring.alerts.ruleTests[0]: "alerts/not-tests.yml" is not a promtool test file: it must have a "tests" list',
    ]);
  });
});

describe("the error rate from one labelled requests counter", () => {
  const labelled = { metric: "nyxcore_http_requests_total", statusLabel: "status_code", errorStatus: "5.." };

  it("HighErrorRate and the dashboards select the 5xx series of the requests counter", () => {
    const m = monitoring({ alerts: { metrics: { httpRequestsTotal: "nyxcore_http_requests_total", errorsTotal: labelled } } });
    const highErrorRate = alertGroups(m, testContext("compose"))
      .flatMap((g) => g.rules)
      .find((r) => r.alert === "HighErrorRate");
    expect(highErrorRate?.expr).toBe(
      '100 * sum(rate(nyxcore_http_requests_total{status_code=~"5.."}[5m])) / sum(rate(nyxcore_http_requests_total[5m])) > 5',
    );
    const exprs = observabilityDashboards(m, testContext("kubernetes")).flatMap((d) => dashboardQueries(d).map((q) => q.expr));
    expect(exprs).toContain('sum(rate(nyxcore_http_requests_total{status_code=~"5.."}[5m]))');
    expect(exprs.join("\n")).not.toContain("errors_total");
  });

  it("a bare metric name still works (NomosX's errors_total)", () => {
    const rules = alertGroups(monitoring({}), testContext("compose")).flatMap((g) => g.rules);
    expect(rules.find((r) => r.alert === "HighErrorRate")?.expr).toBe(
      "100 * sum(rate(errors_total[5m])) / sum(rate(http_requests_total[5m])) > 5",
    );
  });

  it("refuses an unusable declaration", () => {
    const union =
      'must be a metric name such as "errors_total", or {metric, statusLabel, errorStatus} such as {metric: http_requests_total, statusLabel: status_code, errorStatus: "5.."}';
    expect(
      problems({ alerts: { metrics: { errorsTotal: { metric: "nyxcore_http_requests_total", statusLabel: "status_code" } } } }),
    ).toEqual([
      `ballast:monitoring.alerts.metrics.errorsTotal: ${union} (got {"metric":"nyxcore_http_requests_total","statusLabel":"st...)`,
    ]);
    expect(problems({ alerts: { metrics: { errorsTotal: { ...labelled, errorStatus: '5.."' } } } })).toEqual([
      'ballast:monitoring.alerts.metrics.errorsTotal.errorStatus: must be a regular expression of status values without quotes or backslashes, e.g. "5.." or "5..|429" (got "5..\\"")',
    ]);
  });
});

describe("promqlSyntaxProblem (the config-time check)", () => {
  it("accepts every expression of Ballast's own rules and dashboards", () => {
    const m = monitoring({});
    const exprs = [
      ...alertGroups(m, testContext("compose")).flatMap((g) => g.rules.map((r) => r.expr)),
      ...observabilityDashboards(m, testContext("compose")).flatMap((d) =>
        dashboardQueries(d)
          .filter((q) => q.datasource === "prometheus")
          .map((q) => q.expr),
      ),
    ];
    expect(exprs.length).toBeGreaterThan(50);
    expect(exprs.filter((expr) => promqlSyntaxProblem(expr) !== undefined)).toEqual([]);
  });

  it("accepts subqueries, offsets, strings with brackets and Grafana variables", () => {
    for (const expr of [
      "max_over_time(rate(x[5m])[1h:5m]) offset 1d",
      'count({__name__=~"a|b", job!="x",})',
      'label_replace(up, "a", "$1", "job", "(.*)]")',
      "sum by (le) (rate(x_bucket[$__rate_interval]))",
    ]) {
      expect(promqlSyntaxProblem(withGrafanaVariables(expr)), expr).toBeUndefined();
    }
  });

  it("names what is wrong", () => {
    expect(promqlSyntaxProblem("")).toBe("the expression is empty");
    expect(promqlSyntaxProblem('up{job="x}')).toBe('"{" at position 2 is never closed');
    expect(promqlSyntaxProblem("sum(x))")).toBe('")" at position 6 closes nothing');
    expect(promqlSyntaxProblem("sum(x]")).toBe('"]" at position 5 does not close "(" at position 3');
    expect(promqlSyntaxProblem("x * ")).toBe("the expression ends with an operator or a comma");
    expect(promqlSyntaxProblem('x{a="b')).toBe('"{" at position 1 is never closed');
    expect(promqlSyntaxProblem('label_replace(up, "a)')).toBe('the string opened with " at position 18 is never closed');
  });
});

describe("the generated runbook", () => {
  it.each(["compose", "kubernetes"])(
    "lists the team's dashboards, rule groups and alerts beside Ballast's (NomosX on %s)",
    async (target) => {
      const path = join(__dirname, "..", "..", "examples", "nomosx", `Pulumi.${target}.yaml`);
      const stack = await renderStackFile(path);
      const file = readStackFileAt(path);
      const { config } = parsePlatformConfig(withSecretPlaceholders(file.raw).raw, file.stack, "ballast");
      const runbook = renderRunbook(runbookInput(stack.model, config));
      expect(runbook).toContain(
        "Rule groups: Ballast's `ballast-app` (6), `ballast-llm` (2), `ballast-datastores` (8), `ballast-host` (2), `ballast-containers` (2), `ballast-platform` (2); " +
          "the team's: `nomosx-pipeline` (1), `nomosx-quality` (2) (from `ballast:monitoring.alerts.groups` and `.ruleFiles`).",
      );
      expect(runbook).toMatch(
        /Dashboards \(https:\/\/grafana\.nomosx\.ai\/, folder Ballast\): `NomosX - Overview`, .*; the team's: `NomosX - Trust & Quality`, `NomosX - Costs` \(`ballast:monitoring\.grafana\.dashboards`\)\./,
      );
      expect(runbook).toMatch(/\| `TrustScoreLow` \| warning \| The median trust score is below 0\.6: /);
      expect(runbook).toMatch(/\| `WorkersIdleWithBacklog` \| critical \| /);
    },
  );
});
