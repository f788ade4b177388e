import { describe, expect, it } from "vitest";
import { flattenDocument } from "../../components/targets/compose/record-shape";
import { prodBackupsScheduled, prodLogAnonymisation } from "../../policies/stack";
import {
  composeDocument,
  composeService,
  container,
  cronJob,
  daemonSet,
  k8sObject,
  releaseCommand,
  statefulSet,
  validateStack,
  type ResourceInput,
} from "./harness";

const postgres = statefulSet({ name: "postgres", component: "postgres", containers: [container({ image: "pgvector/pgvector:pg16" })] });
const alloyLabelled = daemonSet({
  name: "alloy",
  component: "observability",
  labels: { "ballast.log-anonymisation": "on" },
  containers: [container({ image: "grafana/alloy:v1.7.1" })],
});

function onStack(resources: ResourceInput[], stack: string): ResourceInput[] {
  return resources.map((r) => ({ ...r, stack }));
}

describe("prod-backups-scheduled", () => {
  it("passes a prod stack with a scheduled backup CronJob, and any stack outside prod", async () => {
    expect(
      await validateStack(prodBackupsScheduled, [postgres, cronJob({ name: "backup", component: "backups", schedule: "15 3 * * *" })]),
    ).toEqual([]);
    expect(await validateStack(prodBackupsScheduled, onStack([postgres], "staging"))).toEqual([]);
  });

  it("reports a prod stack with Postgres and no backup, or a suspended one", async () => {
    expect(await validateStack(prodBackupsScheduled, [postgres])).toEqual([
      {
        policy: "prod-backups-scheduled",
        message:
          'prod stack has Postgres but no scheduled backup: expected a CronJob "backup" (Kubernetes) or a compose job service "backup" on the host\'s cron; enable ballast:backups',
        urn: undefined,
      },
    ]);
    const suspended = cronJob({ name: "backup", schedule: "15 3 * * *", suspend: true });
    expect((await validateStack(prodBackupsScheduled, [postgres, suspended])).map((v) => v.message)).toEqual([
      'prod backups: CronJob "backup": is suspended; backups do not run',
    ]);
  });

  it("accepts a Compose backup job the host's cron runs, and reports one without a schedule", async () => {
    const pg = composeService({
      image: "pgvector/pgvector:0.8.0-pg16",
      labels: { "ballast.component": "postgres", "ballast.role": "stateful" },
    });
    const backup = (extra: Record<string, unknown>) =>
      composeService({
        image: "pgvector/pgvector:0.8.0-pg16",
        profiles: ["jobs"],
        labels: { "ballast.component": "backups", "ballast.role": "job" },
        ...extra,
      });
    const ok = releaseCommand(composeDocument({ postgres: pg, backup: backup({ "x-ballast-schedule": "15 3 * * *" }) }), { stack: "prod" });
    expect(await validateStack(prodBackupsScheduled, [ok])).toEqual([]);
    const unscheduled = releaseCommand(composeDocument({ postgres: pg, backup: backup({}) }), { stack: "prod" });
    expect((await validateStack(prodBackupsScheduled, [unscheduled])).map((v) => v.message)).toEqual([
      'prod backups: compose service "backup": has no schedule (x-ballast-schedule), so the host\'s cron never runs it',
    ]);
  });

  it("reads the per-service records the Compose target declares", async () => {
    const record = (name: string, service: Record<string, unknown>) => ({
      type: "pulumi-nodejs:dynamic/ballast:ComposeService",
      name: `ballast-${name}`,
      stack: "prod",
      props: { service: name, ...flattenDocument({ name: "ballast", services: { [name]: service }, networks: {} }) },
    });
    const pg = composeService({
      image: "pgvector/pgvector:0.8.0-pg16",
      labels: { "ballast.component": "postgres", "ballast.role": "stateful" },
    });
    const backup = composeService({
      profiles: ["jobs"],
      labels: { "ballast.component": "backups", "ballast.role": "job" },
      "x-ballast-schedule": "15 3 * * *",
    });
    expect(await validateStack(prodBackupsScheduled, [record("postgres", pg), record("backup", backup)])).toEqual([]);
    expect(await validateStack(prodBackupsScheduled, [record("postgres", pg)])).toHaveLength(1);
  });

  it("takes the environment from the policy config", async () => {
    expect(await validateStack(prodBackupsScheduled, onStack([postgres], "eu-west"), { environment: "staging" })).toEqual([]);
    expect(await validateStack(prodBackupsScheduled, onStack([postgres], "eu-west"))).toHaveLength(1);
  });
});

describe("prod-log-anonymisation", () => {
  it("passes a labelled Alloy, or one whose ConfigMap holds the anonymisation marker", async () => {
    expect(await validateStack(prodLogAnonymisation, [postgres, alloyLabelled])).toEqual([]);
    const alloy = daemonSet({
      name: "alloy",
      containers: [container({ image: "grafana/alloy:v1.7.1" })],
      pod: { volumes: [{ name: "config", configMap: { name: "alloy-config" } }] },
    });
    const config = k8sObject("kubernetes:core/v1:ConfigMap", "configmap-alloy-config", {
      metadata: { name: "alloy-config" },
      data: { "config.alloy": '// ballast:anonymise-client-ips\nloki.process "anonymise" {}\n' },
    });
    expect(await validateStack(prodLogAnonymisation, [alloy, config])).toEqual([]);
    // The comment the observability renderer puts above its IPv4 anonymisation stage counts too.
    const rendered = k8sObject("kubernetes:core/v1:ConfigMap", "configmap-alloy-config", {
      metadata: { name: "alloy-config" },
      data: { "config.alloy": 'loki.process "pipeline" {\n  // IPv4 address: the last octet becomes 0.\n  stage.replace {\n  }\n}\n' },
    });
    expect(await validateStack(prodLogAnonymisation, [alloy, rendered])).toEqual([]);
  });

  it("reports a prod stack without a log shipper, and an Alloy that does not anonymise", async () => {
    expect((await validateStack(prodLogAnonymisation, [postgres])).map((v) => v.message)).toEqual([
      "prod stack has no log shipper (alloy) with client-IP anonymisation; enable ballast:monitoring (Alloy)",
    ]);
    const plain = releaseCommand(composeDocument({ alloy: composeService({ image: "grafana/alloy:v1.7.1" }) }), { stack: "prod" });
    expect((await validateStack(prodLogAnonymisation, [plain])).map((v) => v.message)).toEqual([
      'compose service "alloy": ships logs without the label ballast.log-anonymisation: "on" (client IPs must be anonymised before logs reach Loki)',
    ]);
    const alloy = daemonSet({ name: "alloy", containers: [container({ image: "grafana/alloy:v1.7.1" })] });
    expect((await validateStack(prodLogAnonymisation, [alloy])).map((v) => v.message)).toEqual([
      'DaemonSet "alloy": ships logs without client-IP anonymisation (no label ballast.log-anonymisation: "on" and no anonymisation stage in its ConfigMaps (none))',
    ]);
  });

  it("does not apply outside prod", async () => {
    expect(await validateStack(prodLogAnonymisation, onStack([postgres], "dev"))).toEqual([]);
  });
});
