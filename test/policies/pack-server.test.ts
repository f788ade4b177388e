/**
 * The pack as the Pulumi CLI runs it: `policies/` started with Pulumi's own policy-pack
 * runner (`@pulumi/pulumi/cmd/run-policy-pack`, TypeScript through ts-node, as for
 * `pulumi preview --policy-pack policies`), then asked over gRPC what it serves and to
 * analyze resources. This is the only test that loads policies/index.ts, and it does so
 * in a child process it stops afterwards.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type * as grpc from "@grpc/grpc-js";
import * as emptyproto from "google-protobuf/google/protobuf/empty_pb";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import * as analyzerproto from "@pulumi/pulumi/proto/analyzer_pb";
import * as analyzerrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ballastPolicies } from "../../policies/all";
import { imagesPinned } from "../../policies/images";
import { composeDocument, composeService, releaseCommand } from "./harness";

// The gRPC library the Pulumi SDK itself uses (a dependency of @pulumi/pulumi).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved from @pulumi/pulumi's own paths, synchronously, so the test talks to the pack with the very same gRPC library
const grpcJs = require(require.resolve("@grpc/grpc-js", { paths: [require.resolve("@pulumi/pulumi")] })) as typeof grpc;

const root = join(__dirname, "..", "..");
let child: ChildProcess | undefined;
let client: analyzerrpc.AnalyzerClient;
let stderr = "";

const done =
  <T>(resolve: (value: T) => void, reject: (error: Error) => void) =>
  (error: grpc.ServiceError | null, value: T) =>
    error ? reject(error) : resolve(value);

function analyzerInfo(): Promise<analyzerproto.AnalyzerInfo> {
  return new Promise((resolve, reject) => client.getAnalyzerInfo(new emptyproto.Empty(), done(resolve, reject)));
}

function analyze(request: analyzerproto.AnalyzeRequest): Promise<analyzerproto.AnalyzeResponse> {
  return new Promise((resolve, reject) => client.analyze(request, done(resolve, reject)));
}

function configure(request: analyzerproto.ConfigureAnalyzerRequest): Promise<unknown> {
  return new Promise((resolve, reject) => client.configure(request, done(resolve, reject)));
}

beforeAll(async () => {
  const runner = join(root, "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack");
  // The runner's first argument is the engine address, which a policy pack never dials.
  child = spawn(process.execPath, [runner, "127.0.0.1:1", "."], { cwd: join(root, "policies"), stdio: ["ignore", "pipe", "pipe"] });
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`policy pack did not start within 90 s: ${stderr}`)), 90_000);
    let out = "";
    child?.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /^(\d+)\s*$/m.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child?.on("exit", (code) => reject(new Error(`policy pack exited with ${code}: ${stderr}`)));
  });
  client = new analyzerrpc.AnalyzerClient(`127.0.0.1:${port}`, grpcJs.credentials.createInsecure());
}, 120_000);

afterAll(() => {
  client?.close();
  child?.kill();
});

function analyzeRequest(input: ReturnType<typeof releaseCommand>): analyzerproto.AnalyzeRequest {
  const request = new analyzerproto.AnalyzeRequest();
  request.setType(input.type);
  request.setName(input.name);
  request.setUrn(`urn:pulumi:${input.stack ?? "prod"}::ballast::${input.type}::${input.name}`);
  request.setProperties(structproto.Struct.fromJavaScript(input.props as Record<string, structproto.JavaScriptValue>));
  request.setOptions(new analyzerproto.AnalyzerResourceOptions());
  return request;
}

describe("the policy pack under Pulumi's runner", () => {
  it("serves every policy with its default enforcement level", async () => {
    const info = await analyzerInfo();
    expect(info.getName()).toBe("ballast");
    expect(info.getVersion()).toBe("0.1.0");
    const served = info.getPoliciesList().map((p) => [p.getName(), p.getEnforcementlevel()]);
    expect(served).toEqual(ballastPolicies.map((p) => [p.name, analyzerproto.EnforcementLevel.MANDATORY]));
  });

  it("analyzes a compose release command and reports the unpinned image", async () => {
    const doc = composeDocument({ traefik: composeService({ image: "traefik:latest", user: "65532:65532" }) });
    const response = await analyze(analyzeRequest(releaseCommand(doc)));
    const diagnostics = response.getDiagnosticsList().map((d) => [d.getPolicyname(), d.getEnforcementlevel(), d.getMessage()]);
    // The server puts the policy's description before the message.
    expect(diagnostics).toEqual([
      [
        "images-pinned",
        analyzerproto.EnforcementLevel.MANDATORY,
        `${imagesPinned.description}\n` +
          'compose service "traefik": image "traefik:latest" is not pinned (uses the "latest" tag); pin an exact version tag (e.g. "traefik:v3.7.13") or a digest ("name@sha256:...") so restarts and rollbacks run a known image',
      ],
    ]);
  });

  it("applies a pack config: dev's advisory level and settings", async () => {
    const request = new analyzerproto.ConfigureAnalyzerRequest();
    const advisory = new analyzerproto.PolicyConfig();
    advisory.setEnforcementlevel(analyzerproto.EnforcementLevel.ADVISORY);
    advisory.setProperties(structproto.Struct.fromJavaScript({ requireTls: false }));
    request.getPolicyconfigMap().set("routes-tls-only", advisory);
    const images = new analyzerproto.PolicyConfig();
    images.setEnforcementlevel(analyzerproto.EnforcementLevel.ADVISORY);
    images.setProperties(structproto.Struct.fromJavaScript({}));
    request.getPolicyconfigMap().set("images-pinned", images);
    await configure(request);
    const doc = composeDocument({
      traefik: composeService({
        image: "traefik:latest",
        user: "65532:65532",
        labels: {
          "traefik.enable": "true",
          "traefik.http.routers.app.rule": "Host(`localhost`)",
          "traefik.http.routers.app.entrypoints": "web",
        },
        healthcheck: { test: ["CMD", "traefik", "healthcheck"] },
      }),
    });
    const response = await analyze(analyzeRequest(releaseCommand(doc, { remote: false })));
    expect(response.getDiagnosticsList().map((d) => [d.getPolicyname(), d.getEnforcementlevel()])).toEqual([
      ["images-pinned", analyzerproto.EnforcementLevel.ADVISORY],
    ]);
  });
});
