/**
 * The Compose target's rendered project, as the policies see it.
 *
 * Contract with components/targets/compose (records.ts): one resource per service, of type
 * `pulumi-nodejs:dynamic/ballast:ComposeService`, whose inputs are that service's slice of the
 * rendered project (the service with the networks, volumes and secrets it uses), flattened to one
 * property per leaf (components/targets/compose/record-shape.ts), without secret values. Each is
 * judged as a one-service project. A release Command whose `triggers[0]`
 * is compose YAML (older releases, hand-written stacks) is read too.
 */
import { parse } from "yaml";
import { unflattenDocument } from "../../components/targets/compose/record-shape";
import { asArray, asObject, asString, type Props } from "./values";
import type { ResourceView } from "./view";

/** The compose label carrying a service's component (`app`, `workers`, `postgres` ...). */
export const composeComponentLabel = "ballast.component";
/** The compose label carrying a service's role (`stateless`, `stateful`, `agent`, `job`, `scheduler`). */
export const composeRoleLabel = "ballast.role";

export interface ComposeProject {
  services: Record<string, Props>;
  volumes: Record<string, Props>;
  networks: Record<string, Props>;
  raw: Props;
}

export interface ComposeService {
  name: string;
  /** `compose service "app"` for messages. */
  title: string;
  props: Props;
}

export interface ComposeVolumeMount {
  type: "volume" | "bind" | "tmpfs" | "npipe" | "cluster" | "image" | "other";
  /** Named volume or host path; undefined for anonymous volumes and tmpfs. */
  source?: string;
  target: string;
  readOnly: boolean;
}

const parsedCache = new Map<string, ComposeProject | null>();

/** Parses compose YAML text; null when it is not a compose document with services. */
export function parseComposeText(text: string): ComposeProject | null {
  const cached = parsedCache.get(text);
  if (cached !== undefined) return cached;
  let project: ComposeProject | null = null;
  try {
    const doc = asObject(parse(text));
    const services = asObject(doc?.services);
    if (doc && services) {
      project = {
        services: Object.fromEntries(Object.entries(services).map(([k, v]) => [k, asObject(v) ?? {}])),
        volumes: Object.fromEntries(Object.entries(asObject(doc.volumes) ?? {}).map(([k, v]) => [k, asObject(v) ?? {}])),
        networks: Object.fromEntries(Object.entries(asObject(doc.networks) ?? {}).map(([k, v]) => [k, asObject(v) ?? {}])),
        raw: doc,
      };
    }
  } catch {
    project = null;
  }
  if (parsedCache.size > 64) parsedCache.clear();
  parsedCache.set(text, project);
  return project;
}

/** The type of the per-service records (components/targets/compose/records.ts). */
export const composeServiceRecordType = "pulumi-nodejs:dynamic/ballast:ComposeService";

function projectOfDocument(doc: Props): ComposeProject | undefined {
  const services = asObject(doc.services);
  if (!services) return undefined;
  return {
    services: Object.fromEntries(Object.entries(services).map(([k, v]) => [k, asObject(v) ?? {}])),
    volumes: Object.fromEntries(Object.entries(asObject(doc.volumes) ?? {}).map(([k, v]) => [k, asObject(v) ?? {}])),
    networks: Object.fromEntries(Object.entries(asObject(doc.networks) ?? {}).map(([k, v]) => [k, asObject(v) ?? {}])),
    raw: doc,
  };
}

/** The compose project (or one-service slice of it) a resource carries, if any. */
export function composeProjectOf(resource: ResourceView): ComposeProject | undefined {
  if (resource.type === composeServiceRecordType) {
    // The record's properties are its slice flattened, one per leaf (record-shape.ts).
    const { service: _service, ...slice } = resource.props;
    return projectOfDocument(unflattenDocument(slice) as Props);
  }
  if (!resource.type.startsWith("command:")) return undefined;
  const first = asArray(resource.props.triggers)[0];
  if (typeof first !== "string" || !/(^|\n)services\s*:/.test(first)) return undefined;
  return parseComposeText(first) ?? undefined;
}

