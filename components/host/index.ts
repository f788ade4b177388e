/**
 * The Compose host: what a VPS needs before Ballast can deploy to it (bootstrap script and
 * its `ballast:compose.bootstrap` config).
 */
export {
  BOOTSTRAP_FILE,
  bootstrapOptions,
  canonicalCidr,
  daemonJsonFilter,
  authorizedKeyLines,
  keyBlob,
  keyOptions,
  renderBootstrapFile,
  renderBootstrapScript,
  shellQuote,
  type BootstrapScriptOptions,
} from "./bootstrap";
