/**
 * Alert routing and SLOs through the config pipeline `pulumi up` runs: bad declarations are
 * refused with their exact message, good ones render (routes, receivers with their own
 * secrets, SLO recording and burn-rate rules, the SLO dashboard). The real tools (amtool,
 * promtool) check the same output in test/tools/routing.test.ts and test/tools/slos.test.ts.
 */
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { alertReceivers, parseAlertMatcher, parseSeriesSelector } from "../../components/config";
import { monitoringSecrets, observabilityDashboards, observabilityWorkloads } from "../../components/observability";
import { renderAlertmanagerConfig, routeReceivers, type AlertmanagerConfig } from "../../components/observability/alertmanager";
import { burnAlerts, errorRatioExpr, sloRuleGroups } from "../../components/observability/slos";
import { configFor, problemsOf } from "../fixtures/config";
import { targets, testContext } from "./fixtures";

const credentials = { "alertmanager-receiver": "u", "alertmanager-receiver-pagerduty": "k" };
const routed = (alertmanager: Record<string, unknown>, secrets: Record<string, string> = credentials) =>
  configFor({ monitoring: { alertmanager } }, "staging", secrets).monitoring;
const refused = (monitoring: Record<string, unknown>, secrets: Record<string, string> = credentials) =>
  problemsOf({ monitoring }, "staging", secrets);

const nomosxRouting = {
  receiver: { type: "slack", channel: "#incidents" },
  receivers: { pagerduty: { type: "pagerduty" } },
  routes: [{ matchers: ["severity=critical"], receiver: "pagerduty", continue: true }],
};

const availability = {
  name: "api-availability",
  service: "app",
  type: "availability",
  objective: 0.999,
  total: "http_requests_total",
  errors: 'http_requests_total{status=~"5.."}',
};
const latency = {
  name: "api-latency",
  service: "app",
  type: "latency",
  objective: 0.95,
  histogram: "http_request_duration_seconds",
  thresholdSeconds: 2.5,
};

describe("alert routing: config", () => {
  it("keeps the single-receiver form: one receiver `ops`, no routes", () => {
    const monitoring = routed({ receiver: { type: "pagerduty" } }, { "alertmanager-receiver": "k" });
    expect(monitoring.alertmanager.receivers).toEqual({});
    expect(monitoring.alertmanager.routes).toEqual([]);
    expect(alertReceivers(monitoring).map((r) => [r.name, r.secret])).toEqual([["ops", "alertmanager-receiver"]]);
  });

  it("gives each named receiver its own secret and fills its defaults", () => {
    const monitoring = routed(
      {
        ...nomosxRouting,
        receivers: {
          pagerduty: { type: "pagerduty" },
          hook: { type: "webhook", url: "https://hooks.example.com/a" },
          quiet: { type: "none" },
        },
      },
      { ...credentials, "alertmanager-receiver-hook": "t" },
    );
    expect(alertReceivers(monitoring).map((r) => [r.name, r.secret ?? "-"])).toEqual([
      ["ops", "alertmanager-receiver"],
      ["pagerduty", "alertmanager-receiver-pagerduty"],
      ["hook", "alertmanager-receiver-hook"],
      ["quiet", "-"],
    ]);
    expect(monitoring.alertmanager.receivers.hook).toEqual({ type: "webhook", url: "https://hooks.example.com/a", auth: "bearer" });
    expect(monitoring.alertmanager.routes[0].continue).toBe(true);
  });

  it("refuses a route to a receiver that does not exist", () => {
    expect(refused({ alertmanager: { ...nomosxRouting, routes: [{ matchers: ["severity=critical"], receiver: "pager" }] } })).toEqual([
      'ballast:monitoring.alertmanager.routes[0].receiver: "pager" is not a receiver; allowed: ops, pagerduty (ops is ballast:monitoring.alertmanager.receiver, the others are keys of ballast:monitoring.alertmanager.receivers) (got "pager")',
    ]);
  });

  it("refuses a matcher that does not parse, a regex that does not compile and an empty matcher list", () => {
    expect(
      refused({
        alertmanager: {
          ...nomosxRouting,
          routes: [
            { matchers: ["severity==critical", 'service=~"api|("'], receiver: "ops" },
            { matchers: [], receiver: "ops" },
          ],
        },
      }),
    ).toEqual([
      'ballast:monitoring.alertmanager.routes[0].matchers[0]: must be an Alertmanager matcher: label, one of = != =~ !~, value (e.g. "severity=critical", \'service=~"api|worker"\'); a regex must compile (got "severity==critical")',
      'ballast:monitoring.alertmanager.routes[0].matchers[1]: must be an Alertmanager matcher: label, one of = != =~ !~, value (e.g. "severity=critical", \'service=~"api|worker"\'); a regex must compile (got "service=~\\"api|(\\"")',
      'ballast:monitoring.alertmanager.routes[1].matchers: must list at least one matcher, e.g. ["severity=critical"] (got [])',
    ]);
  });

  it("refuses a named receiver called ops (the default receiver's name) and a bad receiver name", () => {
    expect(
      refused({ alertmanager: { ...nomosxRouting, receivers: { ops: { type: "none" }, Pager_Duty: { type: "none" } }, routes: [] } }),
    ).toEqual([
      'ballast:monitoring.alertmanager.receivers.Pager_Duty: invalid key name "Pager_Duty": must be lowercase letters, digits and single dashes, e.g. "pagerduty" or "slack-incidents"',
    ]);
    expect(refused({ alertmanager: { ...nomosxRouting, receivers: { ops: { type: "none" } }, routes: [] } })).toEqual([
      'ballast:monitoring.alertmanager.receivers.ops: "ops" is the name of the default receiver (ballast:monitoring.alertmanager.receiver); give this one another name (got {"type":"none"})',
    ]);
  });

  it("asks for each receiver's credential by its own secret name, and refuses a credential for no receiver", () => {
    expect(refused({ alertmanager: nomosxRouting }, { "alertmanager-receiver": "u" })).toEqual([
      "ballast:monitoring.alertmanager.receivers.pagerduty: the pagerduty receiver needs its credential: pulumi config set --secret --path 'ballast:secretValues.alertmanager-receiver-pagerduty' <value>",
    ]);
    expect(refused({ alertmanager: nomosxRouting }, { ...credentials, "alertmanager-receiver-slack": "x" })).toEqual([
      'ballast:secretValues.alertmanager-receiver-slack: there is no receiver "slack" under ballast:monitoring.alertmanager.receivers that reads a credential; receivers with one: pagerduty',
    ]);
  });

  it("parses Alertmanager matchers, quoted or bare", () => {
    expect(parseAlertMatcher("severity=critical")).toEqual({ label: "severity", op: "=", value: "critical" });
    expect(parseAlertMatcher('service =~ "api|llm-gateway"')).toEqual({ label: "service", op: "=~", value: "api|llm-gateway" });
    expect(parseAlertMatcher('alertname!="Watch\\"dog"')).toEqual({ label: "alertname", op: "!=", value: 'Watch"dog' });
    expect(parseAlertMatcher("severity")).toBeUndefined();
  });
});

