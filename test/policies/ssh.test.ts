import { describe, expect, it } from "vitest";
import { sshHostKeyPinned } from "../../policies/ssh";
import { composeDocument, composeService, releaseCommand, validateResource } from "./harness";

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
