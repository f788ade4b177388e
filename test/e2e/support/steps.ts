/**
 * Ordered steps of one scenario: each `it` builds on the ones before, so once a step failed
 * the later ones fail at once, naming it (they are not skipped, and they do not run against a
 * half-deployed stack).
 */
import { it } from "vitest";

export function scenarioSteps(): (name: string, body: () => Promise<void>, timeoutMs?: number) => void {
  let failed: string | undefined;
  return (name, body, timeoutMs) => {
    it(
      name,
      async () => {
        if (failed) throw new Error(`not run: the earlier step "${failed}" failed`);
        try {
          await body();
        } catch (error) {
          failed = name;
          throw error;
        }
      },
      timeoutMs,
    );
  };
}
