/**
 * Small pure readers of compose values: commands, sizes, durations, ports, environment,
 * health checks. Each returns Ballast's shape, or undefined when the value does not map.
 */

/** A compose `command`/`entrypoint` as an argument list; shell syntax keeps a shell. */
export function commandOf(value: unknown): string[] | undefined {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const words = splitWords(value);
  return words ?? ["sh", "-c", value.trim()];
}

/** Splits a command line into words; undefined when it needs a shell (pipes, &&, $VAR, loops). */
export function splitWords(line: string): string[] | undefined {
  if (/[|&;<>`$()\n]/.test(line)) return undefined;
  const words: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const match of line.matchAll(pattern)) words.push(match[1] ?? match[2] ?? match[3]);
  return words.length > 0 ? words : undefined;
}

/** Compose memory (`4G`, `512m`, `1.5gb`, bytes) -> `"4Gi"` / `"512Mi"`. */
export function memoryOf(value: unknown): string | undefined {
  const text = String(value ?? "")
    .trim()
    .toLowerCase();
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/.exec(text);
  if (!match) return undefined;
  const amount = Number(match[1]);
  const mib = match[2] === "g" ? amount * 1024 : match[2] === "m" ? amount : match[2] === "k" ? amount / 1024 : amount / (1024 * 1024);
  if (mib < 16) return undefined;
  return Number.isInteger(mib / 1024) ? `${mib / 1024}Gi` : `${Math.round(mib)}Mi`;
}

/** Compose cpus (`'2'`, `0.5`) -> cores. */
export function cpuOf(value: unknown): number | undefined {
  const cores = Number(value);
  return Number.isFinite(cores) && cores >= 0.01 && cores <= 64 ? cores : undefined;
}

/** Compose durations (`90s`, `1m30s`, `2m`) -> whole seconds. */
export function secondsOf(value: unknown): number | undefined {
  const text = String(value ?? "").trim();
  if (!/^(\d+(\.\d+)?(h|m|s|ms|us))+$/.test(text)) return undefined;
  const factor: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 0.000001 };
  let total = 0;
  for (const [, amount, , unit] of text.matchAll(/(\d+(\.\d+)?)(h|ms|us|m|s)/g)) total += Number(amount) * factor[unit];
  return Math.round(total);
}

/** The container port of a `ports:` entry (`"3000"`, `"8080:3000"`, `"127.0.0.1:80:3000/tcp"`, `{target: 3000}`). */
export function containerPortOf(entry: unknown): number | undefined {
  if (typeof entry === "object" && entry !== null && "target" in entry) return Number((entry as { target: unknown }).target) || undefined;
  const text = String(entry ?? "").replace(/\/(tcp|udp)$/, "");
  const last = text.split(":").pop() ?? "";
  const port = Number(last.split("-")[0]);
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
}

/** One environment entry with the index or key it was declared under (for its line). */
export interface EnvEntry {
  name: string;
  /** Undefined: passed through from the shell (`- NAME` or `NAME:` with no value). */
  value?: string;
  /** The YAML path below the service: ["environment", 3] or ["environment", "NAME"]. */
  path: (string | number)[];
}

/** A service's `environment:` in list or map form. */
export function environmentOf(value: unknown): EnvEntry[] {
  if (Array.isArray(value)) {
    return value.map((item, index) => {
      const text = String(item);
      const at = text.indexOf("=");
      return at === -1
        ? { name: text, path: ["environment", index] }
        : { name: text.slice(0, at), value: text.slice(at + 1), path: ["environment", index] };
    });
  }
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).map(([name, raw]) => ({
      name,
      value: raw === null || raw === undefined ? undefined : String(raw),
      path: ["environment", name],
    }));
  }
  return [];
}

/** Labels in list or map form, as a map. */
export function labelsOf(value: unknown): Record<string, string> {
  if (Array.isArray(value)) {
    return Object.fromEntries(
      value.map((item) => {
        const text = String(item);
        const at = text.indexOf("=");
        return at === -1 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
      }),
    );
  }
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v ?? "")]));
  return {};
}

/** What a compose healthcheck says, in Ballast's terms. */
export type HealthCheck =
  | { kind: "http"; path: string; port?: number; startPeriodSeconds?: number }
  | { kind: "command"; command: string[]; startPeriodSeconds?: number }
  | { kind: "none" };

const localUrl = /https?:\/\/(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::(\d+))?(\/[^\s'"?#|;&]*)?/;

/** A compose `healthcheck:`: an HTTP request to the container itself becomes a path, anything else a command. */
export function healthOf(value: unknown): HealthCheck | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const check = value as Record<string, unknown>;
  if (check.disable === true) return { kind: "none" };
  const test = check.test;
  const startPeriodSeconds = check.start_period === undefined ? undefined : secondsOf(check.start_period);
  const withStart = <T extends object>(health: T) => (startPeriodSeconds === undefined ? health : { ...health, startPeriodSeconds });
  let line: string;
  let argv: string[];
  if (Array.isArray(test)) {
    const [form, ...rest] = test.map(String);
    if (form === "NONE") return { kind: "none" };
    line = rest.join(" ");
    argv = form === "CMD-SHELL" ? ["sh", "-c", line] : rest;
  } else if (typeof test === "string") {
    line = test;
    argv = ["sh", "-c", test];
  } else {
    return undefined;
  }
  const url = localUrl.exec(line);
  if (url && /\b(curl|wget)\b/.test(line)) {
    const path = url[2] ?? "/";
    if (/^\/[A-Za-z0-9._~/-]*$/.test(path)) return withStart({ kind: "http" as const, path, ...(url[1] ? { port: Number(url[1]) } : {}) });
  }
  return withStart({ kind: "command" as const, command: argv });
}

/** A host in a Traefik rule (``Host(`api.example.com`)``). */
export function hostOfRule(rule: string): string | undefined {
  return /Host\(\s*[`"']([^`"']+)[`"']/.exec(rule)?.[1];
}

/** `api.dealix.me` -> domain `dealix.me`, subdomain `api`; a two-label host is the apex. */
export function splitHost(host: string): { domain: string; subdomain: string } {
  const labels = host.toLowerCase().split(".");
  if (labels.length <= 2) return { domain: labels.join("."), subdomain: "" };
  return { domain: labels.slice(-2).join("."), subdomain: labels.slice(0, -2).join("-") };
}

/** `${VAR}`, `${VAR:-default}`, `$VAR`: the value comes from the deploy environment, not the file. */
export function interpolation(value: string): { variable: string; fallback?: string } | undefined {
  const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?]([^}]*))?\}$/.exec(value.trim());
  if (braced) return { variable: braced[1], fallback: /:?-/.test(value) ? braced[2] : undefined };
  const bare = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(value.trim());
  return bare ? { variable: bare[1] } : undefined;
}

/** A value that mentions an interpolation anywhere (`postgres://u:${PW}@db/x`). */
export function mentionsInterpolation(value: string): boolean {
  return /\$\{?[A-Za-z_]/.test(value);
}

/** `OPENAI_API_KEY` -> `openai-api-key`. */
export function secretNameOf(envName: string): string {
  return envName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .replace(/^(\d)/, "s-$1");
}