describe("alert routing: alertmanager.yml", () => {
  const config = parse(renderAlertmanagerConfig(routed(nomosxRouting))) as AlertmanagerConfig;

  it("renders the default and the named receivers, each reading its own mounted secret", () => {
    expect(config.receivers.map((r) => r.name)).toEqual(["ops", "pagerduty"]);
    expect(config.receivers[0].slack_configs?.[0].api_url_file).toBe("/etc/alertmanager/secrets/receiver");
    expect(config.receivers[1].pagerduty_configs?.[0].routing_key_file).toBe("/etc/alertmanager/secrets/receiver-pagerduty");
  });

  it("puts the stack's routes, matchers normalised, before the critical catch-all; a critical route gets the critical timing", () => {
    expect(config.route.receiver).toBe("ops");
    expect(config.route.routes).toEqual([
      {
        receiver: "pagerduty",
        matchers: ['severity="critical"'],
        continue: true,
        group_wait: "10s",
        group_interval: "1m",
        repeat_interval: "1h",
      },
      { receiver: "ops", matchers: ['severity="critical"'], group_wait: "10s", group_interval: "1m", repeat_interval: "1h" },
    ]);
  });

  it("routes like Alertmanager: first match wins, continue keeps going, the parent takes what no child matched", () => {
    expect(routeReceivers(config.route, { alertname: "DatabaseDown", severity: "critical" })).toEqual(["pagerduty", "ops"]);
    expect(routeReceivers(config.route, { alertname: "QueueBacklog", severity: "warning" })).toEqual(["ops"]);
  });

  it.each(targets)("mounts every receiver credential into the alertmanager workload and declares it as a secret (%s)", (target) => {
    const monitoring = routed(nomosxRouting);
    const workload = observabilityWorkloads(monitoring, testContext(target)).find((w) => w.name === "alertmanager")!;
    expect(workload.secretFiles).toEqual([
      { secret: "alertmanager-receiver", mountPath: "/etc/alertmanager/secrets/receiver" },
      { secret: "alertmanager-receiver-pagerduty", mountPath: "/etc/alertmanager/secrets/receiver-pagerduty" },
    ]);
    expect(workload.description).toBe("Alert routing and inhibition; notifies via slack, pagerduty.");
    expect(workload.network.egressInternet).toBe(true);
    expect(monitoringSecrets(monitoring, testContext(target)).map((s) => s.name)).toEqual([
      "grafana-admin-password",
      "alertmanager-receiver",
      "alertmanager-receiver-pagerduty",
    ]);
  });
});

