/** The declared Compose host (`host`) and the registry built images go through (`registry`). */

/**
 * The size of the Compose host, which the stack's limits must fit (the footprint check names the
 * largest consumers). A host of at most 2 GiB selects the `small` sizing class.
 */
export interface HostArgs {
  /** vCPUs of the host (0.5-512). @default 4 */
  cpus?: number;
  /** Memory of the host in GiB (0.5-4096); at most 2 selects the `small` sizing class. @default 8 */
  memoryGiB?: number;
}

/**
 * The registry built images are pushed to and pulled from. Its password or token is the secret
 * `registry-password` (`secretValues`); without `username` the operator's own `docker login` pushes
 * and the target must already be able to pull.
 */
export interface RegistryArgs {
  /** Registry host, with port if any (`"ghcr.io"`, `"registry.example.com:5000"`). @default none (required) */
  server: string;
  /** Login user (needs the secret `registry-password`). @default none (the operator's own `docker login` pushes; the target must be able to pull on its own) */
  username?: string;
}
