/**
 * One resource per Compose service, so `pulumi preview` reads like the stack it changes:
 * `~ ballast-app update [diff: ~compose]` names the service, and `--diff` shows the key that
 * changed (`image`, one environment entry, `deploy.replicas`) instead of the whole compose file.
 *
 * A record holds the service's slice of the rendered project (the service, the networks,
 * volumes and secrets it uses) and nothing secret: secret env entries are `${NAME:?...}`
 * interpolations. It deploys nothing: the release Command does (apply.ts). Records are
 * updated after the release succeeds, so a failed release leaves them showing what runs.
 * The policy pack judges each record as a one-service compose project.
 *
 * The provider is a Pulumi dynamic provider that stores its inputs: no closures, no I/O.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ComposeDocument } from "./types";

/** The type token the policy pack recognises: `pulumi-nodejs:dynamic/ballast:ComposeService`. */
export const SERVICE_RECORD_MODULE = "ballast";
export const SERVICE_RECORD_TYPE = "ComposeService";

/** The part of the project one service needs to be read on its own. */
export function serviceSlice(document: ComposeDocument, name: string): ComposeDocument {
  const service = document.services[name];
  if (!service) throw new Error(`compose project has no service ${name}`);
  const pick = <T>(all: Record<string, T> | undefined, keys: string[]): Record<string, T> | undefined => {
    const picked = Object.fromEntries(keys.filter((k) => all?.[k] !== undefined).map((k) => [k, all![k]]));
    return Object.keys(picked).length > 0 ? picked : undefined;
  };
  const volumeNames = (service.volumes ?? []).flatMap((v) => (typeof v === "string" ? [v.split(":")[0]] : []));
  const slice: ComposeDocument = {
    name: document.name,
    services: { [name]: service },
    networks: pick(document.networks, service.networks ?? []) ?? {},
  };
  const volumes = pick(document.volumes, volumeNames);
  if (volumes) slice.volumes = volumes;
  const secrets = pick(document.secrets, (service.secrets ?? []).map((s) => s.source));
  if (secrets) slice.secrets = secrets;
  return slice;
}

const serviceRecordProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    return { id: `${inputs.compose.name}-${inputs.service}`, outs: inputs };
  },
  async diff(_id, olds, news) {
    const changes = JSON.stringify(olds.compose) !== JSON.stringify(news.compose);
    return { changes, replaces: olds.service !== news.service ? ["service"] : [], deleteBeforeReplace: false };
  },
  async update(_id, _olds, news) {
    return { outs: news };
  },
};

export interface ServiceRecordArgs {
  service: pulumi.Input<string>;
  /** The one-service compose document (`serviceSlice`). */
  compose: pulumi.Input<ComposeDocument>;
}

export class ComposeServiceRecord extends pulumi.dynamic.Resource {
  constructor(name: string, args: ServiceRecordArgs, opts?: pulumi.CustomResourceOptions) {
    super(serviceRecordProvider, name, { service: args.service, compose: args.compose }, opts, SERVICE_RECORD_MODULE, SERVICE_RECORD_TYPE);
  }
}
