/**
 * Alloy config (Alloy syntax): ships container logs to Loki.
 *
 * Compose: `discovery.docker` + `loki.source.docker` through the read-only Docker API proxy
 * (docker-api.ts; never the socket itself), limited to this Compose project's containers.
 * Kubernetes: a DaemonSet; `discovery.kubernetes` (pods of the stack namespace) names the
 * files under /var/log/pods (hostPath, read-only) that `loki.source.file` tails, so each
 * node's Alloy reads only its own node's logs and needs no `pods/log` API access.
 *
 * One `loki.process` pipeline: parse JSON, drop successful health-check and metrics
 * requests (failed ones are kept: they are the interesting ones), then anonymise client
 * IPs with the rules from anonymize.ts.
 */
import { anonymizationRules, type AnonymizationRule } from "./anonymize";
import type { MonitoringConfig } from "../config";
import { monitoringNames, monitoringPaths, monitoringPorts, type ObservabilityContext } from "./context";
import { stackNamespacesOf } from "./parts";
import { dockerApiEndpoint } from "./docker-api";

/** An unquoted Alloy expression, such as a component export (`discovery.docker.containers.targets`). */
class Expression {
  constructor(readonly text: string) {}
}
const ref = (text: string) => new Expression(text);

type AlloyValue = string | number | boolean | Expression | AlloyValue[] | { [key: string]: AlloyValue };

interface AlloyAttribute {
  kind: "attribute";
  name: string;
  value: AlloyValue;
}

interface AlloyBlock {
  kind: "block";
  name: string;
  label?: string;
  comment?: string;
  body: AlloyStatement[];
}

type AlloyStatement = AlloyAttribute | AlloyBlock;

const attr = (name: string, value: AlloyValue): AlloyAttribute => ({ kind: "attribute", name, value });
const block = (name: string, label: string | undefined, body: AlloyStatement[], comment?: string): AlloyBlock => ({
  kind: "block",
  name,
  label,
  body,
  comment,
});

/** An Alloy string literal: Go-style escapes, so a regex's backslashes survive. */
export function alloyString(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\t/g, "\\t")}"`;
}

function renderValue(value: AlloyValue, indent: string): string {
  if (value instanceof Expression) return value.text;
  if (typeof value === "string") return alloyString(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map((v) => renderValue(v, indent)).join(", ")}]`;
  const inner = `${indent}  `;
  const fields = Object.entries(value).map(
    ([k, v]) => `${inner}${/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? k : alloyString(k)} = ${renderValue(v, inner)},`,
  );
  return `{\n${fields.join("\n")}\n${indent}}`;
}

function renderStatements(statements: AlloyStatement[], indent = ""): string {
  return statements
    .map((s) => {
      if (s.kind === "attribute") return `${indent}${s.name} = ${renderValue(s.value, indent)}`;
      const label = s.label !== undefined ? ` ${alloyString(s.label)}` : "";
      const comment = s.comment ? `${indent}// ${s.comment}\n` : "";
      if (s.body.length === 0) return `${comment}${indent}${s.name}${label} {}`;
      const header = `${comment}${indent}${s.name}${label} {`;
      return `${header}\n${renderStatements(s.body, `${indent}  `)}\n${indent}}`;
    })
    .join("\n");
}

/** Marker the policy pack looks for in the shipped config (policies/stack.ts). */
export const anonymisationMarker = "ballast:anonymise-client-ips";

/** Label that tells the policy pack this shipper anonymises client IPs. */
export const anonymisationLabel = { "ballast.log-anonymisation": "on" } as const;

/** Request paths whose successful requests are dropped from the logs. */
export function droppedRequestPaths(monitoring: MonitoringConfig, ctx: ObservabilityContext): string[] {
  const paths = [
    ...ctx.app.healthPaths,
    ...(ctx.app.metrics ? [ctx.app.metrics.path] : []),
    "/ping",
    "/metrics",
    ...[...ctx.workers, ...ctx.services].flatMap((w) => (w.metrics ? [w.metrics.path] : [])),
    ...monitoring.alloy.dropPaths,
  ];
  return [...new Set(paths)];
}

