/**
 * The rendered host bootstrap script with real Debian tools: shellcheck (every severity),
 * bash's parser, and the script's own functions run in bash with jq and python3, the
 * system-changing commands (systemctl, ufw, ss, apt) replaced by recording stubs; the sshd
 * drop-in against the real `sshd -t`/`sshd -T`, and the authorized_keys options against a real
 * sshd on loopback with the ssh client. A missing tool fails the suite (install: apt-get
 * install -y shellcheck jq python3 openssh-server openssh-client).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as net from "node:net";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorizedKeyLines, keyOptions, renderBootstrapScript, type BootstrapScriptOptions } from "../../components/host";

const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostBootstrapTestKey deploy@ci";
const adminKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostBootstrapAdminKey bootstrap@ops";
const minimal: BootstrapScriptOptions = {
  deployUser: "deploy",
  sshPort: 22,
  releaseDir: "/opt/ballast",
  sshAllowFrom: ["203.0.113.0/24"],
  authorizedKeys: [key],
  adminKeys: [adminKey],
};
const full: BootstrapScriptOptions = {
  deployUser: "ballast-deploy",
  sshPort: 2222,
  releaseDir: "/srv/ballast/",
  sshAllowFrom: ["203.0.113.0/24", "198.51.100.7", "2001:DB8:0042::/48"],
  authorizedKeys: [key, "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY= rotating"],
  operatorKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostBootstrapOperatorKey alice@laptop"],
  adminUser: "ops-admin",
  adminKeys: [adminKey],
  publicTcpPorts: [80, 443, 8443],
  unattendedUpgrades: false,
  hardenSsh: false,
  fail2ban: { maxRetry: 3, findTimeSeconds: 900, banTimeSeconds: 86400, ignoreFrom: ["192.0.2.10"] },
  dockerLogs: { maxSize: "50m", maxFile: 5 },
};

let dir: string;

function tool(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`]).status === 0;
}

function scriptFile(options: BootstrapScriptOptions, name: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, renderBootstrapScript(options), { mode: 0o755 });
  return file;
}

/** Runs bash code after sourcing the script (main does not run), with stubs defined after the source. */
function inScript(script: string, code: string, env: Record<string, string> = {}) {
  const program = `BALLAST_BOOTSTRAP_SOURCED=1 source "$1"\n${code}`;
  const result = spawnSync("bash", ["-c", program, "bootstrap-test", script], {
    encoding: "utf8",
    // sshd and visudo live in /usr/sbin, which a non-root PATH may lack.
    env: { PATH: `${process.env.PATH ?? "/usr/bin:/bin"}:/usr/sbin:/sbin`, HOME: dir, ...env },
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-host-"));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("tools", () => {
  it.each(["shellcheck", "jq", "python3", "bash", "/usr/sbin/sshd", "ssh-keygen"])("%s is installed", (name) => {
    expect(tool(name), `${name} is missing: apt-get install -y shellcheck jq python3 openssh-server`).toBe(true);
  });
});

describe("shellcheck and bash", () => {
  it.each([
    ["minimal", minimal],
    ["full", full],
  ] as const)("the %s script is shellcheck-clean at every severity and parses", (name, options) => {
    const file = scriptFile(options, `${name}.sh`);
    const check = spawnSync("shellcheck", ["--severity=style", "--shell=bash", file], { encoding: "utf8" });
    expect(check.stdout + check.stderr).toBe("");
    expect(check.status).toBe(0);
    expect(spawnSync("bash", ["-n", file]).status).toBe(0);
  });
});

const stubs = `
CALLS="$HOME/calls"; : >"$CALLS"
log() { :; }
ensure_packages() { echo "ensure_packages $*" >>"$CALLS"; }
systemctl() { echo "systemctl $*" >>"$CALLS"; }
`;

describe("docker log rotation (configure_docker_logs with jq)", () => {
  let script: string;
  beforeAll(() => {
    script = scriptFile(full, "logs.sh");
  });

  function run(initial: string | undefined) {
    const daemon = path.join(dir, `daemon-${Math.random().toString(36).slice(2)}`, "daemon.json");
    if (initial !== undefined) {
      fs.mkdirSync(path.dirname(daemon), { recursive: true });
      fs.writeFileSync(daemon, initial);
    }
    const result = inScript(script, `${stubs}\nconfigure_docker_logs "${daemon}"\ncat "$CALLS"`);
    const written = fs.existsSync(daemon) ? fs.readFileSync(daemon, "utf8") : undefined;
    return { ...result, daemon, written };
  }

  it("writes the defaults to a host without daemon.json and restarts docker", () => {
    const { status, stdout, written } = run(undefined);
    expect(status).toBe(0);
    expect(JSON.parse(written ?? "")).toEqual({
      "no-new-privileges": true,
      "live-restore": true,
      icc: false,
      "log-driver": "json-file",
      "log-opts": { "max-size": "50m", "max-file": "5" },
    });
    expect(stdout).toContain("systemctl restart docker");
  });

  it("merges into existing settings without overriding them, then leaves them alone", () => {
    // The operator's own choices win, an explicit false included.
    const { status, written, daemon } = run(
      '{"data-root": "/srv/docker", "log-opts": {"max-size": "100m"}, "live-restore": false, "icc": true}',
    );
    expect(status).toBe(0);
    expect(JSON.parse(written ?? "")).toEqual({
      "no-new-privileges": true,
      "data-root": "/srv/docker",
      "live-restore": false,
      icc: true,
      "log-driver": "json-file",
      "log-opts": { "max-size": "100m", "max-file": "5" },
    });
    const again = inScript(script, `${stubs}\nconfigure_docker_logs "${daemon}"\ncat "$CALLS"`);
    expect(again.status).toBe(0);
    expect(again.stdout).not.toContain("restart docker");
  });

  it("keeps another log driver as it is (its options differ)", () => {
    const { status, stdout, written } = run('{"log-driver": "journald", "no-new-privileges": true, "live-restore": true, "icc": false}');
    expect(status).toBe(0);
    expect(JSON.parse(written ?? "")).toEqual({ "log-driver": "journald", "no-new-privileges": true, "live-restore": true, icc: false });
    expect(stdout).not.toContain("restart docker");
  });

  it("refuses a daemon.json that is not a JSON object and changes nothing", () => {
    const { status, stderr, written } = run("{ not json");
    expect(status).toBe(1);
    expect(stderr).toMatch(/daemon\.json is not a JSON object; fix it by hand \(nothing was changed\)/);
    expect(written).toBe("{ not json");
  });
});

describe("write_file", () => {
  it("writes atomically with the mode, and reports no change the second time", () => {
    const script = scriptFile(minimal, "write.sh");
    const target = path.join(dir, "jail.local");
    const result = inScript(
      script,
      `log() { :; }\nwrite_file "${target}" 0640 <<<"a"; echo "$WROTE"\nwrite_file "${target}" 0640 <<<"a"; echo "$WROTE"\nwrite_file "${target}" 0640 <<<"b"; echo "$WROTE"`,
    );
    expect(result.stdout.trim().split("\n")).toEqual(["1", "0", "1"]);
    expect(fs.readFileSync(target, "utf8")).toBe("b\n");
    expect(fs.statSync(target).mode & 0o777).toBe(0o640);
    expect(fs.readdirSync(dir).filter((f) => f.includes(".ballast."))).toEqual([]);
  });
});

/** A scratch sshd configuration laid out like Debian's: the main file includes sshd_config.d/*.conf first. */
function scratchSshd(
  name: string,
  dropIns: Record<string, string> = {},
  main = "KbdInteractiveAuthentication no\nX11Forwarding yes\nUsePAM yes\n",
): string {
  const root = path.join(dir, name);
  fs.mkdirSync(path.join(root, "sshd_config.d"), { recursive: true });
  spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(root, "host_key")]);
  fs.writeFileSync(path.join(root, "sshd_config"), `Include ${root}/sshd_config.d/*.conf\nHostKey ${root}/host_key\n${main}`);
  for (const [file, text] of Object.entries(dropIns)) fs.writeFileSync(path.join(root, "sshd_config.d", file), text);
  return root;
}

