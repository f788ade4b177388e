/**
 * Secret rotation through the real program under mocks, on both targets (staging: Compose,
 * prod: Kubernetes): a rotation changes the definition of exactly the workloads that use the
 * secret (Compose service, Kubernetes pod template), `ballast:rotation.all` regenerates every
 * generated secret once, Postgres takes its own password in place (no restart; a gate Job on
 * Kubernetes), and an encryption key rotation keeps the previous key beside the new one for a
 * re-encryption window. Postgres' side of the password change runs against a real server in
 * test/tools/postgres-entrypoint.test.ts.
 */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { renderStack, type RenderedStack } from "../scripts/lib/render-stack";
import { mockSecretValue } from "../scripts/lib/mock-program";

const cache = new Map<string, Promise<RenderedStack>>();
function rendered(stack: string, overrides: Record<string, string> = {}): Promise<RenderedStack> {
  const key = `${stack}:${JSON.stringify(overrides)}`;
  if (!cache.has(key)) cache.set(key, renderStack(stack, overrides));
  return cache.get(key)!;
}

const rotation = (counters: Record<string, number>) => ({ "ballast:rotation": JSON.stringify(counters) });
const twoKeys = (reencrypted: number) => ({
  "ballast:encryptionKeyRotation": JSON.stringify({ previousKeyEnv: "ENCRYPTION_KEY_PREVIOUS", reencrypted }),
});

type Env = { name: string; value?: string; valueFrom?: { secretKeyRef?: { key: string } } }[];
interface PodTemplate {
  metadata: { annotations?: Record<string, string> };
  spec: {
    containers: { env?: Env; volumeMounts?: { name: string; mountPath: string; subPath?: string }[] }[];
    volumes?: { name: string; secret?: { items?: { key: string }[] } }[];
  };
}
interface K8sObject {
  kind: string;
  metadata: { name: string };
  spec: { template?: PodTemplate; jobTemplate?: { spec: { template: PodTemplate } } };
}

const workloadKinds = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"];

/** Each workload's definition, as the target sees it: what changes when, and only when, it restarts. */
function definitions(stack: RenderedStack): Map<string, string> {
  if (stack.target === "compose") {
    const compose = parse(stack.files.find((f) => f.path === "docker-compose.yml")!.content) as { services: Record<string, unknown> };
    return new Map(Object.entries(compose.services).map(([name, service]) => [name, JSON.stringify(service)]));
  }
  const objects = stack.files.map((f) => parse(f.content) as K8sObject);
  return new Map(objects.filter((o) => workloadKinds.includes(o.kind)).map((o) => [o.metadata.name, JSON.stringify(templateOf(o))]));
}

function templateOf(object: K8sObject): PodTemplate {
  return (object.spec.template ?? object.spec.jobTemplate!.spec.template) as PodTemplate;
}

function k8sTemplate(stack: RenderedStack, name: string): PodTemplate {
  const object = stack.files
    .map((f) => parse(f.content) as K8sObject)
    .find((o) => o.metadata.name === name && workloadKinds.includes(o.kind))!;
  return templateOf(object);
}

async function changedWorkloads(stack: string, overrides: Record<string, string>, base: Record<string, string> = {}): Promise<string[]> {
  const before = definitions(await rendered(stack, base));
  const after = definitions(await rendered(stack, { ...base, ...overrides }));
  return [...after.keys()].filter((name) => before.get(name) !== after.get(name)).sort();
}

/** What reads database-url (the app role's password) in both stack files: app, worker, the queue-clean cron job. */
const appRoleUsers = ["app", "queue-clean", "worker"];
/** Each Postgres password and the workloads that log in with it, besides the app role's. */
const roleUsers: Record<string, string[]> = {
  "postgres-password": ["restore-drill"],
  "postgres-monitor-password": ["postgres-exporter"],
  "postgres-backup-password": ["backup"],
};

