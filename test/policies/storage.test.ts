import { describe, expect, it } from "vitest";
import { storageRetained } from "../../policies/storage";
import { composeDocument, composeService, k8sObject, releaseCommand, statefulSet, validateResource } from "./harness";

const pvc = (opts: { protect?: boolean; retainOnDelete?: boolean }) => ({
  ...k8sObject("kubernetes:core/v1:PersistentVolumeClaim", "persistentvolumeclaim-backups", { metadata: { name: "backups" }, spec: {} }),
  opts,
});

describe("storage-retained on Kubernetes", () => {
  it("passes a protected StatefulSet that retains its claims, and a protected PVC", async () => {
    expect(await validateResource(storageRetained, statefulSet({ name: "postgres" }, { protect: true }))).toEqual([]);
    expect(await validateResource(storageRetained, pvc({ protect: true }))).toEqual([]);
  });

  it("reports whenDeleted Delete or unset, and a missing protect", async () => {
    const deleting = statefulSet(
      { name: "loki", spec: { persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete" } } },
      { protect: false },
    );
    expect(await validateResource(storageRetained, deleting)).toEqual([
      'StatefulSet "loki": persistentVolumeClaimRetentionPolicy.whenDeleted is "Delete"; set it to "Retain" so deleting the StatefulSet keeps its volumes',
      'StatefulSet "loki": is not protected; set the resource option protect: true so a destroy or replacement cannot delete the data',
    ]);
    const unset = statefulSet({ name: "redis", spec: { persistentVolumeClaimRetentionPolicy: undefined } }, { protect: true });
    expect(await validateResource(storageRetained, unset)).toEqual([
      'StatefulSet "redis": persistentVolumeClaimRetentionPolicy.whenDeleted is not set; set it to "Retain" so deleting the StatefulSet keeps its volumes',
    ]);
  });

  it("checks retainOnDelete where the caller can see it", async () => {
    expect(await validateResource(storageRetained, pvc({ protect: true, retainOnDelete: false }))).toEqual([
      'PersistentVolumeClaim "backups": retainOnDelete is off; set retainOnDelete: true so removing it from the program leaves the volume in place',
    ]);
  });

  it("is off when the policy config allows data loss", async () => {
    expect(await validateResource(storageRetained, pvc({ protect: false }), { allowDataLoss: true })).toEqual([]);
  });
});

describe("storage-retained on Compose", () => {
  const postgres = composeService({
    image: "pgvector/pgvector:pg16",
    labels: { "ballast.component": "postgres" },
    volumes: ["postgres-data:/var/lib/postgresql/data"],
  });

  it("passes external datastore volumes", async () => {
    const doc = composeDocument({ postgres }, { volumes: { "postgres-data": { external: true, name: "ballast_postgres-data" } } });
    expect(await validateResource(storageRetained, releaseCommand(doc))).toEqual([]);
  });

  it("reports project-owned and anonymous datastore volumes, and configured extra services", async () => {
    const doc = composeDocument(
      {
        postgres,
        redis: composeService({ image: "redis:7-alpine", labels: {}, volumes: [{ type: "volume", target: "/data" }] }),
        grafana: composeService({ image: "grafana/grafana:11.3.0", labels: {}, volumes: ["grafana-data:/var/lib/grafana"] }),
      },
      { volumes: { "postgres-data": { name: "ballast_postgres-data" }, "grafana-data": {} } },
    );
    const command = releaseCommand(doc);
    expect(await validateResource(storageRetained, command)).toEqual([
      'compose service "postgres" (datastore): volume "postgres-data" (ballast_postgres-data) is not "external: true", so "docker compose down -v" deletes it; create it once outside the project and declare it external',
      'compose service "redis" (datastore): /data is an anonymous volume, which "docker compose down -v" or a recreate loses; use a named external volume',
    ]);
    expect(await validateResource(storageRetained, command, { externalVolumeServices: ["grafana"] })).toHaveLength(3);
  });
});
