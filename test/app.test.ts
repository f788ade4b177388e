/**
 * The app's spec: its container ports are what the Kubernetes Service and NetworkPolicy open,
 * so a health or metrics port served apart from the traffic port must be listed.
 */
import { describe, expect, it } from "vitest";
import { appPorts, appSpec } from "../components/app";
import { configFor } from "./fixtures/config";

describe("appPorts", () => {
  it("lists traffic, then metrics and health when they are served on other ports", () => {
    expect(appPorts(8080, 9464, 8081)).toEqual([
      { name: "http", port: 8080 },
      { name: "metrics", port: 9464 },
      { name: "health", port: 8081 },
    ]);
  });

  it("lists a shared port once", () => {
    expect(appPorts(3000, 3000, 3000)).toEqual([{ name: "http", port: 3000 }]);
    expect(appPorts(3000, undefined, undefined)).toEqual([{ name: "http", port: 3000 }]);
    expect(appPorts(3000, 9464, 9464)).toEqual([
      { name: "http", port: 3000 },
      { name: "metrics", port: 9464 },
    ]);
  });

  it("opens the deep-health port of ballast:app.health.port (the blackbox exporter probes it there)", () => {
    const config = configFor({ app: { port: 8080, health: { liveness: "/livez", deep: "/health/deep", port: 8081 } } });
    const spec = appSpec(config, "ghcr.io/acme/app:1.0.0");
    expect(spec.deepHealth).toEqual({ path: "/health/deep", port: 8081 });
    expect(spec.ports.map((p) => p.port)).toContain(8081);
  });
});