describe("a rotation restarts exactly the users of the secret", () => {
  it("Compose: postgres-app-password changes the app role's clients (app, workers, jobs), never Postgres itself", async () => {
    expect(await changedWorkloads("staging", rotation({ "postgres-app-password": 1 }))).toEqual(appRoleUsers);
  });

  it("Kubernetes: postgres-app-password changes the clients' pod templates and the gate Job, not the Postgres StatefulSet", async () => {
    expect(await changedWorkloads("prod", rotation({ "postgres-app-password": 1 }))).toEqual(
      [...appRoleUsers, "postgres-password-check"].sort(),
    );
  });

  it.each(Object.entries(roleUsers))("Compose: %s changes only the workloads that log in with it", async (secret, users) => {
    expect(await changedWorkloads("staging", rotation({ [secret]: 1 }))).toEqual(users);
  });

  it.each(["staging", "prod"])("%s: redis-password changes Redis, its exporter and its clients only", async (stack) => {
    const changed = await changedWorkloads(stack, rotation({ "redis-password": 1 }));
    expect(changed).toEqual(expect.arrayContaining(["redis", "redis-exporter", "app", "worker"]));
    expect(changed.filter((name) => ["postgres", "postgres-exporter", "grafana", "backup"].includes(name))).toEqual([]);
  });
});

/** The secret a generated resource holds: the Secrets component's children are `ballast-secrets-<secret>`. */
function secretOf(resourceName: string): string {
  const prefix = "ballast-secrets-";
  if (!resourceName.startsWith(prefix)) throw new Error(`${resourceName} is not named ${prefix}<secret>`);
  return resourceName.slice(prefix.length);
}

describe("rotate all: ballast:rotation.all", () => {
  it.each(["staging", "prod"])("%s: one bump regenerates every generated secret once (each keeper moves to 1)", async (stack) => {
    const all = await rendered(stack, rotation({ all: 1 }));
    const passwords = all.recorder.byType("random:index/randomPassword:RandomPassword");
    expect(passwords.map((p) => secretOf(p.name)).sort()).toEqual([
      "auth-secret",
      "grafana-admin-password",
      "postgres-app-password",
      "postgres-backup-password",
      "postgres-monitor-password",
      "postgres-password",
      "redis-password",
    ]);
    for (const password of passwords) expect(password.inputs.keepers, password.name).toEqual({ rotation: "1" });
    // Without the opt-in the encryption key is not touched: one key, no generation 1.
    expect(all.recorder.byType("random:index/randomBytes:RandomBytes").map((b) => secretOf(b.name))).toEqual(["encryption-key"]);
  });

  it.each(["staging", "prod"])(
    "%s: it restarts the union of the per-secret rotations, stamped with each secret's counter",
    async (stack) => {
      const union = new Set<string>();
      for (const secret of [
        "postgres-password",
        "postgres-app-password",
        "postgres-monitor-password",
        "postgres-backup-password",
        "redis-password",
        "auth-secret",
        "grafana-admin-password",
      ]) {
        for (const name of await changedWorkloads(stack, rotation({ [secret]: 1 }))) union.add(name);
      }
      expect(await changedWorkloads(stack, rotation({ all: 1 }))).toEqual([...union].sort());
    },
  );

  it("a later per-secret bump adds to all: only that secret's users change again", async () => {
    const base = rotation({ all: 1 });
    const changed = await changedWorkloads("prod", rotation({ all: 1, "auth-secret": 1 }), base);
    const authUsers = await changedWorkloads("prod", rotation({ "auth-secret": 1 }));
    expect(changed).toEqual(authUsers);
    const bumped = await rendered("prod", rotation({ all: 1, "auth-secret": 1 }));
    const keepers = Object.fromEntries(
      bumped.recorder
        .byType("random:index/randomPassword:RandomPassword")
        .map((p) => [secretOf(p.name), (p.inputs.keepers as { rotation: string }).rotation]),
    );
    expect(keepers).toEqual({
      "auth-secret": "2",
      "grafana-admin-password": "1",
      "postgres-password": "1",
      "postgres-app-password": "1",
      "postgres-monitor-password": "1",
      "postgres-backup-password": "1",
      "redis-password": "1",
    });
    const app = k8sTemplate(bumped, "app").spec.containers[0].env!;
    expect(app[app.length - 1]).toEqual({
      name: "BALLAST_SECRET_REVISIONS",
      value: "auth-secret=2,postgres-app-password=1,redis-password=1",
    });
  });
});

