/**
 * The root zod schema of the `ballast:` namespace, assembled from one schema module per
 * area. Input is the stack file with every default of ./defaults.ts merged under it;
 * output is `PlatformInput` (./types.ts adds project and stack). Objects are strict: an
 * unknown key is an error with a "did you mean" suggestion (./errors.ts).
 */
import { z } from "zod";
import { backupsSchema } from "./backups";
import { composeSchema } from "./compose";
import { postgresSchema, redisSchema } from "./datastores";
import { hostSchema, registrySchema } from "./host";
import { kubernetesSchema } from "./kubernetes";
import { monitoringSchema } from "./monitoring";
import { ENVIRONMENTS, TARGETS } from "./environment";
import { domainName, secretName } from "./primitives";
import { proxySchema } from "./proxy";
import { encryptionKeyRotationSchema } from "./rotation";
import { appSchema, cronJobSchema, extraServiceSchema, workerSchema } from "./workloads";

export const platformInputSchema = z.strictObject({
  environment: z.enum(ENVIRONMENTS),
  target: z.enum(TARGETS),
  domain: domainName,
  acmeEmail: z.string(),
  tls: z.boolean(),
  allowDataLoss: z.boolean(),
  compose: composeSchema,
  kubernetes: kubernetesSchema,
  registry: registrySchema.optional(),
  app: appSchema,
  workers: z.array(workerSchema),
  cronJobs: z.array(cronJobSchema),
  postgres: postgresSchema,
  redis: redisSchema,
  services: z.array(extraServiceSchema),
  proxy: proxySchema,
  secrets: z.record(secretName, z.strictObject({ description: z.string().min(1), rotation: z.string().min(1) })),
  rotation: z.record(secretName, z.number().int().min(0)),
  encryptionKeyRotation: encryptionKeyRotationSchema.optional(),
  host: hostSchema,
  backups: backupsSchema,
  monitoring: monitoringSchema,
});

/** Keys read separately as Pulumi secrets, never validated as plain values. */
export const secretConfigKeys = ["sshPrivateKey", "bootstrapSshPrivateKey", "secretValues"] as const;
