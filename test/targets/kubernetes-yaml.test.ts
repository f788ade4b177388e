/**
 * The Kubernetes review files are read by YAML 1.1 readers (the API server's and kubectl's
 * sigs.k8s.io/yaml, PyYAML, most GitOps tools): every string the render holds must come back as
 * the same string from a YAML 1.1 reader, for the prod stack and for every documented key at once.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parsePlatformConfig } from "../../components/config";
import { KubernetesTarget, kubernetesYaml, reviewObject } from "../../components/targets/kubernetes";
import { renderStack, renderStackFile, withSecretPlaceholders, type RenderedStack } from "../../scripts/lib/render-stack";
import { readStackFile, readStackFileAt } from "../../scripts/lib/stack-files";

/** Scalars a YAML 1.1 reader types as booleans, nulls, numbers or timestamps when they are not quoted. */
const yaml11Lookalikes = [
  "on",
  "off",
  "On",
  "OFF",
  "yes",
  "no",
  "Yes",
  "NO",
  "y",
  "n",
  "Y",
  "N",
  "true",
  "false",
  "True",
  "null",
  "Null",
  "~",
  "",
  "0755",
  "012",
  "0o17",
  "0x1F",
  "0b101",
  "1_000",
  "22:22",
  "1:20:30",
  "190:20:30.5",
  "1e3",
  "1.5",
  ".5",
  "+12",
  "-3",
  ".inf",
  "-.Inf",
  ".NaN",
  "2001-12-14",
  "2001-12-14t21:59:43.10-05:00",
  "<<",
  "=",
];

/** Paths where the YAML 1.1 reading differs from what was written, with both values. */
function differences(written: unknown, read: unknown, where = ""): string[] {
  if (typeof written === "string" || typeof read === "string") {
    return written === read ? [] : [`${where}: wrote ${JSON.stringify(written)}, a YAML 1.1 reader gets ${JSON.stringify(read)}`];
  }
  if (Array.isArray(written) && Array.isArray(read)) {
    const length = Math.max(written.length, read.length);
    return Array.from({ length }, (_, i) => differences(written[i], read[i], `${where}[${i}]`)).flat();
  }
  if (written && read && typeof written === "object" && typeof read === "object") {
    const keys = new Set([...Object.keys(written), ...Object.keys(read)]);
    return [...keys].flatMap((key) =>
      differences((written as Record<string, unknown>)[key], (read as Record<string, unknown>)[key], `${where}.${key}`),
    );
  }
  return Object.is(written, read) ? [] : [`${where}: wrote ${JSON.stringify(written)}, a YAML 1.1 reader gets ${JSON.stringify(read)}`];
}

/** Every file of a rendered Kubernetes stack, read back as YAML 1.1, against the object it was written from. */
function roundTripProblems(stack: RenderedStack, raw: Record<string, string>): { strings: number; problems: string[] } {
  const { config } = parsePlatformConfig(withSecretPlaceholders(raw).raw, stack.stack, "ballast");
  // The target the Platform builds (components/platform.ts), so the objects are the ones the files hold.
  const target = new KubernetesTarget(config.kubernetes, {
    tls: config.tls,
    acmeEmail: config.acmeEmail,
    ingressControllerNamespace: config.kubernetes.ingressControllerNamespace,
  });
  const objects = target.objects(stack.model);
  expect(stack.files.map((file) => file.path)).toEqual(target.render(stack.model).map((file) => file.path));
  let strings = 0;
  const count = (value: unknown): void => {
    if (typeof value === "string") strings++;
    else if (value && typeof value === "object") Object.values(value).forEach(count);
  };
  const problems = stack.files.flatMap((file, index) => {
    // JSON drops what a file cannot hold (undefined fields), as the YAML writer does.
    const written = JSON.parse(JSON.stringify(reviewObject(objects[index]))) as unknown;
    count(written);
    return differences(written, parse(file.content, { version: "1.1" }), file.path);
  });
  return { strings, problems };
}

describe("Kubernetes review files and YAML 1.1 readers", () => {
  it("quote every string a YAML 1.1 reader would type differently", () => {
    const value = {
      labels: Object.fromEntries(yaml11Lookalikes.map((text, i) => [`k${i}`, text])),
      list: yaml11Lookalikes,
      [yaml11Lookalikes[0]]: "key",
    };
    const text = kubernetesYaml(value);
    expect(parse(text, { version: "1.1" })).toEqual(value);
    expect(parse(text, { version: "1.2" })).toEqual(value);
    expect(text).toContain('k0: "on"');
    expect(text).toContain('"on": key');
    expect(text).not.toMatch(/^%YAML/);
  });

  it("the prod render: every string value round-trips through a YAML 1.1 reader unchanged", async () => {
    const stack = await renderStack("prod");
    expect(stack.target).toBe("kubernetes");
    const { strings, problems } = roundTripProblems(stack, readStackFile("prod").raw);
    expect(problems).toEqual([]);
    expect(strings).toBeGreaterThan(1000);
    // The label that made the API server reject every alloy object (issue 13).
    const alloy = stack.files.find((file) => /-daemonset-alloy\.yaml$/.test(file.path));
    expect(alloy?.content).toContain('ballast.log-anonymisation: "on"');
  });

  it("the all-features fixture on Kubernetes: every string value round-trips through a YAML 1.1 reader unchanged", async () => {
    const fixture = join(__dirname, "..", "fixtures", "Pulumi.all-features.yaml");
    const overrides = {
      "ballast:target": "kubernetes",
      "ballast:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nall-features-test-key\n-----END OPENSSH PRIVATE KEY-----",
    };
    const stack = await renderStackFile(fixture, "all-features", overrides);
    const { strings, problems } = roundTripProblems(stack, { ...readStackFileAt(fixture, "all-features").raw, ...overrides });
    expect(problems).toEqual([]);
    expect(strings).toBeGreaterThan(1000);
  });
});
