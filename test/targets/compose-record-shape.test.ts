/**
 * The flat shape of Compose service records (components/targets/compose/record-shape.ts): one
 * property per leaf, so a one-line change in the declaration is one changed property in
 * `pulumi preview --diff`, and the policy pack gets the slice back exactly.
 */
import { describe, expect, it } from "vitest";
import { flattenDocument, parsePath, unflattenDocument } from "../../components/targets/compose/record-shape";
import { renderComposeProject } from "../../components/targets/compose";
import { serviceRecordProperties } from "../../components/targets/compose/records";
import { configFor } from "../fixtures/config";
import { fixtureModel } from "../fixtures/stack-model";

describe("compose service record shape", () => {
  const awkward = {
    name: "ballast",
    services: {
      app: {
        image: "ghcr.io/acme/app:1.2.3",
        labels: { "ballast.component": "app", "ballast.dev/runs-as-root": "true", 'quote"d': "x" },
        environment: { LOG_LEVEL: "info", EMPTY: "" },
        deploy: { replicas: 3, resources: { limits: { cpus: "0.5", memory: "512M" } } },
        healthcheck: { test: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:3000/api/health"], retries: 5, disable: false },
        cap_drop: ["ALL"],
        tmpfs: [],
        ulimits: {},
        "x-ballast-route": { rule: "Host(`app.example.com`)", tls: { certResolver: "letsencrypt" } },
        volumes: [{ type: "volume", source: "data", target: "/data" }],
        secrets: null,
      },
    },
    networks: { edge: { name: "ballast_edge", driver: "bridge" } },
  };

  it("round-trips a slice with dotted, slashed and quoted keys, empty containers, nested arrays and null", () => {
    const flat = flattenDocument(awkward);
    expect(unflattenDocument(flat)).toEqual(awkward);
    for (const value of Object.values(flat)) expect(["string", "number", "boolean"]).toContain(typeof value);
  });

  it("keeps a leaf the engine does not know yet (a preview's unknown digest) instead of dropping it", () => {
    const unknown = { unknownAt: "services.api.image" };
    const flat = { "services.api.image": unknown, "services.api.restart": "unless-stopped" } as Record<string, unknown>;
    expect(unflattenDocument(flat)).toEqual({ services: { api: { image: unknown, restart: "unless-stopped" } } });
  });

  it("names leaves readably: the service and the key", () => {
    const flat = flattenDocument(awkward);
    expect(flat["services.app.image"]).toBe("ghcr.io/acme/app:1.2.3");
    expect(flat["services.app.environment.LOG_LEVEL"]).toBe("info");
    expect(flat["services.app.deploy.replicas"]).toBe(3);
    expect(flat["services.app.cap_drop[0]"]).toBe("ALL");
    expect(flat['services.app.labels["ballast.component"]']).toBe("app");
    expect(flat["services.app.tmpfs[]"]).toBe(true);
    expect(flat["services.app.ulimits{}"]).toBe(true);
    expect(flat["services.app.secrets=null"]).toBe(true);
    expect(parsePath('services.app.labels["ballast.dev/runs-as-root"]')).toEqual(["services", "app", "labels", "ballast.dev/runs-as-root"]);
    expect(parsePath("services.app.volumes[0].source")).toEqual(["services", "app", "volumes", 0, "source"]);
  });

  it("a one-line change in the declaration changes exactly one property of one record", () => {
    const before = fixtureModel();
    const after = { ...before, workloads: before.workloads.map((w) => (w.name === "app" ? { ...w, image: "ghcr.io/acme/app:9.9.9" } : w)) };
    const config = { ...configFor().compose, localDir: "/srv/ballast" };
    const old = renderComposeProject(before, config).document;
    const changed = renderComposeProject(after, config).document;
    const differing = (service: string) => {
      const a = serviceRecordProperties(old, service);
      const b = serviceRecordProperties(changed, service);
      return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((key) => a[key] !== b[key]);
    };
    expect(differing("app")).toEqual(["services.app.image"]);
    expect(differing("postgres")).toEqual([]);
  });
});
