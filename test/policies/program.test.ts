/**
 * The whole pack over the REAL program under mocks (dev: local Compose, staging: Compose
 * over SSH, prod: Kubernetes), with each stack's pack config, then over deliberately bad
 * stack configs and over recorded resources mutated the way a bad change would render.
 * See ./program.ts for how recorded resources become policy arguments.
 */
import { flattenDocument, unflattenDocument } from "../../components/targets/compose/record-shape";
import { beforeAll, describe, expect, it } from "vitest";
import type { ResourceInput } from "./harness";
import { join } from "node:path";
import { Unknown } from "../../policies/lib/values";
import { packConfig, programResources, runPack, stackFileResources, type LeveledViolation } from "./program";

type Stack = "dev" | "staging" | "prod";

const show = (v: LeveledViolation) => `${v.policy}: ${v.message}`;

async function violations(stack: Stack, overrides: Record<string, string> = {}, mutate?: (resources: ResourceInput[]) => ResourceInput[]) {
  const { resources } = await programResources(stack, overrides);
  return runPack(mutate ? mutate(resources) : resources, packConfig(stack));
}

/** Violations of `bad` that the unmodified stack does not have. */
function added(bad: LeveledViolation[], baseline: LeveledViolation[]): string[] {
  const known = new Set(baseline.map(show));
  return bad.filter((v) => !known.has(show(v))).map(show);
}

const baselines = new Map<Stack, LeveledViolation[]>();

beforeAll(async () => {
  for (const stack of ["dev", "staging", "prod"] as const) baselines.set(stack, await violations(stack));
}, 120_000);

describe.each(["dev", "staging", "prod"] as const)("the real %s stack", (stack) => {
  it("has no violation at any level", () => {
    expect((baselines.get(stack) ?? []).map(show)).toEqual([]);
  });

  it("is checked at the level its pack config sets", async () => {
    // The app image turned into `latest` everywhere it is rendered (compose YAML or Deployment).
    const unpinned = await violations(stack, {}, (resources) =>
      resources.map((r) => ({
        ...r,
        props: JSON.parse(JSON.stringify(r.props).split("ghcr.io/acme/app:1.0.0").join("ghcr.io/acme/app:latest")),
      })),
    );
    const images = unpinned.filter((v) => v.policy === "images-pinned");
    expect(images.length).toBeGreaterThan(0);
    expect([...new Set(images.map((v) => v.level))]).toEqual(stack === "dev" ? ["advisory"] : ["mandatory"]);
  });
});

/**
 * What a real `pulumi preview` shows for images this update builds: their digest is unknown
 * until the push. Under mocks the render has the `<repository>:built-at-deploy` marker (Compose)
 * or no image (Kubernetes, the digest output is unset); both become unknown here.
 */
function asPreviewOfFreshBuilds(resources: ResourceInput[]): ResourceInput[] {
  const unknownBuilds = (value: unknown, path: string): unknown => {
    if (typeof value === "string") return value.endsWith(":built-at-deploy") ? new Unknown(path) : value;
    if (Array.isArray(value)) return value.map((v, i) => unknownBuilds(v, `${path}[${i}]`));
    if (value === null || typeof value !== "object") return value;
    const out = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unknownBuilds(v, `${path}.${k}`)]));
    // A Kubernetes container (it has a name and a resources/securityContext) whose image output is unset.
    if (typeof out.name === "string" && "securityContext" in out && !("image" in out)) out.image = new Unknown(`${path}.image`);
    return out;
  };
  return resources.map((r) => ({ ...r, props: unknownBuilds(r.props, "") as Record<string, unknown> }));
}

describe.each(["compose", "kubernetes"] as const)("every documented key at once (the all-features fixture) on %s", (target) => {
  it("has no violation of the prod pack config, previewed as a first deploy that builds its images", async () => {
    const fixture = join(__dirname, "..", "fixtures", "Pulumi.all-features.yaml");
    const { resources } = await stackFileResources(fixture, "all-features", { "ballast:target": target });
    const previewed = asPreviewOfFreshBuilds(resources);
    expect(JSON.stringify(previewed)).not.toContain("built-at-deploy");
    expect((await runPack(previewed, packConfig("prod"))).map(show)).toEqual([]);
  }, 60_000);
});

/** The per-service records of the Compose target (components/targets/compose/records.ts). */
const recordType = "pulumi-nodejs:dynamic/ballast:ComposeService";