describe("sshd (harden_sshd and verify_sshd_effective with the real sshd -t and sshd -T)", () => {
  const expectedDropIn = [
    "# Rendered by Ballast: keys only, no root, no forwarding; only the deploy and admin users.",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PubkeyAuthentication yes",
    "PermitRootLogin no",
    "PermitEmptyPasswords no",
    "PermitUserEnvironment no",
    "X11Forwarding no",
    "AllowAgentForwarding no",
    "AllowTcpForwarding no",
    "AllowStreamLocalForwarding no",
    "PermitTunnel no",
    "AllowUsers deploy ballast-admin",
    "",
  ].join("\n");

  function harden(root: string) {
    const script = scriptFile(minimal, `sshd-${path.basename(root)}.sh`);
    return inScript(script, `${stubs}\nSSHD_CONFIG="${root}/sshd_config"\nharden_sshd\ncat "$CALLS"`);
  }

  it("writes the drop-in, reloads sshd, and sshd -T shows every setting in effect (the distribution's X11Forwarding yes included)", () => {
    const root = scratchSshd("sshd-clean", { "60-local.conf": "ClientAliveInterval 300\n" });
    const result = harden(root);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(fs.readFileSync(path.join(root, "sshd_config.d", "50-ballast.conf"), "utf8")).toBe(expectedDropIn);
    expect(result.stdout).toBe("systemctl reload ssh\n");
    const effective = spawnSync("/usr/sbin/sshd", ["-T", "-f", path.join(root, "sshd_config")], { encoding: "utf8" }).stdout;
    for (const line of [
      "permitrootlogin no",
      "passwordauthentication no",
      "x11forwarding no",
      "allowtcpforwarding no",
      "allowusers deploy",
      "allowusers ballast-admin",
    ]) {
      expect(effective.split("\n")).toContain(line);
    }
    // A second run changes nothing and reloads nothing, but checks again.
    expect(harden(root)).toMatchObject({ status: 0, stdout: "" });
  });

  it("stops naming each overridden setting and the file that sets it first", () => {
    // Debian's main file includes the drop-ins first, so its own lines lose; earlier drop-ins win.
    const root = scratchSshd(
      "sshd-override",
      { "10-cloud.conf": "PasswordAuthentication yes\nAllowUsers ubuntu\n", "01-root.conf": "permitrootlogin=prohibit-password\n" },
      "PermitRootLogin yes\n",
    );
    const result = harden(root);
    expect(result.status).toBe(1);
    const cloud = path.join(root, "sshd_config.d", "10-cloud.conf");
    expect(result.stderr).toBe(
      `[ballast-bootstrap] error: sshd's effective settings (sshd -T) override ${root}/sshd_config.d/50-ballast.conf: ` +
        `PasswordAuthentication is yes, not no; set in ${cloud} | ` +
        `PermitRootLogin is prohibit-password, not no; set in ${root}/sshd_config ${root}/sshd_config.d/01-root.conf | ` +
        `AllowUsers is ballast-admin deploy ubuntu, not ballast-admin deploy; set in ${cloud}. ` +
        "Remove those lines (sshd keeps the first value it reads), then run this script again\n",
    );
  });

  it("removes a drop-in sshd rejects and stops", () => {
    const root = scratchSshd("sshd-broken", {}, "NoSuchKeyword yes\n");
    const result = harden(root);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`sshd rejected ${root}/sshd_config.d/50-ballast.conf (removed again)`);
    expect(fs.existsSync(path.join(root, "sshd_config.d", "50-ballast.conf"))).toBe(false);
  });
});

