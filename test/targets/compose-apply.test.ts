/**
 * The Compose target's apply step under Pulumi mocks: what the release Command
 * receives (connection, triggers contract, secret stdin, delete behaviour) over SSH
 * and locally. Mock helpers live here on purpose (no shared mocks module yet).
 */
import { composeHostDefaults } from "../fixtures/config";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ComposeConfig } from "../../components/config/types";
import type { StackModel } from "../../components/spec";
import type { SecretValues } from "../../components/targets/target";
import { fixtureModel, fixtureSecretValues } from "../fixtures/stack-model";

const secretSigKey = "4dabf18193072939515e22adb298388d";
const secretSig = "1b47061264138c4ac30d75fd1eb44270";

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

const registered: Registered[] = [];

pulumi.runtime.setMocks(
  {
    newResource: (args) => {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
      return { id: `${args.name}-id`, state: args.inputs };
    },
    call: (args) => args.inputs,
  },
  "ballast",
  "test",
  false,
);

// Imported after setMocks so every resource the module declares is mocked.
let compose: typeof import("../../components/targets/compose");
let apply: typeof import("../../components/targets/compose/apply");
let decodeBundle: typeof import("../../components/targets/compose/bundle").decodeBundle;
beforeAll(async () => {
  compose = await import("../../components/targets/compose");
  apply = await import("../../components/targets/compose/apply");
  ({ decodeBundle } = await import("../../components/targets/compose/bundle"));
});
beforeEach(() => {
  registered.length = 0;
});

/** A mock-serialised secret: `{ <sig key>: <secret sig>, value }`. */
function isSecretWrapped(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[secretSigKey] === secretSig;
}

function unwrap(value: unknown): unknown {
  return isSecretWrapped(value) ? value.value : value;
}

function resolved<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