/** The records' slices merged into one project view: services, volumes and networks of every record. */
function composeDocOf(resources: ResourceInput[]): Record<string, any> {
  const records = resources.filter((r) => r.type === recordType);
  if (records.length === 0) throw new Error("no compose service records recorded");
  const doc: Record<string, any> = { services: {}, volumes: {}, networks: {} };
  for (const record of records) {
    const slice = unflattenDocument(record.props) as Record<string, any>;
    Object.assign(doc.services, slice.services);
    Object.assign(doc.volumes, slice.volumes ?? {});
    Object.assign(doc.networks, slice.networks ?? {});
  }
  return doc;
}

/** Edits the merged view and writes each service's part back into its record (the way a bad change would render). */
function withComposeDoc(resources: ResourceInput[], edit: (doc: Record<string, any>) => void): ResourceInput[] {
  const doc = JSON.parse(JSON.stringify(composeDocOf(resources))) as Record<string, any>;
  edit(doc);
  return resources.flatMap((r) => {
    if (r.type !== recordType) return [r];
    const slice = unflattenDocument(r.props) as Record<string, any>;
    const name = Object.keys(slice.services)[0];
    if (!(name in doc.services)) return [];
    const pick = (all: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.filter((k) => k in all).map((k) => [k, all[k]]));
    const compose = {
      ...slice,
      services: { [name]: doc.services[name] },
      networks: pick(doc.networks, Object.keys(slice.networks ?? {})),
      ...(slice.volumes ? { volumes: pick(doc.volumes, Object.keys(slice.volumes)) } : {}),
    };
    return [{ ...r, props: { service: r.props.service, ...flattenDocument(compose) } }];
  });
}

describe("the Compose target judged by the prod stack policies", () => {
  it("counts staging's scheduled backup job (the host's cron runs it) as a backup", async () => {
    const { resources } = await programResources("staging");
    const doc = composeDocOf(resources);
    expect(doc.services.backup?.labels?.["ballast.role"]).toBe("job");
    expect(doc.services.backup?.["x-ballast-schedule"]).toBe("15 3 * * *");
    const asProd = { ...packConfig("staging"), "prod-backups-scheduled": { environment: "prod" } };
    expect((await runPack(resources, asProd)).filter((v) => v.policy === "prod-backups-scheduled")).toEqual([]);
    const unscheduled = withComposeDoc(resources, (d) => {
      delete d.services.backup["x-ballast-schedule"];
    });
    expect((await runPack(unscheduled, asProd)).filter((v) => v.policy === "prod-backups-scheduled").map(show)).toEqual([
      'prod-backups-scheduled: prod backups: compose service "backup": has no schedule (x-ballast-schedule), so the host\'s cron never runs it',
    ]);
  });
});

