/**
 * The pod template of a workload: its container (image, env, probes, resources,
 * hardening), volumes and mounts, service account and annotations.
 */
import { createHash } from "node:crypto";
import { cpuQuantity, memoryQuantity, SECRET_REVISIONS_ENV, type HealthCheckSpec, type WorkloadSpec } from "../../spec";
import {
  configMapName,
  isNodeAgent,
  namespaceOf,
  registrySecretName,
  secretObjectName,
  workloadLabels,
  type RenderContext,
} from "./context";
import type { Container, PodTemplateSpec, Probe, Volume, VolumeMount } from "./objects";

/** Pod volume names Ballast adds next to the spec's own volumes. */
const configVolumeName = "ballast-config";
const secretFilesVolumeName = "ballast-secret-files";
const liveSecretsVolumeName = "ballast-live-secrets";

/** How a workload's persistent volumes reach the pod. */
export type PersistentVolumeSource =
  /** StatefulSet `volumeClaimTemplates` of the same name: no pod volume needed. */
  | "claim-template"
  /** A standalone PersistentVolumeClaim named after the volume. */
  | "standalone-claim";

export interface PodTemplateOptions {
  persistentVolumes: PersistentVolumeSource;
  /** `Never` for jobs; omitted (Always) for long-running pods. */
  restartPolicy?: "Never";
  /** Jobs run to completion: no probes. */
  probes: boolean;
}

/** Changes whenever a config file changes: files are mounted with subPath, which never updates in place. */
export function configHash(workload: WorkloadSpec): string {
  const files = workload.configFiles.map((file) => [file.name, file.mountPath, file.mode ?? 0o444, file.content]);
  return createHash("sha256").update(JSON.stringify(files)).digest("hex").slice(0, 16);
}

function probeHandler(
  workload: WorkloadSpec,
  health: Pick<HealthCheckSpec, "http" | "exec" | "tcp">,
): Pick<Probe, "httpGet" | "exec" | "tcpSocket"> {
  if (health.http) return { httpGet: { path: health.http.path, port: health.http.port } };
  if (health.exec) return { exec: { command: [...health.exec] } };
  if (health.tcp) return { tcpSocket: { port: health.tcp.port } };
  throw new Error(`workload "${workload.name}": the health check names no http, exec or tcp probe`);
}

/**
 * Startup, readiness and liveness probes. The startup probe gives the start period; readiness
 * gates traffic; liveness restarts a hung process.
 */
function probes(workload: WorkloadSpec): Pick<Container, "startupProbe" | "readinessProbe" | "livenessProbe"> {
  const health = workload.health;
  if (!health) return {};
  const readiness = probeHandler(workload, health);
  // Liveness (and startup) never check a datastore: a database outage must not restart every pod.
  const liveness = workload.liveness ? probeHandler(workload, workload.liveness) : readiness;
  const timing = { periodSeconds: health.intervalSeconds, timeoutSeconds: health.timeoutSeconds };
  const startPeriods = Math.ceil(health.startPeriodSeconds / health.intervalSeconds);
  return {
    startupProbe: { ...liveness, ...timing, failureThreshold: startPeriods + health.retries },
    readinessProbe: { ...readiness, ...timing, failureThreshold: Math.max(1, Math.min(3, health.retries)) },
    livenessProbe: { ...liveness, ...timing, failureThreshold: health.retries },
  };
}

function environment(ctx: RenderContext, workload: WorkloadSpec): NonNullable<Container["env"]> {
  // An empty value is written as no value (the same empty variable): the API server drops `value: ""`,
  // and a file that keeps it makes every client-side `kubectl apply` patch the workload again.
  // The rotation stamp goes last: appended, it shifts no other entry, so a rotation's diff is one
  // added line instead of every later variable shown renamed.
  const { [SECRET_REVISIONS_ENV]: revisions, ...rest } = workload.env;
  const plain = Object.entries(rest).map(([name, value]) => (value === "" ? { name } : { name, value }));
  const secret = Object.entries(workload.secretEnv).map(([name, secretName]) => ({
    name,
    valueFrom: { secretKeyRef: { name: secretObjectName(ctx.model), key: secretName } },
  }));
  return [...plain, ...secret, ...(revisions === undefined ? [] : [{ name: SECRET_REVISIONS_ENV, value: revisions }])];
}

