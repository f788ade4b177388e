/**
 * The SLO rules checked by Debian's promtool (2.42): `check rules` accepts the rules file
 * with the SLO groups on both targets, and `test rules` runs cases generated from each SLO
 * the NexusCore example declares (its runbook's API availability, P95 latency, webhook
 * success rate and LLM gateway availability): a fast burn pages, a slow burn only tickets, a
 * stopped burn stops paging, and errors exactly at the objective stay silent. The SLO
 * dashboard's queries go through promtool as recording rules.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parsePlatformConfig, type PlatformConfig } from "../../components/config";
import { observabilityDashboards } from "../../components/observability";
import { alertGroups, renderAlertRules } from "../../components/observability/rules";
import { sloRuleGroups } from "../../components/observability/slos";
import { toYaml } from "../../components/observability/yaml";
import { withSecretPlaceholders } from "../../scripts/lib/render-stack";
import { readStackFileAt } from "../../scripts/lib/stack-files";
import { testContext } from "../observability/fixtures";
import { dashboardRecordingRules } from "../observability/promtool-files";
import { sampleProblems, sloCases, type SampleRequests } from "../observability/slo-cases";
import { scratchFiles } from "./support/scratch";

function promtool(args: string[]): { status: number; output: string } {
  const result = spawnSync("promtool", args, { encoding: "utf8", timeout: 110_000 });
  if (result.error) throw new Error(`promtool could not run (${result.error.message}); install Debian's prometheus package`);
  return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

function exampleConfig(target: "compose" | "kubernetes"): PlatformConfig {
  const file = readStackFileAt(join(__dirname, "..", "..", "examples", "nexuscore", `Pulumi.${target}.yaml`));
  return parsePlatformConfig(withSecretPlaceholders(file.raw).raw, file.stack, "ballast").config;
}

/** A good and a failed request of each NexusCore SLO, as the API and gateway label them. */
const samples: Record<string, SampleRequests> = {
  "api-availability": { good: { route: "/api/chat", status: "200" }, bad: { route: "/api/chat", status: "503" } },
  "api-latency": { good: { route: "/api/chat" }, bad: { route: "/api/chat" } },
  "webhook-success": { good: { route: "/api/stripe/webhook", status: "200" }, bad: { route: "/api/stripe/webhook", status: "400" } },
  "gateway-availability": { good: { status: "200" }, bad: { status: "502" } },
};

const { write } = scratchFiles("ballast-slos-");

describe("SLO rules (promtool)", () => {
  const config = exampleConfig("kubernetes");
  const slos = config.monitoring.slos;

  it("the NexusCore example declares the runbook's four SLOs", () => {
    expect(slos.map((s) => `${s.name}:${s.service}:${s.type}`)).toEqual([
      "api-availability:api:availability",
      "api-latency:api:latency",
      "webhook-success:api:availability",
      "gateway-availability:llm-gateway:availability",
    ]);
  });

  for (const target of ["compose", "kubernetes"] as const) {
    it(`accepts the rules file with the SLO groups (${target})`, () => {
      const monitoring = exampleConfig(target).monitoring;
      const slo = sloRuleGroups(monitoring);
      const ruleCount =
        slo.reduce((n, g) => n + g.rules.length, 0) + alertGroups(monitoring, testContext(target)).reduce((n, g) => n + g.rules.length, 0);
      const result = promtool([
        "check",
        "rules",
        write(`rules-${target}.yml`, renderAlertRules(alertGroups(monitoring, testContext(target)), slo)),
      ]);
      expect(result.output).toContain(`SUCCESS: ${ruleCount} rules found`);
      expect(result.status).toBe(0);
    });
  }

  for (const slo of slos) {
    it(`${slo.name}: pages on a fast burn, tickets on a slow one, stays silent at the objective (promtool test rules)`, () => {
      const sample = samples[slo.name];
      expect(sample, `no sample requests for SLO ${slo.name}`).toBeDefined();
      expect(sampleProblems(slo, sample)).toEqual([]);
      const groups = sloRuleGroups({ ...config.monitoring, slos: [slo] });
      const rules = write(`${slo.name}.rules.yml`, toYaml({ groups }));
      const cases = sloCases(groups, slo, sample);
      const file = write(
        `${slo.name}.test.yml`,
        toYaml({ rule_files: [rules], evaluation_interval: "1m", tests: cases.map((c) => c.test) }),
      );
      const result = promtool(["test", "rules", file]);
      expect(result.output).not.toMatch(/FAILED/);
      expect(result.output).toMatch(/SUCCESS/);
      expect(result.status).toBe(0);
    });
  }

  it("fails a case that expects silence during a fast burn (the harness can fail)", () => {
    const slo = slos[0];
    const groups = sloRuleGroups({ ...config.monitoring, slos: [slo] });
    const rules = write("negative.rules.yml", toYaml({ groups }));
    const [fast] = sloCases(groups, slo, samples[slo.name]);
    const silenced = { ...fast.test, alert_rule_test: [{ eval_time: "10m", alertname: "SLOErrorBudgetBurn", exp_alerts: [] }] };
    const result = promtool([
      "test",
      "rules",
      write("negative.test.yml", toYaml({ rule_files: [rules], evaluation_interval: "1m", tests: [silenced] })),
    ]);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/SLOErrorBudgetBurn/);
  });

  it("parses every query of the SLO dashboard (as recording rules)", () => {
    const dashboards = observabilityDashboards(config.monitoring, testContext("kubernetes")).filter((d) => d.uid === "ballast-slos");
    expect(dashboards).toHaveLength(1);
    const { content, count } = dashboardRecordingRules(dashboards);
    expect(count).toBe(slos.length * 5);
    const result = promtool(["check", "rules", write("slo-dashboard.rules.yml", content)]);
    expect(result.output).toContain(`SUCCESS: ${count} rules found`);
    expect(result.status).toBe(0);
  });
});