/** Lets the mock monitor receive every registration. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 50));
}

const hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBallastTestHostKey";

const sshConfig: ComposeConfig = {
  mode: "ssh",
  project: "ballast",
  ssh: { host: "203.0.113.10", port: 22, user: "deploy", hostKey, remoteDir: "/opt/ballast", dialTimeoutSeconds: 10, dialAttempts: 3 },
  localDir: "/var/lib/ballast-dev",
  keepReleases: 5,
  deployTimeoutSeconds: 300,
  composeCommand: "docker compose",
  ...composeHostDefaults(),
};

const localConfig: ComposeConfig = { ...sshConfig, mode: "local", ssh: undefined, localDir: "/var/lib/ballast-dev" };

function secretValues(): SecretValues {
  return Object.fromEntries(Object.entries(fixtureSecretValues).map(([name, value]) => [name, pulumi.secret(value)]));
}

class Parent extends pulumi.ComponentResource {
  constructor() {
    super("test:component:Parent", "parent", {});
  }
}

function sshTarget(tls = true) {
  return new compose.ComposeTarget(sshConfig, {
    domain: "example.com",
    tls,
    healthUrlPath: "/api/health",
    appName: "app",
    sshPrivateKey: pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\ntest\n"),
  });
}

async function deploy(model: StackModel, config: ComposeConfig = sshConfig) {
  const target =
    config.mode === "ssh"
      ? sshTarget()
      : new compose.ComposeTarget(config, { domain: "example.com", tls: true, healthUrlPath: "/api/health", appName: "app" });
  const outputs = target.deploy(model, secretValues(), new Parent());
  const appUrl = await resolved(outputs.appUrl);
  const location = await resolved(outputs.location);
  await settle();
  const release = registered.find((r) => r.type.startsWith("command:"));
  if (!release) throw new Error(`no command resource among ${registered.map((r) => r.type).join(", ")}`);
  return { release, appUrl, location };
}

describe("the release command over SSH", () => {
  it("is a remote Command named <project>-release with a pinned host key and bounded dialing", async () => {
    const { release } = await deploy(fixtureModel());
    expect(release.type).toBe("command:remote:Command");
    expect(release.name).toBe("ballast-release");
    expect(isSecretWrapped(release.inputs.connection)).toBe(true);
    expect(unwrap(release.inputs.connection)).toMatchObject({
      host: "203.0.113.10",
      port: 22,
      user: "deploy",
      hostKey,
      dialErrorLimit: 3,
      perDialTimeout: 10,
      privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\ntest\n",
    });
  });

  it("carries the rendered compose YAML as triggers[0] and the bundle hash as triggers[1], both plain", async () => {
    const model = fixtureModel();
    const { release } = await deploy(model);
    const triggers = release.inputs.triggers as unknown[];
    expect(triggers).toHaveLength(2);
    expect(isSecretWrapped(triggers[0])).toBe(false);
    expect(triggers[0]).toBe(compose.renderComposeProject(model, sshConfig).yaml);
    expect(triggers[1]).toMatch(/^[0-9a-f]{64}$/);
    for (const value of Object.values(fixtureSecretValues)) expect(triggers[0]).not.toContain(value);
  });

  it("sends the bundle, .env included, as a secret stdin and runs deploy.sh on create", async () => {
    const { release } = await deploy(fixtureModel());
    expect(isSecretWrapped(release.inputs.stdin)).toBe(true);
    const bundle = decodeBundle(String(unwrap(release.inputs.stdin)));
    expect(bundle.id).toBe((release.inputs.triggers as string[])[1]);
    const env = bundle.files.find((f) => f.path === ".env");
    expect(env?.mode).toBe(0o600);
    expect(env?.content).toContain(`POSTGRES_PASSWORD='${fixtureSecretValues["postgres-password"]}'`);
    expect(bundle.files.map((f) => f.path)).toContain("docker-compose.yml");
    const create = String(release.inputs.create);
    expect(create.startsWith("bash --noprofile --norc -c '#!/usr/bin/env bash")).toBe(true);
    expect(create).toContain("readonly BASE_DIR='\\''/opt/ballast'\\''");
    for (const value of Object.values(fixtureSecretValues)) expect(create).not.toContain(value);
  });

  it("deletes with destroy.sh for this bundle and keeps volumes unless allowDataLoss", async () => {
    const { release } = await deploy(fixtureModel());
    const triggers = release.inputs.triggers as string[];
    const del = String(release.inputs.delete);
    expect(del).toContain("down --remove-orphans");
    expect(del.endsWith(` destroy.sh '${triggers[1]}'`)).toBe(true);
    expect(del).not.toContain("docker volume rm");
    expect(del).toContain("allowDataLoss is off");

    registered.length = 0;
    const { release: lossy } = await deploy(fixtureModel({ allowDataLoss: true }));
    expect(String(lossy.inputs.delete)).toContain("docker volume rm");
  });

  it("returns the public app URL and where the stack runs", async () => {
    const { appUrl, location } = await deploy(fixtureModel());
    expect(appUrl).toBe("https://app.example.com");
    expect(location).toBe("ssh deploy@203.0.113.10:/opt/ballast");
  });

  it("changes triggers[1] but not triggers[0] when only a secret rotates", async () => {
    const model = fixtureModel();
    const first = (await deploy(model)).release.inputs.triggers as string[];
    registered.length = 0;
    const target = sshTarget();
    target.deploy(model, { ...secretValues(), "redis-password": pulumi.secret("rotated-value") }, new Parent());
    await settle();
    const second = registered.find((r) => r.type.startsWith("command:"))?.inputs.triggers as string[];
    expect(second[0]).toBe(first[0]);
    expect(second[1]).not.toBe(first[1]);
  });

  it("without a private key leaves authentication to the SSH agent", async () => {
    const target = new compose.ComposeTarget(sshConfig, { domain: "example.com", tls: true, healthUrlPath: "/api/health", appName: "app" });
    target.deploy(fixtureModel(), secretValues(), new Parent());
    await settle();
    const connection = unwrap(registered.find((r) => r.type === "command:remote:Command")?.inputs.connection) as Record<string, unknown>;
    expect(connection.hostKey).toBe(hostKey);
    expect(connection.privateKey).toBeUndefined();
  });

  it("refuses to deploy when a secret value is missing", () => {
    const { "encryption-key": _missing, ...rest } = secretValues();
    expect(() => sshTarget().deploy(fixtureModel(), rest, new Parent())).toThrow(/no value for secret\(s\) encryption-key/);
  });
});

describe("the release command on the local engine (dev)", () => {
  it("is a local Command without a connection, with the same triggers contract", async () => {
    const model = fixtureModel();
    const { release, location } = await deploy(model, localConfig);
    expect(release.type).toBe("command:local:Command");
    expect(release.inputs.connection).toBeUndefined();
    expect((release.inputs.triggers as unknown[])[0]).toBe(compose.renderComposeProject(model, localConfig).yaml);
    expect(isSecretWrapped(release.inputs.stdin)).toBe(true);
    expect(location).toBe("local docker /var/lib/ballast-dev");
  });
});

describe("releaseCommandArgs and applyRelease", () => {
  function inputs() {
    return {
      composeYaml: pulumi.output("name: ballast\nservices: {}\n"),
      bundleId: pulumi.output("a".repeat(64)),
      bundle: pulumi.output("ballast-bundle 1 ..."),
      deployScript: "echo deploy",
      destroyScript: "echo destroy",
    };
  }

  it("streams output (the scripts print no values), skips the previous-output env, keeps stdin and the key secret", async () => {
    const args = apply.releaseCommandArgs(sshConfig, inputs(), pulumi.output("key"));
    expect(args.logging).toBe("stdoutAndStderr");
    expect(args.addPreviousOutputInEnv).toBe(false);
    expect(await pulumi.isSecret(args.stdin)).toBe(true);
    expect(await pulumi.isSecret(args.connection?.privateKey as pulumi.Output<string>)).toBe(true);
    expect(args.create).toBe("bash --noprofile --norc -c 'echo deploy' deploy.sh");
    expect(await resolved(args.delete)).toBe(`bash --noprofile --norc -c 'echo destroy' destroy.sh '${"a".repeat(64)}'`);
  });

  it("leaves hostKey out when none is configured and refuses ssh mode without connection settings", () => {
    const noPin: ComposeConfig = { ...sshConfig, ssh: { ...sshConfig.ssh!, hostKey: undefined } };
    expect(apply.releaseCommandArgs(noPin, inputs(), pulumi.output("key")).connection?.hostKey).toBeUndefined();
    expect(() => apply.releaseCommandArgs({ ...sshConfig, ssh: undefined }, inputs())).toThrow(/needs ballast:compose\.ssh/);
  });

  it("parents the Command to the given parent", async () => {
    const release = apply.applyRelease(sshConfig, inputs(), new Parent(), pulumi.output("key"));
    expect(await resolved(release.urn)).toContain("test:component:Parent$command:remote:Command::ballast-release");
  });

  it("asks the engine to encrypt stdout and stderr in state (mocks do not apply this option)", () => {
    const parent = new Parent();
    expect(apply.releaseResourceOptions(parent)).toEqual({ parent, additionalSecretOutputs: ["stdout", "stderr"] });
  });
});
