/**
 * Client-IP anonymisation (GDPR/DSGVO): IPv4 keeps its first three octets (`a.b.c.0`),
 * IPv6 keeps its first three hextets (`x:y:z::`, a /48). The rules live here once: Alloy's
 * `stage.replace` blocks are rendered from them and `anonymizeLine` applies them the same
 * way, so tests can run real log lines through exactly what production runs.
 *
 * Alloy's `stage.replace` finds every non-overlapping match (Go RE2, leftmost-first) and
 * replaces only the text of each capture group that took part in the match. RE2 has no
 * look-around, so each expression is an alternation:
 *   1. an address standing alone as a whole token, with its replaced part captured;
 *   2. any other token, matched whole and captured nowhere, so it passes unchanged and the
 *      scan resumes after it instead of inside it.
 * A "token" is a run of characters that can belong to an address or a version string
 * (IPv4: letters, digits, `_`, `.`, `-`; IPv6 adds `:` and `%`). Because whole tokens are
 * consumed, a dotted quad inside a longer token is left alone: `1.2.3.4-beta`, `v1.2.3.4`,
 * `app-1.2.3.4` and `1.2.3.4.5` are versions, not addresses. A bare `1.2.3.4` cannot be
 * told apart from an address and is anonymised: privacy wins that tie. The address branch
 * consumes the one character after the address (or a sentence-ending dot before it); that
 * character is never part of a token, so the next token still starts a fresh match.
 * Every construct used (groups, classes, counted repeats, `$`) means the same in RE2 and
 * in JavaScript without flags, which is what makes the TypeScript mirror exact.
 */

export interface AnonymizationRule {
  name: string;
  /** RE2 and JavaScript regular expression; only its capture groups are replaced. */
  expression: string;
  /** Literal text each participating capture group is replaced with. */
  replacement: string;
  description: string;
}

const hextet = "[0-9A-Fa-f]{1,4}";
/** Optional zone (`%eth0`), optional sentence-ending dot, then end of line or a non-token character. */
const ipv6End = "(?:%[\\w.\\-]+)?\\.?(?:$|[^\\w.:%\\-])";
const ipv6Token = "[\\w.:%\\-]+";
const ipv4End = "(?:$|[^\\w.\\-]|\\.(?:$|[^\\w.\\-]))";
const ipv4Token = "[\\w.\\-]+";

/** Applied in this order; IPv4 first so an IPv4-mapped IPv6 address loses its last octet. */
export const anonymizationRules: readonly AnonymizationRule[] = [
  {
    name: "ipv4-last-octet",
    expression: `(?:\\d{1,3}\\.){3}(\\d{1,3})${ipv4End}|${ipv4Token}`,
    replacement: "0",
    description: "IPv4 address: the last octet becomes 0.",
  },
  {
    name: "ipv6-after-third-hextet",
    expression: `${hextet}:${hextet}:${hextet}((?::${hextet}){5}|(?::${hextet}){0,4}::(?:${hextet}(?::${hextet}){0,4})?)${ipv6End}|${ipv6Token}`,
    replacement: "::",
    description: "IPv6 address with at least three leading hextets: everything after the third becomes `::`.",
  },
  {
    name: "ipv6-after-short-prefix",
    expression: `(?:${hextet}(?::${hextet})?)?::(${hextet}(?::${hextet}){0,5})?${ipv6End}|${ipv6Token}`,
    replacement: "",
    description: "IPv6 address compressed within its first three hextets (`2001:db8::1`, `::1`): the part after `::` is removed.",
  },
];

/** One rule with Alloy's `stage.replace` semantics. */
export function applyAnonymizationRule(rule: AnonymizationRule, line: string): string {
  const pattern = new RegExp(rule.expression, "gd");
  let result = "";
  let copiedUpTo = 0;
  for (const match of line.matchAll(pattern)) {
    const spans = match.indices ?? [];
    for (let group = 1; group < spans.length; group++) {
      const span = spans[group];
      if (span === undefined) continue;
      result += line.slice(copiedUpTo, span[0]) + rule.replacement;
      copiedUpTo = span[1];
    }
  }
  return result + line.slice(copiedUpTo);
}

/** Every rule, in pipeline order: the TypeScript twin of the rendered Alloy stages. */
export function anonymizeLine(line: string, rules: readonly AnonymizationRule[] = anonymizationRules): string {
  return rules.reduce((current, rule) => applyAnonymizationRule(rule, current), line);
}