/** JSON fields that hold a request's path and status, per log format. */
export const requestLogFormats = [
  /** Traefik's JSON access log. */
  { name: "proxy", pathField: "RequestPath", statusField: "DownstreamStatus" },
  /** The app's JSON request log (nyxcore: level, status, method, path, duration). */
  { name: "app", pathField: "path", statusField: "status" },
] as const;

/** Matches `<path>[?query];<2xx|3xx>`: the drop stage joins path and status with `;`. */
export function dropExpression(paths: string[]): string {
  const alternatives = paths.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
  return `^(?:${alternatives})(?:\\?[^;]*)?;[23][0-9][0-9]$`;
}

/**
 * TypeScript twin of the drop stages, for tests: true when Alloy would drop the line.
 * Alloy joins the extracted values that exist with `;`; a missing status leaves only the
 * path, which the expression does not match, so such lines are kept.
 */
export function dropsLine(line: string, paths: string[]): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return false;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return false;
  const fields = parsed as Record<string, unknown>;
  const pattern = new RegExp(dropExpression(paths));
  return requestLogFormats.some((format) => {
    const values = [fields[format.pathField], fields[format.statusField]]
      .filter((v) => v !== undefined && v !== null && typeof v !== "object")
      .map((v) => String(v));
    return values.length > 0 && pattern.test(values.join(";"));
  });
}

function anonymizeStages(rules: readonly AnonymizationRule[]): AlloyBlock[] {
  return rules.map((rule) =>
    block("stage.replace", undefined, [attr("expression", rule.expression), attr("replace", rule.replacement)], rule.description),
  );
}

function processBlock(monitoring: MonitoringConfig, ctx: ObservabilityContext): AlloyBlock {
  const extracted = Object.fromEntries(
    requestLogFormats.flatMap((f) => [
      [`${f.name}_path`, f.pathField],
      [`${f.name}_status`, f.statusField],
    ]),
  );
  const expression = dropExpression(droppedRequestPaths(monitoring, ctx));
  const stages: AlloyStatement[] = [
    ...(ctx.target === "kubernetes"
      ? [block("stage.cri", undefined, [], "Kubelet log files are in CRI format: strip the timestamp/stream prefix.")]
      : []),
    block(
      "stage.json",
      undefined,
      [attr("expressions", { ...extracted, level: "level" })],
      "JSON lines: pick out request path, status and level; other lines pass through.",
    ),
    ...requestLogFormats.map((f) =>
      block(
        "stage.drop",
        undefined,
        [
          attr("source", `${f.name}_path,${f.name}_status`),
          attr("separator", ";"),
          attr("expression", expression),
          attr("drop_counter_reason", `${f.name}_health_or_metrics`),
        ],
        `Successful health-check and metrics requests (${f.name} log): noise, dropped.`,
      ),
    ),
    block("stage.labels", undefined, [attr("values", { level: "" })]),
    ...(ctx.target === "kubernetes"
      ? [
          block(
            "stage.label_drop",
            undefined,
            [attr("values", ["filename"])],
            "The file path changes with every container restart: not a useful stream label.",
          ),
        ]
      : []),
    ...anonymizeStages(anonymizationRules),
    attr("forward_to", [ref("loki.write.default.receiver")]),
  ];
  return block("loki.process", "pipeline", stages, `Parse, drop health/metrics noise, anonymise client IPs (${anonymisationMarker}).`);
}

