/**
 * Prometheus's config with either tracing backend, checked by Debian's promtool (2.42): the
 * collector's scrape target is the backend's metrics port (Tempo 3200, Jaeger 8888) and the
 * whole file still passes `promtool check config`.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderPrometheusConfig } from "../../components/observability/prometheus";
import { alertGroups, renderAlertRules } from "../../components/observability/rules";
import { monitoring, testContext } from "../observability/fixtures";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ballast-tracing-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function promtoolCheckConfig(name: string, content: string): { status: number; output: string } {
  const path = join(dir, name);
  writeFileSync(path, content);
  const result = spawnSync("promtool", ["check", "config", path], { encoding: "utf8", timeout: 110_000 });
  if (result.error) throw new Error(`promtool could not run (${result.error.message}); install Debian's prometheus package`);
  return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

describe.each([
  ["tempo", "tempo:3200"],
  ["jaeger", "jaeger:8888"],
] as const)("promtool with the %s backend (Compose)", (backend, target) => {
  it(`scrapes ${target} and accepts prometheus.yml`, () => {
    const ctx = testContext("compose");
    const config = monitoring({ tracing: { enabled: true, backend } });
    const rules = join(dir, `${backend}.rules.yml`);
    writeFileSync(rules, renderAlertRules(alertGroups(config, ctx)));
    const rendered = renderPrometheusConfig(config, ctx, { ruleFiles: [rules], serviceAccountDir: "/unused" });
    const scrape = (parse(rendered) as { scrape_configs: { job_name: string; static_configs?: { targets: string[] }[] }[] }).scrape_configs;
    expect(scrape.find((s) => s.job_name === backend)?.static_configs?.[0].targets).toEqual([target]);
    const result = promtoolCheckConfig(`prometheus-${backend}.yml`, rendered);
    expect(result.output).toMatch(/SUCCESS/);
    expect(result.status).toBe(0);
  });
});