export function composeServices(project: ComposeProject): ComposeService[] {
  return Object.entries(project.services).map(([name, props]) => ({ name, title: `compose service "${name}"`, props }));
}

/** `KEY=VALUE` lists and maps both become a map; a bare `KEY` (pass-through) maps to null. */
function keyValues(value: unknown): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item !== "string") continue;
      const eq = item.indexOf("=");
      if (eq === -1) out[item] = null;
      else out[item.slice(0, eq)] = item.slice(eq + 1);
    }
    return out;
  }
  for (const [key, v] of Object.entries(asObject(value) ?? {})) {
    out[key] = v === null || v === undefined ? null : typeof v === "object" ? JSON.stringify(v) : String(v);
  }
  return out;
}

export function serviceLabels(service: ComposeService): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(keyValues(service.props.labels))) out[k] = v ?? "";
  return out;
}

export function serviceEnvironment(service: ComposeService): Record<string, string | null> {
  return keyValues(service.props.environment);
}

export function serviceComponent(service: ComposeService): string | undefined {
  return serviceLabels(service)[composeComponentLabel];
}

/** The public route Traefik serves for the service (`x-ballast-route`). */
export function serviceRoute(service: ComposeService): { rule?: string; entryPoints: string[]; certResolver?: string } | undefined {
  const route = asObject(service.props["x-ballast-route"]);
  if (!route) return undefined;
  return {
    rule: asString(route.rule),
    entryPoints: asArray(route.entryPoints).filter((e): e is string => typeof e === "string"),
    certResolver: asString(asObject(route.tls)?.certResolver),
  };
}

/** The host cron's schedule of a job service (`x-ballast-schedule`). */
export function serviceSchedule(service: ComposeService): string | undefined {
  return asString(service.props["x-ballast-schedule"]);
}

export function serviceImage(service: ComposeService): string | undefined {
  return asString(service.props.image);
}

/** Networks the service joins (`default` when it names none and has no network_mode). */
export function serviceNetworks(service: ComposeService): string[] {
  const networks = service.props.networks;
  if (Array.isArray(networks)) return networks.filter((n): n is string => typeof n === "string");
  const map = asObject(networks);
  if (map) return Object.keys(map);
  return service.props.network_mode === undefined ? ["default"] : [];
}

export function serviceVolumes(service: ComposeService): ComposeVolumeMount[] {
  const out: ComposeVolumeMount[] = [];
  for (const entry of asArray(service.props.volumes)) {
    if (typeof entry === "string") {
      out.push(parseShortVolume(entry));
      continue;
    }
    const obj = asObject(entry);
    if (!obj) continue;
    const type = asString(obj.type) ?? "volume";
    out.push({
      type: (["volume", "bind", "tmpfs", "npipe", "cluster", "image"].includes(type) ? type : "other") as ComposeVolumeMount["type"],
      source: asString(obj.source),
      target: asString(obj.target) ?? "",
      readOnly: obj.read_only === true || obj.read_only === "true",
    });
  }
  return out;
}

/** `SOURCE:TARGET[:MODE]` or `TARGET`; a source that is a path makes it a bind mount. */
function parseShortVolume(entry: string): ComposeVolumeMount {
  const parts = entry.split(":");
  if (parts.length === 1) return { type: "volume", target: parts[0], readOnly: false };
  const [source, target, mode = ""] = parts;
  const isPath = source.startsWith("/") || source.startsWith(".") || source.startsWith("~") || source.startsWith("$");
  return {
    type: isPath ? "bind" : "volume",
    source,
    target,
    readOnly: mode.split(",").includes("ro"),
  };
}

/** Published ports (`ports:`), in any syntax, as display strings. */
export function servicePorts(service: ComposeService): string[] {
  return asArray(service.props.ports).map((p) => (typeof p === "object" && p !== null ? JSON.stringify(p) : String(p)));
}
