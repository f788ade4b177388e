/**
 * The host bootstrap's config fragment and renderer, without tools: CIDR and key
 * validation with messages that name the key, the per-environment defaults, and the
 * controls the rendered script carries. (Pure tests: they sit next to the tool test because
 * the host's tests live under test/tools/host*.)
 */
import { describe, expect, it } from "vitest";
import { cidrProblem, type BootstrapConfig } from "../../components/config";
import {
  bootstrapOptions,
  canonicalCidr,
  keyOptions,
  renderBootstrapFile,
  renderBootstrapScript,
  type BootstrapScriptOptions,
} from "../../components/host";
import { configFor, loadStack, problemsOf } from "../fixtures/config";

const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostBootstrapTestKey deploy@ci";
const adminKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostBootstrapAdminKey bootstrap@ops";
const operatorKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostBootstrapOperatorKey alice@laptop";
const options: BootstrapScriptOptions = {
  deployUser: "deploy",
  sshPort: 22,
  releaseDir: "/opt/ballast",
  sshAllowFrom: ["203.0.113.0/24", "2001:db8:42::/48"],
  authorizedKeys: [key],
  adminKeys: [adminKey],
};

const sshHost = { host: "203.0.113.10", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostBootstrapTestHostKey" };
/** A Compose-over-SSH stack whose `ballast:compose.bootstrap` is `bootstrap`. */
const overSsh = (bootstrap: Record<string, unknown>) => ({ target: "compose", compose: { mode: "ssh", ssh: sshHost, bootstrap } });
const bootstrapOf = (bootstrap: Record<string, unknown>, environment: "staging" | "prod" = "staging"): BootstrapConfig =>
  configFor(overSsh(bootstrap), environment).compose.bootstrap;
const ready = { sshAllowFrom: ["203.0.113.0/24"], authorizedKeys: [key], adminKeys: [adminKey] };
const deployPem = "-----BEGIN OPENSSH PRIVATE KEY-----\ndeploy-key\n-----END OPENSSH PRIVATE KEY-----";
const bootstrapPem = "-----BEGIN OPENSSH PRIVATE KEY-----\nbootstrap-key\n-----END OPENSSH PRIVATE KEY-----";

function problem(bootstrap: Record<string, unknown>): string {
  return problemsOf(overSsh({ ...ready, ...bootstrap })).join("\n");
}

describe("CIDR validation", () => {
  it("accepts IPv4 and IPv6 ranges and single addresses", () => {
    for (const ok of ["203.0.113.0/24", "198.51.100.7", "0.0.0.0/0", "2001:db8::/32", "::/0", "2001:db8::1", "::ffff:203.0.113.0/120"]) {
      expect(cidrProblem(ok), ok).toBeUndefined();
    }
  });

  it("names what is wrong and suggests the network for host bits", () => {
    expect(cidrProblem("10.1.2.3/24")).toBe('has host bits set below the /24 prefix; did you mean "10.1.2.0/24"?');
    expect(cidrProblem("2001:db8:42::1/48")).toBe('has host bits set below the /48 prefix; did you mean "2001:db8:42::/48"?');
    expect(cidrProblem("10.0.0.0/33")).toBe('prefix length "/33" must be 0-32 for an IPv4 range');
    expect(cidrProblem("300.1.1.1/32")).toBe(
      '"300.1.1.1" is not an IPv4 or IPv6 address (expected e.g. "203.0.113.0/24" or "2001:db8::/32")',
    );
    expect(cidrProblem("office")).toMatch(/"office" is not an IPv4 or IPv6 address/);
    expect(cidrProblem("fe80::1%eth0/64")).toBe('"fe80::1%eth0" has a zone index (%...), which ufw does not take');
  });

  it("writes IPv6 ranges the way ufw prints them", () => {
    expect(canonicalCidr("2001:DB8:0042:0000::/48")).toBe("2001:db8:42::/48");
    expect(canonicalCidr("2001:db8:0:1:0:0:0:1")).toBe("2001:db8:0:1::1");
    expect(canonicalCidr("203.0.113.0/24")).toBe("203.0.113.0/24");
  });
});

describe("ballast:compose.bootstrap", () => {
  it("is on for staging and prod and off for dev, with safe defaults", () => {
    expect(configFor({}, "dev").compose.bootstrap.enabled).toBe(false);
    expect(bootstrapOf(ready)).toMatchObject({
      enabled: true,
      user: "root",
      adminUser: "ballast-admin",
      operatorKeys: [],
      unattendedUpgrades: true,
      hardenSsh: true,
      dockerLogs: { maxSize: "10m", maxFile: 3 },
    });
    expect(bootstrapOf(ready, "prod").fail2ban).toEqual({
      maxRetry: 5,
      findTimeSeconds: 600,
      banTimeSeconds: 3600,
      ignoreFrom: [],
    });
  });

  it("names the key of a bad CIDR, a bad public key and an unknown key", () => {
    expect(problem({ sshAllowFrom: ["203.0.113.0/24", "10.1.2.3/24"] })).toBe(
      'ballast:compose.bootstrap.sshAllowFrom[1]: has host bits set below the /24 prefix; did you mean "10.1.2.0/24"? (got "10.1.2.3/24")',
    );
    expect(problem({ authorizedKeys: ["AAAAC3Nza deploy"] })).toBe(
      'ballast:compose.bootstrap.authorizedKeys[0]: must be one OpenSSH public key line such as "ssh-ed25519 AAAA... deploy@ci" (the .pub file), without quotes (got "AAAAC3Nza deploy")',
    );
    expect(problem({ fail2ban: { ignoreFrom: ["nowhere"] } })).toMatch(
      /^ballast:compose\.bootstrap\.fail2ban\.ignoreFrom\[0\]: "nowhere" is not an IPv4 or IPv6 address/,
    );
    expect(problem({ sshAllowfrom: [] })).toBe(
      "ballast:compose.bootstrap.sshAllowfrom: unknown key; did you mean ballast:compose.bootstrap.sshAllowFrom? (allowed here: enabled, user, adminUser, adminKeys, sshAllowFrom, authorizedKeys, operatorKeys, unattendedUpgrades, hardenSsh, fail2ban, dockerLogs)",
    );
  });

  it("requires ranges and a key when enabled for a Compose host over SSH, and nothing otherwise", () => {
    expect(problemsOf(overSsh({}))).toEqual([
      'ballast:compose.bootstrap.sshAllowFrom: required when the bootstrap is enabled: the CIDR ranges SSH may come from (your office, VPN or CI egress, e.g. ["203.0.113.0/24"]); ufw drops SSH from anywhere else. Set ballast:compose.bootstrap.enabled false to prepare the host yourself',
      "ballast:compose.bootstrap.authorizedKeys: required when the bootstrap is enabled: the deploy user's public key (the .pub of ballast:sshPrivateKey)",
      "ballast:compose.bootstrap.adminKeys: required when the bootstrap is enabled: the public key of ballast:bootstrapSshPrivateKey, which later runs of the bootstrap log in with as ballast-admin (root logins are switched off)",
    ]);
    expect(() => configFor({ target: "kubernetes" }, "staging")).not.toThrow();
    expect(() => configFor({ compose: { mode: "local" } }, "dev")).not.toThrow();
    expect(problemsOf(overSsh({ ...ready, fail2ban: { ignoreFrom: ["0.0.0.0/0"] } }), "prod")).toEqual([
      'ballast:compose.bootstrap.fail2ban.ignoreFrom: "0.0.0.0/0" would exempt every address and switch the sshd jail off',
    ]);
  });
});

describe("the bootstrap's own user and key", () => {
  it("refuses root, the deploy user, and a deploy key as the admin's, naming key and value", () => {
    expect(problem({ adminUser: "root" })).toBe(
      'ballast:compose.bootstrap.adminUser: must not be root: root may not log in over SSH once the host is bootstrapped; use a user of its own such as "ballast-admin" (got "root")',
    );
    expect(
      problemsOf({
        ...overSsh({ ...ready, adminUser: "deploy" }),
        compose: { mode: "ssh", ssh: { ...sshHost, user: "deploy" }, bootstrap: { ...ready, adminUser: "deploy" } },
      }),
    ).toEqual([
      'ballast:compose.bootstrap.adminUser: must differ from ballast:compose.ssh.user: the bootstrap logs in with its own user and key, not the deploy user\'s (got "deploy")',
    ]);
    expect(
      problem({
        adminKeys: [adminKey, `${operatorKey.split(" ").slice(0, 2).join(" ")} same-key-other-comment`],
        operatorKeys: [operatorKey],
      }),
    ).toBe(
      `ballast:compose.bootstrap.adminKeys[1]: is also in authorizedKeys or operatorKeys; the bootstrap key (root on the host) and the deploy user's keys must be different keys (got "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostBootstrapOperat...)`,
    );
    expect(problem({ operatorKeys: ["ssh-ed25519 AAAA 'quoted'"] })).toBe(
      'ballast:compose.bootstrap.operatorKeys[0]: must be one OpenSSH public key line such as "ssh-ed25519 AAAA... deploy@ci" (the .pub file), without quotes (got "ssh-ed25519 AAAA \'quoted\'")',
    );
  });

  it("needs ballast:bootstrapSshPrivateKey beside ballast:sshPrivateKey, and another key", () => {
    expect(problemsOf({ ...overSsh(ready), sshPrivateKey: deployPem })).toEqual([
      "ballast:bootstrapSshPrivateKey: required when ballast:sshPrivateKey is set and ballast:compose.bootstrap.enabled is true: the bootstrap logs in with its own key (set it with: pulumi config set --secret ballast:bootstrapSshPrivateKey < ~/.ssh/ballast_bootstrap)",
    ]);
    const same = problemsOf({ ...overSsh(ready), sshPrivateKey: deployPem, bootstrapSshPrivateKey: `${deployPem}\n` });
    expect(same).toEqual([
      "ballast:bootstrapSshPrivateKey: is the same key as ballast:sshPrivateKey; the bootstrap (root on the host) needs a key of its own: ssh-keygen -t ed25519 -f ~/.ssh/ballast_bootstrap, its .pub in ballast:compose.bootstrap.adminKeys",
    ]);
    expect(same.join("\n")).not.toContain("deploy-key");
    expect(problemsOf({ ...overSsh(ready), sshPrivateKey: deployPem, bootstrapSshPrivateKey: "not a key" })).toEqual([
      "ballast:bootstrapSshPrivateKey: must be a PEM/OpenSSH private key (set it with: pulumi config set --secret ballast:bootstrapSshPrivateKey < ~/.ssh/ballast_bootstrap)",
    ]);
    expect(
      loadStack({ ...overSsh(ready), sshPrivateKey: deployPem, bootstrapSshPrivateKey: bootstrapPem }).secrets.bootstrapSshPrivateKey,
    ).toBeDefined();
    // No bootstrap, no bootstrap key needed; without either secret the SSH agent offers the keys.
    expect(() =>
      loadStack({ ...overSsh({ enabled: false }), sshPrivateKey: deployPem, monitoring: { grafana: { allowFrom: ["203.0.113.0/24"] } } }),
    ).not.toThrow();
    expect(() => loadStack(overSsh(ready))).not.toThrow();
  });

  it("restricts every key: no forwarding, a terminal only for operators, from= the SSH ranges", () => {
    expect(keyOptions(["203.0.113.0/24", "2001:DB8:42::/48"], false)).toBe('restrict,from="203.0.113.0/24,2001:db8:42::/48"');
    expect(keyOptions(["198.51.100.7"], true)).toBe('restrict,pty,from="198.51.100.7"');
    expect(keyOptions(["0.0.0.0/0"], false)).toBe('restrict,from="0.0.0.0/0"');
    expect(keyOptions(["0.0.0.0/0", "::/0"], false)).toBe("restrict");
    const script = renderBootstrapScript({ ...options, operatorKeys: [operatorKey, key] });
    expect(script).toContain(
      `readonly -a DEPLOY_KEY_LINES=('restrict,from="203.0.113.0/24,2001:db8:42::/48" ${key}' 'restrict,pty,from="203.0.113.0/24,2001:db8:42::/48" ${operatorKey}')`,
    );
    expect(script).toContain(`readonly -a ADMIN_KEY_LINES=('restrict,from="203.0.113.0/24,2001:db8:42::/48" ${adminKey}')`);
    expect(script).toContain("readonly ADMIN_USER='ballast-admin'");
  });

  it("refuses admin options that would let the deploy key in as root", () => {
    expect(() => renderBootstrapScript({ ...options, adminKeys: [] })).toThrow(
      "host bootstrap: adminKeys needs at least one public key: later runs of this script log in as the admin user",
    );
    expect(() => renderBootstrapScript({ ...options, adminKeys: [`${key.split(" ").slice(0, 2).join(" ")} other`] })).toThrow(
      "host bootstrap: adminKeys[0] is also a key of the deploy user; the bootstrap (root) key and the deploy key must differ",
    );
    expect(() => renderBootstrapScript({ ...options, adminUser: "deploy" })).toThrow(
      'host bootstrap: adminUser "deploy" is the deploy user; the bootstrap needs its own user and key',
    );
    expect(() => renderBootstrapScript({ ...options, adminUser: "root" })).toThrow("host bootstrap: adminUser must not be root");
  });
});

describe("renderBootstrapScript", () => {
  const script = renderBootstrapScript(options);

  it("carries the settings, quoted", () => {
    expect(script.startsWith("#!/usr/bin/env bash\n")).toBe(true);
    expect(script).toContain("set -euo pipefail");
    expect(script).toContain("readonly DEPLOY_USER='deploy'");
    expect(script).toContain("readonly SSH_PORT=22");
    expect(script).toContain("readonly RELEASE_DIR='/opt/ballast'");
    expect(script).toContain("readonly -a SSH_ALLOW_FROM=('203.0.113.0/24' '2001:db8:42::/48')");
    expect(script).toContain(`readonly -a DEPLOY_KEY_LINES=('restrict,from="203.0.113.0/24,2001:db8:42::/48" ${key}')`);
    expect(script).toContain("readonly -a PUBLIC_TCP_PORTS=(80 443)");
    expect(script).not.toContain("Template:");
  });

  it("installs Docker and the Compose v2 plugin from the distribution", () => {
    expect(script).toContain("ensure_packages docker.io");
    expect(script).toContain("for package in docker-compose-plugin docker-compose-v2 docker-compose; do");
    expect(script).toContain("docker compose version");
  });

  it("merges log rotation defaults into daemon.json with jq", () => {
    expect(script).toContain("readonly LOG_MAX_SIZE='10m'");
    expect(script).toContain("readonly LOG_MAX_FILE='3'");
    expect(script).toContain('{"max-size": $size, "max-file": $files} + (.["log-opts"] // {})');
    expect(script).toContain("configure_docker_logs /etc/docker/daemon.json");
  });

  it("firewalls with ufw: SSH from the ranges only, 80 and 443, default deny", () => {
    expect(script).toContain("ufw default deny incoming");
    expect(script).toContain('ufw allow proto tcp from "${cidr}" to any port "${SSH_PORT}"');
    expect(script).toContain('ufw allow proto tcp to any port "${port}"');
    expect(script).toContain("ufw --force enable");
    expect(script).toContain("guard_ssh_access");
  });

  it("runs fail2ban's sshd jail, unattended upgrades, key-only sshd and sets up the deploy user", () => {
    expect(script).toContain("ensure_packages fail2ban python3-systemd");
    expect(script).toContain("[sshd]\nenabled = true\nport = ${SSH_PORT}\nbackend = systemd");
    expect(script).toContain("ensure_packages unattended-upgrades");
    expect(script).toContain('APT::Periodic::Unattended-Upgrade "${enabled}";');
    expect(script).toContain('"PasswordAuthentication no"');
    expect(script).toContain('"PermitRootLogin no"');
    expect(script).toContain("verify_sshd_effective");
    expect(script).toContain('usermod -aG docker "${DEPLOY_USER}"');
    expect(script).toContain('chown "${DEPLOY_USER}:${group}" "${RELEASE_DIR}"');
  });

  it("turns controls off when the config says so", () => {
    const off = renderBootstrapScript({ ...options, unattendedUpgrades: false, hardenSsh: false });
    expect(off).toContain("readonly UNATTENDED_UPGRADES=0");
    expect(off).toContain("readonly HARDEN_SSH=0");
  });

  it("refuses options that would lock everyone out or inject shell", () => {
    expect(() => renderBootstrapScript({ ...options, sshAllowFrom: [] })).toThrow(
      "host bootstrap: sshAllowFrom needs at least one range: with none, the firewall would shut SSH for everyone",
    );
    expect(() => renderBootstrapScript({ ...options, authorizedKeys: ["ssh-ed25519 AAAA x'; rm -rf / #"] })).toThrow(
      'host bootstrap: authorizedKeys[0] must be one OpenSSH public key line ("ssh-ed25519 AAAA... comment") without quotes',
    );
    expect(() => renderBootstrapScript({ ...options, deployUser: "root" })).toThrow("host bootstrap: deployUser must not be root");
    expect(() => renderBootstrapScript({ ...options, releaseDir: "/opt/my releases" })).toThrow(
      /host bootstrap: releaseDir "\/opt\/my releases" must be an absolute path/,
    );
    expect(() => renderBootstrapScript({ ...options, sshAllowFrom: ["10.0.0.1/8"] })).toThrow(
      'host bootstrap: sshAllowFrom[0] "10.0.0.1/8" has host bits set below the /8 prefix; did you mean "10.0.0.0/8"?',
    );
    expect(() => renderBootstrapScript({ ...options, publicTcpPorts: [22, 443] })).toThrow(
      "host bootstrap: publicTcpPorts[0] 22 is the SSH port",
    );
  });

  it("builds its options from the compose config and renders a 0755 file", () => {
    const bootstrap = bootstrapOf(ready);
    const ssh = { host: "203.0.113.10", port: 2222, user: "deploy", remoteDir: "/opt/ballast", dialTimeoutSeconds: 10, dialAttempts: 3 };
    const built = bootstrapOptions({ ssh }, bootstrap, { httpPort: 80, httpsPort: 443 });
    expect(built).toMatchObject({
      deployUser: "deploy",
      sshPort: 2222,
      releaseDir: "/opt/ballast",
      publicTcpPorts: [80, 443],
      adminUser: "ballast-admin",
      adminKeys: [adminKey],
      operatorKeys: [],
    });
    const file = renderBootstrapFile(built);
    expect(file).toMatchObject({ path: "host/bootstrap.sh", mode: 0o755 });
    expect(file.content).toContain("readonly SSH_PORT=2222");
    expect(() => bootstrapOptions({}, bootstrap, { httpPort: 80, httpsPort: 443 })).toThrow(/ballast:compose.ssh is required/);
  });
});
