import { describe, expect, it } from "vitest";
import { isSecretName, secretsByReference, secretsDefaults } from "../../policies/secrets";
import { composeDocument, composeService, container, deployment, k8sObject, releaseCommand, validateResource } from "./harness";

describe("secret-looking names", () => {
  it("match *PASSWORD, *SECRET, *TOKEN and *_KEY, not *_FILE or plain names", () => {
    for (const name of ["POSTGRES_PASSWORD", "AUTH_SECRET", "GITHUB_TOKEN", "ENCRYPTION_KEY", "OPENAI_API_KEY", "jwt_secret"])
      expect(isSecretName(name, secretsDefaults)).toBe(true);
    for (const name of ["POSTGRES_PASSWORD_FILE", "NODE_ENV", "MONKEY", "PORT"]) expect(isSecretName(name, secretsDefaults)).toBe(false);
    expect(isSecretName("STRIPE_PUBLISHABLE_KEY", { ...secretsDefaults, allowNames: ["STRIPE_PUBLISHABLE_KEY"] })).toBe(false);
  });
});

describe("secrets-by-reference on Kubernetes", () => {
  it("passes secretKeyRef and plain non-secret values", async () => {
    const ok = deployment({
      name: "app",
      containers: [
        container({
          env: [
            { name: "NODE_ENV", value: "production" },
            { name: "ENCRYPTION_KEY", valueFrom: { secretKeyRef: { name: "ballast-secrets", key: "encryption-key" } } },
            { name: "DATABASE_URL", value: "postgresql://app:$(POSTGRES_PASSWORD)@postgres:5432/app" },
          ],
        }),
      ],
    });
    expect(await validateResource(secretsByReference, ok)).toEqual([]);
  });

  it("reports literal values, ConfigMap references and credential URLs", async () => {
    const bad = deployment({
      name: "app",
      containers: [
        container({
          name: "app",
          env: [
            { name: "AUTH_SECRET", value: "hunter2" },
            { name: "GITHUB_TOKEN", valueFrom: { configMapKeyRef: { name: "app-config", key: "token" } } },
            { name: "REDIS_URL", value: "redis://:s3cret@redis:6379/0" },
          ],
        }),
      ],
    });
    expect(await validateResource(secretsByReference, bad)).toEqual([
      'Deployment "app" container "app": env AUTH_SECRET looks secret but has a literal value; use valueFrom.secretKeyRef',
      'Deployment "app" container "app": env GITHUB_TOKEN looks secret but is not read from a Secret; use valueFrom.secretKeyRef',
      'Deployment "app" container "app": env REDIS_URL holds a URL with a literal password; read it from a Secret (valueFrom.secretKeyRef)',
    ]);
  });

  it("reports secret-looking ConfigMap keys", async () => {
    const cm = k8sObject("kubernetes:core/v1:ConfigMap", "configmap-app", {
      metadata: { name: "app-config" },
      data: { "prometheus.yml": "x", STRIPE_SECRET: "sk_live" },
    });
    expect(await validateResource(secretsByReference, cm)).toEqual([
      'ConfigMap "app-config": key "STRIPE_SECRET" looks like a secret; ConfigMaps are not encrypted or access-restricted, put it in a Secret',
    ]);
  });
});

describe("secrets-by-reference on Compose", () => {
  it("passes ${VAR} interpolations, pass-through variables and *_FILE variants", async () => {
    const doc = composeDocument({
      app: composeService({
        environment: { ENCRYPTION_KEY: "${ENCRYPTION_KEY:?secret missing}", AUTH_SECRET: "${AUTH_SECRET}", PORT: "3000" },
      }),
      postgres: composeService({ environment: ["POSTGRES_PASSWORD_FILE=/run/secrets/postgres-password", "GITHUB_TOKEN"] }),
    });
    expect(await validateResource(secretsByReference, releaseCommand(doc))).toEqual([]);
  });

  it("reports literal secrets, interpolations with a literal default and credential URLs", async () => {
    const doc = composeDocument({
      api: composeService({
        environment: {
          JWT_SECRET: "change-me",
          ADMIN_TOKEN: "${ADMIN_TOKEN:-default-token}",
          DATABASE_URL: "postgresql://user:pass@host:5432/nomosx",
        },
      }),
    });
    expect(await validateResource(secretsByReference, releaseCommand(doc))).toEqual([
      'compose service "api": environment JWT_SECRET looks secret but has a literal value; write "${JWT_SECRET}" and keep the value in the release\'s .env (or use JWT_SECRET_FILE with a secret file)',
      'compose service "api": environment ADMIN_TOKEN looks secret but has a literal value; write "${ADMIN_TOKEN}" and keep the value in the release\'s .env (or use ADMIN_TOKEN_FILE with a secret file)',
      'compose service "api": environment DATABASE_URL holds a URL with a literal password; interpolate it from the .env ("${DATABASE_URL}")',
    ]);
  });
});