describe("SLOs: config", () => {
  const problems = (slos: unknown[], values: Record<string, unknown> = {}) => problemsOf({ ...values, monitoring: { slos } });

  it("fills windowDays (30, the SRE workbook's window)", () => {
    expect(configFor({ monitoring: { slos: [availability] } }).monitoring.slos[0].windowDays).toBe(30);
  });

  it("refuses an objective outside (0, 1)", () => {
    expect(problems([{ ...availability, objective: 1 }])).toEqual([
      "ballast:monitoring.slos[0].objective: must be a ratio strictly between 0 and 1, e.g. 0.999 for 99.9 % (got 1)",
    ]);
    expect(problems([{ ...availability, objective: 0 }])).toEqual([
      "ballast:monitoring.slos[0].objective: must be a ratio strictly between 0 and 1, e.g. 0.999 for 99.9 % (got 0)",
    ]);
  });

  it("refuses an objective whose budget is too large for the fast-burn alert to ever fire", () => {
    expect(problems([{ ...availability, objective: 0.9 }])).toEqual([
      "ballast:monitoring.slos[0].objective: 0.9 cannot page with windowDays 30: the fast-burn alert (14.4x the error budget of 10 %) would need more than 100 % of requests to fail; use an objective above 0.9306 or a shorter windowDays (got 0.9)",
    ]);
  });

  it("refuses a missing metric, naming what the SLO type needs", () => {
    expect(problems([{ name: "a", service: "app", type: "availability", objective: 0.99, total: "http_requests_total" }])).toEqual([
      "ballast:monitoring.slos[0].errors: required for an availability SLO: the counter of failed requests, e.g. 'http_requests_total{status=~\"5..\"}' (got nothing)",
    ]);
    expect(problems([{ name: "l", service: "app", type: "latency", objective: 0.95, histogram: "http_request_duration_seconds" }])).toEqual(
      [
        "ballast:monitoring.slos[0].thresholdSeconds: required for a latency SLO: the latency a good request stays under, one of the histogram's bucket bounds, e.g. 2.5 (got nothing)",
      ],
    );
  });

  it("refuses a selector that does not parse, a histogram series instead of the histogram, and a job matcher", () => {
    expect(
      problems([
        { ...availability, errors: "http_requests_total{status=5xx}" },
        { ...latency, histogram: "http_request_duration_seconds_bucket" },
        { ...availability, name: "b", total: 'http_requests_total{job="api"}' },
      ]),
    ).toEqual([
      'ballast:monitoring.slos[0].errors: must be a PromQL series selector: a metric name with optional label matchers in double quotes, e.g. \'http_requests_total{status=~"5.."}\' (got "http_requests_total{status=5xx}")',
      'ballast:monitoring.slos[1].histogram: must name the histogram, not one of its series: "http_request_duration_seconds" (got "http_request_duration_seconds_bucket")',
      'ballast:monitoring.slos[2].total: must not match "job": the SLO\'s service sets it (job="app") (got "http_requests_total{job=\\"api\\"}")',
    ]);
  });

  it("refuses an unknown service and a service without metrics", () => {
    expect(problems([{ ...availability, service: "web" }])).toEqual([
      'ballast:monitoring.slos[0].service: "web" is not a workload of this stack; allowed: app (the app, workers and services Prometheus scrapes)',
    ]);
    expect(problems([{ ...availability, service: "mailer" }], { workers: [{ name: "mailer", command: ["node", "mailer.js"] }] })).toEqual([
      'ballast:monitoring.slos[0].service: "mailer" exposes no metrics (ballast:workers[0].metrics is not set), so Prometheus has no series for this SLO; allowed: app',
    ]);
  });

  it("refuses two SLOs of one name", () => {
    expect(problems([availability, { ...latency, name: "api-availability" }])).toEqual([
      'ballast:monitoring.slos[1].name: "api-availability" is already the name of ballast:monitoring.slos[0]; SLO names must be unique (got "api-availability")',
    ]);
  });

  it("parses series selectors", () => {
    expect(parseSeriesSelector('http_requests_total{route="/api/stripe/webhook", status!~"2.."}')).toEqual({
      metric: "http_requests_total",
      matchers: [
        { label: "route", op: "=", value: "/api/stripe/webhook" },
        { label: "status", op: "!~", value: "2.." },
      ],
    });
    expect(parseSeriesSelector("up{")).toBeUndefined();
  });
});

