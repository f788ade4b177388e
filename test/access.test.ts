/**
 * Who may reach Grafana (issue: least privilege end to end, finding 7): an allow-list on its
 * route, on by default outside dev, enforced by Traefik's ipAllowList on both targets; and a
 * rotated admin password that Grafana really takes.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { routeAllowLists } from "../components/access";
import { observabilityWorkloads } from "../components/observability";
import { grafanaCommand } from "../components/observability/grafana";
import { proxySpec } from "../components/proxy";
import type { StackModel, WorkloadSpec } from "../components/spec";
import { renderRouters } from "../components/targets/compose";
import { renderKubernetesObjects } from "../components/targets/kubernetes/render";
import { configFor, problemsOf } from "./fixtures/config";
import { fixtureModel } from "./fixtures/stack-model";
import { testContext } from "./observability/fixtures";

const sshHost = {
  host: "203.0.113.10",
  user: "deploy",
  hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey staging",
  remoteDir: "/opt/ballast",
};
const vps = (bootstrap: Record<string, unknown>) => ({ compose: { mode: "ssh", ssh: sshHost, bootstrap } });
const bootstrapOn = {
  enabled: true,
  sshAllowFrom: ["198.51.100.0/24"],
  authorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDeployKey deploy"],
  adminKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBootstrapKey bootstrap"],
};

describe("ballast:monitoring.grafana.allowFrom defaults", () => {
  it("follows the SSH allow-list on a Compose VPS outside dev", () => {
    expect(configFor(vps(bootstrapOn)).monitoring.grafana.allowFrom).toEqual(["198.51.100.0/24"]);
  });

  it("is the private ranges on Kubernetes, everyone in dev and on the local engine", () => {
    expect(configFor({ target: "kubernetes" }, "prod").monitoring.grafana.allowFrom).toEqual([
      "10.0.0.0/8",
      "172.16.0.0/12",
      "192.168.0.0/16",
      "fc00::/7",
    ]);
    expect(configFor({}, "dev").monitoring.grafana.allowFrom).toEqual(["0.0.0.0/0", "::/0"]);
    expect(configFor({ compose: { mode: "local" } }).monitoring.grafana.allowFrom).toEqual(["0.0.0.0/0", "::/0"]);
  });

  it("keeps what the stack says", () => {
    expect(
      configFor({ ...vps(bootstrapOn), monitoring: { grafana: { allowFrom: ["203.0.113.7"] } } }).monitoring.grafana.allowFrom,
    ).toEqual(["203.0.113.7"]);
  });
});

describe("ballast:monitoring.grafana.allowFrom refusals", () => {
  it("asks for the ranges when a VPS has no SSH allow-list to follow", () => {
    expect(problemsOf(vps({ enabled: false }))).toEqual([
      'ballast:monitoring.grafana.allowFrom: required on staging: the address ranges that may reach Grafana (on Compose it follows ballast:compose.bootstrap.sshAllowFrom, which is empty here), e.g. ["203.0.113.0/24"]; ["0.0.0.0/0", "::/0"] lets everyone reach the login page',
    ]);
    // No Grafana, nothing to ask.
    expect(configFor({ ...vps({ enabled: false }), monitoring: { grafana: { enabled: false } } }).monitoring.grafana.allowFrom).toEqual([]);
  });

  it("refuses ranges inside Docker's own networks on Compose, where they would admit every IPv6 client", () => {
    expect(
      problemsOf({ ...vps(bootstrapOn), monitoring: { grafana: { allowFrom: ["203.0.113.0/24", "172.20.0.0/16", "192.168.1.0/24"] } } }),
    ).toEqual([
      'ballast:monitoring.grafana.allowFrom: "172.20.0.0/16", "192.168.1.0/24" overlaps Docker\'s own networks (172.16.0.0/12, 192.168.0.0/16): on Compose Traefik sees IPv6 and hairpinned clients as a Docker gateway address, so the range would let them all in; list the public addresses your team comes from (office, VPN egress)',
    ]);
    // On Kubernetes the public Service keeps client addresses (externalTrafficPolicy Local): private ranges are the VPN's.
    expect(
      configFor({ target: "kubernetes", monitoring: { grafana: { allowFrom: ["172.20.0.0/16"] } } }, "prod").monitoring.grafana.allowFrom,
    ).toEqual(["172.20.0.0/16"]);
  });

  it("refuses a value that is not a range, naming it", () => {
    expect(problemsOf({ monitoring: { grafana: { allowFrom: ["office"] } } })[0]).toMatch(
      /^ballast:monitoring\.grafana\.allowFrom\[0\]: "office" is not an IPv4 or IPv6 address/,
    );
  });
});

function grafanaOf(values: Record<string, unknown>, environment: "staging" | "prod" = "staging"): WorkloadSpec {
  const config = configFor(values, environment);
  const grafana = observabilityWorkloads(config.monitoring, testContext(config.target)).find((w) => w.name === "grafana");
  if (!grafana) throw new Error("no grafana workload");
  return grafana;
}

/** The fixture stack plus one workload (and the secrets it uses, as the Platform declares them). */
function withWorkload(workload: WorkloadSpec, target: "compose" | "kubernetes"): StackModel {
  const model = fixtureModel({ target });
  const secrets = Object.values(workload.secretEnv)
    .filter((name) => !model.secrets.some((s) => s.name === name))
    .map((name) => ({ ...model.secrets[0], name }));
  return { ...model, workloads: [...model.workloads, workload], secrets: [...model.secrets, ...secrets] };
}

