import { describe, expect, it } from "vitest";
import { privilegesRestricted } from "../../policies/privileges";
import { composeDocument, composeService, container, daemonSet, deployment, releaseCommand, validateResource } from "./harness";

describe("privileges-restricted on Kubernetes", () => {
  it("lets node agents use the host, read-only", async () => {
    const nodeExporter = daemonSet({
      name: "node-exporter",
      containers: [
        container({
          name: "node-exporter",
          image: "prom/node-exporter:v1.8.0",
          volumeMounts: [{ name: "proc", mountPath: "/host/proc", readOnly: true }],
        }),
      ],
      pod: { hostPID: true, hostNetwork: true, volumes: [{ name: "proc", hostPath: { path: "/proc" } }] },
    });
    expect(await validateResource(privilegesRestricted, nodeExporter)).toEqual([]);
    const cadvisor = daemonSet({
      name: "metrics",
      containers: [container({ name: "c", image: "gcr.io/cadvisor/cadvisor:v0.49.1", securityContext: { privileged: true } })],
    });
    expect(await validateResource(privilegesRestricted, cadvisor)).toEqual([]);
  });

  it("reports host access by anything else, and read-write host mounts of agents", async () => {
    const app = deployment({
      name: "app",
      containers: [
        container({ name: "app", securityContext: { privileged: true, capabilities: { add: ["SYS_ADMIN", "NET_BIND_SERVICE"] } } }),
      ],
      pod: { hostPID: true, volumes: [{ name: "docker", hostPath: { path: "/var/lib/docker" } }] },
    });
    expect(await validateResource(privilegesRestricted, app)).toEqual([
      'Deployment "app": hostPID is reserved for the node agents (cadvisor, node-exporter, alloy); remove it',
      'Deployment "app": volume "docker" mounts host path /var/lib/docker; hostPath is reserved for the node agents (cadvisor, node-exporter, alloy)',
      'Deployment "app" container "app": may run as root; only the node agents (cadvisor, node-exporter, alloy) or a workload whose stack opts in (ballast:services[].runAsRoot, label ballast.dev/runs-as-root: "true") may',
      'Deployment "app" container "app": privileged mode is reserved for the node agents (cadvisor, node-exporter, alloy); remove it',
      'Deployment "app" container "app": capability SYS_ADMIN is reserved for the node agents (cadvisor, node-exporter, alloy); remove it',
    ]);
    const alloy = daemonSet({
      name: "alloy",
      containers: [container({ name: "alloy", image: "grafana/alloy:v1.7.1", volumeMounts: [{ name: "logs", mountPath: "/var/log" }] })],
      pod: { volumes: [{ name: "logs", hostPath: { path: "/var/log" } }] },
    });
    expect(await validateResource(privilegesRestricted, alloy)).toEqual([
      'DaemonSet "alloy" container "alloy": host path /var/log is mounted read-write at /var/log; mount it readOnly: true',
    ]);
    expect(await validateResource(privilegesRestricted, alloy, { writableHostPaths: ["/var/log"] })).toEqual([]);
  });
});

describe("privileges-restricted: root only for agents and explicit opt-ins", () => {
  const nonRoot = { runAsNonRoot: true, runAsUser: 1000 };

  it("passes non-root pods, and root only with the stack's labelled opt-in (ollama)", async () => {
    expect(await validateResource(privilegesRestricted, deployment({ name: "app", pod: { securityContext: nonRoot } }))).toEqual([]);
    const ollama = deployment({
      name: "ollama",
      labels: { "ballast.dev/runs-as-root": "true" },
      pod: { securityContext: { runAsNonRoot: false } },
    });
    expect(await validateResource(privilegesRestricted, ollama)).toEqual([]);
  });

  it("reports a pod that may run as root, or runs as uid 0 despite runAsNonRoot elsewhere", async () => {
    const unlabelled = deployment({ name: "ollama", pod: { securityContext: { runAsNonRoot: false } } });
    expect(await validateResource(privilegesRestricted, unlabelled)).toEqual([
      'Deployment "ollama" container "ollama": may run as root; only the node agents (cadvisor, node-exporter, alloy) or a workload whose stack opts in (ballast:services[].runAsRoot, label ballast.dev/runs-as-root: "true") may',
    ]);
    const uidZero = deployment({
      name: "app",
      containers: [container({ name: "app", securityContext: { runAsUser: 0 } })],
      pod: { securityContext: nonRoot },
    });
    expect(await validateResource(privilegesRestricted, uidZero)).toHaveLength(1);
  });

  it("on Compose reports an explicit root user unless the service opts in", async () => {
    const doc = composeDocument({
      app: composeService({ user: "0:0" }),
      ollama: composeService({ image: "ollama/ollama:0.5.7", user: "root", labels: { "ballast.dev/runs-as-root": "true" } }),
      worker: composeService({ user: "1000:1000" }),
    });
    expect(await validateResource(privilegesRestricted, releaseCommand(doc))).toEqual([
      'compose service "app": may run as root; only the node agents (cadvisor, node-exporter, alloy) or a workload whose stack opts in (ballast:services[].runAsRoot, label ballast.dev/runs-as-root: "true") may',
    ]);
  });

  it("uses the label the services component writes", async () => {
    const { RUNS_AS_ROOT_LABEL } = await import("../../components/services");
    const { runsAsRootLabel } = await import("../../policies/privileges");
    expect(runsAsRootLabel).toBe(RUNS_AS_ROOT_LABEL);
  });
});

