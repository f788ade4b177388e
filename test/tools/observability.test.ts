/**
 * Rendered monitoring config checked by the real tools: Debian's promtool (2.42) and
 * amtool (0.25), which `.ci/run` installs with `apt-get install prometheus
 * prometheus-alertmanager`. A missing binary fails these tests.
 *
 * Debian builds Prometheus without Kubernetes service discovery ("Kubernetes support has
 * been completely removed", NEWS.Debian), so its promtool rejects `kubernetes_sd_configs`
 * as an unknown field. The Kubernetes config is therefore checked with each
 * `kubernetes_sd_configs` swapped for an equivalent `file_sd_configs`: every other field
 * (relabelling, TLS, token file, alerting, rule files) still goes through promtool, and
 * the test asserts the swap touched nothing else.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { observabilityDashboards } from "../../components/observability";
import { renderAlertmanagerConfig } from "../../components/observability/alertmanager";
import { renderPrometheusConfig } from "../../components/observability/prometheus";
import { alertGroups, renderAlertRules } from "../../components/observability/rules";
import { alertScenarios } from "../observability/alert-scenarios";
import { monitoring, receiverInputs, testContext } from "../observability/fixtures";
import { dashboardRecordingRules, ruleTestFiles } from "../observability/promtool-files";
import { scratchFiles } from "./support/scratch";

interface ToolResult {
  status: number;
  output: string;
}

function tool(binary: "promtool" | "amtool", args: string[]): ToolResult {
  const result = spawnSync(binary, args, { encoding: "utf8", timeout: 110_000 });
  if (result.error) {
    throw new Error(`${binary} could not run (${result.error.message}); install Debian's prometheus and prometheus-alertmanager packages`);
  }
  return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

const { write, dir: scratchDir } = scratchFiles("ballast-observability-");

describe("Debian's monitoring tools", () => {
  it("are installed", () => {
    expect(tool("promtool", ["--version"]).output).toMatch(/promtool, version 2\./);
    expect(tool("amtool", ["--version"]).output).toMatch(/amtool, version 0\./);
  });
});

describe("promtool", () => {
  for (const target of ["compose", "kubernetes"] as const) {
    it(`accepts the alert rules (${target})`, () => {
      const rules = write(`rules-${target}.yml`, renderAlertRules(alertGroups(monitoring(), testContext(target))));
      const result = tool("promtool", ["check", "rules", rules]);
      expect(result.output).toMatch(/SUCCESS: \d+ rules found/);
      expect(result.status).toBe(0);
    });
  }

  it("accepts prometheus.yml for Compose", () => {
    const rules = write("compose.rules.yml", renderAlertRules(alertGroups(monitoring(), testContext("compose"))));
    const config = write(
      "prometheus-compose.yml",
      renderPrometheusConfig(monitoring({ tracing: { enabled: true } }), testContext("compose"), {
        ruleFiles: [rules],
        serviceAccountDir: "/unused",
      }),
    );
    const result = tool("promtool", ["check", "config", config]);
    expect(result.output).toMatch(/SUCCESS/);
    expect(result.status).toBe(0);
  });

  it("accepts prometheus.yml for Kubernetes (service discovery swapped, see header)", () => {
    const rules = write("kubernetes.rules.yml", renderAlertRules(alertGroups(monitoring(), testContext("kubernetes"))));
    const serviceAccount = join(scratchDir(), "serviceaccount");
    mkdirSync(serviceAccount, { recursive: true });
    writeFileSync(join(serviceAccount, "token"), "test-token");
    writeFileSync(join(serviceAccount, "ca.crt"), "");
    const rendered = renderPrometheusConfig(monitoring(), testContext("kubernetes"), {
      ruleFiles: [rules],
      serviceAccountDir: serviceAccount,
    });

    const original = parse(rendered) as { scrape_configs: Record<string, unknown>[] };
    const swapped = parse(rendered) as { scrape_configs: Record<string, unknown>[] };
    let swaps = 0;
    for (const scrape of swapped.scrape_configs) {
      if (scrape.kubernetes_sd_configs) {
        delete scrape.kubernetes_sd_configs;
        scrape.file_sd_configs = [{ files: [join(scratchDir(), `${String(scrape.job_name)}-targets.json`)] }];
        swaps++;
      }
    }
    expect(swaps).toBe(2);
    const withoutDiscovery = (config: { scrape_configs: Record<string, unknown>[] }) =>
      config.scrape_configs.map(({ kubernetes_sd_configs: _k, file_sd_configs: _f, ...rest }) => rest);
    expect(withoutDiscovery(swapped)).toEqual(withoutDiscovery(original));

    const result = tool("promtool", ["check", "config", write("prometheus-kubernetes.yml", stringify(swapped))]);
    expect(result.output).toMatch(/SUCCESS/);
    expect(result.status).toBe(0);
  });

  it("fires every alert on bad series and keeps it silent on healthy ones (promtool test rules)", () => {
    const groups = alertGroups(monitoring(), testContext("compose"));
    const rules = write("scenario.rules.yml", renderAlertRules(groups));
    const files = ruleTestFiles(groups, alertScenarios, rules).map((f) => write(f.name, f.content));
    expect(files.length).toBe(new Set(alertScenarios.map((s) => s.interval)).size);
    const result = tool("promtool", ["test", "rules", ...files]);
    expect(result.output).not.toMatch(/FAILED/);
    expect(result.output.match(/SUCCESS/g)?.length).toBe(files.length);
    expect(result.status).toBe(0);
  });

  it("fails a scenario that expects silence where the alert fires (the harness can fail)", () => {
    const groups = alertGroups(monitoring(), testContext("compose"));
    const rules = write("negative.rules.yml", renderAlertRules(groups));
    const wrong = alertScenarios.filter((s) => s.alert === "HighErrorRate").map((s) => ({ ...s, healthy: s.bad }));
    const files = ruleTestFiles(groups, wrong, rules).map((f) => write(`negative-${f.name}`, f.content));
    const result = tool("promtool", ["test", "rules", ...files]);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/HighErrorRate/);
  });

  it("parses every dashboard query (as recording rules)", () => {
    for (const target of ["compose", "kubernetes"] as const) {
      const { content, count } = dashboardRecordingRules(observabilityDashboards(monitoring(), testContext(target)));
      expect(count).toBeGreaterThan(60);
      const result = tool("promtool", ["check", "rules", write(`dashboards-${target}.rules.yml`, content)]);
      expect(result.output).toContain(`SUCCESS: ${count} rules found`);
      expect(result.status).toBe(0);
    }
  });
});

describe("amtool check-config", () => {
  for (const [name, receiver] of Object.entries(receiverInputs)) {
    it(`accepts alertmanager.yml with the ${name} receiver`, () => {
      const secret = write(`receiver-secret-${name}`, "s3cr3t-value\n");
      const config = write(
        `alertmanager-${name}.yml`,
        renderAlertmanagerConfig(monitoring({ alertmanager: { receiver } }), { receiverSecretFile: secret }),
      );
      const result = tool("amtool", ["check-config", config]);
      expect(result.output).toMatch(/SUCCESS/);
      expect(result.output).toMatch(/ - 1 receivers/);
      expect(result.output).toMatch(/ - \d+ inhibit rules/);
      expect(result.status).toBe(0);
    });
  }
});
