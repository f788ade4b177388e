/**
 * The argument loop the stack scripts (dr:export, dr:import, drift) share: `--name VALUE`
 * options, bare `--flag`s, positionals, `-h`/`--help`. Returns the parsed arguments, or the
 * message to print (with the usage) when they are wrong.
 */
export interface ParsedArgs {
  positional: string[];
  values: Record<string, string>;
  flags: Set<string>;
}

export interface ArgSpec {
  /** Options that take a value, with what the value is ("a directory", "a path"). */
  values: Record<string, string>;
  flags?: readonly string[];
}

export function parseCliArgs(argv: readonly string[], spec: ArgSpec, usage: string): ParsedArgs | string {
  const parsed: ParsedArgs = { positional: [], values: {}, flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg in spec.values) {
      const value = argv[++i];
      if (!value) return `${arg} needs ${spec.values[arg]}\n${usage}`;
      parsed.values[arg] = value;
    } else if (spec.flags?.includes(arg)) {
      parsed.flags.add(arg);
    } else if (arg === "-h" || arg === "--help") {
      return usage;
    } else if (arg.startsWith("-")) {
      return `unknown option ${arg}\n${usage}`;
    } else {
      parsed.positional.push(arg);
    }
  }
  return parsed;
}