describe("Postgres takes its password in place", () => {
  it("Kubernetes: the password is a directory-mounted Secret key (updated by the kubelet), not an env var or a subPath file", async () => {
    const postgres = k8sTemplate(await rendered("prod"), "postgres");
    const container = postgres.spec.containers[0];
    expect(container.env!.find((e) => e.name === "POSTGRES_PASSWORD")).toBeUndefined();
    expect(container.env!.find((e) => e.name === "POSTGRES_PASSWORD_FILE")).toEqual({
      name: "POSTGRES_PASSWORD_FILE",
      value: "/run/ballast/live/postgres-password",
    });
    expect(container.volumeMounts!.find((m) => m.name === "ballast-live-secrets")).toEqual({
      name: "ballast-live-secrets",
      mountPath: "/run/ballast/live",
      readOnly: true,
    });
    expect(postgres.spec.volumes!.find((v) => v.name === "ballast-live-secrets")!.secret!.items).toEqual(
      ["postgres-password", "postgres-app-password", "postgres-monitor-password", "postgres-backup-password"].map((key) => ({
        key,
        path: key,
        mode: 0o400,
      })),
    );
    expect(container.env!.find((e) => e.name === "BALLAST_ROLE_PASSWORDS")).toEqual({
      name: "BALLAST_ROLE_PASSWORDS",
      value:
        "ballast_app=/run/ballast/live/postgres-app-password ballast_monitor=/run/ballast/live/postgres-monitor-password ballast_backup=/run/ballast/live/postgres-backup-password",
    });
  });

  it("Kubernetes: a gate Job connects with the current password; every Deployment and CronJob waits for it", async () => {
    const prod = await rendered("prod", rotation({ "postgres-app-password": 1 }));
    const gate = k8sTemplate(prod, "postgres-password-check").spec.containers[0];
    expect(gate.env).toEqual(
      expect.arrayContaining([
        ...["postgres-password", "postgres-app-password", "postgres-monitor-password", "postgres-backup-password"].map((key) => ({
          name: key.toUpperCase().replace(/-/g, "_"),
          valueFrom: { secretKeyRef: { name: "ballast-secrets", key } },
        })),
        { name: "BALLAST_SECRET_REVISIONS", value: "postgres-app-password=1" },
      ]),
    );
    const job = prod.recorder.resources.find(
      (r) => r.type === "kubernetes:batch/v1:Job" && r.name === "ballast-job-postgres-password-check",
    )!;
    expect(job).toBeDefined();
    for (const name of [
      "ballast-deployment-app",
      "ballast-deployment-worker",
      "ballast-deployment-postgres-exporter",
      "ballast-cronjob-backup",
    ]) {
      expect(prod.recorder.options.find((o) => o.name === name)!.dependsOn, name).toContain(
        "kubernetes:batch/v1:Job::ballast-job-postgres-password-check",
      );
    }
  });

  it("Compose: Postgres mounts the release's secret file, no label follows it, and deploy.sh applies it with exec before the singletons", async () => {
    const staging = await rendered("staging");
    const compose = parse(staging.files.find((f) => f.path === "docker-compose.yml")!.content) as {
      services: Record<string, { environment?: Record<string, string>; secrets?: unknown[]; labels?: Record<string, string> }>;
    };
    const postgres = compose.services.postgres;
    expect(postgres.environment!.POSTGRES_PASSWORD).toBeUndefined();
    expect(postgres.environment!.POSTGRES_PASSWORD_FILE).toBe("/run/ballast/live/postgres-password");
    expect(postgres.secrets).toEqual(
      ["postgres-password", "postgres-app-password", "postgres-monitor-password", "postgres-backup-password"].map((source) => ({
        source,
        target: `/run/ballast/live/${source}`,
      })),
    );
    expect(postgres.labels!["ballast.secret-files-hash"]).toBeUndefined();
    expect(compose.services["postgres-password-check"]).toBeUndefined();
    const deploy = staging.files.find((f) => f.path === "deploy.sh")!.content;
    expect(deploy).toContain("readonly -a LIVE_SERVICES=('postgres' 'postgres' 'postgres' 'postgres')");
    expect(deploy).toContain(
      "readonly -a LIVE_SECRETS=('postgres-password' 'postgres-app-password' 'postgres-monitor-password' 'postgres-backup-password')",
    );
    expect(deploy).toContain(
      "readonly -a LIVE_COMMANDS=('/usr/local/bin/ballast-postgres-rotate' '/usr/local/bin/ballast-postgres-rotate ballast_app' '/usr/local/bin/ballast-postgres-rotate ballast_monitor' '/usr/local/bin/ballast-postgres-rotate ballast_backup')",
    );
    expect(deploy.indexOf('apply_live_secrets "$RELEASE_DIR"')).toBeLessThan(deploy.indexOf('singletons_up "$CURRENT_LINK"'));
  });
});

