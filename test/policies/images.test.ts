import { describe, expect, it } from "vitest";
import { Unknown } from "../../policies/lib/values";
import { checkImages, imagesPinned } from "../../policies/images";
import { parseImageRef, unpinnedReason } from "../../policies/lib/image-ref";
import { composeDocument, composeService, container, deployment, releaseCommand, validateResource } from "./harness";

describe("image references", () => {
  it("parses registry ports, tags and digests", () => {
    expect(parseImageRef("localhost:5000/acme/app:1.2")).toEqual({
      repository: "localhost:5000/acme/app",
      basename: "app",
      tag: "1.2",
      digest: undefined,
    });
    expect(parseImageRef("gcr.io/cadvisor/cadvisor:v0.49.1").basename).toBe("cadvisor");
    expect(parseImageRef(`redis@sha256:${"a".repeat(64)}`)).toMatchObject({
      repository: "redis",
      tag: undefined,
      digest: `sha256:${"a".repeat(64)}`,
    });
  });

  it("accepts version tags and digests, refuses latest, untagged and malformed digests", () => {
    expect(unpinnedReason("traefik:v3.7.13")).toBeUndefined();
    expect(unpinnedReason(`ollama/ollama@sha256:${"0".repeat(64)}`)).toBeUndefined();
    expect(unpinnedReason("traefik:latest")).toBe('uses the "latest" tag');
    expect(unpinnedReason("redis")).toBe('has no tag, which means "latest"');
    expect(unpinnedReason("localhost:5000/app")).toBe('has no tag, which means "latest"');
    expect(unpinnedReason("redis@sha256:abc")).toMatch(/malformed digest/);
  });

  it("treats moving tags as unpinned: the config's own rule (pg16, 7-alpine, 16, 3.7), exact versions, commits and dates pass", () => {
    for (const moving of ["pgvector/pgvector:pg16", "redis:7-alpine", "postgres:16", "traefik:v3.7", "node:lts"]) {
      expect(unpinnedReason(moving), moving).toMatch(/^uses the moving tag ".+", which the registry re-points to new builds$/);
    }
    for (const exact of [
      "pgvector/pgvector:0.8.0-pg16",
      "redis:7.4.2-alpine",
      "ghcr.io/acme/app:sha-1a2b3c4",
      "ghcr.io/acme/app:2026-02-24",
      "ballast-e2e/app:v1-0123456789ab",
    ]) {
      expect(unpinnedReason(exact), exact).toBeUndefined();
    }
  });
});

describe("images-pinned on Kubernetes", () => {
  it("passes pinned containers and init containers", async () => {
    const ok = deployment({
      name: "app",
      containers: [container({ image: "ghcr.io/acme/app:1.0.0" })],
      initContainers: [container({ name: "migrate", image: `ghcr.io/acme/app@sha256:${"b".repeat(64)}` })],
    });
    expect(await validateResource(imagesPinned, ok)).toEqual([]);
  });

  it("names the container and the image for traefik:latest, untagged redis and an init container", async () => {
    const bad = deployment({
      name: "edge",
      containers: [container({ name: "traefik", image: "traefik:latest" }), container({ name: "cache", image: "redis" })],
      initContainers: [container({ name: "models", image: "ollama/ollama:latest" })],
    });
    expect(await validateResource(imagesPinned, bad)).toEqual([
      'Deployment "edge" init container "models": image "ollama/ollama:latest" is not pinned (uses the "latest" tag); pin an exact version tag (e.g. "traefik:v3.7.13") or a digest ("name@sha256:...") so restarts and rollbacks run a known image',
      'Deployment "edge" container "traefik": image "traefik:latest" is not pinned (uses the "latest" tag); pin an exact version tag (e.g. "traefik:v3.7.13") or a digest ("name@sha256:...") so restarts and rollbacks run a known image',
      'Deployment "edge" container "cache": image "redis" is not pinned (has no tag, which means "latest"); pin an exact version tag (e.g. "traefik:v3.7.13") or a digest ("name@sha256:...") so restarts and rollbacks run a known image',
    ]);
  });
});

describe("images-pinned on Compose", () => {
  it("passes a project of pinned services", async () => {
    const doc = composeDocument({ app: composeService(), traefik: composeService({ image: "traefik:v3.7.13" }) });
    expect(await validateResource(imagesPinned, releaseCommand(doc))).toEqual([]);
  });

  it("reports the nyxcore runbook's latest images and a build without a tag", async () => {
    const doc = composeDocument({
      traefik: composeService({ image: "traefik:latest" }),
      ollama: composeService({ image: "ollama/ollama:latest" }),
      ipcha: { build: "./ipcha", networks: ["internal"] },
    });
    const messages = await validateResource(imagesPinned, releaseCommand(doc, { remote: false }));
    expect(messages).toEqual([
      'compose service "traefik": image "traefik:latest" is not pinned (uses the "latest" tag); pin an exact version tag (e.g. "traefik:v3.7.13") or a digest ("name@sha256:...") so restarts and rollbacks run a known image',
      'compose service "ollama": image "ollama/ollama:latest" is not pinned (uses the "latest" tag); pin an exact version tag (e.g. "traefik:v3.7.13") or a digest ("name@sha256:...") so restarts and rollbacks run a known image',
      'compose service "ipcha": builds an image without an "image:" name and tag, so Compose tags it "latest"; build it with @pulumi/docker and reference the pinned tag or digest',
    ]);
  });

  it("skips an image this update builds (its digest is unknown in a preview), on Compose as on Kubernetes", () => {
    const record = {
      type: "pulumi-nodejs:dynamic/ballast:ComposeService",
      name: "service-api",
      urn: "urn:pulumi:prod::ballast::pulumi-nodejs:dynamic/ballast:ComposeService::service-api",
      props: { service: "api", "services.api.image": new Unknown("services.api.image"), "services.api.restart": "unless-stopped" },
    };
    expect(checkImages(record)).toEqual([]);
    expect(checkImages({ ...record, props: { service: "api", "services.api.restart": "unless-stopped" } })).toEqual([
      'compose service "api": has no image',
    ]);
  });

  it("ignores command resources whose first trigger is not a compose document", () => {
    const other = {
      type: "command:local:Command",
      name: "other",
      urn: "urn:pulumi:dev::ballast::command:local:Command::other",
      props: { triggers: ["services are great", "x"] },
    };
    expect(checkImages(other)).toEqual([]);
    expect(checkImages({ ...other, props: { triggers: ["services: [broken"] } })).toEqual([]);
  });
});
