/**
 * Alert routing checked by Debian's amtool (0.25): `amtool check-config` accepts
 * alertmanager.yml with several receivers, routes and the inhibition rules, and
 * `amtool config routes test` sends alerts of each severity and label combination through
 * the rendered route tree. The receivers amtool resolves must be the ones the stack's
 * routes promise, and the ones `routeReceivers` (the runbook's routing table) computes.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { parsePlatformConfig, type MonitoringConfig } from "../../components/config";
import {
  inhibitRules,
  renderAlertmanagerConfig,
  routeReceivers,
  type AlertmanagerConfig,
} from "../../components/observability/alertmanager";
import { withSecretPlaceholders } from "../../scripts/lib/render-stack";
import { readStackFileAt } from "../../scripts/lib/stack-files";
import { configFor } from "../fixtures/config";
import { scratchFiles } from "./support/scratch";

function amtool(args: string[]): { status: number; output: string } {
  const result = spawnSync("amtool", args, { encoding: "utf8", timeout: 60_000 });
  if (result.error) throw new Error(`amtool could not run (${result.error.message}); install Debian's prometheus-alertmanager package`);
  // amtool warns that --config.file overrides --alertmanager.url; that line is not a result.
  const output = `${result.stdout}${result.stderr}`.replace(/^Warning: --config.file flag overrides the --alertmanager.url.\n?/gm, "");
  return { status: result.status ?? -1, output };
}

const { write } = scratchFiles("ballast-routing-");

/** alertmanager.yml of a monitoring config, with every receiver secret as a temp file. */
function renderWithSecrets(name: string, monitoring: MonitoringConfig): string {
  const text = renderAlertmanagerConfig(monitoring, {
    receiverSecretFile: write(`${name}-secret`, "credential\n"),
    namedReceiverSecretFile: (receiver) => write(`${name}-secret-${receiver}`, "credential\n"),
  });
  return write(`${name}.yml`, text);
}

