import { describe, expect, it } from "vitest";
import { sshBootstrapKeySeparate, sshHostKeyPinned } from "../../policies/ssh";
import { composeDocument, composeService, releaseCommand, validateResource, validateStack } from "./harness";

const doc = composeDocument({ app: composeService() });
const connection = { host: "203.0.113.10", port: 22, user: "deploy", privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----" };

describe("ssh-host-key-pinned", () => {
  it("passes a remote command with a pinned host key, and local commands", async () => {
    expect(await validateResource(sshHostKeyPinned, releaseCommand(doc, { stack: "prod" }))).toEqual([]);
    expect(await validateResource(sshHostKeyPinned, releaseCommand(doc, { remote: false }))).toEqual([]);
  });

  it("reports a missing or empty hostKey on staging and prod, and unbounded dialling", async () => {
    expect(await validateResource(sshHostKeyPinned, releaseCommand(doc, { stack: "staging", connection }))).toEqual([
      'Command "ballast-release" (deploy@203.0.113.10): connection.hostKey is missing, so any host key is accepted (staging); pin it: ballast:compose.ssh.hostKey from "ssh-keyscan -t ed25519 <host>"',
    ]);
    const empty = releaseCommand(doc, { stack: "prod", connection: { ...connection, hostKey: " ", dialErrorLimit: -1 } });
    expect(await validateResource(sshHostKeyPinned, empty)).toEqual([
      'Command "ballast-release" (deploy@203.0.113.10): connection.hostKey is empty, so any host key is accepted (prod); pin it: ballast:compose.ssh.hostKey from "ssh-keyscan -t ed25519 <host>"',
      'Command "ballast-release" (deploy@203.0.113.10): connection.dialErrorLimit is -1 (retry forever); bound it so an unreachable host fails the update',
    ]);
  });

  it("applies to every remote resource, not only the release command", async () => {
    const copy = { type: "command:remote:CopyFile", name: "upload", stack: "prod", props: { connection, localPath: "a", remotePath: "b" } };
    expect(await validateResource(sshHostKeyPinned, copy)).toHaveLength(1);
  });

  it("leaves dev alone unless the policy config lists it", async () => {
    const dev = releaseCommand(doc, { stack: "dev", connection });
    expect(await validateResource(sshHostKeyPinned, dev)).toEqual([]);
    expect(await validateResource(sshHostKeyPinned, dev, { environments: ["dev", "staging", "prod"] })).toHaveLength(1);
  });
});

describe("ssh-bootstrap-key-separate", () => {
  const deployKey = "-----BEGIN OPENSSH PRIVATE KEY-----\ndeploy\n-----END OPENSSH PRIVATE KEY-----";
  const bootstrapKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nbootstrap\n-----END OPENSSH PRIVATE KEY-----";
  const hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBallastHostKey";
  const login = (user: string, privateKey?: string) => ({
    host: "203.0.113.10",
    port: 22,
    user,
    hostKey,
    ...(privateKey ? { privateKey } : {}),
  });
  const stackOf = (stack: string, bootstrapUser: string, bootstrapKeyValue?: string, releaseKey: string | undefined = deployKey) => [
    releaseCommand(doc, { stack, connection: login("deploy", releaseKey) }),
    {
      type: "command:remote:Command",
      name: "ballast-host-bootstrap",
      stack,
      props: { create: "bash -s", connection: login("root", bootstrapKeyValue) },
    },
    {
      type: "command:remote:Command",
      name: "ballast-host-converge",
      stack,
      props: { create: "sudo -n bash -s", connection: login(bootstrapUser, bootstrapKeyValue) },
    },
  ];
  const messages = async (resources: ReturnType<typeof stackOf>, config: object = {}) =>
    (await validateStack(sshBootstrapKeySeparate, resources, config)).map((v) => v.message);

  it("passes a bootstrap with its own key and user, and a stack whose keys come from the SSH agent", async () => {
    expect(await messages(stackOf("prod", "ballast-admin", bootstrapKey))).toEqual([]);
    expect(await messages(stackOf("staging", "ballast-admin", undefined, undefined))).toEqual([]);
  });

  it("refuses the deploy key (and the deploy user) for the bootstrap in staging and prod, without showing the key", async () => {
    const found = await messages(stackOf("staging", "deploy", deployKey));
    expect(found).toEqual([
      'Command "ballast-host-bootstrap" (root@203.0.113.10): logs in with the same private key as Command "ballast-release" (deploy@203.0.113.10), so the deploy key is root on the host (staging); give the bootstrap its own key: ballast:bootstrapSshPrivateKey, its .pub in ballast:compose.bootstrap.adminKeys',
      'Command "ballast-host-converge" (deploy@203.0.113.10): logs in as deploy, the user of Command "ballast-release" (deploy@203.0.113.10); the bootstrap has a user of its own (ballast:compose.bootstrap.adminUser) (staging)',
      'Command "ballast-host-converge" (deploy@203.0.113.10): logs in with the same private key as Command "ballast-release" (deploy@203.0.113.10), so the deploy key is root on the host (staging); give the bootstrap its own key: ballast:bootstrapSshPrivateKey, its .pub in ballast:compose.bootstrap.adminKeys',
    ]);
    expect(found.join("\n")).not.toContain("PRIVATE KEY-----");
    expect(await messages(stackOf("prod", "ballast-admin", deployKey))).toHaveLength(2);
  });

  it("leaves dev alone unless the policy config lists it", async () => {
    expect(await messages(stackOf("dev", "ballast-admin", deployKey))).toEqual([]);
    expect(await messages(stackOf("dev", "ballast-admin", deployKey), { environments: ["dev"] })).toHaveLength(2);
  });
});