describe("privileges-restricted on Compose", () => {
  it("passes the renderer's shapes: read-only release files, Traefik's routes directory, the socket proxy on the socket, agents on the host", async () => {
    const traefikUser = "65532:65532";
    const doc = composeDocument({
      traefik: composeService({
        image: "traefik:v3.7.13",
        user: traefikUser,
        volumes: [
          "traefik-acme:/acme",
          { type: "bind", source: "/opt/ballast/routing", target: "/etc/traefik/dynamic", read_only: true },
          { type: "bind", source: "./config/traefik/traefik.yml", target: "/etc/traefik/traefik.yml", read_only: true },
        ],
      }),
      // A dev stack's release base is wherever Pulumi runs: Traefik is known as the routes' consumer.
      "traefik-dev": composeService({
        image: "traefik:v3.7.13",
        user: traefikUser,
        volumes: [{ type: "bind", source: "/home/dev/ballast/.ballast/dev/routing", target: "/etc/traefik/dynamic", read_only: true }],
      }),
      // ... also when the project is checked out in root's home (a CI job, a root shell).
      "traefik-root": composeService({
        image: "traefik:v3.7.13",
        user: traefikUser,
        volumes: [{ type: "bind", source: "/root/work/ballast/.ballast/dev/routing", target: "/etc/traefik/dynamic", read_only: true }],
      }),
      // uid 0 opens the root:docker socket with every capability dropped.
      "docker-socket-proxy": composeService({
        image: "wollomatic/socket-proxy:1.12.2",
        user: "0:0",
        networks: ["docker-api"],
        volumes: ["/var/run/docker.sock:/var/run/docker.sock:ro"],
      }),
      cadvisor: composeService({ image: "gcr.io/cadvisor/cadvisor:v0.49.1", privileged: true, volumes: ["/:/rootfs:ro"] }),
      "node-exporter": composeService({
        image: "prom/node-exporter:v1.8.0",
        pid: "host",
        volumes: [{ type: "bind", source: "/proc", target: "/host/proc", read_only: true }],
      }),
    });
    expect(await validateResource(privilegesRestricted, releaseCommand(doc))).toEqual([]);
  });

  it("reports Traefik mounting a system path, even under root's home, unless it is a .ballast release base", async () => {
    const doc = composeDocument({
      traefik: composeService({
        image: "traefik:v3.7.13",
        user: "65532:65532",
        volumes: [{ type: "bind", source: "/root/.ssh", target: "/keys", read_only: true }],
      }),
    });
    expect(await validateResource(privilegesRestricted, releaseCommand(doc))).toEqual([
      'compose service "traefik": bind-mounts host path /root/.ssh; host mounts are reserved for the node agents (cadvisor, node-exporter, alloy)',
    ]);
  });

  it("reports privileged apps, host binds, the socket outside the allow-list and writable mounts", async () => {
    const doc = composeDocument({
      app: composeService({
        privileged: true,
        network_mode: "host",
        cap_add: ["SYS_ADMIN"],
        volumes: ["/etc:/host-etc:ro", "./config/app/app.json:/etc/app.json", "/var/run/docker.sock:/var/run/docker.sock"],
      }),
      traefik: composeService({ image: "traefik:v3.7.13", user: "65532:65532", volumes: ["/var/run/docker.sock:/var/run/docker.sock"] }),
      scheduler: composeService({ image: "docker:27.3.1-cli", volumes: ["/etc/cron.d:/etc/cron.d:ro"] }),
      alloy: composeService({ image: "grafana/alloy:v1.7.1", volumes: ["/var/lib/docker/containers:/var/lib/docker/containers"] }),
    });
    expect(await validateResource(privilegesRestricted, releaseCommand(doc))).toEqual([
      'compose service "app": privileged mode is reserved for the node agents (cadvisor, node-exporter, alloy); remove it',
      'compose service "app": network_mode: "host" is reserved for the node agents (cadvisor, node-exporter, alloy); remove it',
      'compose service "app": cap_add SYS_ADMIN is reserved for the node agents (cadvisor, node-exporter, alloy); remove it',
      'compose service "app": bind-mounts host path /etc; host mounts are reserved for the node agents (cadvisor, node-exporter, alloy)',
      'compose service "app": release file ./config/app/app.json is mounted read-write at /etc/app.json; rendered config is mounted read-only (":ro")',
      'compose service "app": mounts the Docker socket, which is root on the host; only docker-socket-proxy may',
      'compose service "traefik": mounts the Docker socket, which is root on the host; only docker-socket-proxy may',
      'compose service "scheduler": bind-mounts host path /etc/cron.d; host mounts are reserved for the node agents (cadvisor, node-exporter, alloy)',
      'compose service "alloy": host path /var/lib/docker/containers is mounted read-write at /var/lib/docker/containers; mount it read-only (":ro")',
    ]);
  });
});

