/**
 * Where the stack's traces go, read from the model that deploys them: the collector workload
 * (Tempo or Jaeger), its retention from its rendered config, and the workloads whose OTLP
 * endpoint points at it with the service name each reports.
 */
import { parse } from "yaml";
import type { WorkloadSpec } from "../spec";
import type { RunbookContext } from "./context";
import { code } from "./markdown";

/** Collector workload name -> the backend's name (also its Grafana datasource's) and where its config states the retention. */
/** A collector's parsed config: only the few paths read below, each possibly absent. */
interface CollectorConfig {
  compactor?: { compaction?: { block_retention?: unknown } };
  extensions?: { jaeger_storage?: { backends?: Record<string, { badger?: { ttl?: { spans?: unknown } } } | undefined> } };
}

const collectors: Record<string, { backend: string; retention: (config: CollectorConfig) => unknown }> = {
  tempo: { backend: "Tempo", retention: (c) => c.compactor?.compaction?.block_retention },
  jaeger: {
    backend: "Jaeger",
    retention: (c) => Object.values(c.extensions?.jaeger_storage?.backends ?? {}).map((b) => b?.badger?.ttl?.spans)[0],
  },
};

export interface TraceFacts {
  collector: WorkloadSpec;
  /** `Tempo` or `Jaeger`: also the name of its Grafana datasource. */
  backend: string;
  /** As the collector's config states it (`168h`). */
  retention?: string;
  senders: { workload: WorkloadSpec; serviceName?: string }[];
}

export function traceFacts(ctx: RunbookContext): TraceFacts | undefined {
  const collector = ctx.model.workloads.find((w) => w.component === "observability" && collectors[w.name] !== undefined);
  if (!collector) return undefined;
  const known = collectors[collector.name];
  const config = collector.configFiles[0] ? (parse(collector.configFiles[0].content) as CollectorConfig) : {};
  const retention = known.retention(config);
  const endpoint = `http://${collector.name}:`;
  const senders = ctx.model.workloads
    .filter((w) => w.env.OTEL_EXPORTER_OTLP_ENDPOINT?.startsWith(endpoint))
    .map((workload) => ({
      workload,
      serviceName: workload.env.OTEL_SERVICE_NAME ?? /(?:^|,)service\.name=([^,]+)/.exec(workload.env.OTEL_RESOURCE_ATTRIBUTES ?? "")?.[1],
    }));
  return { collector, backend: known.backend, retention: typeof retention === "string" ? retention : undefined, senders };
}

/** The runbook's paragraph on traces; undefined when the stack has no tracing backend. */
export function tracesText(ctx: RunbookContext): string | undefined {
  const facts = traceFacts(ctx);
  if (!facts) return undefined;
  const { collector, backend } = facts;
  const kept = facts.retention ? `, kept ${facts.retention}` : "";
  const senders = facts.senders.map((s) => code(s.workload.name)).join(", ") || "no workload";
  const names = [...new Set(facts.senders.map((s) => s.serviceName).filter((n): n is string => n !== undefined))].map((n) => `${code(n)}`);
  const where = ctx.grafanaUrl ? `${ctx.grafanaUrl} → Explore → data source ${backend}` : `Grafana → Explore → data source ${backend}`;
  const sampler = facts.senders[0]?.workload.env.OTEL_TRACES_SAMPLER_ARG;
  return [
    `Traces go to ${backend} (${code(collector.name)}, OTLP on ports 4317/4318${kept}), sent by ${senders}${sampler ? ` (${Math.round(Number(sampler) * 1000) / 10} % of root traces sampled)` : ""}.`,
    `Search them at ${where}${names.length > 0 ? `, by service name ${names.join(", ")}` : ""}; a workload's own ${code("OTEL_SERVICE_NAME")} and ${code("OTEL_RESOURCE_ATTRIBUTES")} are kept.`,
  ].join(" ");
}
