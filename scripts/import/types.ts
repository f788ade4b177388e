/**
 * What an import produces: the stack config, and what the user must still do (secrets to
 * set, placeholders to replace, findings with the compose line they came from).
 */
import type { Environment, TargetKind } from "../../components/config";
import type { YamlPath } from "./compose-file";
import type { Role } from "./roles";

export interface ImportOptions {
  stack: string;
  target: TargetKind;
  /** Default: the stack name when it is dev/staging/prod, else prod (a production compose file). */
  environment?: Environment;
  /** Exact images for services whose compose image has a moving tag: service name -> image. */
  images?: Record<string, string>;
  /** The service that is the app, when the importer's choice is wrong. */
  app?: string;
}

/** Something in the compose file that the stack file does not say, with the line it came from. */
export interface Finding {
  line: number;
  service?: string;
  what: string;
  why: string;
  /** "not mapped": left out; "changed": mapped differently than written; "replaced": Ballast's own part instead. */
  kind: FindingKind;
}

export type FindingKind = "not mapped" | "changed" | "replaced";

/** A secret the stack reads and the user sets (or may set) with `pulumi config set --secret`. */
export interface SecretToSet {
  name: string;
  /** Environment variables that read it, as `service.ENV`. */
  readBy: string[];
  line: number;
  /** A Ballast built-in (generated unless supplied). */
  builtin: boolean;
  /** Must be set before `pulumi up` (a declared secret, or a built-in whose current value matters). */
  required: boolean;
  note: string;
}

/** A value the compose file does not say, written as a clearly marked placeholder. */
export interface Placeholder {
  path: YamlPath;
  why: string;
}

export interface MappedService {
  service: string;
  line: number;
  role: Role;
  to: string;
}

export interface ComposeImport {
  source: string;
  stack: string;
  target: TargetKind;
  environment: Environment;
  /** `ballast:` keys without the namespace, in the order they are written. */
  config: Record<string, unknown>;
  mapped: MappedService[];
  secrets: SecretToSet[];
  placeholders: Placeholder[];
  findings: Finding[];
  /** Images with a moving tag and no `--image` pin: refused outside dev. */
  unpinned: { service: string; line: number; image: string }[];
}

/** A stack config value under construction. */
export type Json = Record<string, unknown>;
