/**
 * Host and container dashboards. Container series carry the target-neutral labels
 * prometheus.ts sets: `container` (workload) and `replica` (container / pod).
 */
import { buildDashboard, stat, timeseries, type DashboardJson } from "./builder";

const realFilesystems = 'fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs|fuse.lxcfs"';

export function hostDashboard(): DashboardJson {
  return buildDashboard({
    uid: "ballast-host",
    title: "Host",
    description: "CPU, load, memory, disks and network of the host(s), from node-exporter.",
    panels: [
      stat("CPU busy", '100 * (1 - avg(rate(node_cpu_seconds_total{mode="idle"}[5m])))', {
        unit: "percent",
        thresholds: [
          [80, "orange"],
          [95, "red"],
        ],
      }),
      stat("Memory available", "100 * min(node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)", { unit: "percent" }),
      stat(
        "Least free disk",
        `100 * min(node_filesystem_avail_bytes{${realFilesystems}} / node_filesystem_size_bytes{${realFilesystems}})`,
        {
          unit: "percent",
        },
      ),
      stat("Uptime", "min(time() - node_boot_time_seconds)", { unit: "dtdurations" }),
      timeseries(
        "CPU busy by host",
        [{ expr: '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])))', legend: "{{instance}}" }],
        {
          unit: "percent",
          max: 100,
        },
      ),
      timeseries("Load", [
        { expr: "sum by (instance) (node_load1)", legend: "1m {{instance}}" },
        { expr: "sum by (instance) (node_load5)", legend: "5m {{instance}}" },
        { expr: "sum by (instance) (node_load15)", legend: "15m {{instance}}" },
      ]),
      timeseries(
        "Memory available",
        [{ expr: "100 * node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes", legend: "{{instance}}" }],
        {
          unit: "percent",
          max: 100,
        },
      ),
      timeseries(
        "Free disk by mountpoint",
        [
          {
            expr: `100 * node_filesystem_avail_bytes{${realFilesystems}} / node_filesystem_size_bytes{${realFilesystems}}`,
            legend: "{{instance}} {{mountpoint}}",
          },
        ],
        {
          unit: "percent",
          max: 100,
          thresholds: [
            [15, "orange"],
            [5, "red"],
          ],
        },
      ),
      timeseries(
        "Disk throughput",
        [
          { expr: "sum by (instance) (rate(node_disk_read_bytes_total[5m]))", legend: "read {{instance}}" },
          { expr: "sum by (instance) (rate(node_disk_written_bytes_total[5m]))", legend: "written {{instance}}" },
        ],
        { unit: "bytes" },
      ),
      timeseries("Disk busy", [{ expr: "100 * max by (instance) (rate(node_disk_io_time_seconds_total[5m]))", legend: "{{instance}}" }], {
        unit: "percent",
      }),
      timeseries(
        "Network",
        [
          { expr: 'sum by (instance) (rate(node_network_receive_bytes_total{device!="lo"}[5m]))', legend: "in {{instance}}" },
          { expr: 'sum by (instance) (rate(node_network_transmit_bytes_total{device!="lo"}[5m]))', legend: "out {{instance}}" },
        ],
        { unit: "bytes" },
      ),
      timeseries("Major page faults", [{ expr: "sum by (instance) (rate(node_vmstat_pgmajfault[5m]))", legend: "{{instance}}" }], {
        unit: "ops",
      }),
    ],
  });
}

export function containersDashboard(): DashboardJson {
  const live = 'container!=""';
  return buildDashboard({
    uid: "ballast-containers",
    title: "Containers",
    description: "CPU, memory against limits, throttling, restarts and OOM kills per workload (cAdvisor / kubelet).",
    panels: [
      timeseries(
        "CPU by workload",
        [{ expr: `sum by (container) (rate(container_cpu_usage_seconds_total{${live}}[5m]))`, legend: "{{container}}" }],
        {
          unit: "short",
        },
      ),
      timeseries(
        "Memory by workload",
        [{ expr: `sum by (container) (container_memory_working_set_bytes{${live}})`, legend: "{{container}}" }],
        {
          unit: "bytes",
        },
      ),
      timeseries(
        "Memory of limit",
        [
          {
            expr: `100 * max by (container) (container_memory_working_set_bytes{${live}} / (container_spec_memory_limit_bytes{${live}} > 0))`,
            legend: "{{container}}",
          },
        ],
        { unit: "percent", thresholds: [[90, "red"]] },
      ),
      timeseries(
        "CPU throttled",
        [
          {
            expr:
              `100 * sum by (container) (rate(container_cpu_cfs_throttled_periods_total{${live}}[5m]))` +
              ` / sum by (container) (rate(container_cpu_cfs_periods_total{${live}}[5m]))`,
            legend: "{{container}}",
          },
        ],
        { unit: "percent" },
      ),
      timeseries("Restarts in 15 minutes", [
        { expr: `sum by (container) (changes(container_start_time_seconds{${live}}[15m]))`, legend: "{{container}}" },
      ]),
      timeseries("OOM kills in 1 hour", [
        { expr: `sum by (container) (increase(container_oom_events_total{${live}}[1h]))`, legend: "{{container}}" },
      ]),
    ],
  });
}
