/**
 * Thin apply step: one `@pulumi/command` Command per stack that runs a release, over SSH for
 * `mode: "ssh"` or on this machine for `mode: "local"`.
 *
 * create: `bash --noprofile --norc -s`, with deploy.sh and then the release bundle on stdin (a
 * secret): the command line is one short line, so neither a preview nor an error quotes a script.
 * delete: <base>/.ballast/destroy.sh <bundle sha256> (installed by every deploy).
 * triggers: [bundle sha256]: it covers every file, a rotated secret included, so any change
 * deploys; what changed is shown by the per-service records (records.ts), not by this Command.
 *
 * A trigger change replaces the resource. Pulumi creates the replacement first (the new release
 * goes live, health-gated) and deletes the old one afterwards; destroy.sh leaves the stack alone
 * when `current` is another bundle's release. So never set `deleteBeforeReplace` here.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { ComposeConfig } from "../../config/types";
import { targetResourceIdentity, type TargetOwner } from "../names";
import { shellQuote } from "./scripts";

/** The SSH connection as the @pulumi/command 1.x provider takes it. */
export interface ReleaseConnection {
  host: string;
  port: number;
  user: string;
  /** Always a Pulumi secret; absent, the provider authenticates through the SSH agent (SSH_AUTH_SOCK). */
  privateKey?: pulumi.Output<string>;
  /** Pinned host key; without it any host key would be accepted. */
  hostKey?: string;
  /** Dial attempts before giving up, so an unreachable host fails fast. */
  dialErrorLimit: number;
  /** Seconds per dial attempt. */
  perDialTimeout: number;
}

export interface ReleaseCommandArgs {
  connection?: ReleaseConnection;
  /** bash reading deploy.sh and the bundle from stdin. */
  create: string;
  /** The installed destroy.sh with this release's bundle hash. */
  delete: pulumi.Output<string>;
  /** deploy.sh, then the release bundle: a Pulumi secret. */
  stdin: pulumi.Output<string>;
  /** [bundle sha256]; see the file comment. */
  triggers: pulumi.Output<string>[];
  /**
   * Live streaming of the scripts' output. On success the scripts print only progress
   * (they never print a file's content); on failure the provider puts the whole output
   * in the error regardless of this setting. stdout/stderr are also secret outputs.
   */
  logging: "stdoutAndStderr";
  /** The previous stdout is of no use to the scripts, and sshd would refuse the variable. */
  addPreviousOutputInEnv: false;
}

export interface ReleaseInputs {
  /** sha256 of the bundle, plain: it names the release and goes into triggers. */
  bundleId: pulumi.Output<string>;
  /** deploy.sh followed by the encoded bundle; secret. */
  stdin: pulumi.Output<string>;
  /** Where releases live on the host (`<base>/.ballast/destroy.sh` is there). */
  releaseBase: string;
}

/** What the create step runs: bash reading its script, then the bundle, from stdin. */
export const RELEASE_CREATE_COMMAND = "bash --noprofile --norc -s";

/** The delete step: the destroy.sh the last deploy installed, if any deploy got that far. */
export function releaseDeleteCommand(releaseBase: string, bundle: string): string {
  const script = shellQuote(`${releaseBase}/.ballast/destroy.sh`);
  return `test ! -f ${script} || bash --noprofile --norc ${script} ${shellQuote(bundle)}`;
}

export function releaseConnection(config: ComposeConfig, sshPrivateKey: pulumi.Output<string> | undefined): ReleaseConnection {
  const ssh = config.ssh;
  if (!ssh) throw new Error('compose target: mode "ssh" needs ballast:compose.ssh (host, user, remoteDir ...)');
  const connection: ReleaseConnection = {
    host: ssh.host,
    port: ssh.port,
    user: ssh.user,
    dialErrorLimit: ssh.dialAttempts,
    perDialTimeout: ssh.dialTimeoutSeconds,
  };
  if (sshPrivateKey) connection.privateKey = pulumi.secret(sshPrivateKey);
  if (ssh.hostKey) connection.hostKey = ssh.hostKey;
  return connection;
}

/** Pure: the Command's arguments, built so tests can check them without a Pulumi engine. */
export function releaseCommandArgs(
  config: ComposeConfig,
  inputs: ReleaseInputs,
  sshPrivateKey?: pulumi.Output<string>,
): ReleaseCommandArgs {
  const args: ReleaseCommandArgs = {
    create: RELEASE_CREATE_COMMAND,
    delete: inputs.bundleId.apply((id) => releaseDeleteCommand(inputs.releaseBase, id)),
    stdin: pulumi.secret(inputs.stdin),
    triggers: [inputs.bundleId],
    logging: "stdoutAndStderr",
    addPreviousOutputInEnv: false,
  };
  if (config.mode === "ssh") args.connection = releaseConnection(config, sshPrivateKey);
  return args;
}

/** Options of the release Command: parented, stdout/stderr encrypted in state, aliased to an earlier name. */
export function releaseResourceOptions(
  parent: pulumi.Resource,
  dependsOn: pulumi.Resource[] = [],
  aliases: pulumi.Alias[] = [],
): pulumi.CustomResourceOptions {
  return {
    parent,
    ...(dependsOn.length > 0 && { dependsOn }),
    ...(aliases.length > 0 && { aliases }),
    additionalSecretOutputs: ["stdout", "stderr"],
  };
}

/**
 * Declares `<platform>-release`, parented to the Platform. Up to 862b775 it was `<project>-release`:
 * the alias keeps that release (a rename is no trigger change, so nothing is deployed or destroyed).
 */
export function applyRelease(
  config: ComposeConfig,
  inputs: ReleaseInputs,
  owner: TargetOwner,
  sshPrivateKey?: pulumi.Output<string>,
  /** Resources that must exist first (the host bootstrap). */
  dependsOn: pulumi.Resource[] = [],
): command.remote.Command | command.local.Command {
  const args = releaseCommandArgs(config, inputs, sshPrivateKey);
  const { name, aliases } = targetResourceIdentity(owner, config.project, { kind: "release" });
  const options = releaseResourceOptions(owner.parent, dependsOn, aliases);
  if (config.mode === "ssh") {
    const { connection, ...rest } = args;
    if (!connection) throw new Error('compose target: mode "ssh" needs a connection');
    const remoteArgs = { ...rest, connection };
    return new command.remote.Command(name, remoteArgs, options);
  }
  const localArgs = {
    create: args.create,
    delete: args.delete,
    stdin: args.stdin,
    triggers: args.triggers,
    logging: args.logging,
    addPreviousOutputInEnv: args.addPreviousOutputInEnv,
  };
  return new command.local.Command(name, localArgs, options);
}