function volumesAndMounts(
  ctx: RenderContext,
  workload: WorkloadSpec,
  persistentVolumes: PersistentVolumeSource,
): { volumes: Volume[]; mounts: VolumeMount[] } {
  const volumes: Volume[] = [];
  const mounts: VolumeMount[] = [];
  for (const volume of workload.volumes) {
    switch (volume.kind) {
      case "persistent":
        if (persistentVolumes === "standalone-claim") {
          volumes.push({ name: volume.name, persistentVolumeClaim: { claimName: volume.name } });
        }
        mounts.push({ name: volume.name, mountPath: volume.mountPath });
        break;
      case "scratch":
        volumes.push({
          name: volume.name,
          emptyDir: volume.sizeMiB === undefined ? {} : { sizeLimit: memoryQuantity(volume.sizeMiB) },
        });
        mounts.push({ name: volume.name, mountPath: volume.mountPath });
        break;
      case "host":
        volumes.push({ name: volume.name, hostPath: { path: volume.hostPath } });
        mounts.push({ name: volume.name, mountPath: volume.mountPath, readOnly: volume.readOnly });
        break;
      case "docker-socket":
        // Kubernetes nodes need not run Docker, and no Ballast workload may drive the node's runtime.
        break;
      case "stack-config":
        volumes.push({ name: volume.name, projected: { sources: stackConfigSources(ctx, workload), defaultMode: 0o444 } });
        mounts.push({ name: volume.name, mountPath: volume.mountPath, readOnly: true });
        break;
    }
  }
  if (workload.configFiles.length > 0) {
    volumes.push({
      name: configVolumeName,
      configMap: {
        name: configMapName(workload),
        items: workload.configFiles.map((file) => ({ key: file.name, path: file.name, mode: file.mode ?? 0o444 })),
      },
    });
    for (const file of workload.configFiles) {
      mounts.push({ name: configVolumeName, mountPath: file.mountPath, subPath: file.name, readOnly: true });
    }
  }
  const live = new Set((workload.liveSecrets ?? []).map((secret) => secret.secret));
  const fixedFiles = workload.secretFiles.filter((file) => !live.has(file.secret));
  if (fixedFiles.length > 0) {
    const keys = [...new Set(fixedFiles.map((file) => file.secret))];
    volumes.push({
      name: secretFilesVolumeName,
      secret: { secretName: secretObjectName(ctx.model), items: keys.map((key) => ({ key, path: key, mode: 0o400 })) },
    });
    for (const file of fixedFiles) {
      mounts.push({ name: secretFilesVolumeName, mountPath: file.mountPath, subPath: file.secret, readOnly: true });
    }
  }
  const liveFiles = workload.secretFiles.filter((file) => live.has(file.secret));
  if (liveFiles.length > 0) {
    // A directory mount, not subPath: the kubelet updates it in place when the Secret changes.
    const directory = liveSecretDirectory(workload, liveFiles);
    volumes.push({
      name: liveSecretsVolumeName,
      secret: {
        secretName: secretObjectName(ctx.model),
        items: liveFiles.map((file) => ({ key: file.secret, path: file.secret, mode: 0o400 })),
      },
    });
    mounts.push({ name: liveSecretsVolumeName, mountPath: directory, readOnly: true });
  }
  checkUniqueMounts(workload, volumes, mounts);
  return { volumes, mounts };
}

/**
 * Every ConfigMap of the stack in the pod's namespace (one per workload with config files), each
 * file as <workload>/<file>. A projected volume reads only its own namespace: the agents' config
 * (rendered from the stack file like the rest) stays out of the application namespace's archive.
 */
function stackConfigSources(ctx: RenderContext, reader: WorkloadSpec): NonNullable<NonNullable<Volume["projected"]>["sources"]> {
  const namespace = namespaceOf(ctx, reader);
  return ctx.workloads
    .filter((workload) => workload.configFiles.length > 0 && namespaceOf(ctx, workload) === namespace)
    .map((workload) => ({
      configMap: {
        name: configMapName(workload),
        items: workload.configFiles.map((file) => ({ key: file.name, path: `${workload.name}/${file.name}` })),
      },
    }));
}

/** The one directory a workload's live secret files sit in, each named after its secret. */
function liveSecretDirectory(workload: WorkloadSpec, files: WorkloadSpec["secretFiles"]): string {
  const directories = new Set(files.map((file) => file.mountPath.slice(0, file.mountPath.lastIndexOf("/"))));
  const misnamed = files.find((file) => !file.mountPath.endsWith(`/${file.secret}`));
  if (misnamed || directories.size !== 1) {
    throw new Error(
      `workload "${workload.name}": live secret files must share one directory and be named after their secret (got ${files.map((file) => file.mountPath).join(", ")})`,
    );
  }
  return [...directories][0];
}

function checkUniqueMounts(workload: WorkloadSpec, volumes: Volume[], mounts: VolumeMount[]): void {
  const duplicate = (names: string[]) => names.find((name, index) => names.indexOf(name) !== index);
  const volumeName = duplicate(volumes.map((volume) => volume.name));
  if (volumeName) throw new Error(`workload "${workload.name}": volume name "${volumeName}" is used twice`);
  const mountPath = duplicate(mounts.map((mount) => mount.mountPath));
  if (mountPath) throw new Error(`workload "${workload.name}": two volumes are mounted at "${mountPath}"`);
}

/**
 * Secret files are mode 0400 and owned by root unless the pod has an fsGroup; a
 * non-root process can read them only through that group, so default it to the
 * process's group when the spec sets none.
 */
