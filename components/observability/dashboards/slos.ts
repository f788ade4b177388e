/**
 * The SLO dashboard: per declared SLO, the error budget left over its window, the SLI
 * against the objective, and the burn rates the alerts watch, with the page and ticket
 * thresholds. It reads only the SLO recording rules (components/observability/slos.ts).
 */
import type { SloConfig } from "../../config";
import { budgetRemainingRecord, burnAlerts, errorBudget, errorRatioRecord, sloPromise } from "../slos";
import { buildDashboard, stat, timeseries, type DashboardJson, type PanelDef } from "./builder";

function sloPanels(slo: SloConfig): PanelDef[] {
  const labels = `{slo="${slo.name}", service="${slo.service}"}`;
  const budget = errorBudget(slo);
  const [page, ticket] = burnAlerts(slo.windowDays);
  const burnWindows = [...page.windows, ...ticket.windows];
  return [
    stat(`${slo.name}: error budget remaining (${slo.windowDays}d)`, `${budgetRemainingRecord}${labels}`, {
      description: `${sloPromise(slo)}; the budget is ${+(budget * 100).toPrecision(12)} % of requests. Below 0 the SLO is missed.`,
      unit: "percentunit",
      width: 6,
    }),
    stat(`${slo.name}: SLI over ${slo.windowDays}d`, `1 - ${errorRatioRecord(`${slo.windowDays}d`)}${labels}`, {
      description: `Share of good requests over the SLO window; the objective is ${slo.objective}.`,
      unit: "percentunit",
      width: 6,
    }),
    timeseries(
      `${slo.name}: burn rate`,
      burnWindows.map((w) => ({ expr: `${errorRatioRecord(w.long)}${labels} / ${budget}`, legend: `${w.long} (alert at ${w.factor}x)` })),
      {
        description:
          "Error ratio as a multiple of the budget: 1x spends exactly the budget over the window. The page fires above the 1h and 6h thresholds, the ticket above the 3d one.",
        min: 0,
        thresholds: [
          [burnWindows[burnWindows.length - 1].factor, "orange"],
          [burnWindows[0].factor, "red"],
        ],
        width: 12,
      },
    ),
  ];
}

export function sloDashboard(slos: SloConfig[]): DashboardJson {
  return buildDashboard({
    uid: "ballast-slos",
    title: "Ballast - SLOs",
    description: "Service level objectives: error budget left, SLI against the objective and the burn rates the multi-window alerts watch.",
    tags: ["slo"],
    panels: slos.flatMap(sloPanels),
  });
}
