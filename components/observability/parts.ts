/**
 * Which monitoring workloads a config deploys. Parts that only feed another part are
 * dropped with it: exporters and Alertmanager serve Prometheus, Alloy ships to Loki, and
 * cAdvisor is replaced by the kubelet's own on Kubernetes.
 */
import type { TargetKind } from "../config/types";
import type { MonitoringConfig } from "./config";

export interface EnabledParts {
  prometheus: boolean;
  alertmanager: boolean;
  grafana: boolean;
  loki: boolean;
  alloy: boolean;
  nodeExporter: boolean;
  /** The cAdvisor workload (Compose only). */
  cadvisor: boolean;
  /** Container metrics are scraped: from cAdvisor on Compose, from the kubelet on Kubernetes. */
  containerMetrics: boolean;
  postgresExporter: boolean;
  redisExporter: boolean;
  tempo: boolean;
}

export function enabledParts(monitoring: MonitoringConfig, target: TargetKind): EnabledParts {
  const on = monitoring.enabled;
  const prometheus = on && monitoring.prometheus.enabled;
  const loki = on && monitoring.loki.enabled;
  return {
    prometheus,
    alertmanager: prometheus && monitoring.alertmanager.enabled,
    grafana: on && monitoring.grafana.enabled,
    loki,
    alloy: loki && monitoring.alloy.enabled,
    nodeExporter: prometheus && monitoring.nodeExporter.enabled,
    cadvisor: prometheus && monitoring.cadvisor.enabled && target === "compose",
    containerMetrics: prometheus && monitoring.cadvisor.enabled,
    postgresExporter: prometheus && monitoring.postgresExporter.enabled,
    redisExporter: prometheus && monitoring.redisExporter.enabled,
    tempo: on && monitoring.tracing.enabled,
  };
}