function composeSources(ctx: ObservabilityContext): AlloyBlock[] {
  const socket = dockerApiEndpoint();
  return [
    block(
      "discovery.docker",
      "containers",
      [
        attr("host", socket),
        block("filter", undefined, [attr("name", "label"), attr("values", [`com.docker.compose.project=${ctx.project}`])]),
      ],
      "This Compose project's containers only.",
    ),
    block("discovery.relabel", "containers", [
      attr("targets", []),
      block("rule", undefined, [
        attr("source_labels", ["__meta_docker_container_label_com_docker_compose_service"]),
        attr("target_label", "service"),
      ]),
      block("rule", undefined, [
        attr("source_labels", ["__meta_docker_container_name"]),
        attr("regex", "/?(.*)"),
        attr("target_label", "replica"),
      ]),
    ]),
    block("loki.source.docker", "containers", [
      attr("host", socket),
      attr("targets", ref("discovery.docker.containers.targets")),
      attr("relabel_rules", ref("discovery.relabel.containers.rules")),
      attr("forward_to", [ref("loki.process.pipeline.receiver")]),
    ]),
  ];
}

function kubernetesSources(monitoring: MonitoringConfig, ctx: ObservabilityContext): AlloyBlock[] {
  return [
    block(
      "discovery.kubernetes",
      "pods",
      [attr("role", "pod"), block("namespaces", undefined, [attr("names", stackNamespacesOf(monitoring, ctx))])],
      "Pods of the stack's namespaces (the application's and the agents'); only their metadata is read from the API.",
    ),
    block("discovery.relabel", "pods", [
      attr("targets", ref("discovery.kubernetes.pods.targets")),
      block("rule", undefined, [attr("source_labels", ["__meta_kubernetes_pod_container_name"]), attr("target_label", "service")]),
      block("rule", undefined, [
        attr("source_labels", ["__meta_kubernetes_pod_label_app_kubernetes_io_name"]),
        attr("regex", "(.+)"),
        attr("target_label", "service"),
      ]),
      block("rule", undefined, [attr("source_labels", ["__meta_kubernetes_pod_name"]), attr("target_label", "replica")]),
      block("rule", undefined, [
        attr("source_labels", ["__meta_kubernetes_pod_uid", "__meta_kubernetes_pod_container_name"]),
        attr("separator", "/"),
        attr("target_label", "__path__"),
        attr("replacement", "/var/log/pods/*$1/*.log"),
      ]),
    ]),
    block(
      "local.file_match",
      "pods",
      [attr("path_targets", ref("discovery.relabel.pods.output"))],
      "Files of pods on other nodes do not exist here: each node reads its own.",
    ),
    block("loki.source.file", "pods", [
      attr("targets", ref("local.file_match.pods.targets")),
      attr("forward_to", [ref("loki.process.pipeline.receiver")]),
    ]),
  ];
}

/** Loki's Service name; on Kubernetes Alloy runs in the agents' namespace, so the name carries Loki's namespace. */
function lokiHost(ctx: ObservabilityContext): string {
  return ctx.target === "kubernetes" ? `${monitoringNames.loki}.${ctx.namespace}.svc` : monitoringNames.loki;
}

/** Pure: the Alloy configuration text for the context's target. */
export function renderAlloyConfig(monitoring: MonitoringConfig, ctx: ObservabilityContext): string {
  const statements: AlloyStatement[] = [
    block("logging", undefined, [attr("level", "warn"), attr("format", "logfmt")]),
    ...(ctx.target === "compose" ? composeSources(ctx) : kubernetesSources(monitoring, ctx)),
    processBlock(monitoring, ctx),
    block("loki.write", "default", [
      block("endpoint", undefined, [attr("url", `http://${lokiHost(ctx)}:${monitoringPorts.loki}/loki/api/v1/push`)]),
      attr("external_labels", { project: ctx.project, environment: ctx.environment }),
    ]),
  ];
  return `// Rendered by Ballast (components/observability/alloy.ts). Do not edit.\n${renderStatements(statements)}\n`;
}

export function alloyArgs(): string[] {
  return [
    "run",
    `--server.http.listen-addr=0.0.0.0:${monitoringPorts.alloy}`,
    `--storage.path=${monitoringPaths.alloyData}`,
    // No usage statistics leave the host.
    "--disable-reporting",
    monitoringPaths.alloyConfig,
  ];
}
