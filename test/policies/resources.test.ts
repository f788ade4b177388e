import { describe, expect, it } from "vitest";
import { healthChecks, resourceLimits } from "../../policies/resources";
import {
  composeDocument,
  composeService,
  container,
  deployment,
  httpProbe,
  releaseCommand,
  statefulSet,
  validateResource,
} from "./harness";

describe("resource-limits", () => {
  it("passes Kubernetes containers and Compose services with CPU and memory limits", async () => {
    expect(await validateResource(resourceLimits, deployment({ name: "app" }))).toEqual([]);
    expect(await validateResource(resourceLimits, releaseCommand(composeDocument({ app: composeService() })))).toEqual([]);
    const legacy = composeService({ deploy: undefined, cpus: 0.5, mem_limit: "512m" });
    expect(await validateResource(resourceLimits, releaseCommand(composeDocument({ legacy })))).toEqual([]);
  });

  it("names the container and what is missing on Kubernetes", async () => {
    const bad = statefulSet({
      name: "postgres",
      containers: [container({ name: "postgres", limits: null })],
      initContainers: [container({ name: "init", limits: { cpu: "100m" } })],
    });
    expect(await validateResource(resourceLimits, bad)).toEqual([
      'StatefulSet "postgres" init container "init": has no memory limit; set resources.limits.cpu and resources.limits.memory',
      'StatefulSet "postgres" container "postgres": has no CPU and memory limits; set resources.limits.cpu and resources.limits.memory',
    ]);
  });

  it("names the Compose service and what is missing", async () => {
    const doc = composeDocument({ ollama: composeService({ deploy: { resources: { limits: { memory: "8G" } } } }) });
    expect(await validateResource(resourceLimits, releaseCommand(doc))).toEqual([
      'compose service "ollama": has no CPU limit; set deploy.resources.limits.cpus and deploy.resources.limits.memory',
    ]);
  });
});

describe("health-checks", () => {
  it("passes an app Deployment with both probes and ignores components that need none", async () => {
    const app = deployment({
      name: "app",
      component: "app",
      containers: [container({ readinessProbe: httpProbe, livenessProbe: httpProbe })],
    });
    expect(await validateResource(healthChecks, app)).toEqual([]);
    expect(await validateResource(healthChecks, deployment({ name: "exporter", component: "observability" }))).toEqual([]);
  });

  it("reports a worker Deployment without probes", async () => {
    const worker = deployment({
      name: "worker",
      component: "workers",
      containers: [container({ name: "worker", readinessProbe: { exec: { command: ["true"] } } })],
    });
    expect(await validateResource(healthChecks, worker)).toEqual([
      'Deployment "worker" container "worker" (component "workers"): has no livenessProbe; rolling updates need readiness and liveness checks',
    ]);
  });

  it("passes Compose app services with a healthcheck and reports routed or worker services without one", async () => {
    const healthy = composeService({
      labels: { "ballast.component": "app", "ballast.role": "stateless" },
      healthcheck: { test: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:3000/api/health"], interval: "10s" },
    });
    expect(await validateResource(healthChecks, releaseCommand(composeDocument({ app: healthy })))).toEqual([]);
    const doc = composeDocument({
      worker: composeService({ labels: { "ballast.component": "workers" } }),
      llm: composeService({
        labels: { "ballast.component": "services", "traefik.enable": "true", "traefik.http.routers.llm.rule": "Host(`llm.example.com`)" },
        healthcheck: { test: ["NONE"] },
      }),
      off: composeService({ labels: { "ballast.component": "app" }, healthcheck: { disable: true } }),
    });
    expect(await validateResource(healthChecks, releaseCommand(doc))).toEqual([
      'compose service "worker" (component "workers"): has no healthcheck; "docker compose up --wait" can only gate the release on services with a healthcheck',
      'compose service "llm" (it has a public route): has a healthcheck without a test; "docker compose up --wait" can only gate the release on services with a healthcheck',
      'compose service "off" (component "app"): has its healthcheck disabled; "docker compose up --wait" can only gate the release on services with a healthcheck',
    ]);
  });

  it("needs no healthcheck on a one-shot step labelled with the app's component (a migration)", async () => {
    const migrate = composeService({ labels: { "ballast.component": "app", "ballast.role": "job" }, restart: "no" });
    expect(await validateResource(healthChecks, releaseCommand(composeDocument({ migrate })))).toEqual([]);
  });

  it("takes the component list from the policy config", async () => {
    const cron = deployment({ name: "gateway", component: "services" });
    expect(await validateResource(healthChecks, cron, { components: ["services"] })).toEqual([
      'Deployment "gateway" container "gateway" (component "services"): has no readinessProbe and no livenessProbe; rolling updates need readiness and liveness checks',
    ]);
  });
});