function effectiveFsGroup(workload: WorkloadSpec): number | undefined {
  const security = workload.security;
  if (security.fsGroup !== undefined) return security.fsGroup;
  if (workload.secretFiles.length > 0 && !security.runAsRoot) return security.runAsGroup ?? security.runAsUser;
  return undefined;
}

function podSecurityContext(workload: WorkloadSpec): NonNullable<PodTemplateSpec["spec"]["securityContext"]> {
  const security = workload.security;
  if (security.runAsUser === 0 && !security.runAsRoot) {
    throw new Error(`workload "${workload.name}": runAsUser 0 needs security.runAsRoot`);
  }
  const fsGroup = effectiveFsGroup(workload);
  return {
    runAsNonRoot: !security.runAsRoot,
    ...(security.runAsUser !== undefined && { runAsUser: security.runAsUser }),
    ...(security.runAsGroup !== undefined && { runAsGroup: security.runAsGroup }),
    // OnRootMismatch skips the recursive chown of large data volumes on every restart.
    ...(fsGroup !== undefined && { fsGroup, fsGroupChangePolicy: "OnRootMismatch" as const }),
    seccompProfile: { type: "RuntimeDefault" },
  };
}

function containerSecurityContext(workload: WorkloadSpec): NonNullable<Container["securityContext"]> {
  const security = workload.security;
  return {
    // The API server rejects allowPrivilegeEscalation=false next to privileged=true.
    ...(security.privileged ? { privileged: true } : { allowPrivilegeEscalation: false }),
    readOnlyRootFilesystem: security.readOnlyRootFilesystem,
    capabilities: {
      drop: ["ALL"],
      ...(security.addCapabilities.length > 0 && { add: [...security.addCapabilities] }),
    },
  };
}

function podAnnotations(workload: WorkloadSpec): Record<string, string> {
  return {
    ...(workload.configFiles.length > 0 && { "ballast/config-hash": configHash(workload) }),
    // Prometheus' Kubernetes pod discovery keeps the pods that carry these.
    ...(workload.metrics && {
      "prometheus.io/scrape": "true",
      "prometheus.io/port": String(workload.metrics.port),
      "prometheus.io/path": workload.metrics.path,
    }),
  };
}

/** The stack's Secret and pull secret exist in the application namespace only: an agent uses neither. */
function checkAgentUsesNoSecret(workload: WorkloadSpec): void {
  if (!isNodeAgent(workload)) return;
  if (Object.keys(workload.secretEnv).length > 0 || workload.secretFiles.length > 0) {
    throw new Error(
      `workload "${workload.name}": a per-node agent runs in the agents' namespace, which holds no Secret; it cannot use the stack's secrets`,
    );
  }
}

export function podTemplate(ctx: RenderContext, workload: WorkloadSpec, options: PodTemplateOptions): PodTemplateSpec {
  checkAgentUsesNoSecret(workload);
  const security = workload.security;
  const { volumes, mounts } = volumesAndMounts(ctx, workload, options.persistentVolumes);
  const annotations = podAnnotations(workload);
  const env = environment(ctx, workload);
  const container: Container = {
    name: workload.name,
    image: workload.image,
    ...(workload.command && { command: [...workload.command] }),
    ...(workload.args && { args: [...workload.args] }),
    ...(workload.ports.length > 0 && {
      ports: workload.ports.map((port) => ({ name: port.name, containerPort: port.port, protocol: port.protocol ?? "TCP" })),
    }),
    ...(env.length > 0 && { env }),
    resources: {
      requests: { cpu: cpuQuantity(workload.resources.requests.cpu), memory: memoryQuantity(workload.resources.requests.memoryMiB) },
      limits: { cpu: cpuQuantity(workload.resources.limits.cpu), memory: memoryQuantity(workload.resources.limits.memoryMiB) },
    },
    ...(options.probes && probes(workload)),
    securityContext: containerSecurityContext(workload),
    ...(mounts.length > 0 && { volumeMounts: mounts }),
  };
  const apiAccess = security.kubernetesApi !== undefined;
  return {
    metadata: {
      labels: workloadLabels(ctx.model, workload),
      ...(Object.keys(annotations).length > 0 && { annotations }),
    },
    spec: {
      serviceAccountName: workload.name,
      // The registry holds the stack's built images; agents run public images, and their namespace has no pull secret.
      ...(ctx.model.registry && !isNodeAgent(workload) && { imagePullSecrets: [{ name: registrySecretName(ctx.model) }] }),
      // No API token in pods that do not talk to the API: a compromised app cannot use one.
      automountServiceAccountToken: apiAccess,
      // Service links inject <SERVICE>_PORT=tcp://... variables that clash with apps reading e.g. REDIS_PORT.
      enableServiceLinks: false,
      terminationGracePeriodSeconds: workload.stopGracePeriodSeconds,
      ...(security.hostPid && { hostPID: true }),
      ...(security.hostNetwork && { hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" as const }),
      ...(options.restartPolicy && { restartPolicy: options.restartPolicy }),
      securityContext: podSecurityContext(workload),
      containers: [container],
      ...(volumes.length > 0 && { volumes }),
    },
  };
}
