/**
 * The runbook's "Alert routing" and "SLOs" sections, from a stack with NomosX's routing
 * (critical to PagerDuty and Slack, the rest to Slack) and two SLOs: the routing table is
 * read from the rendered alertmanager.yml and rule files, the SLO list from the config.
 */
import { describe, expect, it } from "vitest";
import { observabilityWorkloads } from "../components/observability";
import { renderRunbook, runbookInput } from "../components/runbook";
import { configFor } from "./fixtures/config";
import { fixtureModel } from "./fixtures/stack-model";
import { testContext } from "./observability/fixtures";

const config = configFor(
  {
    monitoring: {
      alertmanager: {
        receiver: { type: "slack", channel: "#incidents" },
        receivers: { pagerduty: { type: "pagerduty" }, quiet: { type: "none" } },
        routes: [
          { matchers: ["severity=critical"], receiver: "pagerduty", continue: true },
          { matchers: ["alertname=ContainerRestarting"], receiver: "quiet" },
        ],
      },
      slos: [
        {
          name: "api-availability",
          service: "app",
          type: "availability",
          objective: 0.999,
          description: "The API answers",
          total: "http_requests_total",
          errors: 'http_requests_total{status=~"5.."}',
        },
        {
          name: "api-latency",
          service: "app",
          type: "latency",
          objective: 0.95,
          windowDays: 28,
          histogram: "http_request_duration_seconds",
          thresholdSeconds: 2.5,
        },
      ],
    },
  },
  "staging",
  { "alertmanager-receiver": "u", "alertmanager-receiver-pagerduty": "k" },
);

function runbook(): string {
  const model = fixtureModel();
  model.workloads.push(...observabilityWorkloads(config.monitoring, testContext("compose")));
  return renderRunbook(runbookInput(model, config));
}

const section = (text: string, title: string) => {
  const start = text.indexOf(`## ${title}\n`);
  return text.slice(start, text.indexOf("\n## ", start + 1));
};

describe("runbook: alert routing", () => {
  const text = section(runbook(), "Alert routing");

  it("lists each receiver with where it sends and the secret holding its credential", () => {
    expect(text).toContain("| `ops` | Slack #incidents | `alertmanager-receiver` |");
    expect(text).toContain("| `pagerduty` | PagerDuty (Events API v2) | `alertmanager-receiver-pagerduty` |");
    expect(text).toContain("| `quiet` | nobody (no integration: alerts show in Alertmanager and Grafana only) | none |");
  });

  it("says where each alert goes, by severity and label, including each SLO's burn alerts", () => {
    expect(text).toContain("| `DatabaseDown` | critical |  | `pagerduty`, `ops` |");
    expect(text).toContain("| `QueueBacklog` | warning |  | `ops` |");
    expect(text).toContain("| `ContainerRestarting` | warning |  | `quiet` |");
    expect(text).toContain("| `SLOErrorBudgetBurn` | critical | `slo=api-availability` `service=app` | `pagerduty`, `ops` |");
    expect(text).toContain("| `SLOErrorBudgetBurn` | warning | `slo=api-latency` `service=app` | `ops` |");
  });

  it("explains the inhibitions, warning-by-critical first", () => {
    expect(text).toContain(
      '- `severity="warning"` is held back while `severity="critical"` fires with the same alertname, instance, mountpoint, service, slo',
    );
  });
});

describe("runbook: SLOs", () => {
  const full = runbook();
  const text = section(full, "SLOs");

  it("is in the contents after the routing", () => {
    expect(full).toContain("- [Alert routing](#alert-routing)\n- [SLOs](#slos)");
  });

  it("lists each SLO with its objective, budget and when its burn alerts fire", () => {
    expect(text).toContain(
      "| `api-availability` | `app` | The API answers: 99.9 % of app's requests succeed over 30 days | 0.999 over 30 days | 0.1 % | 14.4x over 1h (and still over the last 5m) or 6x over 6h (and still over the last 30m) | 1x over 3d (and still over the last 6h) |",
    );
    expect(text).toContain(
      "| `api-latency` | `app` | 95 % of app's requests complete within 2.5s over 28 days | 0.95 over 28 days | 5 % | 13.44x over 1h (and still over the last 5m) or 5.6x over 6h (and still over the last 30m) | 0.9333x over 3d (and still over the last 6h) |",
    );
    expect(text).toContain("the **critical** one pages when 2 % of the budget burns within an hour or 5 % within six hours");
  });

  it("is absent without SLOs", () => {
    const plain = configFor({});
    const model = fixtureModel();
    model.workloads.push(...observabilityWorkloads(plain.monitoring, testContext("compose")));
    expect(renderRunbook(runbookInput(model, plain))).not.toContain("## SLOs");
  });
});
