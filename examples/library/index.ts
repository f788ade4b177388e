/**
 * A team's own Pulumi program using Ballast as a component library: the stack is declared in
 * TypeScript with typed, documented arguments (hover a key for what it does and its default), and
 * reads no `ballast:` config at all. Its stack `staging` runs on one VPS with Docker Compose over
 * SSH; its stack `prod` runs on Kubernetes. Secrets come from this program's own config namespace
 * (`shop:`) and stay Pulumi secrets.
 *
 *   pulumi config set --secret shop:openaiApiKey sk-...
 *   pulumi config set --secret shop:deployKey < ~/.ssh/shop_deploy            (staging)
 *   pulumi config set --secret shop:bootstrapKey < ~/.ssh/shop_bootstrap      (staging)
 *   pulumi up --stack staging
 */
import * as pulumi from "@pulumi/pulumi";
import { Platform, type PlatformArgs, type WorkerArgs } from "../../components";

const config = new pulumi.Config("shop");
const environment = pulumi.getStack() === "prod" ? "prod" : "staging";

/** The queue worker, the same on both targets: scaled on its BullMQ queue, 50 jobs per replica. */
const worker: WorkerArgs = {
  name: "worker",
  command: ["node", "dist/worker.js"],
  autoscaling: {
    enabled: true,
    minReplicas: 1,
    maxReplicas: 6,
    queue: { kind: "redis-list", name: "bull:jobs:wait", targetPerReplica: 50 },
  },
};

/** What both environments share: the app, its worker and nightly job, the secrets it reads. */
const shared: PlatformArgs = {
  environment,
  domain: "shop.example.com",
  acmeEmail: "ops@shop.example.com",
  app: {
    image: "ghcr.io/acme/shop:1.4.2",
    port: 3000,
    health: { liveness: "/api/health", deep: "/api/health/deep" },
    secretEnv: { OPENAI_API_KEY: "openai-api-key" },
    migration: { command: ["npx", "prisma", "migrate", "deploy"] },
  },
  workers: [worker],
  cronJobs: [{ name: "cleanup", schedule: "0 3 * * *", command: ["node", "dist/cleanup.js"] }],
  secrets: {
    "openai-api-key": {
      description: "OpenAI API key of the app",
      rotation: "create a new key at platform.openai.com, set shop:openaiApiKey, pulumi up, revoke the old key",
    },
  },
  secretValues: { "openai-api-key": config.requireSecret("openaiApiKey") },
};

const staging: PlatformArgs = {
  ...shared,
  target: "compose",
  compose: {
    mode: "ssh",
    project: "shop",
    ssh: {
      host: "203.0.113.20",
      // `ssh-keyscan -t ed25519 203.0.113.20`
      hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIShopStagingHostKeyFromSshKeyscan00000000000 shop",
    },
    bootstrap: {
      sshAllowFrom: ["198.51.100.0/24"],
      authorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIShopDeployPublicKey000000000000000000000 deploy@shop"],
      adminKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIShopBootstrapPublicKey0000000000000000000 bootstrap@shop"],
    },
  },
  host: { cpus: 4, memoryGiB: 8 },
  sshPrivateKey: config.requireSecret("deployKey"),
  bootstrapSshPrivateKey: config.requireSecret("bootstrapKey"),
};

const prod: PlatformArgs = {
  ...shared,
  target: "kubernetes",
  kubernetes: { namespace: "shop", keda: { enabled: true } },
  postgres: { storageGiB: 50 },
};

export const shop = new Platform("shop", environment === "prod" ? prod : staging);
export const appUrl = shop.appUrl;
export const location = shop.location;
export const workloads = shop.model.workloads.map((w) => w.name);