describe("the allow-list on the route", () => {
  it("restricts Grafana's Compose router before its headers, with the ranges as sourceRange", () => {
    const routers = parse(renderRouters(withWorkload(grafanaOf(vps(bootstrapOn)), "compose"))) as {
      http: { routers: Record<string, { middlewares?: string[] }>; middlewares: Record<string, unknown> };
    };
    expect(routers.http.routers.grafana.middlewares).toEqual(["allow-grafana", "security-headers"]);
    expect(routers.http.middlewares["allow-grafana"]).toEqual({ ipAllowList: { sourceRange: ["198.51.100.0/24"] } });
    // The app's route has no allow-list.
    expect(routers.http.routers.app.middlewares).toEqual(["security-headers"]);
  });

  it("names the same middleware on Grafana's route in Traefik's routes file, defined in the proxy's file configuration", () => {
    const config = configFor({ target: "kubernetes" }, "prod");
    const grafana = grafanaOf({ target: "kubernetes" }, "prod");
    const model = withWorkload(grafana, "kubernetes");
    const objects = renderKubernetesObjects(model, { ...config.kubernetes, namespace: "ballast" });
    const traefikConfig = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "traefik-config") as
      { data: Record<string, string> } | undefined;
    const routes = parse(traefikConfig?.data["routes.yml"] ?? "") as { http: { routers: Record<string, { middlewares?: string[] }> } };
    expect(routes.http.routers.grafana.middlewares).toEqual(["allow-grafana", "security-headers"]);
    const dynamic = proxySpec(config).configFiles.find((f) => f.name === "dynamic.yml");
    expect((parse(dynamic!.content) as { http: { middlewares: Record<string, unknown> } }).http.middlewares["allow-grafana"]).toEqual({
      ipAllowList: { sourceRange: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"] },
    });
  });

  it("adds nothing when the stack lets everyone in", () => {
    const open = { ...vps(bootstrapOn), monitoring: { grafana: { allowFrom: ["0.0.0.0/0", "::/0"] } } };
    expect(grafanaOf(open).route?.allowFrom).toBeUndefined();
    expect(routeAllowLists(configFor(open))).toEqual({});
    const routers = parse(renderRouters(withWorkload(grafanaOf(open), "compose"))) as { http: { middlewares: Record<string, unknown> } };
    expect(Object.keys(routers.http.middlewares)).toEqual(["security-headers"]);
  });
});

describe("Grafana's admin password follows the rotated secret", () => {
  const dir = mkdtempSync(join(tmpdir(), "ballast-grafana-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("resets the admin password from stdin before the server starts, never in the process list", () => {
    // A stand-in `grafana` records its arguments and stdin; /run.sh is the image's start script.
    writeFileSync(join(dir, "grafana"), `#!/bin/sh\nprintf '%s\\n' "$*" > "${dir}/args"\ncat > "${dir}/stdin"\n`);
    chmodSync(join(dir, "grafana"), 0o755);
    const [shell, flag, script] = grafanaCommand;
    const run = spawnSync(shell, [flag, script.replace("exec /run.sh", `exec echo started`)], {
      env: {
        PATH: `${dir}:/usr/bin:/bin`,
        GF_SECURITY_ADMIN_PASSWORD: "rotated-secret-2",
        GF_PATHS_HOME: "/usr/share/grafana",
        GF_PATHS_CONFIG: "/etc/grafana/grafana.ini",
      },
      encoding: "utf8",
    });
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe("started");
    expect(readFileSync(join(dir, "stdin"), "utf8")).toBe("rotated-secret-2");
    const args = readFileSync(join(dir, "args"), "utf8");
    expect(args).toBe(
      "cli --homepath /usr/share/grafana --config /etc/grafana/grafana.ini admin reset-admin-password --password-from-stdin\n",
    );
    expect(args).not.toContain("rotated-secret-2");
    expect(script.endsWith("exec /run.sh")).toBe(true);
  });

  it("still starts when the reset fails (first start: no admin yet)", () => {
    writeFileSync(join(dir, "grafana"), "#!/bin/sh\nexit 1\n");
    const [shell, flag, script] = grafanaCommand;
    const run = spawnSync(shell, [flag, script.replace("exec /run.sh", "exec echo started")], {
      env: { PATH: `${dir}:/usr/bin:/bin`, GF_SECURITY_ADMIN_PASSWORD: "x" },
      encoding: "utf8",
    });
    expect(run.stdout).toContain("grafana: admin password not reset (first start: the server creates the admin)");
    expect(run.stdout.trim().endsWith("started")).toBe(true);
  });

  it("is Grafana's command on both targets", () => {
    expect(grafanaOf(vps(bootstrapOn)).command).toEqual(grafanaCommand);
    expect(grafanaOf({ target: "kubernetes" }, "prod").command).toEqual(grafanaCommand);
    expect(execFileSync("sh", ["-n", "-c", grafanaCommand[2]]).toString()).toBe("");
  });
});
