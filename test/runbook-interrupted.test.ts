/**
 * The runbooks' "When a deploy was interrupted" section claims only what the fault tests prove:
 * every Compose row names a step of test/e2e/faults.test.ts, and every fault step there has a row.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { composeInterruptedSection, composeInterruptions, kubernetesInterruptedSection } from "../components/runbook/interrupted";

const faultsTest = readFileSync(path.join(__dirname, "e2e", "faults.test.ts"), "utf8");
/** The titles of the fault test's steps, set-up excluded. */
const faultSteps = [...faultsTest.matchAll(/^ {2}step\(\s*"([^"]+)"/gm)].map((m) => m[1]).filter((title) => !title.startsWith("set-up"));

describe("runbook: when a deploy was interrupted", () => {
  it("every Compose row is proven by a step of test/e2e/faults.test.ts, and every fault step has a row", () => {
    expect(faultSteps).toHaveLength(5);
    for (const fact of composeInterruptions) {
      expect(
        faultSteps.filter((title) => title.startsWith(fact.provenBy)),
        `no fault step starts with "${fact.provenBy}"`,
      ).toHaveLength(1);
    }
    for (const title of faultSteps) {
      expect(
        composeInterruptions.filter((fact) => title.startsWith(fact.provenBy)),
        `no runbook row for the fault step "${title}"`,
      ).toHaveLength(1);
    }
  });

  it("the Compose section names the stack's release directory, the live record and the pending-operation steps in order", () => {
    const text = composeInterruptedSection("When a deploy was interrupted", "staging", "/srv/app", [
      "ssh -p 2222 deploy@203.0.113.10",
      "cd /srv/app/current",
    ]);
    expect(text.startsWith("## When a deploy was interrupted\n")).toBe(true);
    expect(text).toContain("holding `/srv/app/.deploy.lock`");
    expect(text).toContain("cat /srv/app/.ballast/live");
    expect(text).toContain("ssh -p 2222 deploy@203.0.113.10\n");
    expect(text).not.toContain("{base}");
    const steps = [
      "pulumi cancel --yes --stack staging",
      "pulumi up --stack staging ",
      "pulumi refresh --clear-pending-creates --yes --stack staging",
      "pulumi preview --expect-no-changes --stack staging",
    ];
    const at = steps.map((s) => text.indexOf(s));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it("the Kubernetes section gives the same Pulumi steps and names the namespace", () => {
    const text = kubernetesInterruptedSection("When a deploy was interrupted", "prod", "ballast", []);
    expect(text).toContain("pulumi cancel --yes --stack prod");
    expect(text).toContain("pulumi refresh --clear-pending-creates --yes --stack prod");
    expect(text).toContain("namespace `ballast`");
  });
});
