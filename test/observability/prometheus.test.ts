import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { composeScrapeJobs, prometheusArgs, renderPrometheusConfig } from "../../components/observability/prometheus";
import { monitoring, testContext } from "./fixtures";

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  params?: Record<string, string[]>;
  static_configs?: { targets: string[] }[];
  dns_sd_configs?: { names: string[]; type: string; port: number }[];
  kubernetes_sd_configs?: { role: string; namespaces?: { names: string[] } }[];
  relabel_configs?: { source_labels?: string[]; regex?: string; action?: string; target_label?: string; replacement?: string }[];
  metric_relabel_configs?: { source_labels?: string[]; regex?: string; action?: string; target_label?: string }[];
  authorization?: { credentials_file: string };
  tls_config?: { ca_file: string };
  scheme?: string;
}

const parseConfig = (text: string) =>
  parse(text) as {
    global: Record<string, unknown>;
    rule_files: string[];
    alerting?: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    scrape_configs: ScrapeConfig[];
  };

describe("prometheus.yml on Compose", () => {
  const config = parseConfig(renderPrometheusConfig(monitoring({ tracing: { enabled: true } }), testContext("compose")));
  const jobs = Object.fromEntries(config.scrape_configs.map((s) => [s.job_name, s]));
  const target = (job: string) => jobs[job].static_configs?.[0].targets[0];

  it("scrapes every service by its Compose DNS name and port", () => {
    expect(target("traefik")).toBe("traefik:8082");
    expect(jobs.traefik.metrics_path).toBe("/metrics");
    expect(target("node-exporter")).toBe("node-exporter:9100");
    expect(target("cadvisor")).toBe("cadvisor:8080");
    expect(target("postgres-exporter")).toBe("postgres-exporter:9187");
    expect(target("redis-exporter")).toBe("redis-exporter:9121");
    expect(target("loki")).toBe("loki:3100");
    expect(target("grafana")).toBe("grafana:3000");
    expect(target("alloy")).toBe("alloy:12345");
    expect(target("alertmanager")).toBe("alertmanager:9093");
    expect(target("prometheus")).toBe("prometheus:9090");
    expect(target("tempo")).toBe("tempo:3200");
  });

  it("discovers every app and worker replica through DNS, on their metrics paths", () => {
    expect(jobs.app.dns_sd_configs).toEqual([{ names: ["app"], type: "A", port: 3000, refresh_interval: "30s" }]);
    expect(jobs.app.metrics_path).toBe("/api/v1/metrics");
    expect(jobs.worker.dns_sd_configs?.[0]).toMatchObject({ names: ["worker"], port: 9464 });
    // A worker without metrics is not scraped.
    expect(jobs.mailer).toBeUndefined();
  });

  it("keeps only this project's containers from cAdvisor and names them like Kubernetes", () => {
    const relabels = jobs.cadvisor.metric_relabel_configs ?? [];
    expect(relabels[0]).toEqual({ source_labels: ["container_label_com_docker_compose_project"], regex: "ballast", action: "keep" });
    expect(relabels).toContainEqual({ source_labels: ["container_label_com_docker_compose_service"], target_label: "container" });
    expect(relabels).toContainEqual({ source_labels: ["name"], target_label: "replica" });
  });

  it("loads the rules and sends alerts to Alertmanager", () => {
    expect(config.rule_files).toEqual(["/etc/prometheus/rules/ballast.rules.yml"]);
    expect(config.alerting?.alertmanagers[0].static_configs[0].targets).toEqual(["alertmanager:9093"]);
    expect(config.global).toMatchObject({
      scrape_interval: "15s",
      evaluation_interval: "15s",
      external_labels: { project: "ballast", environment: "staging" },
    });
  });

  it("lists the same jobs composeScrapeJobs reports, then the deep-health probe", () => {
    expect(config.scrape_configs.map((s) => s.job_name)).toEqual([
      ...composeScrapeJobs(monitoring({ tracing: { enabled: true } }), testContext("compose")).map((j) => j.job),
      "deep-health",
    ]);
  });

  it("scrapes extra services that expose metrics, and no app target when the app has none", () => {
    const noAppMetrics = parseConfig(
      renderPrometheusConfig(monitoring(), testContext("compose", { app: { name: "web", healthPaths: ["/api/health"] } })),
    );
    const names = noAppMetrics.scrape_configs.map((s) => s.job_name);
    expect(names).toContain("llm-gateway");
    expect(names).not.toContain("web");
    expect(names).not.toContain("deep-health");
  });

  it("probes the app's deep health through the blackbox exporter", () => {
    const deep = config.scrape_configs.find((s) => s.job_name === "deep-health");
    expect(deep).toMatchObject({
      metrics_path: "/probe",
      params: { module: ["http_2xx"] },
      static_configs: [{ targets: ["http://app:3000/api/v1/health/deep"] }],
    });
    expect(deep?.relabel_configs).toContainEqual({ target_label: "__address__", replacement: "blackbox-exporter:9115" });
  });

  it("leaves out alerting and exporters that are turned off", () => {
    const bare = parseConfig(
      renderPrometheusConfig(monitoring({ alertmanager: { enabled: false }, redisExporter: { enabled: false } }), testContext("compose")),
    );
    expect(bare.alerting).toBeUndefined();
    expect(bare.scrape_configs.map((s) => s.job_name)).not.toContain("redis-exporter");
    expect(bare.scrape_configs.map((s) => s.job_name)).not.toContain("alertmanager");
  });
});

