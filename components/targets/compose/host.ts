/**
 * The host bootstrap (components/host) as resources, both over SSH with the bootstrap's own key
 * (`ballast:bootstrapSshPrivateKey`, never the deploy key):
 *
 * - `<platform>-host-bootstrap`, the first contact: logs in as `compose.bootstrap.user` (root,
 *   or the image's sudoer) once, when the stack first meets the host (again only when the host,
 *   port or that user change). The script switches root logins off, so this login is root's last.
 * - `<platform>-host-converge`: logs in as `compose.bootstrap.adminUser` (the sudoer the first
 *   run created, with the bootstrap key) and runs the script again whenever it changes.
 *
 * The script is idempotent, so the converge run right after the first contact changes nothing.
 * Up to 862b775 both were named after the Compose project (`<project>-host-...`); an alias keeps them.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import type { ComposeConfig } from "../../config/types";
import { targetResourceIdentity, type TargetOwner } from "../names";
import { releaseConnection } from "./apply";

/** Runs the script from stdin, through sudo unless the bootstrap user is root. */
export function bootstrapInvocation(user: string): string {
  return user === "root" ? "bash -s" : "sudo -n bash -s";
}

/** Pure: the arguments of both Commands, so tests can read them without a Pulumi engine. */
export function hostBootstrapArgs(config: ComposeConfig, script: string, bootstrapKey?: pulumi.Output<string>) {
  const connection = releaseConnection(config, bootstrapKey);
  // The script carries no secret (public keys, CIDRs, ports): its hash names the version.
  const version = createHash("sha256").update(script).digest("hex");
  const common = { stdin: script, logging: "stdoutAndStderr" as const, addPreviousOutputInEnv: false };
  return {
    firstContact: {
      ...common,
      connection: { ...connection, user: config.bootstrap.user },
      create: bootstrapInvocation(config.bootstrap.user),
      // A new host (or first-contact user) is met again; a new script is the converge run's.
      triggers: [connection.host, String(connection.port), config.bootstrap.user],
    },
    converge: {
      ...common,
      connection: { ...connection, user: config.bootstrap.adminUser },
      create: bootstrapInvocation(config.bootstrap.adminUser),
      triggers: [version],
    },
  };
}

/** Declares the first contact and the converge run; the release depends on the converge run. */
export function applyHostBootstrap(
  config: ComposeConfig,
  script: string,
  owner: TargetOwner,
  bootstrapKey?: pulumi.Output<string>,
): command.remote.Command {
  const args = hostBootstrapArgs(config, script, bootstrapKey);
  const { parent } = owner;
  const first = targetResourceIdentity(owner, config.project, { kind: "host-bootstrap" });
  const converge = targetResourceIdentity(owner, config.project, { kind: "host-converge" });
  const firstContact = new command.remote.Command(first.name, args.firstContact, {
    parent,
    aliases: first.aliases,
    // Later versions of the script (and a rotated bootstrap key) are the converge run's business:
    // root cannot log in any more.
    ignoreChanges: ["stdin", "connection.privateKey"],
  });
  return new command.remote.Command(converge.name, args.converge, { parent, aliases: converge.aliases, dependsOn: [firstContact] });
}