describe("SLOs: rules and dashboard", () => {
  const monitoring = configFor({ monitoring: { slos: [availability, { ...latency, windowDays: 28, thresholdSeconds: 1 }] } }).monitoring;
  const [records, alerts] = sloRuleGroups(monitoring);

  it("uses the workbook's burn factors for 30 days and scales them with the window", () => {
    expect(burnAlerts(30).map((a) => [a.severity, a.windows.map((w) => `${w.long}/${w.short}@${w.factor}`)])).toEqual([
      ["critical", ["1h/5m@14.4", "6h/30m@6"]],
      ["warning", ["3d/6h@1"]],
    ]);
    expect(burnAlerts(28)[0].windows.map((w) => w.factor)).toEqual([13.44, 5.6]);
  });

  it("records each SLO's error ratio from its own service's series; a whole-second latency bound matches Go and Python clients", () => {
    expect(errorRatioExpr(monitoring.slos[0], "5m")).toBe(
      'round(sum(rate(http_requests_total{job="app", status=~"5.."}[5m])) / sum(rate(http_requests_total{job="app"}[5m])), 1e-12)',
    );
    expect(errorRatioExpr(monitoring.slos[1], "1h")).toBe(
      'round((sum(rate(http_request_duration_seconds_count{job="app"}[1h])) - sum(rate(http_request_duration_seconds_bucket{job="app", le=~"1|1\\\\.0"}[1h]))) / sum(rate(http_request_duration_seconds_count{job="app"}[1h])), 1e-12)',
    );
    expect(
      records.rules.filter((r) => "record" in r && r.labels?.slo === "api-latency").map((r) => ("record" in r ? r.record : "")),
    ).toEqual([
      "slo:sli_error:ratio_rate5m",
      "slo:sli_error:ratio_rate30m",
      "slo:sli_error:ratio_rate1h",
      "slo:sli_error:ratio_rate6h",
      "slo:sli_error:ratio_rate3d",
      "slo:sli_error:ratio_rate28d",
      "slo:objective:ratio",
      "slo:error_budget_remaining:ratio",
    ]);
  });

  it("pages on the 1h/5m or 6h/30m pair and tickets on 3d/6h, labelled with the SLO and its service", () => {
    const page = alerts.rules.find((r) => "alert" in r && r.labels.slo === "api-availability" && r.labels.severity === "critical");
    expect(page?.expr).toBe(
      '(slo:sli_error:ratio_rate1h{slo="api-availability", service="app"} > 0.0144 and slo:sli_error:ratio_rate5m{slo="api-availability", service="app"} > 0.0144)' +
        ' or (slo:sli_error:ratio_rate6h{slo="api-availability", service="app"} > 0.006 and slo:sli_error:ratio_rate30m{slo="api-availability", service="app"} > 0.006)',
    );
    const ticket = alerts.rules.find((r) => "alert" in r && r.labels.slo === "api-availability" && r.labels.severity === "warning");
    expect(ticket?.expr).toBe(
      'slo:sli_error:ratio_rate3d{slo="api-availability", service="app"} > 0.001 and slo:sli_error:ratio_rate6h{slo="api-availability", service="app"} > 0.001',
    );
    expect(ticket && "alert" in ticket ? ticket.annotations.description : "").toBe(
      "SLO api-availability (99.9 % of app's requests succeed over 30 days, error budget 0.1 %) burns its budget at 1x over 3d (confirmed over 6h; 10 % of the budget, empty in 30 days). " +
        "Find the failing requests in the Logs dashboard and plan a fix before the budget runs out; check the SLO dashboard for the trend.",
    );
  });

  it.each(targets)("ships the SLO rules in Prometheus's one rules file and the SLO dashboard in Grafana (%s)", (target) => {
    const workloads = observabilityWorkloads(monitoring, testContext(target));
    const rules = workloads.find((w) => w.name === "prometheus")!.configFiles.find((f) => f.name === "ballast.rules.yml")!;
    const groups = (parse(rules.content) as { groups: { name: string }[] }).groups.map((g) => g.name);
    expect(groups.slice(-2)).toEqual(["ballast-slo-records", "ballast-slo-alerts"]);
    const dashboard = observabilityDashboards(monitoring, testContext(target)).find((d) => d.uid === "ballast-slos")!;
    expect(dashboard.panels.map((p) => p.title)).toEqual([
      "api-availability: error budget remaining (30d)",
      "api-availability: SLI over 30d",
      "api-availability: burn rate",
      "api-latency: error budget remaining (28d)",
      "api-latency: SLI over 28d",
      "api-latency: burn rate",
    ]);
  });

  it("adds nothing without SLOs", () => {
    const plain = configFor({}).monitoring;
    expect(sloRuleGroups(plain)).toEqual([]);
    expect(observabilityDashboards(plain, testContext("compose")).map((d) => d.uid)).not.toContain("ballast-slos");
  });
});
