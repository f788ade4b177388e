/**
 * Requests from limits: half the limit, so the scheduler packs sensibly while a burst
 * can still use the whole limit. One rule for every component.
 */
import type { Resources } from "./config";
import type { ResourceSpec } from "./spec";

export function resourceSpec(limits: Resources): ResourceSpec {
  return {
    requests: { cpu: Math.max(0.05, Math.round(limits.cpu * 500) / 1000), memoryMiB: Math.max(16, Math.round(limits.memoryMiB / 2)) },
    limits: { cpu: limits.cpu, memoryMiB: limits.memoryMiB },
  };
}
