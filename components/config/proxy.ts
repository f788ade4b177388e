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
});