/** The receivers amtool resolves for an alert with these labels. */
function amtoolRoute(config: string, labels: Record<string, string>): string[] {
  const result = amtool(["config", "routes", "test", `--config.file=${config}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)]);
  expect(result.status, result.output).toBe(0);
  return result.output.trim().split(",");
}

function nomosx(target: "compose" | "kubernetes"): MonitoringConfig {
  const file = readStackFileAt(join(__dirname, "..", "..", "examples", "nomosx", `Pulumi.${target}.yaml`));
  return parsePlatformConfig(withSecretPlaceholders(file.raw).raw, file.stack, "ballast").config.monitoring;
}

describe("NomosX routing (amtool)", () => {
  for (const target of ["compose", "kubernetes"] as const) {
    it(`check-config accepts two receivers, the routes and the inhibition rules (${target})`, () => {
      const result = amtool(["check-config", renderWithSecrets(`nomosx-${target}`, nomosx(target))]);
      expect(result.output).toMatch(/SUCCESS/);
      expect(result.output).toMatch(/ - 2 receivers/);
      expect(result.output).toContain(` - ${inhibitRules.length} inhibit rules`);
      expect(result.status).toBe(0);
    });
  }

  it("pages PagerDuty and posts to #incidents for a critical alert, posts only to #incidents for a warning", () => {
    const config = renderWithSecrets("nomosx-routes", nomosx("kubernetes"));
    expect(amtoolRoute(config, { alertname: "DatabaseDown", severity: "critical" })).toEqual(["pagerduty", "ops"]);
    expect(amtoolRoute(config, { alertname: "SLOErrorBudgetBurn", severity: "critical", slo: "api", service: "api" })).toEqual([
      "pagerduty",
      "ops",
    ]);
    expect(amtoolRoute(config, { alertname: "QueueBacklog", severity: "warning" })).toEqual(["ops"]);
    expect(amtoolRoute(config, { alertname: "Watchdog" })).toEqual(["ops"]);
  });

  it("amtool's --verify.receivers refuses a wrong expectation (the check can fail)", () => {
    const config = renderWithSecrets("nomosx-verify", nomosx("kubernetes"));
    const result = amtool(["config", "routes", "test", `--config.file=${config}`, "--verify.receivers=ops", "severity=critical"]);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/did not match/);
  });
});

describe("routes by severity and labels (amtool)", () => {
  // Critical pages; the gateway's warnings go to its team's webhook; backup alerts also e-mail; the rest reach Slack.
  const monitoring = configFor(
    {
      monitoring: {
        alertmanager: {
          receiver: { type: "slack", channel: "#incidents" },
          receivers: {
            pagerduty: { type: "pagerduty" },
            "gateway-team": { type: "webhook", url: "https://hooks.example.com/gateway" },
            dba: {
              type: "email",
              to: "dba@example.com",
              from: "alertmanager@example.com",
              smarthost: "smtp.example.com:587",
              username: "am",
            },
          },
          routes: [
            { matchers: ['alertname=~"BackupTooOld|RestoreDrill.*"'], receiver: "dba", continue: true },
            { matchers: ["severity=critical"], receiver: "pagerduty" },
            { matchers: ["service=llm-gateway", "severity!=critical"], receiver: "gateway-team" },
          ],
        },
      },
    },
    "staging",
    {
      "alertmanager-receiver": "u",
      "alertmanager-receiver-pagerduty": "k",
      "alertmanager-receiver-gateway-team": "t",
      "alertmanager-receiver-dba": "p",
    },
  ).monitoring;
  const cases: [Record<string, string>, string[]][] = [
    [{ alertname: "HighErrorRate", severity: "critical" }, ["pagerduty"]],
    [{ alertname: "QueueBacklog", severity: "warning" }, ["ops"]],
    [{ alertname: "SLOErrorBudgetBurn", severity: "warning", service: "llm-gateway", slo: "gateway-availability" }, ["gateway-team"]],
    [{ alertname: "SLOErrorBudgetBurn", severity: "critical", service: "llm-gateway", slo: "gateway-availability" }, ["pagerduty"]],
    [{ alertname: "BackupTooOld", severity: "critical" }, ["dba", "pagerduty"]],
    // A `continue` route that matched counts as a match: no later route matches, yet the default is not added.
    [{ alertname: "RestoreDrillOverdue", severity: "warning" }, ["dba"]],
    [{ alertname: "ScrapeTargetDown", severity: "warning", service: "api" }, ["ops"]],
  ];

  it("check-config accepts four receivers", () => {
    const result = amtool(["check-config", renderWithSecrets("labels-check", monitoring)]);
    expect(result.output).toMatch(/SUCCESS/);
    expect(result.output).toMatch(/ - 4 receivers/);
    expect(result.status).toBe(0);
  });

  it("routes each alert where the stack says, and the runbook's routing agrees with amtool", () => {
    const path = renderWithSecrets("labels-routes", monitoring);
    const tree = (parse(renderAlertmanagerConfig(monitoring)) as AlertmanagerConfig).route;
    for (const [labels, receivers] of cases) {
      expect(amtoolRoute(path, labels), JSON.stringify(labels)).toEqual(receivers);
      expect(routeReceivers(tree, labels), JSON.stringify(labels)).toEqual(receivers);
    }
  });
});

describe("inhibition (amtool check-config)", () => {
  it("renders a warning-by-critical rule that holds back a warning of the same alert and service only", () => {
    const monitoring = configFor({}, "staging").monitoring;
    const path = renderWithSecrets("inhibit", monitoring);
    const result = amtool(["check-config", path]);
    expect(result.output).toContain(` - ${inhibitRules.length} inhibit rules`);
    expect(result.status).toBe(0);
    const rendered = (parse(renderAlertmanagerConfig(monitoring)) as AlertmanagerConfig).inhibit_rules;
    const warningByCritical = rendered.find(
      (r) => r.source_matchers.includes('severity="critical"') && r.target_matchers.includes('severity="warning"'),
    );
    expect(warningByCritical?.equal).toEqual(expect.arrayContaining(["alertname", "service", "slo"]));
  });
});
