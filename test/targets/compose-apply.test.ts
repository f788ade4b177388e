/**
 * The Compose target's apply step under Pulumi mocks: what the release Command
 * receives (connection, triggers contract, secret stdin, delete behaviour) over SSH
 * and locally. Mock helpers live here on purpose (no shared mocks module yet).
 */
import { unflattenDocument } from "../../components/targets/compose/record-shape";
import { composeHostDefaults } from "../fixtures/config";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ComposeConfig } from "../../components/config/types";
import type { StackModel } from "../../components/spec";
import type { SecretValues, TargetOwner } from "../../components/targets/target";
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
let bootstrapHost: typeof import("../../components/targets/compose/host");
beforeAll(async () => {
  bootstrapHost = await import("../../components/targets/compose/host");
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

/** The target's resources belong to a Platform named `ballast` (index.ts's name; the Compose project here too). */
function owner(): TargetOwner {
  return { name: "ballast", parent: new Parent() };
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
  const outputs = target.deploy(model, secretValues(), owner());
  const appUrl = await resolved(outputs.appUrl);
  const location = await resolved(outputs.location);
  await settle();
  const release = registered.find((r) => r.type.startsWith("command:"));
  if (!release) throw new Error(`no command resource among ${registered.map((r) => r.type).join(", ")}`);
  return { release, appUrl, location };
}

describe("the release command over SSH", () => {
  it("is a remote Command named <platform>-release with a pinned host key and bounded dialing", async () => {
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

  it("triggers only on the bundle hash (plain): a preview shows a one-line change, the records say what changed", async () => {
    const { release } = await deploy(fixtureModel());
    const triggers = release.inputs.triggers as unknown[];
    expect(triggers).toHaveLength(1);
    expect(isSecretWrapped(triggers[0])).toBe(false);
    expect(triggers[0]).toMatch(/^[0-9a-f]{64}$/);
  });

  it("records each service's slice of the compose project, without secret values, after the release", async () => {
    const model = fixtureModel();
    await deploy(model);
    const records = registered.filter((r) => r.type === "pulumi-nodejs:dynamic/ballast:ComposeService");
    expect(records.map((r) => r.name).sort()).toEqual(model.workloads.map((w) => `ballast-${w.name}`).sort());
    const document = compose.renderComposeProject(model, sshConfig).document;
    const app = records.find((r) => r.name === "ballast-app")!;
    expect(app.inputs.service).toBe("app");
    const sliceOf = (inputs: Record<string, unknown>) =>
      unflattenDocument(Object.fromEntries(Object.entries(inputs).filter(([key]) => key !== "service")));
    expect(sliceOf(app.inputs)).toEqual({
      name: "ballast",
      services: { app: document.services.app },
      networks: { edge: document.networks.edge, internal: document.networks.internal, datastores: document.networks.datastores },
    });
    // One property per leaf: a one-line change in the declaration is one property in the preview.
    expect(app.inputs["services.app.image"]).toBe(document.services.app.image);
    expect(app.inputs["services.app.deploy.replicas"]).toBe(document.services.app.deploy?.replicas);
    for (const value of Object.values(app.inputs)) expect(["string", "number", "boolean"]).toContain(typeof value);
    const postgres = records.find((r) => r.name === "ballast-postgres")!;
    expect(sliceOf(postgres.inputs).volumes).toEqual({ "postgres-data": document.volumes!["postgres-data"] });
    for (const record of records)
      for (const value of Object.values(fixtureSecretValues)) expect(JSON.stringify(record.inputs)).not.toContain(value);
  });

  it("runs one short command on create: bash reading deploy.sh and then the bundle, .env included, from a secret stdin", async () => {
    const { release } = await deploy(fixtureModel());
    expect(release.inputs.create).toBe("bash --noprofile --norc -s");
    expect(isSecretWrapped(release.inputs.stdin)).toBe(true);
    const stdin = String(unwrap(release.inputs.stdin));
    const bundleStart = stdin.indexOf("ballast-bundle 1 ");
    const script = stdin.slice(0, bundleStart);
    expect(script.startsWith("#!/usr/bin/env bash\n")).toBe(true);
    expect(script).toContain("readonly BASE_DIR='/opt/ballast'");
    expect(script.endsWith('main "$@"; exit $?\n')).toBe(true);
    const bundle = decodeBundle(stdin.slice(bundleStart));
    expect(bundle.id).toBe((release.inputs.triggers as string[])[0]);
    const env = bundle.files.find((f) => f.path === ".env");
    expect(env?.mode).toBe(0o600);
    expect(env?.content).toContain(`POSTGRES_PASSWORD='${fixtureSecretValues["postgres-password"]}'`);
    expect(bundle.files.map((f) => f.path)).toEqual(
      expect.arrayContaining(["docker-compose.yml", "routing/routers.yml", "destroy.sh", "maintenance.sh"]),
    );
    for (const value of Object.values(fixtureSecretValues)) expect(script).not.toContain(value);
  });

  it("deletes with the destroy.sh the deploy installed, for this bundle; the volumes follow allowDataLoss", async () => {
    const { release } = await deploy(fixtureModel());
    const triggers = release.inputs.triggers as string[];
    expect(release.inputs.delete).toBe(
      `test ! -f '/opt/ballast/.ballast/destroy.sh' || bash --noprofile --norc '/opt/ballast/.ballast/destroy.sh' '${triggers[0]}'`,
    );
    const destroyOf = (inputs: Record<string, unknown>) =>
      decodeBundle(String(unwrap(inputs.stdin)).slice(String(unwrap(inputs.stdin)).indexOf("ballast-bundle 1 "))).files.find(
        (f) => f.path === "destroy.sh",
      )?.content ?? "";
    expect(destroyOf(release.inputs)).toContain("readonly ALLOW_DATA_LOSS=0");
    registered.length = 0;
    const { release: lossy } = await deploy(fixtureModel({ allowDataLoss: true }));
    expect(destroyOf(lossy.inputs)).toContain("readonly ALLOW_DATA_LOSS=1");
  });

  it("returns the public app URL and where the stack runs", async () => {
    const { appUrl, location } = await deploy(fixtureModel());
    expect(appUrl).toBe("https://app.example.com");
    expect(location).toBe("ssh deploy@203.0.113.10:/opt/ballast");
  });

  it("a rotated secret changes the bundle hash (a new release) but no record (nothing to review in the preview)", async () => {
    const model = fixtureModel();
    const first = (await deploy(model)).release.inputs.triggers as string[];
    const records = () => JSON.stringify(registered.filter((r) => r.type.includes("ComposeService")).map((r) => r.inputs));
    const firstRecords = records();
    registered.length = 0;
    const target = sshTarget();
    target.deploy(model, { ...secretValues(), "redis-password": pulumi.secret("rotated-value") }, owner());
    await settle();
    const second = registered.find((r) => r.type.startsWith("command:"))?.inputs.triggers as string[];
    expect(second[0]).not.toBe(first[0]);
    expect(records()).toBe(firstRecords);
  });

  it("without a private key leaves authentication to the SSH agent", async () => {
    const target = new compose.ComposeTarget(sshConfig, { domain: "example.com", tls: true, healthUrlPath: "/api/health", appName: "app" });
    target.deploy(fixtureModel(), secretValues(), owner());
    await settle();
    const connection = unwrap(registered.find((r) => r.type === "command:remote:Command")?.inputs.connection) as Record<string, unknown>;
    expect(connection.hostKey).toBe(hostKey);
    expect(connection.privateKey).toBeUndefined();
  });

  it("refuses to deploy when a secret value is missing", () => {
    const { "encryption-key": _missing, ...rest } = secretValues();
    expect(() => sshTarget().deploy(fixtureModel(), rest, owner())).toThrow(/no value for secret\(s\) encryption-key/);
  });
});

describe("the release command on the local engine (dev)", () => {
  it("is a local Command without a connection, with the same triggers contract", async () => {
    const model = fixtureModel();
    const { release, location } = await deploy(model, localConfig);
    expect(release.type).toBe("command:local:Command");
    expect(release.inputs.connection).toBeUndefined();
    expect((release.inputs.triggers as string[])[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(isSecretWrapped(release.inputs.stdin)).toBe(true);
    expect(location).toBe("local docker /var/lib/ballast-dev");
  });
});

describe("releaseCommandArgs and applyRelease", () => {
  function inputs() {
    return {
      composeYaml: pulumi.output("name: ballast\nservices: {}\n"),
      bundleId: pulumi.output("a".repeat(64)),
      stdin: pulumi.output("echo deploy\nballast-bundle 1 ..."),
      releaseBase: "/opt/ballast",
    };
  }

  it("streams output (the scripts print no values), skips the previous-output env, keeps stdin and the key secret", async () => {
    const args = apply.releaseCommandArgs(sshConfig, inputs(), pulumi.output("key"));
    expect(args.logging).toBe("stdoutAndStderr");
    expect(args.addPreviousOutputInEnv).toBe(false);
    expect(await pulumi.isSecret(args.stdin)).toBe(true);
    expect(await pulumi.isSecret(args.connection?.privateKey as pulumi.Output<string>)).toBe(true);
    expect(args.create).toBe("bash --noprofile --norc -s");
    expect(await resolved(args.delete)).toBe(
      `test ! -f '/opt/ballast/.ballast/destroy.sh' || bash --noprofile --norc '/opt/ballast/.ballast/destroy.sh' '${"a".repeat(64)}'`,
    );
  });

  it("leaves hostKey out when none is configured and refuses ssh mode without connection settings", () => {
    const noPin: ComposeConfig = { ...sshConfig, ssh: { ...sshConfig.ssh!, hostKey: undefined } };
    expect(apply.releaseCommandArgs(noPin, inputs(), pulumi.output("key")).connection?.hostKey).toBeUndefined();
    expect(() => apply.releaseCommandArgs({ ...sshConfig, ssh: undefined }, inputs())).toThrow(/needs ballast:compose\.ssh/);
  });

  it("parents the Command to the given parent", async () => {
    const release = apply.applyRelease(sshConfig, inputs(), owner(), pulumi.output("key"));
    expect(await resolved(release.urn)).toContain("test:component:Parent$command:remote:Command::ballast-release");
  });

  it("asks the engine to encrypt stdout and stderr in state (mocks do not apply this option)", () => {
    const parent = new Parent();
    expect(apply.releaseResourceOptions(parent)).toEqual({ parent, additionalSecretOutputs: ["stdout", "stderr"] });
  });
});

describe("the host bootstrap over SSH: its own key, root once, then the admin user", () => {
  const deployKey = "-----BEGIN OPENSSH PRIVATE KEY-----\ndeploy\n";
  const bootstrapKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nbootstrap\n";

  async function bootstrapDeploy() {
    const target = new compose.ComposeTarget(sshConfig, {
      domain: "example.com",
      tls: true,
      healthUrlPath: "/api/health",
      appName: "app",
      sshPrivateKey: pulumi.secret(deployKey),
      bootstrapSshPrivateKey: pulumi.secret(bootstrapKey),
      bootstrapScript: "#!/usr/bin/env bash\necho bootstrap\n",
    });
    target.deploy(fixtureModel(), secretValues(), owner());
    await settle();
    const byName = (name: string) => {
      const found = registered.find((r) => r.name === name);
      if (!found) throw new Error(`no ${name} among ${registered.map((r) => r.name).join(", ")}`);
      return found;
    };
    return { first: byName("ballast-host-bootstrap"), converge: byName("ballast-host-converge"), release: byName("ballast-release") };
  }

  it("logs in as root once and as the admin user with sudo afterwards, both with the bootstrap key; the release with the deploy key", async () => {
    const { first, converge, release } = await bootstrapDeploy();
    expect(unwrap(first.inputs.connection)).toMatchObject({ host: "203.0.113.10", user: "root", hostKey, privateKey: bootstrapKey });
    expect(first.inputs.create).toBe("bash -s");
    expect(unwrap(converge.inputs.connection)).toMatchObject({
      host: "203.0.113.10",
      user: "ballast-admin",
      hostKey,
      privateKey: bootstrapKey,
    });
    expect(converge.inputs.create).toBe("sudo -n bash -s");
    expect(unwrap(release.inputs.connection)).toMatchObject({ user: "deploy", privateKey: deployKey });
  });

  it("meets a host again only when host, port or first user change; a new script runs as the admin user", () => {
    const args = bootstrapHost.hostBootstrapArgs(sshConfig, "script v1");
    const next = bootstrapHost.hostBootstrapArgs(sshConfig, "script v2");
    expect(args.firstContact.triggers).toEqual(["203.0.113.10", "22", "root"]);
    expect(next.firstContact.triggers).toEqual(args.firstContact.triggers);
    expect(next.converge.triggers).not.toEqual(args.converge.triggers);
    expect(
      bootstrapHost.hostBootstrapArgs({ ...sshConfig, bootstrap: { ...sshConfig.bootstrap, user: "ubuntu" } }, "s").firstContact.create,
    ).toBe("sudo -n bash -s");
  });
});