describe("deliberately bad stack configs", () => {
  it("prod: a single-replica app HPA at 95 % CPU and a literal JWT_SECRET", async () => {
    const app = {
      image: "ghcr.io/acme/app:1.0.0",
      env: { JWT_SECRET: "hunter2" },
      autoscaling: { enabled: true, minReplicas: 1, maxReplicas: 10, cpuTargetPercent: 95 },
    };
    const bad = await violations("prod", { "ballast:app": JSON.stringify(app) });
    expect(added(bad, baselines.get("prod") ?? [])).toEqual([
      'autoscaling-sane: HorizontalPodAutoscaler "app": minReplicas is 1 in prod; keep at least 2 so one pod failure is not an outage',
      'autoscaling-sane: HorizontalPodAutoscaler "app": CPU target 95 %; keep it between 50 and 90 %',
      'secrets-by-reference: Deployment "app" container "app": env JWT_SECRET looks secret but has a literal value; use valueFrom.secretKeyRef',
    ]);
  });

  it("prod: allowDataLoss in the stack without allowDataLoss in the pack config", async () => {
    const { resources } = await programResources("prod", { "ballast:allowDataLoss": "true" });
    const bad = await runPack(resources, packConfig("prod"));
    const nameOf = (r: ResourceInput) => (r.props.metadata as { name: string }).name;
    const statefulSets = resources.filter((r) => r.type === "kubernetes:apps/v1:StatefulSet").map(nameOf);
    const claims = resources.filter((r) => r.type === "kubernetes:core/v1:PersistentVolumeClaim").map(nameOf);
    expect(statefulSets).toEqual(expect.arrayContaining(["postgres", "redis"]));
    const expected = [
      ...statefulSets.flatMap((name) => [
        `storage-retained: StatefulSet "${name}": persistentVolumeClaimRetentionPolicy.whenDeleted is "Delete"; set it to "Retain" so deleting the StatefulSet keeps its volumes`,
        `storage-retained: StatefulSet "${name}": is not protected; set the resource option protect: true so a destroy or replacement cannot delete the data`,
        `storage-retained: StatefulSet "${name}": retainOnDelete is off; set retainOnDelete: true so removing it from the program leaves the volume in place`,
      ]),
      ...claims.flatMap((name) => [
        `storage-retained: PersistentVolumeClaim "${name}": is not protected; set the resource option protect: true so a destroy or replacement cannot delete the data`,
        `storage-retained: PersistentVolumeClaim "${name}": retainOnDelete is off; set retainOnDelete: true so removing it from the program leaves the volume in place`,
      ]),
    ];
    expect(added(bad, baselines.get("prod") ?? []).sort()).toEqual(expected.sort());
    // The pack config switch that goes with ballast:allowDataLoss turns the policy off.
    const config = { ...packConfig("prod"), "storage-retained": { allowDataLoss: true } };
    expect((await runPack(resources, config)).filter((v) => v.policy === "storage-retained")).toEqual([]);
  });

  it("staging: plain HTTP routes", async () => {
    const bad = await violations("staging", { "ballast:tls": "false" });
    expect(added(bad, baselines.get("staging") ?? [])).toEqual([
      'routes-tls-only: compose service "app" (component "app") route Host(`app.staging.example.com`): entrypoints "web"; serve it on "websecure" only (ballast:tls true)',
      'routes-tls-only: compose service "app" (component "app") route Host(`app.staging.example.com`): has no certificate resolver; the route needs the Let\'s Encrypt resolver to get a certificate (ballast:tls true)',
      'routes-tls-only: compose service "grafana" (component "observability") route Host(`grafana.staging.example.com`): entrypoints "web"; serve it on "websecure" only (ballast:tls true)',
      'routes-tls-only: compose service "grafana" (component "observability") route Host(`grafana.staging.example.com`): has no certificate resolver; the route needs the Let\'s Encrypt resolver to get a certificate (ballast:tls true)',
    ]);
  });

  it("staging: a literal secret in the app's environment", async () => {
    const app = {
      image: "ghcr.io/acme/app:1.0.0",
      env: { STRIPE_SECRET_KEY: "sk_live_123" },
      secretEnv: { OPENAI_API_KEY: "openai-api-key" },
    };
    const bad = await violations("staging", { "ballast:app": JSON.stringify(app) });
    expect(added(bad, baselines.get("staging") ?? [])).toEqual([
      'secrets-by-reference: compose service "app": environment STRIPE_SECRET_KEY looks secret but has a literal value; write "${STRIPE_SECRET_KEY}" and keep the value in the release\'s .env (or use STRIPE_SECRET_KEY_FILE with a secret file)',
    ]);
  });
});

