import { UnknownValueError, unknownCheckingProxy } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { checkImages } from "../../policies/images";
import { withDefaults, viewOfArgs } from "../../policies/lib/policy";
import { selectorMatches } from "../../policies/lib/kubernetes";
import { Unknown, materialise } from "../../policies/lib/values";
import { environmentOf, stackOfUrn } from "../../policies/lib/view";
import { parseComposeText, serviceVolumes, composeServices } from "../../policies/lib/compose";

/** The engine's sentinel for an unknown string during preview (as @pulumi/policy defines it). */
const unknownString = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

describe("unknown values during preview", () => {
  it("turns fields that throw UnknownValueError into Unknown markers and keeps the rest", () => {
    const props = unknownCheckingProxy({
      spec: {
        template: {
          spec: {
            containers: [
              { name: "app", image: unknownString },
              { name: "side", image: "redis" },
            ],
          },
        },
      },
    });
    expect(
      () => (props as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template.spec.containers[0].image,
    ).toThrow(UnknownValueError);
    const plain = materialise(props) as { spec: { template: { spec: { containers: { image: unknown }[] } } } };
    expect(plain.spec.template.spec.containers[0].image).toBeInstanceOf(Unknown);
    expect(plain.spec.template.spec.containers[1].image).toBe("redis");
  });

  it("lets a policy judge the known containers while an image is still being built", () => {
    const props = unknownCheckingProxy({
      spec: {
        template: {
          spec: {
            containers: [
              { name: "app", image: unknownString },
              { name: "cache", image: "redis" },
            ],
          },
        },
      },
    });
    const view = viewOfArgs({
      type: "kubernetes:apps/v1:Deployment",
      name: "app",
      urn: "urn:pulumi:prod::ballast::kubernetes:apps/v1:Deployment::app",
      props,
    });
    expect(checkImages(view)).toEqual([
      'Deployment "app" container "cache": image "redis" is not pinned (has no tag, which means "latest"); pin an exact version tag (e.g. "traefik:v3.7.13") or a digest ("name@sha256:...") so restarts and rollbacks run a known image',
    ]);
  });
});

describe("environment detection", () => {
  it("reads the stack from the URN and maps it, unknown names counting as prod", () => {
    expect(stackOfUrn("urn:pulumi:staging::ballast::command:remote:Command::r")).toBe("staging");
    expect(environmentOf("urn:pulumi:dev::ballast::t::n")).toBe("dev");
    expect(environmentOf("urn:pulumi:staging-eu::ballast::t::n")).toBe("staging");
    expect(environmentOf("urn:pulumi:production::ballast::t::n")).toBe("prod");
    expect(environmentOf("urn:pulumi:acme::ballast::t::n")).toBe("prod");
    expect(environmentOf("urn:pulumi:acme::ballast::t::n", "dev")).toBe("dev");
  });
});

describe("policy config", () => {
  it("fills unset properties from the defaults and ignores the enforcement level", () => {
    expect(withDefaults({ a: 1, b: [2] }, { b: [3], enforcementLevel: "advisory" })).toEqual({ a: 1, b: [3] });
    expect(withDefaults({ a: 1 }, undefined)).toEqual({ a: 1 });
  });
});

describe("label selectors", () => {
  const labels = { "app.kubernetes.io/name": "postgres", tier: "data" };
  it("implement matchLabels and the four matchExpressions operators", () => {
    expect(selectorMatches({}, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { tier: "data" } }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { tier: "web" } }, labels)).toBe(false);
    expect(
      selectorMatches(
        {
          matchExpressions: [
            { key: "tier", operator: "NotIn", values: ["web"] },
            { key: "tier", operator: "Exists" },
          ],
        },
        labels,
      ),
    ).toBe(true);
    expect(
      selectorMatches(
        {
          matchExpressions: [
            { key: "zone", operator: "DoesNotExist" },
            { key: "tier", operator: "In", values: ["web"] },
          ],
        },
        labels,
      ),
    ).toBe(false);
    expect(selectorMatches(undefined, labels)).toBe(false);
  });
});

describe("compose parsing", () => {
  it("normalises short and long volume syntax", () => {
    const project = parseComposeText(
      "services:\n  s:\n    image: x:1\n    volumes:\n      - data:/data\n      - ./config/a.yml:/etc/a.yml:ro\n      - /cache\n      - type: bind\n        source: /proc\n        target: /host/proc\n        read_only: true\n",
    );
    expect(project).not.toBeNull();
    const [service] = composeServices(project as NonNullable<typeof project>);
    expect(serviceVolumes(service)).toEqual([
      { type: "volume", source: "data", target: "/data", readOnly: false },
      { type: "bind", source: "./config/a.yml", target: "/etc/a.yml", readOnly: true },
      { type: "volume", target: "/cache", readOnly: false },
      { type: "bind", source: "/proc", target: "/host/proc", readOnly: true },
    ]);
  });

  it("refuses text that is not a compose document", () => {
    expect(parseComposeText("just: text")).toBeNull();
    expect(parseComposeText("services: [")).toBeNull();
  });
});
