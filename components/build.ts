/**
 * Images built from a Dockerfile (`build:` on the app, a worker, a cron job or a service).
 *
 * A VPS or a cluster cannot pull an image that exists only on the operator's machine, so a
 * built image is pushed to the stack's registry (`ballast:registry`) and deployed by digest
 * (`repository@sha256:…`): immutable, and a rollback redeploys exactly the old bytes. Only the
 * local dev stack skips the push (its engine is the one that built the image).
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ImageBuild, PlatformConfig } from "./config";
import type { ImageRef, WorkloadSpec } from "./spec";
import { LEGACY_IMAGE_PARENTS, legacyImageName, siblingUrn, type ImageOwner } from "./upgrades";

export type { ImageOwner } from "./upgrades";

/** Secret holding the registry password or token (ballast:secretValues.registry-password). */
export const REGISTRY_PASSWORD_SECRET = "registry-password";

/** How a built image leaves the operator's machine. */
export interface BuildPlan {
  /** Push and deploy by digest (every target but the local engine). */
  push: boolean;
  /** Registry login for push (and for the target's pulls); absent: the operator's own `docker login`. */
  registry?: { server: string; username?: string; password?: pulumi.Output<string> };
  /** The image tag: the stack name. */
  tag: string;
}

export function buildPlan(config: PlatformConfig, supplied: Record<string, pulumi.Output<string>>): BuildPlan {
  const local = config.target === "compose" && config.compose.mode === "local";
  const registry = config.registry
    ? { server: config.registry.server, username: config.registry.username, password: supplied[REGISTRY_PASSWORD_SECRET] }
    : undefined;
  return { push: !local, registry, tag: config.stack };
}

/** The reference a render shows for an image that `pulumi up` builds and pushes. */
export function builtImageMarker(build: ImageBuild): string {
  return `${build.repository}:built-at-deploy`;
}

/** What a spec records of the build its image comes from (renders show the repository); nothing for a pinned image. */
export function builtFrom(build: ImageBuild | undefined): Pick<WorkloadSpec, "builtFrom"> {
  return build ? { builtFrom: { repository: build.repository, context: build.context, dockerfile: build.dockerfile } } : {};
}

/** One image the stack builds from a Dockerfile: the `build` of the app, a worker, a cron job or a service. */
export interface ImageBuildRequest {
  /**
   * The workload that runs the image; names the build resource `<component>-<workload>`.
   * @default none: required
   */
  workload: string;
  /**
   * What the workload is (the app, a worker, a cron job or an extra service): where 862b775 declared the build.
   * @default none: required
   */
  owner: ImageOwner;
  /**
   * Repository, context, Dockerfile, target and build args (the workload's `build`).
   * @default none: required
   */
  build: ImageBuild;
}

/** The login a push uses. */
export interface RegistryLogin {
  /** Registry host (`ghcr.io`, `registry.example.com:5000`). @default none: required */
  server: string;
  /** User name. @default undefined (the operator's own `docker login`) */
  username?: string;
  /** Password or token, a Pulumi secret (`registry-password`). @default undefined (the operator's own `docker login`) */
  password?: pulumi.Input<string>;
}

/** Pure: every image the stack builds, in declaration order: the app, workers, cron jobs, services. */
export function imageBuildRequests(config: Pick<PlatformConfig, "app" | "workers" | "cronJobs" | "services">): ImageBuildRequest[] {
  const requests: ImageBuildRequest[] = [];
  if (config.app.build) requests.push({ workload: config.app.name, owner: "app", build: config.app.build });
  for (const w of config.workers) if (w.build) requests.push({ workload: w.name, owner: "worker", build: w.build });
  for (const j of config.cronJobs) if (j.build) requests.push({ workload: j.name, owner: "cron", build: j.build });
  for (const s of config.services) if (s.build) requests.push({ workload: s.name, owner: "service", build: s.build });
  return requests;
}

/** The image each workload runs, in the order of its config list. */
export interface WorkloadImages {
  app: ImageRef;
  workers: ImageRef[];
  cronJobs: ImageRef[];
  services: ImageRef[];
}

/**
 * Pure: the image each workload deploys: its built image (`built`, by workload name), else its
 * pinned image; a worker or cron job with neither runs the app's image.
 */
export function workloadImages(
  config: Pick<PlatformConfig, "app" | "workers" | "cronJobs" | "services">,
  built: Readonly<Record<string, ImageRef>>,
): WorkloadImages {
  const app = built[config.app.name] ?? (config.app.image as string);
  return {
    app,
    workers: config.workers.map((w) => built[w.name] ?? w.image ?? app),
    cronJobs: config.cronJobs.map((j) => built[j.name] ?? j.image ?? app),
    services: config.services.map((s) => built[s.name] ?? (s.image as string)),
  };
}

export interface ImageBuildsArgs {
  /** The images to build, one per workload with a `build` (`imageBuildRequests`). @default [] (nothing is built) */
  builds?: ImageBuildRequest[];
  /** The image tag pushed (Ballast uses the stack name). @default "latest" */
  tag?: string;
  /**
   * Push each image and deploy it by digest (`repository@sha256:…`); off only where the engine that
   * builds is the one that runs (Compose on the local engine), which then deploys `repository:tag`.
   * @default true
   */
  push?: boolean;
  /**
   * Registry login for the push; the password is a Pulumi secret (`registry-password`).
   * @default undefined (the operator's own `docker login`)
   */
  registry?: RegistryLogin;
}

/**
 * Every image the stack builds (and pushes), one `docker.Image` per workload, named
 * `<name>-<workload>`. Up to 862b775 each was a child of its workload's component
 * (`app-image` under `App "app"`, `<worker>-image` under `WorkerPool "workers"` ...): each carries
 * an alias to that URN, so an upgrade neither rebuilds nor re-pushes.
 */
export class ImageBuilds extends pulumi.ComponentResource {
  /** What each workload with a build deploys, by workload name: the pushed digest, or `repository:tag` on the local engine. */
  readonly images: Readonly<Record<string, pulumi.Output<string>>>;

  constructor(name: string, args: ImageBuildsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ballast:build:ImageBuilds", name, {}, opts);
    const push = args.push ?? true;
    const tag = args.tag ?? "latest";
    const images: Record<string, pulumi.Output<string>> = {};
    for (const request of args.builds ?? []) {
      const { build } = request;
      const legacy = LEGACY_IMAGE_PARENTS[request.owner];
      const image = new docker.Image(
        `${name}-${request.workload}`,
        {
          imageName: `${build.repository}:${tag}`,
          build: {
            context: build.context,
            dockerfile: `${build.context}/${build.dockerfile}`,
            platform: "linux/amd64",
            ...(build.target ? { target: build.target } : {}),
            ...(Object.keys(build.args).length > 0 ? { args: build.args } : {}),
          },
          skipPush: !push,
          ...(args.registry
            ? { registry: { server: args.registry.server, username: args.registry.username, password: args.registry.password } }
            : {}),
        },
        {
          parent: this,
          // The old parent was this component's sibling (a child of the Platform).
          aliases: [
            {
              name: legacyImageName(request.owner, request.workload),
              parent: this.urn.apply((urn) => siblingUrn(urn, legacy.type, legacy.name)),
            },
          ],
        },
      );
      images[request.workload] = push ? image.repoDigest : image.imageName;
    }
    this.images = images;
    this.registerOutputs({ images });
  }
}
