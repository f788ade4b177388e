import { describe, expect, it } from "vitest";
import { alertGroups } from "../../components/observability/rules";
import { alertScenarios } from "./alert-scenarios";
import { monitoring, targets, testContext } from "./fixtures";
import { expandAnnotation, findRule } from "./promtool-files";

describe("alert scenarios for promtool", () => {
  for (const target of targets) {
    it(`cover every rendered alert and severity with a firing and a silent case (${target})`, () => {
      const rules = alertGroups(monitoring(), testContext(target)).flatMap((g) => g.rules);
      for (const rule of rules) {
        const covered = alertScenarios.some((s) => s.alert === rule.alert && s.expected.some((e) => e.severity === rule.severity));
        expect(covered, `${rule.alert} (${rule.severity})`).toBe(true);
      }
      for (const scenario of alertScenarios) {
        expect(scenario.bad.length, scenario.alert).toBeGreaterThan(0);
        expect(scenario.healthy.length, scenario.alert).toBeGreaterThan(0);
      }
    });
  }

  it("expand every annotation without leaving a template behind", () => {
    const groups = alertGroups(monitoring(), testContext("compose"));
    for (const scenario of alertScenarios) {
      for (const expected of scenario.expected) {
        const rule = findRule(groups, scenario.alert, expected.severity);
        const labels = { ...expected.labels, severity: expected.severity };
        for (const text of [rule.summary, rule.description]) expect(expandAnnotation(text, labels, expected.value)).not.toContain("{{");
      }
    }
  });

  it("avoid values that Go and JavaScript would round differently", () => {
    const groups = alertGroups(monitoring(), testContext("compose"));
    for (const scenario of alertScenarios) {
      for (const { value, severity } of scenario.expected) {
        if (value === undefined) continue;
        const rule = findRule(groups, scenario.alert, severity);
        const precisions = [...`${rule.summary} ${rule.description}`.matchAll(/printf "%\.(\d)f"/g)].map((m) => Number(m[1]));
        expect(precisions.length, scenario.alert).toBeGreaterThan(0);
        // A tie at the printed precision rounds half-even in Go and half-up in JavaScript.
        for (const digits of precisions) expect(Math.abs((value * 10 ** digits) % 1), `${scenario.alert} ${value}`).not.toBeCloseTo(0.5, 9);
      }
    }
  });
});
