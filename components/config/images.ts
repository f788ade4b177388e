/**
 * The one image-pin rule, used by config validation and by the policy pack.
 *
 * - `latest` (or no tag, which means `latest`) is refused everywhere: the nyxcore runbook
 *   shows `traefik:latest` and `ollama/ollama:latest` drifting under a running stack.
 * - A digest (`name@sha256:…`) is pinned.
 * - A tag is an exact version when it carries a full `X.Y.Z` version (`v3.7.13`,
 *   `0.8.0-pg16`, `7.4.2-alpine`), a commit (`sha-1a2b3c4`, 12+ hex digits) or a date
 *   (`2026-02-24`, `20260224`); anything else (`pg16`, `7-alpine`, `16`, `stable`) is a
 *   moving tag that the registry re-points: a warning in dev, refused in staging and prod.
 */
import { z } from "zod";
import type { Environment } from "./environment";

export { classifyImage, imageTag, type ImagePin } from "./image-pin";
import { classifyImage, imageTag } from "./image-pin";

/** Syntax of an image reference, and never `latest`; whether a tag moves is checked per environment. */
export const imageRef = z.string().superRefine((image, ctx) => {
  if (image.length === 0 || /\s/.test(image)) {
    ctx.addIssue({ code: "custom", message: 'must be an image reference without spaces, such as "ghcr.io/acme/app:1.4.2"' });
  } else if (classifyImage(image) === "latest") {
    ctx.addIssue({
      code: "custom",
      message:
        'must be pinned by an exact version tag (e.g. "redis:7.4.2-alpine") or a digest ("name@sha256:..."); "latest" and an untagged name move under a running stack',
    });
  }
});

/**
 * The moving-tag rule: a message for a tag that the registry can re-point, or undefined.
 * `severity` says whether the environment refuses it.
 */
export function imagePinProblem(
  key: string,
  image: string,
  environment: Environment,
): { severity: "error" | "warning"; message: string } | undefined {
  if (classifyImage(image) !== "moving") return undefined;
  const name = image.split("@")[0];
  const repository = name.slice(0, name.length - (imageTag(image)?.length ?? 0) - 1);
  const refused = environment !== "dev";
  return {
    severity: refused ? "error" : "warning",
    message:
      `${key}: ${JSON.stringify(image)} uses the moving tag ${JSON.stringify(imageTag(image))}, which the registry re-points to new builds; ` +
      `pin an exact version (e.g. "${repository}:<major.minor.patch>...") or a digest ("${repository}@sha256:...")` +
      (refused ? ` (refused in ${environment}; only dev accepts moving tags, with a warning)` : " (accepted in dev only)"),
  };
}

/**
 * Pinned default images. Exact versions from the runbooks where they give one (nyxcore's
 * monitoring set), current releases otherwise; Traefik follows the version the end-to-end
 * suite builds.
 */
export const defaultImages = {
  postgres: "pgvector/pgvector:0.8.0-pg16",
  redis: "redis:7.4.2-alpine",
  traefik: "traefik:v3.7.13",
  rclone: "rclone/rclone:1.68.2",
  prometheus: "prom/prometheus:v2.53.0",
  alertmanager: "prom/alertmanager:v0.27.0",
  grafana: "grafana/grafana:11.3.0",
  loki: "grafana/loki:3.4.2",
  alloy: "grafana/alloy:v1.7.1",
  nodeExporter: "prom/node-exporter:v1.8.0",
  cadvisor: "gcr.io/cadvisor/cadvisor:v0.49.1",
  // Go, from scratch: one allow-list regex per HTTP method (components/observability/docker-api.ts).
  dockerSocketProxy: "wollomatic/socket-proxy:1.12.2",
  postgresExporter: "prometheuscommunity/postgres-exporter:v0.15.0",
  redisExporter: "oliver006/redis_exporter:v1.62.0",
  blackboxExporter: "prom/blackbox-exporter:v0.25.0",
  tempo: "grafana/tempo:2.6.1",
  // Jaeger v2 (the OpenTelemetry-collector-based binary; v1 all-in-one reached end of life):
  // the release Jaeger's own compose files pin by digest.
  jaeger: "jaegertracing/jaeger:2.19.0",
} as const;
