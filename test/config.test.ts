import { describe, expect, it } from "vitest";
import { ConfigError, parsePlatformConfig, type RawConfig } from "../components/config";
import { proxySpec } from "../components/proxy";
import { readStackFile } from "../scripts/lib/stack-files";
import { withSecretPlaceholders } from "../scripts/lib/render-stack";
import { configFor } from "./fixtures/config";

/** A valid minimal prod config; each bad-input case changes one thing. */
function prodRaw(overrides: Record<string, unknown> = {}): RawConfig {
  const base: Record<string, unknown> = {
    domain: "example.com",
    acmeEmail: "ops@example.com",
    app: { image: "ghcr.io/acme/app:1.0.0" },
    ...overrides,
  };
  return Object.fromEntries(
    Object.entries(base)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [`ballast:${k}`, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

function problemsOf(raw: RawConfig, stack = "prod"): string[] {
  try {
    parsePlatformConfig(raw, stack, "ballast");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected the config to be refused");
}

describe("config defaults", () => {
  it("prod follows the NomosX runbook sizing", () => {
    const { config } = parsePlatformConfig(prodRaw({ workers: [{ name: "worker" }] }), "prod", "ballast");
    expect(config.environment).toBe("prod");
    expect(config.target).toBe("kubernetes");
    expect(config.app.resources).toEqual({ cpu: 2, memoryMiB: 4096 });
    expect(config.app.autoscaling).toEqual({ enabled: true, minReplicas: 3, maxReplicas: 10, cpuTargetPercent: 70 });
    expect(config.workers[0].resources).toEqual({ cpu: 4, memoryMiB: 8192 });
    expect(config.workers[0].autoscaling).toEqual({ enabled: true, minReplicas: 5, maxReplicas: 20, cpuTargetPercent: 80 });
    expect(config.workers[0].image).toBe("ghcr.io/acme/app:1.0.0");
    expect(config.app.health).toEqual({ liveness: "/api/health", readiness: "/api/health", deep: "/api/health", startPeriodSeconds: 60 });
    expect(config.app.metrics).toEqual({ path: "/api/v1/metrics" });
    expect(config.app.secretEnv).toEqual({ DATABASE_URL: "database-url", REDIS_URL: "redis-url" });
    expect(config.postgres.image).toBe("pgvector/pgvector:0.8.0-pg16");
    expect(config.redis).toMatchObject({
      image: "redis:7.4.2-alpine",
      maxmemory: "4gb",
      evictionPolicy: "allkeys-lru",
      save: "900 1 300 10 60 10000",
    });
    expect(config.tls).toBe(true);
    expect(config.allowDataLoss).toBe(false);
  });

  it("dev runs locally without TLS", () => {
    const { config } = parsePlatformConfig({ "ballast:app": JSON.stringify({ image: "ghcr.io/acme/app:1.0.0" }) }, "dev", "ballast");
    expect(config.target).toBe("compose");
    expect(config.compose.mode).toBe("local");
    expect(config.tls).toBe(false);
    expect(config.domain).toBe("localhost");
  });

  it("scalar values arrive as text and are typed", () => {
    const { config } = parsePlatformConfig({ ...prodRaw(), "ballast:allowDataLoss": "true" }, "prod", "ballast");
    expect(config.allowDataLoss).toBe(true);
  });

  it("proxy.bindAddress: loopback on the local engine, every interface on a VPS; an address binds the proxy's published ports to it", () => {
    const dev = (proxy?: Record<string, unknown>) => parsePlatformConfig(prodRaw({ proxy }), "dev", "ballast").config;
    // The public ports; Traefik's API port (deploy.sh confirms switches there) is always on loopback.
    const published = (config: ReturnType<typeof dev>) =>
      proxySpec(config).ports.filter((p) => p.publish !== undefined && p.name !== "admin");
    expect(proxySpec(dev()).ports.find((p) => p.name === "admin")).toEqual({
      name: "admin",
      port: 8099,
      publish: 8099,
      publishAddress: "127.0.0.1",
    });
    // The local engine (dev's default) keeps the stack on this machine.
    expect(dev().compose.mode).toBe("local");
    expect(dev().proxy.bindAddress).toBe("127.0.0.1");
    const everywhere = dev({ bindAddress: "" });
    expect(published(everywhere).map((p) => p.publishAddress)).toEqual([undefined, undefined]);
    expect(
      parsePlatformConfig(
        prodRaw({
          target: "compose",
          compose: {
            mode: "ssh",
            ssh: {
              host: "203.0.113.10",
              user: "deploy",
              hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey prod",
              remoteDir: "/opt/ballast",
            },
            bootstrap: { enabled: false },
          },
          monitoring: { enabled: false },
        }),
        "prod",
        "ballast",
      ).config.proxy.bindAddress,
    ).toBe("");
    const bound = dev({ bindAddress: "127.0.0.1" });
    expect(published(bound).map((p) => [p.publish, p.publishAddress])).toEqual([
      [8080, "127.0.0.1"],
      [8443, "127.0.0.1"],
    ]);
    expect(dev({ bindAddress: "::1" }).proxy.bindAddress).toBe("::1");
  });

  it("accepts millicores and Mi/Gi sizes", () => {
    const { config } = parsePlatformConfig(
      prodRaw({ app: { image: "a/b:1.0.0", resources: { cpu: "750m", memory: "1536Mi" } } }),
      "prod",
      "ballast",
    );
    expect(config.app.resources).toEqual({ cpu: 0.75, memoryMiB: 1536 });
  });

  it("keeps supplied secrets as Pulumi secrets", () => {
    const raw = {
      ...prodRaw({ secrets: { "openai-api-key": { description: "OpenAI", rotation: "dashboard" } } }),
      "ballast:secretValues": JSON.stringify({ "openai-api-key": "sk-test" }),
    };
    const { secrets } = parsePlatformConfig(raw, "prod", "ballast");
    expect(Object.keys(secrets.values)).toEqual(["openai-api-key"]);
  });
});

describe("every stack file loads and validates", () => {
  for (const stack of ["dev", "staging", "prod"]) {
    it(stack, () => {
      const file = readStackFile(stack);
      const { raw } = withSecretPlaceholders(file.raw);
      const { config } = parsePlatformConfig(raw, stack, "ballast");
      expect(config.environment).toBe(stack);
      expect(config.app.image).toMatch(/:[^:]+$/);
    });
  }
});

describe("bad input is refused with the key, the value and what is allowed", () => {
  const cases: [string, RawConfig, string, RegExp][] = [
    [
      "min above max",
      prodRaw({ app: { image: "a/b:1.0.0", autoscaling: { minReplicas: 12, maxReplicas: 10 } } }),
      "prod",
      /^ballast:app\.autoscaling: minReplicas \(12\) must not exceed maxReplicas \(10\)/,
    ],
    ["unknown top-level key", prodRaw({ domian: "x.com" }), "prod", /^ballast:domian: unknown key; did you mean ballast:domain\?/],
    [
      "unknown nested key",
      prodRaw({ app: { image: "a/b:1.0.0", helth: { liveness: "/h" } } }),
      "prod",
      /^ballast:app\.helth: unknown key; did you mean ballast:app\.health\? \(allowed here: name, image, build, port, health, metrics/,
    ],
    [
      "latest image",
      prodRaw({ app: { image: "ghcr.io/acme/app:latest" } }),
      "prod",
      /^ballast:app\.image: must be pinned by an exact version tag .* "latest" and an untagged name move under a running stack \(got "ghcr\.io\/acme\/app:latest"\)/,
    ],
    [
      "untagged image",
      prodRaw({ redis: { image: "redis" } }),
      "prod",
      /^ballast:redis\.image: must be pinned by an exact version tag.*\(got "redis"\)/,
    ],
    [
      "moving tag on prod",
      prodRaw({ postgres: { image: "pgvector/pgvector:pg16" } }),
      "prod",
      /^ballast:postgres\.image: "pgvector\/pgvector:pg16" uses the moving tag "pg16", which the registry re-points to new builds; pin an exact version .* or a digest \("pgvector\/pgvector@sha256:\.\.\."\) \(refused in prod; only dev accepts moving tags, with a warning\)$/,
    ],
    [
      "moving tag on staging",
      prodRaw({ redis: { image: "redis:7-alpine" } }),
      "staging",
      /^ballast:redis\.image: "redis:7-alpine" uses the moving tag "7-alpine".*\(refused in staging/,
    ],
    ["bad target", prodRaw({ target: "swarm" }), "prod", /^ballast:target: must be one of "compose", "kubernetes" \(got "swarm"\)/],
    [
      "bad eviction policy",
      prodRaw({ redis: { evictionPolicy: "lru" } }),
      "prod",
      /^ballast:redis\.evictionPolicy: must be one of "noeviction", "allkeys-lru".*\(got "lru"\)/,
    ],
    [
      "bad maxmemory",
      prodRaw({ redis: { maxmemory: "4GB" } }),
      "prod",
      /^ballast:redis\.maxmemory: must be a size like "256mb" or "4gb" \(got "4GB"\)/,
    ],
    [
      "bad memory unit",
      prodRaw({ postgres: { resources: { cpu: 1, memory: "4G" } } }),
      "prod",
      /^ballast:postgres\.resources\.memory: memory must be a size in Mi or Gi.*\(got "4G"\)/,
    ],
    [
      "port out of range",
      prodRaw({ app: { image: "a/b:1.0.0", port: 70000 } }),
      "prod",
      /^ballast:app\.port: must be a port number between 1 and 65535 \(got 70000\)/,
    ],
    [
      "bind address not an address",
      prodRaw({ proxy: { bindAddress: "localhost" } }),
      "prod",
      /^ballast:proxy\.bindAddress: must be an IPv4 or IPv6 address of the host .* or "" for every interface \(got "localhost"\)/,
    ],
    [
      "bad worker name",
      prodRaw({ workers: [{ name: "Queue_Worker" }] }),
      "prod",
      /^ballast:workers\[0\]\.name: must be a DNS label.*\(got "Queue_Worker"\)/,
    ],
    [
      "reserved worker name",
      prodRaw({ workers: [{ name: "postgres" }] }),
      "prod",
      /^ballast:workers\[0\]\.name: name "postgres" is used by Ballast itself/,
    ],
    [
      "duplicate names",
      prodRaw({ workers: [{ name: "worker" }], cronJobs: [{ name: "worker", schedule: "0 3 * * *", command: ["x"] }] }),
      "prod",
      /^ballast:cronJobs\[0\]\.name: name "worker" is already used by ballast:workers\[0\]\.name/,
    ],
    [
      "bad cron schedule",
      prodRaw({ cronJobs: [{ name: "clean", schedule: "every day", command: ["x"] }] }),
      "prod",
      /^ballast:cronJobs\[0\]\.schedule: must be a five-field numeric cron expression in UTC such as "15 3 \* \* \*" \(expected five fields .*, got 2\) \(got "every day"\)/,
    ],
    [
      "cron hour out of range",
      prodRaw({ cronJobs: [{ name: "clean", schedule: "0 25 * * *", command: ["x"] }] }),
      "prod",
      /^ballast:cronJobs\[0\]\.schedule: must be a five-field numeric cron expression.*\(hour "25" is outside 0-23\) \(got "0 25 \* \* \*"\)/,
    ],
    [
      "missing acme email",
      prodRaw({ acmeEmail: "" }),
      "prod",
      /^ballast:acmeEmail: Let's Encrypt needs a contact address when ballast:tls is true \(got ""\)/,
    ],
    ["prod without tls", prodRaw({ tls: false }), "prod", /^ballast:tls: prod must serve HTTPS \(got false\)/],
    [
      "unknown secret reference",
      prodRaw({ app: { image: "a/b:1.0.0", secretEnv: { OPENAI_API_KEY: "openai-key" } } }),
      "prod",
      /^ballast:app\.secretEnv\.OPENAI_API_KEY: unknown secret "openai-key"; allowed: built-in secrets/,
    ],
    [
      "declared secret without value",
      prodRaw({ secrets: { "stripe-key": { description: "Stripe", rotation: "dashboard" } } }),
      "prod",
      /^ballast:secrets\.stripe-key: declared but no value supplied; run: pulumi config set --secret --path 'ballast:secretValues\.stripe-key'/,
    ],
    [
      "encryption key rotation",
      prodRaw({ rotation: { "encryption-key": 1 } }),
      "prod",
      /^ballast:rotation\.encryption-key: refused \(got 1\): the encryption key cannot be rotated: stored API keys .* could no longer be decrypted/,
    ],
    [
      "ssh without host key",
      prodRaw({ target: "compose", compose: { mode: "ssh", ssh: { host: "203.0.113.5" } } }),
      "prod",
      /^ballast:compose\.ssh\.hostKey: required for prod: without a pinned host key any host key is accepted/,
    ],
    [
      "ssh mode without connection",
      prodRaw({ target: "compose", compose: { mode: "ssh" } }),
      "prod",
      /^ballast:compose\.ssh: required when ballast:compose\.mode is "ssh"/,
    ],
    [
      "bad host key",
      prodRaw({ target: "compose", compose: { mode: "ssh", ssh: { host: "h", hostKey: "AAAA" } } }),
      "prod",
      /^ballast:compose\.ssh\.hostKey: must be a public host key line/,
    ],
    ["stack needs an environment", prodRaw(), "qa", /^ballast:environment: stack "qa" is not named dev, staging or prod/],
    ["wrong type", prodRaw({ allowDataLoss: "yes" }), "prod", /^ballast:allowDataLoss: expected boolean \(got "yes"\)/],
    [
      "env value that is not text",
      prodRaw({ app: { image: "a/b:1.0.0", env: { LIMITS: { max: 1 } } } }),
      "prod",
      /^ballast:app\.env\.LIMITS: must be a string \(numbers and true\/false are taken as text\)/,
    ],
    [
      "missing app image",
      prodRaw({ app: {} }),
      "prod",
      /^ballast:app\.image: required: a pinned image \(e\.g\. "ghcr\.io\/acme\/app:1\.4\.2"\), or ballast:app\.build to build one from a Dockerfile$/,
    ],
    [
      "schema push migration on prod",
      prodRaw({ app: { image: "a/b:1.0.0", migration: { command: ["npx", "prisma", "db", "push", "--accept-data-loss"] } } }),
      "prod",
      /^ballast:app\.migration\.command: .* is refused on prod: .*drops pgvector embedding columns/,
    ],
    [
      "slack receiver without its credential",
      prodRaw({ monitoring: { alertmanager: { receiver: { type: "slack", channel: "#alerts" } } } }),
      "prod",
      /^ballast:monitoring\.alertmanager\.receiver: the slack receiver needs its credential/,
    ],
    [
      "bootstrap without SSH source ranges",
      prodRaw({ target: "compose", compose: { mode: "ssh", ssh: { host: "h", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA" } } }),
      "prod",
      /^ballast:compose\.bootstrap\.sshAllowFrom: required when the bootstrap is enabled/,
    ],
    [
      "backup schedule longer than the RPO",
      prodRaw({ backups: { schedule: "0 3 * * 0" } }),
      "prod",
      /^ballast:backups\.schedule: .*leaves up to \d+ h between backups, longer than rpoHours 24/,
    ],
    [
      "unknown monitoring part",
      prodRaw({ monitoring: { grafna: { enabled: false } } }),
      "prod",
      /^ballast:monitoring(\.grafna)?: unknown key/,
    ],
    [
      "unknown allowFrom peer",
      prodRaw({ services: [{ name: "ollama", image: "ollama/ollama:0.5.7", port: 11434, allowFrom: ["ghost"] }] }),
      "prod",
      /^ballast:services\[0\]\.allowFrom\[0\]: "ghost" is not a workload of this stack/,
    ],
  ];

  for (const [title, raw, stack, expected] of cases) {
    it(title, () => {
      const problems = problemsOf(raw, stack);
      expect(
        problems.some((p) => expected.test(p)),
        `problems were:\n${problems.join("\n")}`,
      ).toBe(true);
    });
  }

  it("collects every problem at once", () => {
    const problems = problemsOf(prodRaw({ target: "swarm", redis: { maxmemory: "lots" }, workers: [{ name: "X" }] }));
    expect(problems.length).toBeGreaterThanOrEqual(3);
  });

  it("never echoes a supplied secret value in an error", () => {
    const raw = { ...prodRaw(), "ballast:secretValues": JSON.stringify({ "unknown-thing": "sk-VERYSECRET" }) };
    const problems = problemsOf(raw);
    expect(problems.join("\n")).not.toContain("sk-VERYSECRET");
    expect(problems.join("\n")).toMatch(/ballast:secretValues\.unknown-thing: secret "unknown-thing" is not declared/);
  });
});

describe("plain environment values", () => {
  it("takes numbers and booleans as text (pulumi config set --path stores 3000 as a number, YAML reads true as a boolean)", () => {
    const config = configFor({
      app: { image: "a/b:1.0.0", env: { PORT: 3000, DEBUG: true, NAME: "x" } },
      workers: [{ name: "worker", env: { GENERATION: 2 } }],
    });
    expect(config.app.env).toEqual({ PORT: "3000", DEBUG: "true", NAME: "x" });
    expect(config.workers[0].env).toEqual({ GENERATION: "2" });
  });
});

describe("one RPO for backups and alerts", () => {
  it("the backup alerts follow ballast:backups unless set explicitly", () => {
    const { config } = parsePlatformConfig(
      prodRaw({ backups: { rpoHours: 12, schedule: "0 */6 * * *", drill: { timeoutMinutes: 20 } } }),
      "prod",
      "ballast",
    );
    expect(config.monitoring.alerts.rpoHours).toBe(12);
    expect(config.monitoring.alerts.restoreDrillMaxMinutes).toBe(20);
    const explicit = parsePlatformConfig(
      prodRaw({ backups: { rpoHours: 12, schedule: "0 */6 * * *" }, monitoring: { alerts: { rpoHours: 30 } } }),
      "prod",
      "ballast",
    );
    expect(explicit.config.monitoring.alerts.rpoHours).toBe(30);
  });
});

describe("Pulumi.yaml project defaults", () => {
  it('an empty environment, target or domain (the project default "") means the environment default', () => {
    const { config } = parsePlatformConfig(
      { ...prodRaw(), "ballast:environment": "", "ballast:target": "", "ballast:domain": "", "ballast:allowDataLoss": "false" },
      "prod",
      "ballast",
    );
    expect(config.environment).toBe("prod");
    expect(config.target).toBe("kubernetes");
    expect(config.domain).toBe("example.com");
  });
});

describe("rotation: ballast:rotation, ballast:rotation.all, ballast:encryptionKeyRotation", () => {
  const keyedApp = { image: "ghcr.io/acme/app:1.0.0", secretEnv: { ENCRYPTION_KEY: "encryption-key" } };
  const twoKeys = (reencrypted: number) => ({ previousKeyEnv: "ENCRYPTION_KEY_PREVIOUS", reencrypted });
  const refusal =
    'the encryption key cannot be rotated: stored API keys were encrypted with it and could no longer be decrypted (nyxcore runbook, "ENCRYPTION_KEY mismatch"); re-encrypt the data with a new key first';

  it("accepts the rotate-all switch next to per-secret counters", () => {
    const { config } = parsePlatformConfig(prodRaw({ rotation: { all: 2, "auth-secret": 1 } }), "prod", "ballast");
    expect(config.rotation).toEqual({ all: 2, "auth-secret": 1 });
  });

  it("names every counter it allows when the name is not one (all and the generated secrets)", () => {
    expect(problemsOf(prodRaw({ rotation: { "openai-api-key": 1 } }))).toEqual([
      "ballast:rotation.openai-api-key: only generated secrets have a rotation counter; allowed: all, postgres-password, postgres-app-password, postgres-monitor-password, postgres-backup-password, redis-password, auth-secret, grafana-admin-password",
    ]);
  });

  it("refuses a counter for a secret the stack supplies: a counter cannot change it", () => {
    const raw = {
      ...prodRaw({ rotation: { "redis-password": 1 } }),
      "ballast:secretValues": JSON.stringify({ "redis-password": "given" }),
    };
    expect(problemsOf(raw)).toEqual([
      "ballast:rotation.redis-password: \"redis-password\" is supplied in ballast:secretValues, so a counter cannot change it: set the new value with pulumi config set --secret --path 'ballast:secretValues.redis-password' <value>, then pulumi up",
    ]);
  });

  it("without the opt-in the encryption key's refusal stays, with its message", () => {
    expect(problemsOf(prodRaw({ app: keyedApp, rotation: { "encryption-key": 1 } }))).toEqual([
      `ballast:rotation.encryption-key: refused (got 1): ${refusal}`,
    ]);
  });

  it("with the opt-in a rotation opens a window, and closing it is allowed", () => {
    for (const [rotation, reencrypted] of [
      [{ "encryption-key": 1 }, 0],
      [{ "encryption-key": 1 }, 1],
      [{ all: 1 }, 0],
      [{ all: 1, "encryption-key": 1 }, 1],
    ] as const) {
      const { config } = parsePlatformConfig(
        prodRaw({ app: keyedApp, rotation, encryptionKeyRotation: twoKeys(reencrypted) }),
        "prod",
        "ballast",
      );
      expect(config.encryptionKeyRotation).toEqual(twoKeys(reencrypted));
    }
  });

  it("refuses a second rotation while the first one's re-encryption is open (the app holds one previous key)", () => {
    expect(problemsOf(prodRaw({ app: keyedApp, rotation: { "encryption-key": 1, all: 1 }, encryptionKeyRotation: twoKeys(0) }))).toEqual([
      "ballast:rotation.encryption-key: refused: it makes encryption-key generation 2 while the data is re-encrypted only to generation 0, and the app holds one previous key (ENCRYPTION_KEY_PREVIOUS); " +
        "finish the open re-encryption first: re-encrypt the data to generation 1, set ballast:encryptionKeyRotation.reencrypted to 1, pulumi up, then rotate",
    ]);
    expect(problemsOf(prodRaw({ app: keyedApp, rotation: { all: 2 }, encryptionKeyRotation: twoKeys(0) }))[0]).toMatch(
      /^ballast:rotation\.all: refused: it makes encryption-key generation 2 /,
    );
  });

  it("refuses a re-encryption ahead of the key", () => {
    expect(problemsOf(prodRaw({ app: keyedApp, rotation: { "encryption-key": 1 }, encryptionKeyRotation: twoKeys(2) }))).toEqual([
      "ballast:encryptionKeyRotation.reencrypted: 2 is ahead of the key's generation 1 (ballast:rotation.encryption-key + ballast:rotation.all); allowed: 0 (re-encryption under way) or 1 (done: the previous key is dropped)",
    ]);
  });

  it("refuses the opt-in when no workload reads the key, or when the key is supplied", () => {
    expect(problemsOf(prodRaw({ encryptionKeyRotation: twoKeys(0) }))).toEqual([
      'ballast:encryptionKeyRotation: no workload reads "encryption-key"; map it first, e.g. ballast:app.secretEnv.ENCRYPTION_KEY: encryption-key (allowed only for an app that decrypts with ENCRYPTION_KEY_PREVIOUS as well)',
    ]);
    const supplied = {
      ...prodRaw({ app: keyedApp, encryptionKeyRotation: twoKeys(0) }),
      "ballast:secretValues": JSON.stringify({ "encryption-key": "k" }),
    };
    expect(problemsOf(supplied)).toEqual([
      'ballast:encryptionKeyRotation: "encryption-key" is supplied in ballast:secretValues, so Ballast cannot keep its previous value for a re-encryption window; drop ballast:encryptionKeyRotation and rotate it by hand (runbook, "Secrets")',
    ]);
  });

  it("refuses a badly named previous-key variable", () => {
    expect(problemsOf(prodRaw({ app: keyedApp, encryptionKeyRotation: { previousKeyEnv: "old-key", reencrypted: 0 } }))[0]).toMatch(
      /^ballast:encryptionKeyRotation\.previousKeyEnv: .*\(got "old-key"\)$/,
    );
  });
});