describe("prometheus.yml on Kubernetes", () => {
  const config = parseConfig(renderPrometheusConfig(monitoring(), testContext("kubernetes", { namespace: "shop" })));
  const jobs = Object.fromEntries(config.scrape_configs.map((s) => [s.job_name, s]));

  it("discovers annotated pods of the stack's namespaces only (the application's and the agents')", () => {
    const pods = jobs["kubernetes-pods"];
    // node-exporter and Alloy run in the agents' namespace; without them there is none to discover.
    expect(pods.kubernetes_sd_configs).toEqual([{ role: "pod", namespaces: { names: ["shop", "shop-agents"] } }]);
    const withoutAgents = parseConfig(
      renderPrometheusConfig(
        monitoring({ nodeExporter: { enabled: false }, alloy: { enabled: false } }),
        testContext("kubernetes", { namespace: "shop" }),
      ),
    );
    expect(withoutAgents.scrape_configs.find((s) => s.job_name === "kubernetes-pods")?.kubernetes_sd_configs).toEqual([
      { role: "pod", namespaces: { names: ["shop"] } },
    ]);
    expect(pods.relabel_configs?.[0]).toEqual({
      source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"],
      regex: "true",
      action: "keep",
    });
    expect(pods.relabel_configs).toContainEqual({
      source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_path"],
      regex: "(.+)",
      target_label: "__metrics_path__",
    });
    const address = pods.relabel_configs?.filter((r) => r.target_label === "__address__") ?? [];
    expect(address.map((r) => r.source_labels)).toEqual([
      ["__meta_kubernetes_pod_ip", "__meta_kubernetes_pod_annotation_prometheus_io_port"],
      ["__meta_kubernetes_pod_ip", "__meta_kubernetes_pod_annotation_prometheus_io_port"],
    ]);
    // The relabel regexes really do what they claim (RE2 anchors them fully, as here).
    const ipv4 = new RegExp(`^(?:${address[0].regex})$`);
    const ipv6 = new RegExp(`^(?:${address[1].regex})$`);
    expect("10.1.2.3;9090".replace(ipv4, address[0].replacement!.replace(/\$(\d)/g, "$$$1"))).toBe("10.1.2.3:9090");
    expect(ipv4.test("fd00::5;9090")).toBe(false);
    expect("fd00::5;9090".replace(ipv6, address[1].replacement!.replace(/\$(\d)/g, "$$$1"))).toBe("[fd00::5]:9090");
  });

  it("scrapes the kubelet's cAdvisor directly on the node with the service-account token, never through the node proxy", () => {
    const kubelet = jobs["kubelet-cadvisor"];
    expect(kubelet.kubernetes_sd_configs).toEqual([{ role: "node" }]);
    expect(kubelet.scheme).toBe("https");
    expect(kubelet.metrics_path).toBe("/metrics/cadvisor");
    expect(kubelet.authorization).toEqual({ credentials_file: "/var/run/secrets/kubernetes.io/serviceaccount/token" });
    expect(kubelet.tls_config).toEqual({ insecure_skip_verify: true });
    // Node discovery's own address (InternalIP:10250) is kept: nothing rewrites __address__ or the path.
    expect(kubelet.relabel_configs).toEqual([{ source_labels: ["__meta_kubernetes_node_name"], target_label: "node" }]);
    expect(JSON.stringify(config)).not.toContain("/proxy/");
    expect(kubelet.metric_relabel_configs?.[0]).toEqual({ source_labels: ["namespace"], regex: "shop|shop-agents", action: "keep" });
  });

  it("has no Compose static targets (the deep-health probe addresses the app's Service through the exporter)", () => {
    const discovered = config.scrape_configs.filter((s) => s.job_name !== "deep-health");
    expect(discovered.every((s) => s.static_configs === undefined && s.dns_sd_configs === undefined)).toBe(true);
  });
});

describe("prometheus flags", () => {
  it("retains by time and by 90 % of the volume", () => {
    expect(prometheusArgs(monitoring({ prometheus: { retentionDays: 30, storageGiB: 10 } }))).toEqual([
      "--config.file=/etc/prometheus/prometheus.yml",
      "--storage.tsdb.path=/prometheus",
      "--storage.tsdb.retention.time=30d",
      "--storage.tsdb.retention.size=9216MB",
      "--web.listen-address=:9090",
    ]);
  });
});
