/**
 * One resource per Compose service, so `pulumi preview` reads like the stack it changes:
 * `~ ballast-app update [diff: ~services.app.image]` names the service and the key, and
 * `--diff` shows that one line instead of the whole compose file.
 *
 * A record holds the service's slice of the rendered project (the service, the networks,
 * volumes and secrets it uses), flattened to one property per leaf (./record-shape.ts), and
 * nothing secret: secret env entries are `${NAME:?...}` interpolations. It deploys nothing: the
 * release Command does (apply.ts). Records are updated after the release succeeds, so a failed
 * release leaves them showing what runs. The policy pack judges each record as a one-service
 * compose project.
 *
 * The provider is a Pulumi dynamic provider that stores its inputs: no closures, no I/O.
 */
import * as pulumi from "@pulumi/pulumi";
import { flattenDocument, type FlatDocument } from "./record-shape";
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
  const secrets = pick(
    document.secrets,
    (service.secrets ?? []).map((s) => s.source),
  );
  if (secrets) slice.secrets = secrets;
  return slice;
}

/** The record's properties for one service: its slice, one property per leaf. */
export function serviceRecordProperties(document: ComposeDocument, name: string): FlatDocument {
  return flattenDocument(serviceSlice(document, name) as unknown as Record<string, unknown>);
}

/**
 * No `diff`: the engine then diffs the inputs itself and knows which properties changed, so
 * `pulumi preview --diff` prints only those (a dynamic provider's own diff cannot name them, and
 * the CLI then prints every property). A renamed service is a new resource (its name is in the
 * resource name), so nothing needs a replacement.
 */
const serviceRecordProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    return { id: `${inputs.name}-${inputs.service}`, outs: inputs };
  },
  async update(_id, _olds, news) {
    return { outs: news };
  },
};

export interface ServiceRecordArgs {
  service: string;
  /**
   * The slice's properties (`serviceRecordProperties`): names known when the program runs (the
   * render of the declaration), values possibly later (images built by this update).
   */
  properties: Record<string, pulumi.Input<FlatValueInput>>;
}

type FlatValueInput = FlatDocument[string];

export class ComposeServiceRecord extends pulumi.dynamic.Resource {
  constructor(name: string, args: ServiceRecordArgs, opts?: pulumi.CustomResourceOptions) {
    super(serviceRecordProvider, name, { ...args.properties, service: args.service }, opts, SERVICE_RECORD_MODULE, SERVICE_RECORD_TYPE);
  }
}
