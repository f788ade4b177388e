/** Schemas of `ballast:host` (the declared Compose host) and `ballast:registry` (where built images go). */
import { z } from "zod";

export const hostSchema = z.strictObject({
  cpus: z.number().min(0.5, { message: "must be at least 0.5 vCPU" }).max(512),
  memoryGiB: z.number().min(0.5, { message: "must be at least 0.5 GiB" }).max(4096),
});

/**
 * The registry built images are pushed to and pulled from. The password is the secret
 * `registry-password` (ballast:secretValues); without `username` the operator's own
 * `docker login` pushes and the target must already be able to pull.
 */
export const registrySchema = z.strictObject({
  /** Registry host (`ghcr.io`, `registry.example.com:5000`). */
  server: z.string().regex(/^[a-z0-9.-]+(:\d+)?$/, { message: 'must be a registry host such as "ghcr.io" or "registry.example.com:5000"' }),
  username: z.string().min(1).optional(),
});
