/**
 * Built images in the specs: every workload that runs an image `pulumi up` builds records
 * the build (`builtFrom`), including the ones that inherit the app's build (workers and cron
 * jobs without an image of their own, the migration job), so a render names the repository
 * instead of an unresolved image.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { migrationWorkload } from "../components/backups";
import { builtFrom, imageBuildRequests, workloadImages } from "../components/build";
import { cronJobSpecs } from "../components/cron";
import { runAs } from "../components/spec";
import { imageText } from "../components/targets/compose/render";
import { workerSpecs } from "../components/workers";
import { configFor } from "./fixtures/config";

const appBuild = { context: ".", dockerfile: "Dockerfile.api", repository: "ghcr.io/acme/api" };
const appBuilt = { repository: "ghcr.io/acme/api", context: ".", dockerfile: "Dockerfile.api" };

/** A stack whose app is built; one worker and one job inherit it, one of each brings its own image. */
const config = configFor({
  app: { image: undefined, build: appBuild },
  workers: [
    { name: "worker", command: ["node", "dist/worker.js"] },
    { name: "pinned-worker", image: "ghcr.io/acme/worker:2.0.0" },
  ],
  cronJobs: [
    { name: "cleanup", schedule: "0 3 * * *", command: ["npm", "run", "clean"] },
    { name: "vacuum", schedule: "0 4 * * 0", image: "pgvector/pgvector:0.8.0-pg16", command: ["psql", "-c", "VACUUM"] },
  ],
});
const appImage = pulumi.output("ghcr.io/acme/api@sha256:0000");

describe("builtFrom", () => {
  it("records a build's repository, context and Dockerfile, and nothing for a pinned image", () => {
    expect(builtFrom({ ...appBuild, args: {} })).toEqual({ builtFrom: appBuilt });
    expect(builtFrom(undefined)).toEqual({});
  });

  it("workers without an image of their own record the app's build; a pinned worker records none", () => {
    const [worker, pinned] = workerSpecs(config, [appImage, "ghcr.io/acme/worker:2.0.0"]);
    expect(worker.builtFrom).toEqual(appBuilt);
    expect(imageText(worker)).toBe("ghcr.io/acme/api:built-at-deploy");
    expect(pinned.builtFrom).toBeUndefined();
  });

  it("cron jobs without an image of their own record the app's build; a pinned job records none", () => {
    const [cleanup, vacuum] = cronJobSpecs(config, [appImage, "pgvector/pgvector:0.8.0-pg16"]);
    expect(cleanup.builtFrom).toEqual(appBuilt);
    expect(imageText(cleanup)).toBe("ghcr.io/acme/api:built-at-deploy");
    expect(vacuum.builtFrom).toBeUndefined();
  });

  it("the migration job records the app's build it runs", () => {
    const migration = migrationWorkload(
      { command: ["npx", "prisma", "migrate", "deploy"], timeoutSeconds: 300 },
      {
        environment: "prod",
        image: appImage,
        builtFrom: appBuilt,
        env: {},
        secretEnv: {},
        resources: { cpu: 1, memoryMiB: 512 },
        dependsOn: [],
        security: runAs(1000),
      },
    );
    expect(migration.builtFrom).toEqual(appBuilt);
    expect(imageText(migration)).toBe("ghcr.io/acme/api:built-at-deploy");
  });
});

describe("the stack's image builds", () => {
  const services = configFor({
    app: { image: undefined, build: appBuild },
    workers: [
      { name: "worker", command: ["node", "dist/worker.js"] },
      { name: "scout", build: { context: ".", dockerfile: "Dockerfile.scout", repository: "ghcr.io/acme/scout" } },
    ],
    cronJobs: [{ name: "cleanup", schedule: "0 3 * * *", command: ["npm", "run", "clean"] }],
    services: [
      { name: "gateway", port: 8080, build: { context: "gateway", dockerfile: "Dockerfile", repository: "ghcr.io/acme/gateway" } },
      { name: "ollama", port: 11434, image: "ollama/ollama:0.5.7" },
    ],
  });

  it("imageBuildRequests lists one build per workload with `build`, with what the workload is", () => {
    expect(imageBuildRequests(services).map((r) => [r.workload, r.owner, r.build.repository])).toEqual([
      ["app", "app", "ghcr.io/acme/api"],
      ["scout", "worker", "ghcr.io/acme/scout"],
      ["gateway", "service", "ghcr.io/acme/gateway"],
    ]);
    expect(imageBuildRequests(configFor({}))).toEqual([]);
  });

  it("workloadImages: a built image by workload, else the pinned one; workers and jobs without either run the app's", () => {
    const built = {
      app: "ghcr.io/acme/api@sha256:1111",
      scout: "ghcr.io/acme/scout@sha256:2222",
      gateway: "ghcr.io/acme/gateway@sha256:3333",
    };
    expect(workloadImages(services, built)).toEqual({
      app: "ghcr.io/acme/api@sha256:1111",
      workers: ["ghcr.io/acme/api@sha256:1111", "ghcr.io/acme/scout@sha256:2222"],
      cronJobs: ["ghcr.io/acme/api@sha256:1111"],
      services: ["ghcr.io/acme/gateway@sha256:3333", "ollama/ollama:0.5.7"],
    });
    const pinned = configFor({});
    expect(workloadImages(pinned, {}).app).toBe(pinned.app.image);
  });
});
