/** Schema of `ballast:proxy` (Traefik: the public entry point on both targets). Defaults: ./defaults.ts. */
import { isIP } from "node:net";
import { z } from "zod";
import { imageRef } from "./images";
import { port, resources } from "./primitives";

export const proxySchema = z.strictObject({
  image: imageRef,
  resources,
  /** Publish 80/443 on these host ports (Compose). */
  httpPort: port,
  httpsPort: port,
  /**
   * Host address the published ports bind to (Compose): "" binds every interface; an address keeps
   * the proxy off the others (a host behind a tunnel or load balancer, a test host on loopback).
   */
  bindAddress: z.string().refine((value) => value === "" || isIP(value) !== 0, {
    message: 'must be an IPv4 or IPv6 address of the host (e.g. "127.0.0.1", "203.0.113.7", "::1"), or "" for every interface',
  }),
  /** Let's Encrypt staging CA (for test stacks that would hit rate limits). */
  acmeStaging: z.boolean(),
  /** Another ACME directory (step-ca, a test CA such as Pebble); "" is Let's Encrypt. */
  acmeDirectory: z
    .string()
    .regex(/^(https:\/\/[^\s/]+(\/\S*)?)?$/, { message: 'must be an https:// URL of an ACME directory, or "" for Let\'s Encrypt' }),
  /** PEM of the CA that signs that directory's HTTPS certificate, when it is not a public one. */
  acmeCaCertificate: z.string().regex(/^(-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*)?$/, {
    message: 'must be a PEM certificate ("-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----"), or ""',
  }),
  /** Compose: extra /etc/hosts entries of the proxy (`name:address`, `name:host-gateway`), e.g. to reach an internal ACME server. */
  extraHosts: z.array(
    z
      .string()
      .regex(/^[A-Za-z0-9.-]+:([0-9a-fA-F:.]+|host-gateway)$/, { message: 'must be "hostname:address" or "hostname:host-gateway"' }),
  ),
  /**
   * Compose: host port on 127.0.0.1 where Traefik's API answers, for deploy.sh to confirm a
   * traffic switch (never on a public address).
   */
  adminPort: port,
});
