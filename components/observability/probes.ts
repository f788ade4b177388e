/**
 * Health checks for monitoring images. Kubernetes probes HTTP natively. Compose runs a
 * command inside the container, so it gets `wget` only for images that ship it (busybox
 * and alpine based: the prom/* images, Grafana, cAdvisor); Loki (distroless), Alloy,
 * Tempo and redis_exporter (scratch) have no HTTP client, so on Compose they get no health
 * check rather than one that can never pass and would fail `docker compose up --wait`.
 */
import type { TargetKind } from "../config";
import { healthCheck, type HealthCheckSpec } from "../spec";

export interface ProbeOptions {
  /** The image has busybox/alpine `wget`. */
  imageHasWget: boolean;
  startPeriodSeconds?: number;
}

export function httpProbe(target: TargetKind, port: number, path: string, options: ProbeOptions): HealthCheckSpec | undefined {
  const timing = { intervalSeconds: 15, timeoutSeconds: 5, retries: 5, startPeriodSeconds: options.startPeriodSeconds ?? 30 };
  if (target === "kubernetes") return healthCheck({ http: { path, port } }, timing);
  if (!options.imageHasWget) return undefined;
  return healthCheck({ exec: ["wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${port}${path}`] }, timing);
}