describe("authorized keys (install_authorized_keys)", () => {
  it("makes the file exactly the rendered lines: restricted, old bare lines and hand-added keys gone", () => {
    const script = scriptFile(full, "keys.sh");
    const home = path.join(dir, "home-deploy");
    fs.mkdirSync(path.join(home, ".ssh"), { recursive: true });
    fs.writeFileSync(path.join(home, ".ssh", "authorized_keys"), `${key}\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHandAddedKey someone\n`);
    const userStubs = `getent() { printf 'ballast-deploy:x:1000:1000::%s:/bin/bash\\n' "${home}"; }\nid() { echo users; }\nchown() { echo "chown $*" >>"$CALLS"; }\ninstall() { echo "install $*" >>"$CALLS"; }`;
    const result = inScript(
      script,
      `${stubs}\n${userStubs}\ninstall_authorized_keys ballast-deploy "\${DEPLOY_KEY_LINES[@]}"\ncat "$CALLS"`,
    );
    expect(result.stderr).toBe("");
    const from = 'from="203.0.113.0/24,198.51.100.7,2001:db8:42::/48"';
    expect(fs.readFileSync(path.join(home, ".ssh", "authorized_keys"), "utf8")).toBe(
      [
        `restrict,${from} ${key}`,
        `restrict,${from} ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY= rotating`,
        `restrict,pty,${from} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostBootstrapOperatorKey alice@laptop`,
        "",
      ].join("\n"),
    );
    expect(fs.statSync(path.join(home, ".ssh", "authorized_keys")).mode & 0o777).toBe(0o600);
    expect(result.stdout).toBe(
      `install -d -m 0700 -o ballast-deploy -g users ${home}/.ssh\nchown ballast-deploy:users ${home}/.ssh/authorized_keys\n`,
    );
  });
});

