/**
 * The host bootstrap (components/host) as a resource: run over SSH as the bootstrap user
 * (root or a sudoer) before the first release, and again whenever the rendered script
 * changes. The script is idempotent, so a re-run only converges the host.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import type { ComposeConfig } from "../../config/types";
import { releaseConnection } from "./apply";

/** Runs the script from stdin, through sudo unless the bootstrap user is root. */
export function bootstrapInvocation(user: string): string {
  return user === "root" ? "bash -s" : "sudo -n bash -s";
}

export function applyHostBootstrap(
  config: ComposeConfig,
  script: string,
  parent: pulumi.Resource,
  sshPrivateKey?: pulumi.Output<string>,
): command.remote.Command {
  const connection = { ...releaseConnection(config, sshPrivateKey), user: config.bootstrap.user };
  return new command.remote.Command(
    `${config.project}-host-bootstrap`,
    {
      connection,
      create: bootstrapInvocation(config.bootstrap.user),
      stdin: script,
      // The script carries no secret (public keys, CIDRs, ports): its hash names the version.
      triggers: [createHash("sha256").update(script).digest("hex")],
      logging: "stdoutAndStderr",
      addPreviousOutputInEnv: false,
    },
    { parent },
  );
}