describe("recorded resources mutated the way a bad change would render", () => {
  it("staging: traefik:latest, a published Postgres port on edge, a writable socket and no host key", async () => {
    const bad = await violations("staging", {}, (resources) => {
      const edited = withComposeDoc(resources, (doc) => {
        doc.services.traefik.image = "traefik:latest";
        doc.services.postgres.ports = ["5432:5432"];
        doc.services.postgres.networks = ["edge", "datastores"];
        doc.services.traefik.volumes = [...doc.services.traefik.volumes, "/var/run/docker.sock:/var/run/docker.sock"];
      });
      return edited.map((r) => {
        if (r.type !== "command:remote:Command") return r;
        const { hostKey: _dropped, ...connection } = r.props.connection as Record<string, unknown>;
        return { ...r, props: { ...r.props, connection } };
      });
    });
    expect(added(bad, baselines.get("staging") ?? [])).toEqual([
      'images-pinned: compose service "traefik": image "traefik:latest" is not pinned (uses the "latest" tag); pin an exact version tag (e.g. "traefik:v3.7.13") or a digest ("name@sha256:...") so restarts and rollbacks run a known image',
      'datastores-private: compose service "postgres" (datastore): publishes ports 5432:5432; a published port bypasses ufw and reaches the internet. Remove "ports:" (other services reach it over the internal network)',
      'datastores-private: compose service "postgres" (datastore): joins the public network "edge"; datastores join only the internal network',
      'privileges-restricted: compose service "traefik": mounts the Docker socket, which is root on the host; only docker-socket-proxy may',
      'ssh-host-key-pinned: Command "ballast-host-bootstrap" (root@203.0.113.10): connection.hostKey is missing, so any host key is accepted (staging); pin it: ballast:compose.ssh.hostKey from "ssh-keyscan -t ed25519 <host>"',
      'ssh-host-key-pinned: Command "ballast-host-converge" (ballast-admin@203.0.113.10): connection.hostKey is missing, so any host key is accepted (staging); pin it: ballast:compose.ssh.hostKey from "ssh-keyscan -t ed25519 <host>"',
      'ssh-host-key-pinned: Command "ballast-release" (deploy@203.0.113.10): connection.hostKey is missing, so any host key is accepted (staging); pin it: ballast:compose.ssh.hostKey from "ssh-keyscan -t ed25519 <host>"',
    ]);
  });

  it("staging: the bootstrap wired to the deploy key", async () => {
    const bad = await violations("staging", {}, (resources) => {
      const release = resources.find((r) => r.name === "ballast-release");
      const deployKey = (release?.props.connection as Record<string, unknown>).privateKey;
      expect(typeof deployKey).toBe("string");
      return resources.map((r) =>
        r.name === "ballast-host-converge"
          ? { ...r, props: { ...r.props, connection: { ...(r.props.connection as Record<string, unknown>), privateKey: deployKey } } }
          : r,
      );
    });
    expect(added(bad, baselines.get("staging") ?? [])).toEqual([
      'ssh-bootstrap-key-separate: Command "ballast-host-converge" (ballast-admin@203.0.113.10): logs in with the same private key as Command "ballast-release" (deploy@203.0.113.10), so the deploy key is root on the host (staging); give the bootstrap its own key: ballast:bootstrapSshPrivateKey, its .pub in ballast:compose.bootstrap.adminKeys',
    ]);
  });

  it("staging: a Redis volume owned by the project instead of external", async () => {
    const bad = await violations("staging", {}, (resources) =>
      withComposeDoc(resources, (doc) => {
        doc.volumes["redis-data"] = { name: "ballast_redis-data" };
      }),
    );
    expect(added(bad, baselines.get("staging") ?? [])).toEqual([
      'storage-retained: compose service "redis" (datastore): volume "redis-data" (ballast_redis-data) is not "external: true", so "docker compose down -v" deletes it; create it once outside the project and declare it external',
    ]);
  });

  const networkPolicyNamed = (r: ResourceInput, names: string[]) =>
    r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" && names.includes((r.props.metadata as { name: string }).name);

  it("prod: the namespace's default-deny policy alone still covers Postgres", async () => {
    const bad = await violations("prod", {}, (resources) => resources.filter((r) => !networkPolicyNamed(r, ["postgres"])));
    expect(added(bad, baselines.get("prod") ?? [])).toEqual([]);
  });

  it("prod: a NodePort Postgres Service without any NetworkPolicy, and an unpinned worker image", async () => {
    const bad = await violations("prod", {}, (resources) =>
      resources
        .filter((r) => !networkPolicyNamed(r, ["postgres", "default-deny"]))
        .map((r) => {
          if (r.type === "kubernetes:core/v1:Service" && (r.props.metadata as { name: string }).name === "postgres") {
            return { ...r, props: { ...r.props, spec: { ...(r.props.spec as object), type: "NodePort" } } };
          }
          if (r.type === "kubernetes:apps/v1:Deployment" && (r.props.metadata as { name: string }).name === "worker") {
            const props = structuredClone(r.props) as any;
            props.spec.template.spec.containers[0].image = "ghcr.io/acme/app";
            return { ...r, props };
          }
          return r;
        }),
    );
    const all = added(bad, baselines.get("prod") ?? []);
    // Without the namespace's default-deny, every pod is uncovered (network-default-deny, one per workload).
    const uncovered = all.filter((m) => m.startsWith("network-default-deny: "));
    expect(uncovered.length).toBeGreaterThan(10);
    expect(uncovered).toContain(
      'network-default-deny: StatefulSet "postgres": no default-deny NetworkPolicy of namespace "ballast" selects its pods (policyTypes [Ingress, Egress], no ingress rules, egress only to DNS port 53): without one, traffic its own policies do not mention is allowed, egress included',
    );
    const messages = all.filter((m) => !m.startsWith("network-default-deny: "));
    expect(messages).toHaveLength(3);
    expect(messages[0]).toBe(
      'images-pinned: Deployment "worker" container "worker": image "ghcr.io/acme/app" is not pinned (has no tag, which means "latest"); pin an exact version tag (e.g. "traefik:v3.7.13") or a digest ("name@sha256:...") so restarts and rollbacks run a known image',
    );
    expect(messages[1]).toBe(
      'datastores-private: Service "postgres" (datastore): type NodePort exposes the datastore outside the cluster; use type ClusterIP',
    );
    expect(messages[2]).toMatch(
      /^datastores-network-policy: StatefulSet "postgres" \(datastore\): no NetworkPolicy selects its pods \(labels \{.*"app\.kubernetes\.io\/name":"postgres".*\}\); any pod in the cluster can connect/,
    );
  });
});