/** A free TCP port on loopback. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

describe("the authorized_keys options against a real sshd (what deploy.sh needs still works)", () => {
  // sshd runs as this user and lets only this user in (as root: root, in this scratch config only).
  const user = os.userInfo().username;
  let root: string;
  let port: number;
  let sshd: ChildProcess;

  beforeAll(async () => {
    root = path.join(dir, "real-sshd");
    fs.mkdirSync(root, { recursive: true });
    spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(root, "host_key")]);
    spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "deploy@ci", "-f", path.join(root, "client_key")]);
    // As root sshd needs its privilege separation directory (Debian's ssh.service creates it).
    if (process.getuid?.() === 0) fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
    port = await freePort();
    fs.writeFileSync(
      path.join(root, "sshd_config"),
      [
        `Port ${port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${root}/host_key`,
        `PidFile ${root}/sshd.pid`,
        `AuthorizedKeysFile ${root}/authorized_keys`,
        `AllowUsers ${user}`,
        `PermitRootLogin ${user === "root" ? "prohibit-password" : "no"}`,
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        "LogLevel ERROR",
        "",
      ].join("\n"),
    );
    sshd = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", path.join(root, "sshd_config")], { stdio: "ignore" });
    for (let i = 0; i < 50 && spawnSync("bash", ["-c", `exec 3<>/dev/tcp/127.0.0.1/${port}`]).status !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  afterAll(() => {
    sshd?.kill();
  });

  function authorize(options: string) {
    const pub = fs.readFileSync(path.join(root, "client_key.pub"), "utf8").trim();
    fs.writeFileSync(path.join(root, "authorized_keys"), `${authorizedKeyLines([pub], options).join("\n")}\n`, { mode: 0o600 });
  }

  function ssh(args: string[], input = "") {
    const result = spawnSync(
      "ssh",
      [
        "-i",
        path.join(root, "client_key"),
        "-p",
        String(port),
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "LogLevel=ERROR",
        ...args,
      ],
      { input, encoding: "utf8", timeout: 30_000 },
    );
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it("a deploy key (restrict, from= the range) runs bash -s with a script and data on stdin, without a terminal", () => {
    authorize(keyOptions(["127.0.0.1", "2001:db8::/32"], false));
    // What the release Command does: bash reads deploy.sh, then the bundle, from stdin.
    const result = ssh([`${user}@127.0.0.1`, "bash --noprofile --norc -s"], 'read -r line; echo "got $line"; tty || true\nbundle-line\n');
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("got bundle-line\nnot a tty\n");
    expect(result.status).toBe(0);
  });

  it("refuses a terminal and port forwarding to a deploy key, and any login from outside its from= ranges", () => {
    authorize(keyOptions(["127.0.0.1"], false));
    const terminal = ssh(["-tt", `${user}@127.0.0.1`, "tty"]);
    expect(terminal.stderr).toMatch(/PTY allocation request failed/);
    expect(terminal.stdout).not.toMatch(/\/dev\/pts/);
    // -R asks the server at once (-L only when a connection arrives): refused, and ssh stops.
    const forward = ssh(["-o", "ExitOnForwardFailure=yes", "-R", `127.0.0.1:${port + 1}:127.0.0.1:${port}`, `${user}@127.0.0.1`, "true"]);
    expect(forward.status).toBe(255);
    expect(forward.stderr).toMatch(/remote port forwarding failed/);
    authorize(keyOptions(["192.0.2.0/24"], false));
    const outside = ssh([`${user}@127.0.0.1`, "true"]);
    expect(outside.status).toBe(255);
    expect(outside.stderr).toMatch(/Permission denied \(publickey\)/);
  });

  it("an operator key (restrict,pty) gets a terminal and still no forwarding", () => {
    authorize(keyOptions(["127.0.0.1"], true));
    expect(ssh(["-tt", `${user}@127.0.0.1`, "tty"]).stdout).toMatch(/^\/dev\/pts\/\d+/);
    expect(
      ssh(["-o", "ExitOnForwardFailure=yes", "-R", `127.0.0.1:${port + 1}:127.0.0.1:${port}`, `${user}@127.0.0.1`, "true"]).stderr,
    ).toMatch(/remote port forwarding failed/);
  });
});

describe("SSH ranges (address_allowed with python3)", () => {
  it.each([
    ["203.0.113.77", 0],
    ["198.51.100.7", 0],
    ["198.51.100.8", 1],
    ["::ffff:203.0.113.5", 0],
    ["2001:db8:42:1::9", 0],
    ["2001:db8:43::1", 1],
    ["fe80::1%eth0", 1],
  ])("%s -> exit %i", (address, expected) => {
    const script = scriptFile(full, "allowed.sh");
    expect(inScript(script, `address_allowed "${address}"`).status).toBe(expected);
  });
});

const ufwStatus = `Status: active

     To                         Action      From
     --                         ------      ----
[ 1] 22/tcp                     ALLOW IN    203.0.113.0/24             # ballast ssh
[ 2] 80/tcp                     ALLOW IN    Anywhere                   # ballast public
[ 3] 22/tcp                     ALLOW IN    Anywhere
[ 4] OpenSSH                    ALLOW IN    Anywhere
[ 5] 22/tcp                     ALLOW IN    198.51.100.0/24            # ballast ssh
[ 6] 22/tcp (v6)                ALLOW IN    Anywhere (v6)
[ 7] 443/tcp (v6)               ALLOW IN    Anywhere (v6)              # ballast public
[ 8] 5432/tcp                   DENY IN     Anywhere
`;

describe("firewall (configure_firewall with recording ufw and ss stubs)", () => {
  let script: string;
  beforeAll(() => {
    script = scriptFile(minimal, "firewall.sh");
    fs.writeFileSync(path.join(dir, "ufw-status"), ufwStatus);
  });

  const firewallStubs = (peer: string, listening: boolean, active: boolean) => `${stubs}
ufw() {
  echo "ufw $*" >>"$CALLS"
  case "$*" in
    "status numbered") cat "$HOME/ufw-status" ;;
    status) echo "Status: ${active ? "active" : "inactive"}" ;;
  esac
}
ss() {
  case "$1" in
    -Htln) ${listening ? 'echo "0 128 0.0.0.0:22 0.0.0.0:*"' : ":"} ;;
    -Htn) ${peer ? `echo "0 0 10.0.0.5:22 ${peer}"` : ":"} ;;
  esac
}
`;

  it("lists the rules that open SSH outside the allowed ranges, highest number first", () => {
    const result = inScript(script, `${firewallStubs("", true, true)}\nstale_ssh_rules`);
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual(["6", "5", "4", "3"]);
  });

  it("allows SSH from the ranges and 80/443, enables ufw, then removes stale SSH rules", () => {
    const result = inScript(script, `${firewallStubs("203.0.113.9:50022", true, false)}\nconfigure_firewall\ncat "$CALLS"`);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const ufw = result.stdout.split("\n").filter((l) => l.startsWith("ufw ") && !l.startsWith("ufw status"));
    expect(ufw).toEqual([
      "ufw default deny incoming",
      "ufw default allow outgoing",
      "ufw allow proto tcp from 203.0.113.0/24 to any port 22 comment ballast ssh",
      "ufw allow proto tcp to any port 80 comment ballast public",
      "ufw allow proto tcp to any port 443 comment ballast public",
      "ufw --force enable",
      "ufw --force delete 6",
      "ufw --force delete 5",
      "ufw --force delete 4",
      "ufw --force delete 3",
    ]);
  });

  it("accepts an IPv4-mapped session address in brackets", () => {
    const result = inScript(script, `${firewallStubs("[::ffff:203.0.113.9]:50022", true, true)}\nguard_ssh_access && echo ok`);
    expect(result.stdout.trim()).toBe("ok");
  });

  it("refuses to lock out the operator and changes nothing", () => {
    const result = inScript(script, `${firewallStubs("192.0.2.44:50022", true, true)}\nconfigure_firewall\ncat "$CALLS"`);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("no open SSH session comes from 203.0.113.0/24 (sessions from: 192.0.2.44)");
    expect(result.stdout).toBe("");
    const calls = fs.readFileSync(path.join(dir, "calls"), "utf8");
    expect(calls).not.toMatch(/ufw (allow|default|--force)/);
  });

  it("can be told to go on with BALLAST_BOOTSTRAP_ALLOW_LOCKOUT=1", () => {
    const result = inScript(script, `${firewallStubs("192.0.2.44:50022", true, true)}\nguard_ssh_access && echo ok`, {
      BALLAST_BOOTSTRAP_ALLOW_LOCKOUT: "1",
    });
    expect(result.stdout.trim()).toBe("ok");
    expect(result.stderr).toContain("continuing because BALLAST_BOOTSTRAP_ALLOW_LOCKOUT=1");
  });

  it("refuses when sshd does not listen on the configured port", () => {
    const result = inScript(script, `${firewallStubs("", false, true)}\nconfigure_firewall`);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("nothing listens on TCP port 22 (ballast:compose.ssh.port)");
  });
});
