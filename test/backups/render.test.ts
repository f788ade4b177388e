/**
 * Backup sets as the targets render them, through the shipped NomosX examples (encrypted
 * backups with a Redis snapshot and the config archive): the backup job gets the public key,
 * the Redis endpoint and password by reference, and the stack's non-secret config read-only;
 * the age identity is mounted into the restore drill and into nothing else; the offsite copy
 * ships only encrypted files. Both renders validate against the targets' schemas.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { WorkloadSpec } from "../../components/spec";
import type { KubernetesObject, ObjectOfKind } from "../../components/targets/kubernetes";
import { renderStackFile, type RenderedStack } from "../../scripts/lib/render-stack";
import { composeDocumentOf, composeSpecProblems, kubernetesObjectsOf, kubernetesSchemaProblems } from "../fixtures/validators";

const RECIPIENT = "age1kgpj0txpla5thvw8cgmmnvl0nnlzupa0ssftzckhrvyx2pvw745q5dzp6s";
const IDENTITY = "backup-encryption-identity";
const renders = new Map<string, Promise<RenderedStack>>();
function rendered(target: "compose" | "kubernetes"): Promise<RenderedStack> {
  if (!renders.has(target)) renders.set(target, renderStackFile(join(__dirname, "../../examples/nomosx", `Pulumi.${target}.yaml`)));
  return renders.get(target)!;
}

function workloadOf(stack: RenderedStack, name: string): WorkloadSpec {
  const found = stack.model.workloads.find((w) => w.name === name);
  if (!found) throw new Error(`no workload ${name}`);
  return found;
}

function cronJob(objects: KubernetesObject[], name: string): ObjectOfKind<"CronJob"> {
  const found = objects.find((o): o is ObjectOfKind<"CronJob"> => o.kind === "CronJob" && o.metadata.name === name);
  if (!found) throw new Error(`no CronJob ${name}`);
  return found;
}

describe.each(["compose", "kubernetes"] as const)("NomosX backup sets on %s", (target) => {
  it("the backup job snapshots Redis through REDISCLI_AUTH, archives the config and encrypts to the public key", async () => {
    const stack = await rendered(target);
    const backup = workloadOf(stack, "backup");
    expect(backup.env).toMatchObject({
      REDIS_HOST: "redis",
      REDIS_PORT: "6379",
      STACK_CONFIG_DIR: "/stack",
      ENCRYPTION_RECIPIENT: RECIPIENT,
    });
    expect(backup.secretEnv).toEqual({ PGPASSWORD: "postgres-backup-password", REDISCLI_AUTH: "redis-password" });
    expect(backup.secretFiles).toEqual([]);
    expect(backup.image).toBe("ghcr.io/nomosx/ballast-backup:15.8.1");
    expect(backup.dependsOn).toEqual(["postgres", "redis"]);
    // The Redis NetworkPolicy / allowFrom lets the backup in because it holds the password.
    expect(workloadOf(stack, "redis").network.allowFrom).toContain("backup");
    const drill = workloadOf(stack, "restore-drill");
    expect(drill.env).toMatchObject({
      EXPECT_REDIS: "1",
      EXPECT_CONFIG: "1",
      ENCRYPTION_IDENTITY_FILE: "/run/ballast/backup-encryption-identity",
    });
    expect(drill.secretFiles).toEqual([{ secret: IDENTITY, mountPath: "/run/ballast/backup-encryption-identity" }]);
    // Only the drill holds the private key.
    const holders = stack.model.workloads.filter(
      (w) => w.secretFiles.some((f) => f.secret === IDENTITY) || Object.values(w.secretEnv).includes(IDENTITY),
    );
    expect(holders.map((w) => w.name)).toEqual(["restore-drill"]);
    const offsite = workloadOf(stack, "backup-offsite");
    const includes = offsite.args!.flatMap((arg, i, all) => (all[i - 1] === "--include" ? [arg] : []));
    expect(includes).toEqual(["/*.age", "/*.age.sha256"]);
    expect(stack.placeholderSecrets).toContain(IDENTITY);
  });
});

describe("Compose render", () => {
  it("mounts the release's compose file and config/ (never .env or secrets/) and acme.json read-only into the backup", async () => {
    const stack = await rendered("compose");
    const document = composeDocumentOf(stack.files);
    expect(composeSpecProblems(document)).toEqual([]);
    const services = document.services as unknown as Record<string, Record<string, unknown>>;
    const backup = services.backup as { volumes?: (string | { source?: string })[] };
    expect(backup.volumes).toEqual(
      expect.arrayContaining([
        { type: "bind", source: "./docker-compose.yml", target: "/stack/docker-compose.yml", read_only: true },
        { type: "bind", source: "./config/redis/redis.conf", target: "/stack/config/redis/redis.conf", read_only: true },
        { type: "bind", source: "./config/traefik/traefik.yml", target: "/stack/config/traefik/traefik.yml", read_only: true },
        "traefik-acme:/stack/acme:ro",
      ]),
    );
    const sources = (backup.volumes ?? []).map((v) => (typeof v === "string" ? v : (v.source ?? "")));
    expect(sources.filter((s) => /\.env|secrets/.test(s))).toEqual([]);
    // Every config file of every service, one read-only bind each (the release's directories are the deploy user's, 0700).
    const configBinds = (backup.volumes ?? []).flatMap((v) =>
      typeof v !== "string" && (v as { target?: string }).target?.startsWith("/stack/config/") ? [v.source ?? ""] : [],
    );
    const configFiles = stack.files.filter((f) => f.path.startsWith("config/")).map((f) => `./${f.path}`);
    expect(configBinds.sort()).toEqual(configFiles.sort());
    // Never root: the jobs run as Traefik's uid, which owns acme.json (0600) and, once the
    // volume-owners step ran, the backups volume; every capability dropped.
    for (const job of ["backup", "restore-drill", "backup-offsite"]) {
      expect(services[job].user, job).toBe("65532:65532");
      expect(services[job].cap_drop, job).toEqual(["ALL"]);
      expect(services[job].cap_add, job).toBeUndefined();
    }
    expect(services.traefik.user).toBe("65532:65532");
    const step = services["volume-owners"];
    expect(step.entrypoint).toEqual([
      "sh",
      "-c",
      "chown -R -h 65532:65532 /volumes/backups && chown -R -h 65532:65532 /volumes/traefik-acme",
    ]);
    expect(step).toMatchObject({
      user: "0:0",
      network_mode: "none",
      cap_drop: ["ALL"],
      cap_add: ["CHOWN", "DAC_READ_SEARCH"],
      read_only: true,
      restart: "no",
    });
    expect(step.volumes).toEqual(["backups:/volumes/backups", "traefik-acme:/volumes/traefik-acme"]);
    // A plain `docker compose up` starts Traefik only after it.
    expect(services.traefik.depends_on).toEqual({ "volume-owners": { condition: "service_completed_successfully" } });
    expect(services["restore-drill"].secrets).toEqual([{ source: IDENTITY, target: "/run/ballast/backup-encryption-identity" }]);
    for (const [name, service] of Object.entries(services)) {
      if (name !== "restore-drill") expect(JSON.stringify(service.secrets ?? []), name).not.toContain(IDENTITY);
    }
    // The identity's value never appears in the rendered files.
    for (const file of stack.files) expect(file.content, file.path).not.toContain(`render-placeholder-${IDENTITY}`);
  });
});

describe("Kubernetes render", () => {
  it("projects every ConfigMap of the application namespace into the backup read-only and mounts the identity key into the drill only", async () => {
    const stack = await rendered("kubernetes");
    const objects = kubernetesObjectsOf(stack.files);
    expect(kubernetesSchemaProblems(objects)).toEqual([]);
    const backupPod = cronJob(objects, "backup").spec.jobTemplate.spec!.template.spec!;
    const stackConfig = backupPod.volumes!.find((v) => v.name === "stack-config")!;
    // A projected volume reads its own namespace: the per-node agents' config (alloy) is in theirs.
    const namespace = cronJob(objects, "backup").metadata.namespace;
    const configMaps = objects
      .filter((o) => o.kind === "ConfigMap" && o.metadata.namespace === namespace)
      .map((o) => o.metadata.name)
      .sort();
    expect(objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "alloy-config")?.metadata.namespace).toBe(
      `${namespace}-agents`,
    );
    expect(stackConfig.projected!.sources!.map((s) => s.configMap!.name).sort()).toEqual(configMaps);
    expect(stackConfig.projected!.sources!.find((s) => s.configMap!.name === "redis-config")?.configMap!.items).toEqual([
      { key: "redis.conf", path: "redis/redis.conf" },
    ]);
    expect(backupPod.containers[0].volumeMounts).toContainEqual({ name: "stack-config", mountPath: "/stack", readOnly: true });
    // No ACME store on Kubernetes (Traefik's own claim), no secret volume in the backup.
    expect(backupPod.volumes!.map((v) => v.name)).not.toContain("traefik-acme");
    expect(backupPod.volumes!.some((v) => v.secret !== undefined)).toBe(false);

    const drillPod = cronJob(objects, "restore-drill").spec.jobTemplate.spec!.template.spec!;
    const secretVolumes = drillPod.volumes!.filter((v) => v.secret !== undefined);
    expect(secretVolumes.map((v) => v.secret!.items)).toEqual([[{ key: IDENTITY, path: IDENTITY, mode: 0o400 }]]);
    expect(drillPod.containers[0].volumeMounts).toContainEqual(
      expect.objectContaining({ mountPath: "/run/ballast/backup-encryption-identity", subPath: IDENTITY, readOnly: true }),
    );
    // Every other workload: the identity key is not among its secret items or env.
    const workloadKinds = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"];
    const others = objects.filter((o) => workloadKinds.includes(o.kind) && o.metadata.name !== "restore-drill");
    expect(others.length).toBeGreaterThan(5);
    for (const object of others) expect(JSON.stringify(object), `${object.kind}/${object.metadata.name}`).not.toContain(IDENTITY);
  });
});