describe("encryption key with two keys (ballast:encryptionKeyRotation)", () => {
  const opened = { ...twoKeys(0), ...rotation({ "encryption-key": 1 }) };
  const closed = { ...twoKeys(1), ...rotation({ "encryption-key": 1 }) };

  it("opting in changes nothing until a rotation", async () => {
    expect(await changedWorkloads("prod", twoKeys(0))).toEqual([]);
    expect(await changedWorkloads("staging", twoKeys(0))).toEqual([]);
  });

  it("Kubernetes: during the window the app reads the new key and the old one; after it, only the new one", async () => {
    const during = k8sTemplate(await rendered("prod", opened), "app").spec.containers[0].env!;
    expect(during.find((e) => e.name === "ENCRYPTION_KEY")!.valueFrom!.secretKeyRef!.key).toBe("encryption-key");
    expect(during.find((e) => e.name === "ENCRYPTION_KEY_PREVIOUS")!.valueFrom!.secretKeyRef!.key).toBe("encryption-key-previous");
    const after = k8sTemplate(await rendered("prod", closed), "app").spec.containers[0].env!;
    expect(after.find((e) => e.name === "ENCRYPTION_KEY")!.valueFrom!.secretKeyRef!.key).toBe("encryption-key");
    expect(after.find((e) => e.name === "ENCRYPTION_KEY_PREVIOUS")).toBeUndefined();
  });

  it("Kubernetes: the Secret holds generation 1 as the key and generation 0 as the previous key during the window", async () => {
    const stack = await rendered("prod", opened);
    const secret = stack.recorder.resources.find(
      (r) => r.type === "kubernetes:core/v1:Secret" && r.name === "ballast-secret-ballast-secrets",
    )!;
    const data = JSON.stringify(secret.inputs);
    const generation0 = mockSecretValue("random:index/randomBytes:RandomBytes", "ballast-secrets-encryption-key")!.hex;
    const generation1 = mockSecretValue("random:index/randomBytes:RandomBytes", "ballast-secrets-encryption-key-1")!.hex;
    expect(generation1).not.toBe(generation0);
    expect(data).toContain(`"encryption-key":"${generation1}"`);
    expect(data).toContain(`"encryption-key-previous":"${generation0}"`);
    const closedSecret = JSON.stringify(
      (await rendered("prod", closed)).recorder.resources.find(
        (r) => r.type === "kubernetes:core/v1:Secret" && r.name === "ballast-secret-ballast-secrets",
      )!.inputs,
    );
    expect(closedSecret).not.toContain("encryption-key-previous");
  });

  it("the previous key stays protected while data may be encrypted with it, and is unprotected once re-encrypted", async () => {
    const protection = async (overrides: Record<string, string>) =>
      Object.fromEntries(
        (await rendered("prod", overrides)).recorder.options
          .filter((o) => o.type === "random:index/randomBytes:RandomBytes")
          .map((o) => [secretOf(o.name), o.protect]),
      );
    expect(await protection(twoKeys(0))).toEqual({ "encryption-key": true });
    expect(await protection(opened)).toEqual({ "encryption-key": true, "encryption-key-1": true });
    expect(await protection(closed)).toEqual({ "encryption-key": false, "encryption-key-1": true });
  });

  it("Compose: the app's service reads both variables during the window, one after; exactly the key's users change", async () => {
    const service = async (overrides: Record<string, string>) =>
      (
        parse((await rendered("staging", overrides)).files.find((f) => f.path === "docker-compose.yml")!.content) as {
          services: Record<string, { environment: Record<string, string> }>;
        }
      ).services.app.environment;
    expect((await service(opened)).ENCRYPTION_KEY_PREVIOUS).toBe("${ENCRYPTION_KEY_PREVIOUS:?secret missing}");
    expect((await service(opened)).ENCRYPTION_KEY).toBe("${ENCRYPTION_KEY:?secret missing}");
    expect((await service(closed)).ENCRYPTION_KEY_PREVIOUS).toBeUndefined();
    const keyUsers = await changedWorkloads("staging", opened, twoKeys(0));
    expect(keyUsers).toContain("app");
    expect(keyUsers.filter((name) => ["postgres", "redis", "grafana", "postgres-exporter"].includes(name))).toEqual([]);
  });
});