describe("privileges-restricted on Compose: the Docker socket and root users", () => {
  it("refuses the socket on cAdvisor and Alloy, which read container metadata through the proxy", async () => {
    const doc = composeDocument({
      cadvisor: composeService({ image: "gcr.io/cadvisor/cadvisor:v0.49.1", volumes: ["/var/run/docker.sock:/var/run/docker.sock:ro"] }),
      alloy: composeService({ image: "grafana/alloy:v1.7.1", volumes: ["/var/run/docker.sock:/var/run/docker.sock:ro"] }),
      "docker-socket-proxy": composeService({
        image: "wollomatic/socket-proxy:1.12.2",
        user: "0:0",
        volumes: ["/var/run/docker.sock:/var/run/docker.sock:ro"],
      }),
    });
    expect(await validateResource(privilegesRestricted, releaseCommand(doc))).toEqual([
      'compose service "cadvisor": mounts the Docker socket, which is root on the host; only docker-socket-proxy may',
      'compose service "alloy": mounts the Docker socket, which is root on the host; only docker-socket-proxy may',
    ]);
  });

  it("refuses a root Traefik on Compose, by its image's default user or an explicit one; passes a non-root one", async () => {
    const doc = composeDocument({
      traefik: composeService({ image: "traefik:v3.7.13" }),
      "traefik-uid0": composeService({ image: "traefik:v3.7.13", user: "0" }),
      "traefik-nonroot": composeService({ image: "traefik:v3.7.13", user: "65532:65532" }),
      backup: composeService({ image: "pgvector/pgvector:0.8.0-pg16", labels: { "ballast.component": "backups", "ballast.role": "job" } }),
    });
    expect(await validateResource(privilegesRestricted, releaseCommand(doc))).toEqual([
      'compose service "traefik": runs as the traefik image\'s own user, root; set a non-root user (the stack renders Traefik as 65532, Postgres and Redis as 999, the backup jobs as 65532)',
      'compose service "traefik-uid0": may run as root; only the node agents (cadvisor, node-exporter, alloy) or a workload whose stack opts in (ballast:services[].runAsRoot, label ballast.dev/runs-as-root: "true") may',
      'compose service "backup": runs as the pgvector image\'s own user, root; set a non-root user (the stack renders Traefik as 65532, Postgres and Redis as 999, the backup jobs as 65532)',
    ]);
  });

  it("lets the volume-owners step run as root only without a network, with named volumes and CHOWN/DAC_READ_SEARCH", async () => {
    const step = {
      image: "traefik:v3.7.13",
      user: "0:0",
      network_mode: "none",
      networks: undefined,
      cap_add: ["CHOWN", "DAC_READ_SEARCH"],
      volumes: ["traefik-acme:/volumes/traefik-acme", "backups:/volumes/backups"],
      labels: { "ballast.component": "volumes", "ballast.role": "job", "ballast.dev/prepares-volumes": "true" },
    };
    expect(
      await validateResource(privilegesRestricted, releaseCommand(composeDocument({ "volume-owners": composeService(step) }))),
    ).toEqual([]);
    const widened = composeService({
      ...step,
      network_mode: undefined,
      networks: ["internal"],
      cap_add: ["CHOWN", "SYS_ADMIN"],
      volumes: ["traefik-acme:/volumes/traefik-acme", { type: "bind", source: "/etc", target: "/volumes/etc" }],
    });
    expect(await validateResource(privilegesRestricted, releaseCommand(composeDocument({ "volume-owners": widened })))).toEqual([
      'compose service "volume-owners": a volume-preparing step (label ballast.dev/prepares-volumes) runs as root; give it network_mode: "none"',
      'compose service "volume-owners": a volume-preparing step runs as root; it may mount named volumes only, not /etc',
      'compose service "volume-owners": a volume-preparing step may add only CHOWN, DAC_READ_SEARCH; remove SYS_ADMIN',
      'compose service "volume-owners": cap_add SYS_ADMIN is reserved for the node agents (cadvisor, node-exporter, alloy); remove it',
      'compose service "volume-owners": bind-mounts host path /etc; host mounts are reserved for the node agents (cadvisor, node-exporter, alloy)',
    ]);
  });

  it("uses the labels the volume-owners step writes", async () => {
    const { PREPARES_VOLUMES_LABEL } = await import("../../components/volume-owners");
    const { preparesVolumesLabel } = await import("../../policies/privileges");
    expect(preparesVolumesLabel).toBe(PREPARES_VOLUMES_LABEL);
  });
});
