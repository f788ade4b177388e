/** Traefik: the public entry point on both targets, and its ACME (TLS certificate) settings. */
import type { ResourcesArgs } from "./shared";

export interface ProxyArgs {
  /** Pinned Traefik image. @default "traefik:v3.7.13" */
  image?: string;
  /**
   * CPU and memory limits.
   * @default {cpu: 0.25, memory: "128Mi"} (dev), {cpu: 0.25, memory: "256Mi"} (staging), {cpu: 1, memory: "512Mi"} (prod), {cpu: 0.1, memory: "64Mi"} (small)
   */
  resources?: ResourcesArgs;
  /** Compose: host port HTTP is published on (it redirects to `httpsPort`). @default 8080 (dev), 80 (staging, prod) */
  httpPort?: number;
  /** Compose: host port HTTPS is published on. @default 8443 (dev), 443 (staging, prod) */
  httpsPort?: number;
  /**
   * Compose: host address the published ports bind to; `""` binds every interface, an address keeps the
   * proxy off the others (a host behind a tunnel or load balancer, a test host on loopback).
   * @default "127.0.0.1" (dev), "" (staging, prod)
   */
  bindAddress?: string;
  /** Use Let's Encrypt's staging CA (test stacks that would hit rate limits); not with `acmeDirectory`. @default false */
  acmeStaging?: boolean;
  /** https URL of another ACME CA's directory (step-ca, Pebble in tests); `""` is Let's Encrypt. @default "" */
  acmeDirectory?: string;
  /** PEM of the CA that signs `acmeDirectory`'s HTTPS certificate, when it is not a public one; `""` for none. @default "" */
  acmeCaCertificate?: string;
  /** Compose: extra /etc/hosts entries of the proxy, `"name:address"` or `"name:host-gateway"` (a CA on the host). @default [] */
  extraHosts?: string[];
  /** Compose: port on the host's 127.0.0.1 where Traefik's API answers, for a release to confirm a traffic switch. @default 8099 */
  adminPort?: number;
}
