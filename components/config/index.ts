/**
 * The stack config: one pipeline (./load.ts) from `Pulumi.<stack>.yaml` to a typed,
 * validated `PlatformConfig`. One schema module per area, one issue formatter (./errors.ts),
 * one home for defaults (./defaults.ts), one image-pin rule (./images.ts).
 */
export * from "./types";
export { ConfigError } from "./errors";
export {
  currentPulumiContext,
  parsePlatformConfig,
  platformArgsFromRaw,
  platformArgsFromStackConfig,
  readPlatformConfig,
  resolvePlatformArgs,
  type LoadedConfig,
  type PlatformContext,
  type RawConfig,
} from "./load";
export type * from "./args";
export { ENVIRONMENTS, TARGETS } from "./environment";
export { builtinSecrets, encryptionKeyRotationRefusal, reservedWorkloadNames } from "./builtins";
export { alertReceivers, checkMigrationSafety, imageKeys, receiverNeedsSecret, receiverSecretName, type AlertReceiver } from "./checks";
export {
  DEFAULT_RECEIVER,
  fastBurnFactor,
  formatMatcher,
  formatSelector,
  parseAlertMatcher,
  parseSeriesSelector,
  type LabelMatcher,
  type MatchOperator,
  type SeriesSelector,
} from "./alerting";
export { classifyImage, defaultImages, imagePinProblem, imageTag } from "./images";
export { AGE_RECIPIENT_PATTERN, BACKUP_ENCRYPTION_IDENTITY_SECRET, BACKUP_S3_SECRETS } from "./backups";
export {
  counterRotates,
  ENCRYPTION_KEY_PREVIOUS_SECRET,
  encryptionKeyGenerations,
  ROTATE_ALL,
  rotationCounters,
  type EncryptionKeyGenerations,
} from "./rotation";
export { defaultIndexName, HNSW_OPCLASSES } from "./datastores";
export { cidrProblem, publicKeyPattern } from "./compose";
export { maxGapHours, parseCron } from "./cron";
export { SMALL_HOST_MAX_MEMORY_GIB } from "./defaults";
export { BUILTIN_RULE_GROUPS } from "./monitoring";
export { allPanels, datasourceKind, prometheusQueries } from "./repository-files";
export { promqlSyntaxProblem, withGrafanaVariables } from "./promql";
